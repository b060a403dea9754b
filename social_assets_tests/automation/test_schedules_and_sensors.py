"""The schedules and sensors, driven with build_schedule_context / build_sensor_context against a
real Dagster instance, and the run requests they produce, some of them executed."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone

import pandas as pd
from dagster import (
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    evaluate_automation_conditions,
)
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from social_assets.defs import automation
from social_assets.defs.automation import daily_collection, new_sources, trending_posts
from social_assets.defs.resources import build_resources
from social_assets.sandbox.platforms.reddit import from_base36
from social_assets.sandbox.app import Sandbox
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.automation.conftest import NOW, execute, project_defs, query, run_job, write_sources

UTC = timezone.utc


def resources():
    return {key: value for key, value in build_resources().items() if key in ("social_api", "warehouse")}


def test_everything_is_on_by_default():
    defs = project_defs()
    schedules = {s.name: s.default_status for s in defs.schedules}
    assert schedules.items() >= {
        "daily_collection": DefaultScheduleStatus.RUNNING,
        "data_quality_hourly": DefaultScheduleStatus.RUNNING,
    }.items()
    assert set(schedules.values()) == {DefaultScheduleStatus.RUNNING}  # the hourly refresh's too
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors.items() >= {name: DefaultSensorStatus.RUNNING for name in
                               ("automation", "new_sources", "trending_posts", "run_failure_alert")}.items()
    assert set(sensors.values()) == {DefaultSensorStatus.RUNNING}
    graph = defs.resolve_asset_graph()
    for name in ("rollups_daily", "rollups_weekly", "rollups_monthly", "posts"):
        assert graph.get(AssetKey(["analytics", name])).automation_condition.get_label() == "inputs_updated_and_checked"


# -- daily schedule ---------------------------------------------------------------------------


def test_the_daily_schedule_collects_the_previous_utc_day_of_every_platform(warehouse, instance):
    # Contexts are closed where they were opened: they enter the instance and the resources.
    with build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 21, 1, 0, tzinfo=UTC), resources=resources()
    ) as context:
        requests = daily_collection(context)
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2026-11-20|reddit", "2026-11-20|reddit"),
        ("2026-11-20|youtube", "2026-11-20|youtube"),
    ]
    assert all(r.tags["social_assets/trigger"] == "daily_collection" and not r.run_config for r in requests)
    # The keys are partitions of the job the schedule launches.
    partitions = project_defs().resolve_job_def("collect_platform_day").partitions_def
    assert all(partitions.has_partition_key(r.partition_key) for r in requests)


def test_the_daily_schedule_skips_platforms_without_sources(warehouse, instance, monkeypatch, tmp_path):
    only_reddit = tmp_path / "reddit_only.yaml"
    only_reddit.write_text("reddit:\n  sources:\n    - subreddit: duckdb\n")
    monkeypatch.setenv("SOCIAL_SOURCES", str(only_reddit))
    with build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 1, 1, 1, 0, tzinfo=UTC), resources=resources()
    ) as context:
        assert [r.partition_key for r in daily_collection(context)] == ["2025-12-31|reddit"]


# -- declarative automation and backfills ------------------------------------------------------


def test_the_analytics_wait_for_a_backfill_in_progress(warehouse, instance):
    defs = project_defs()
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id="range",
        asset_graph=defs.resolve_asset_graph(),
        partition_names=["2026-11-18|reddit", "2026-11-19|reddit", "2026-11-18|youtube", "2026-11-19|youtube"],
        asset_selection=[AssetKey(["raw", "posts"]), AssetKey(["raw", "comments"]), AssetKey(["raw", "profiles"]),
                         AssetKey(["normalized", "posts"]), AssetKey(["normalized", "comments"]),
                         AssetKey(["normalized", "profiles"])],
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    run_job(instance, "collect_platform_day", "2026-11-19|reddit")  # the backfill's first partition is done
    waiting = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert waiting.total_requested == 0

    instance.update_backfill(backfill.with_status(BulkActionStatus.COMPLETED))
    done = evaluate_automation_conditions(defs=defs, instance=instance, cursor=waiting.cursor)
    for name in ("posts", "rollups_daily", "rollups_weekly", "rollups_monthly"):
        assert done.get_requested_partitions(AssetKey(["analytics", name])) == {None}


# -- new sources ------------------------------------------------------------------------------


def tick(sensor, instance, cursor=None):
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources()) as context:
        result = sensor(context)
    if isinstance(result, SkipReason):
        return [], cursor, result.skip_message
    assert isinstance(result, SensorResult)
    skip = result.skip_reason.skip_message if result.skip_reason else None
    return list(result.run_requests or []), result.cursor, skip


def test_a_new_source_gets_its_last_days_collected_and_only_it(warehouse, instance, monkeypatch):
    monkeypatch.setattr(automation, "_utc_now", lambda: datetime(2026, 11, 20, 5, 0, tzinfo=UTC))
    monkeypatch.setenv("SOCIAL_NEW_SOURCE_DAYS", "3")

    requests, cursor, skip = tick(new_sources, instance)
    assert requests == [] and "recorded as known" in skip

    requests, cursor2, skip = tick(new_sources, instance, cursor)
    assert requests == [] and skip == "no new source" and json.loads(cursor2) == json.loads(cursor)

    sources = write_sources(warehouse.parent / "sources.yaml", extra_reddit="    - subreddit: analytics\n")
    requests, cursor, _ = tick(new_sources, instance, cursor)
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2026-11-17|reddit", "new-sources-1:2026-11-17|reddit"),
        ("2026-11-18|reddit", "new-sources-1:2026-11-18|reddit"),
        ("2026-11-19|reddit", "new-sources-1:2026-11-19|reddit"),
    ]
    assert all(r.run_config == {"ops": {"collect": {"config": {"sources": ["r/analytics"]}}}} for r in requests)
    assert tick(new_sources, instance, cursor)[0] == []  # handled once

    # Running the request collects r/analytics for that day and leaves the other sources' rows alone.
    before = query(warehouse, "SELECT * FROM raw.posts WHERE partition_date = '2026-11-19' AND platform = 'reddit' ORDER BY ALL")
    result = run_job(instance, "collect_platform_day", requests[-1].partition_key, requests[-1].run_config)
    after = query(warehouse, "SELECT * FROM raw.posts WHERE partition_date = '2026-11-19' AND platform = 'reddit' "
                             "AND account_id <> 'r/analytics' ORDER BY ALL")
    assert after == before
    assert query(warehouse, "SELECT count(*) FROM normalized.posts WHERE account_id = 'r/analytics'")[0][0] > 0
    logged = query(warehouse, "SELECT account_id FROM ops.collection_log WHERE run_id = ?", [result.run_id])
    assert logged == [("r/analytics",)]

    # A source removed and added again is new again: a new generation of run keys.
    sources.write_text(sources.read_text().replace("    - subreddit: analytics\n", ""))
    assert tick(new_sources, instance, cursor)[0] == []
    _, cursor, _ = tick(new_sources, instance, cursor)
    write_sources(sources, extra_reddit="    - subreddit: analytics\n")
    requests, _, _ = tick(new_sources, instance, cursor)
    assert [r.run_key for r in requests][0] == "new-sources-2:2026-11-17|reddit"


def test_a_broken_sources_file_is_waited_out(warehouse, instance):
    _, cursor, _ = tick(new_sources, instance)
    sources = warehouse.parent / "sources.yaml"
    sources.write_text("reddit:\n  sources:\n    - subreddit: analytics\n      colour: red\n")
    requests, same, skip = tick(new_sources, instance, cursor)
    assert requests == [] and same == cursor and "unknown option 'colour'" in skip


# -- trending posts ---------------------------------------------------------------------------


def expected_trending(warehouse, since: pd.Timestamp) -> list[tuple[str, str, str]]:
    """The sensor's rule, computed independently: (partition, account, post) of trending posts."""
    snaps = pd.DataFrame(query(warehouse, "SELECT platform, post_id, collected_at, likes, comments, shares FROM analytics.engagement_snapshots"),
                         columns=["platform", "post_id", "collected_at", "likes", "comments", "shares"])
    posts = pd.DataFrame(query(warehouse, "SELECT platform, account_id, post_id, published_at FROM analytics.posts"),
                         columns=["platform", "account_id", "post_id", "published_at"])
    latest = snaps.sort_values("collected_at").groupby(["platform", "post_id"]).tail(1)
    latest = latest.assign(engagement=latest[["likes", "comments", "shares"]].fillna(0).sum(axis=1))
    data = posts.merge(latest, on=["platform", "post_id"])
    recent = data[data.published_at >= snaps.collected_at.max() - pd.Timedelta(days=30)]
    hot = []
    for post in data.itertuples():
        others = recent[(recent.platform == post.platform) & (recent.account_id == post.account_id)
                        & (recent.post_id != post.post_id)].engagement
        if (post.collected_at > since and post.published_at >= post.collected_at - pd.Timedelta(days=7)
                and len(others) >= 4 and post.engagement >= 100 and post.engagement >= 10 * max(others.median(), 1)):
            hot.append((f"{post.published_at.date()}|{post.platform}", post.account_id, post.post_id))
    return sorted(hot)


