"""The hourly engagement refresh: recent posts get a new observation each hour, with the
fewest calls, and analytics.posts shows the newest counts."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import duckdb
import pytest

from social_assets.sandbox.app import Sandbox
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, refresh_hour, table_contents

DAY = date(2026, 11, 19)
LATER = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


def refresh(instance, platform: str, hour: str = "2026-11-20-08:00"):
    return refresh_hour(instance, platform, hour)


def query(warehouse, sql, params=()):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture
def instance():
    with memory_instance() as dagster_instance:
        yield dagster_instance


def test_recent_posts_get_current_counts_with_batch_calls(pipeline_env, sandbox_api, instance, monkeypatch):
    for platform in ("reddit", "youtube"):
        collect_partition(instance, platform, DAY)
    monkeypatch.setenv("SOCIAL_SANDBOX_NOW", LATER.isoformat())  # six hours later

    for platform in ("reddit", "youtube"):
        refresh(instance, platform)
    build_analytics(instance)

    world = Sandbox(clock=SandboxClock(LATER)).world
    posts = query(pipeline_env, "SELECT platform, account_id, post_id FROM normalized.posts ORDER BY ALL")
    metrics = {
        (p, post): likes
        for p, post, likes in query(pipeline_env, "SELECT platform, post_id, likes FROM normalized.post_metrics")
    }
    assert {(p, post) for p, _, post in posts} == set(metrics)  # every recent post was refreshed
    # The counts are the platform's at the later hour: Reddit's score is the world's likes.
    for _, account, post_id in [row for row in posts if row[0] == "reddit"]:
        world_post = world.post_by_uid("reddit", int(post_id, 36))
        assert metrics[("reddit", post_id)] == world_post.likes(LATER)
    # Batch lookups: one /api/info call per 100 posts of an account, one videos.list per 50.
    calls = dict(query(pipeline_env, "SELECT platform, count(*) FROM raw.metric_refreshes GROUP BY 1"))
    per_account = query(pipeline_env, "SELECT platform, account_id, count(*) FROM normalized.posts GROUP BY 1, 2")
    assert calls["reddit"] == sum(math.ceil(n / 100) for p, _, n in per_account if p == "reddit")
    assert calls["youtube"] == sum(math.ceil(n / 50) for p, _, n in per_account if p == "youtube")
    # Two observations per post now, and analytics.posts shows the newer one.
    snapshots = query(pipeline_env, "SELECT count(*), count(DISTINCT post_id) FROM analytics.engagement_snapshots")
    assert snapshots[0][0] == 2 * snapshots[0][1] == 2 * len(posts)
    latest = dict(query(pipeline_env, "SELECT post_id, likes FROM analytics.posts WHERE platform = 'reddit'"))
    assert all(latest[post] == metrics[("reddit", post)] for post in latest)


def test_refreshing_an_hour_again_replaces_it(pipeline_env, instance, monkeypatch):
    collect_partition(instance, "reddit", DAY)
    monkeypatch.setenv("SOCIAL_SANDBOX_NOW", LATER.isoformat())
    refresh(instance, "reddit")
    first = table_contents(pipeline_env, ("normalized",))

    refresh(instance, "reddit")

    assert table_contents(pipeline_env, ("normalized",)) == first
    assert first["normalized.post_metrics"]


def test_the_lookups_run_outside_the_warehouse_pool(pipeline_env, sandbox_api, monkeypatch, tmp_path):
    """The refresh holds the `duckdb` pool only to read which posts are due and to write what it
    found: while its API calls run, it holds no slot, so an API that makes it wait (a spent
    rate-limit window) stalls no writer."""
    import dataclasses

    from dagster import fs_io_manager, instance_for_test, materialize

    from social_assets.defs.refresh import refresh_engagement
    from social_assets.defs.resources import build_resources
    from social_assets.instance import WAREHOUSE_POOL
    from social_assets.platforms import PLATFORMS

    reddit = PLATFORMS["reddit"]
    held_while_calling: list[set[str]] = []
    pools = {"concurrency": {"pools": {"default_limit": 1, "granularity": "op"}}}  # as dagster.yaml
    with instance_for_test(overrides=pools) as instance:

        def refresh_watching_the_pool(client, post_ids):
            slots = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots
            held_while_calling.append({slot.step_key for slot in slots})
            return reddit.refresh(client, post_ids)

        collect_partition(instance, "reddit", DAY)
        monkeypatch.setitem(PLATFORMS, "reddit", dataclasses.replace(reddit, refresh=refresh_watching_the_pool))
        # Step outputs go to files here, as in runs the daemon launches (Dagster's default).
        storage = tmp_path / "storage"
        resources = {**build_resources(), "io_manager": fs_io_manager.configured({"base_dir": str(storage)})}
        result = materialize([refresh_engagement], instance=instance, resources=resources,
                             partition_key="2026-11-20-08:00|reddit")

    assert result.success
    assert held_while_calling and all(held == set() for held in held_while_calling), held_while_calling
    steps = [e.step_key for e in result.all_events if e.is_step_success]
    assert steps == ["refresh_engagement.due_posts", "refresh_engagement.fetch_metrics", "refresh_engagement.load_metrics"]
    titles = [title for (title,) in query(pipeline_env, "SELECT text FROM normalized.posts LIMIT 5")]
    assert titles and query(pipeline_env, "SELECT count(*) FROM normalized.post_metrics")[0][0] > 0
    # The API's answers (post texts among them) went from step to step in memory: no copy is left
    # in Dagster's storage for the purge of a deleted post to miss.
    stored = [path.read_bytes() for path in storage.rglob("*") if path.is_file()]
    assert not any(title.split("\n")[0].encode() in data for title in titles for data in stored)