def requested_posts(requests) -> list[tuple[str, str, str]]:
    return sorted(
        (r.partition_key, r.run_config["ops"]["collect"]["config"]["sources"][0], post.split(":")[1])
        for r in requests
        for post in r.tags["social_assets/posts"].split(",")
    )


def test_a_trending_post_gets_its_whole_comment_tree_collected(warehouse, instance):
    # r/duckdb's 2026-11-13 was collected with top-level comments and replies only (depth 1).
    day = date(2026, 11, 13)
    shallow = {"ops": {"collect": {"config": {"sources": ["r/duckdb"], "comment_depth": 1}}}}
    run_job(instance, "collect_platform_day", f"{day}|reddit", shallow)

    (newest,) = query(warehouse, "SELECT max(collected_at) FROM analytics.engagement_snapshots")[0]
    requests, cursor, _ = tick(trending_posts, instance)
    # First evaluation: the last day of observations, judged by the rule (computed here independently).
    expected = expected_trending(warehouse, pd.Timestamp(newest) - pd.Timedelta(hours=24))
    assert requested_posts(requests) == expected and expected
    assert all(r.run_config["ops"]["collect"]["config"]["comment_depth"] == 50 for r in requests)
    assert tick(trending_posts, instance, cursor)[0] == []  # nothing new observed: nothing requested

    # One of them is r/duckdb's busiest post of 2026-11-13, far above the subreddit's median.
    (request,) = [r for r in requests if r.partition_key == f"{day}|reddit"]
    post_id = request.tags["social_assets/posts"].removeprefix("reddit:")
    assert request.run_key == f"trending:{day}|reddit:r/duckdb:{post_id}"
    assert request.run_config == {"ops": {"collect": {"config": {"sources": ["r/duckdb"], "comment_depth": 50}}}}
    sandbox = Sandbox(clock=SandboxClock(datetime.fromisoformat(NOW)))
    tree = sandbox.world.comments(sandbox.world.post_by_uid("reddit", from_base36(post_id)))
    before = query(warehouse, "SELECT count(*), max(depth) FROM normalized.comments WHERE post_id = ?", [post_id])[0]
    assert before[1] == 1 and before[0] < len(tree) and max(c.depth for c in tree) > 1

    run_job(instance, "collect_platform_day", request.partition_key, request.run_config)
    stored = query(warehouse, "SELECT count(*), max(depth) FROM normalized.comments WHERE post_id = ?", [post_id])[0]
    assert stored == (len(tree), max(c.depth for c in tree))  # every comment the platform has, at every depth


def test_a_jump_seen_by_a_later_observation_is_requested_once(warehouse, instance):
    _, cursor, _ = tick(trending_posts, instance)
    # A quiet post of r/duckdb; the hourly refresh (as dbt would show it) then sees it jump.
    (post_id, day, engagement) = query(
        warehouse, "SELECT post_id, published_at::date, likes + comments FROM analytics.posts "
                   "WHERE account_id = 'r/duckdb' ORDER BY likes + comments, post_id LIMIT 1")[0]
    (norm,) = query(warehouse, "SELECT median(likes + comments) FROM analytics.posts WHERE account_id = 'r/duckdb'")[0]
    assert engagement < norm
    execute(warehouse, f"INSERT INTO analytics.engagement_snapshots (platform, account_id, post_id, collected_at, "
                       f"likes, comments, shares, views) SELECT platform, account_id, post_id, "
                       f"collected_at + INTERVAL 1 HOUR, {int(norm * 20)}, comments, shares, views "
                       f"FROM analytics.engagement_snapshots WHERE post_id = '{post_id}'")
    requests, cursor, _ = tick(trending_posts, instance, cursor)
    assert [(r.partition_key, r.run_key, r.tags["social_assets/posts"]) for r in requests] == [
        (f"{day}|reddit", f"trending:{day}|reddit:r/duckdb:{post_id}", f"reddit:{post_id}")
    ]
    assert tick(trending_posts, instance, cursor)[0] == []  # handled once


def test_the_trending_sensor_leaves_the_warehouse_to_a_running_run(warehouse, instance):
    from dagster._core.storage.dagster_run import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    create_run_for_test(instance, job_name="collect_platform_day", status=DagsterRunStatus.STARTED)
    requests, cursor, skip = tick(trending_posts, instance)
    assert requests == [] and cursor is None and skip.startswith("a run is in progress")


def test_the_trending_sensor_waits_for_a_warehouse(instance, tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(tmp_path / "not_yet.duckdb"))
    monkeypatch.setenv("SOCIAL_SOURCES", str(write_sources(tmp_path / "sources.yaml")))
    assert tick(trending_posts, instance) == ([], None, "no warehouse yet")
    assert not (tmp_path / "not_yet.duckdb").exists()  # a sensor never creates it
