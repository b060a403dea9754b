"""The pipeline end to end: sandbox -> raw -> normalized -> dbt analytics, in a real Dagster
instance writing a real DuckDB file."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest

from social_assets.sandbox.platforms.youtube import channel_id_for
from social_assets.sandbox.app import Sandbox
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.conftest import TEST_CHANNEL
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, table_contents

DAY = date(2026, 11, 19)
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
WINDOW = (datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))


@pytest.fixture
def instance():
    with memory_instance() as dagster_instance:
        yield dagster_instance


def test_a_partition_lands_every_post_and_comment_of_the_day(pipeline_env, instance):
    collect_partition(instance, "reddit", DAY)
    collect_partition(instance, "youtube", DAY)
    build_analytics(instance)

    con = duckdb.connect(str(pipeline_env), read_only=True)
    per_account = dict(
        con.execute("SELECT account_id, count(*) FROM analytics.posts GROUP BY 1").fetchall()
    )
    sandbox = Sandbox(clock=SandboxClock(NOW))
    for platform, handle, account_id in [
        ("reddit", "duckdb", "r/duckdb"),
        ("reddit", "sandbox_bob", "u/sandbox_bob"),
        ("youtube", TEST_CHANNEL, channel_id_for(TEST_CHANNEL)),
    ]:
        account = sandbox.world.account(platform, handle)
        expected = sandbox.world.posts(account, since=WINDOW[0], until=WINDOW[1] - timedelta(microseconds=1))
        assert per_account.get(account_id, 0) == len(expected) > 0, account_id
        # Every comment the world has for those posts (within the configured depth) is there.
        stored_comments = con.execute(
            "SELECT count(*) FROM analytics.comments WHERE account_id = ?", [account_id]
        ).fetchone()[0]
        emulation = sandbox.platforms[platform]
        expected_comments = sum(
            len(sandbox.world.comments(post))
            if platform == "youtube"  # YouTube flattens deeper replies onto their thread
            else sum(1 for c in sandbox.world.comments(post) if c.depth <= 6)  # comment_depth: 6
            for post in expected
            if not (platform == "youtube" and emulation.comments_disabled(post))
        )
        assert stored_comments == expected_comments, account_id

    # Raw responses are verbatim JSON with their request metadata and no secrets.
    raw = con.execute("SELECT endpoint, params, status, body FROM raw.posts WHERE platform = 'youtube'").fetchall()
    assert raw and all(status == 200 for _, _, status, _ in raw)
    assert all("key" not in json.loads(params) for _, params, _, _ in raw)
    assert all(json.loads(body)["kind"].startswith("youtube#") for _, _, _, body in raw)
    assert not con.execute("SELECT count(*) FROM raw.posts WHERE body LIKE '%sandbox%key%'").fetchone()[0]

    # Counts the platform does not report stay null.
    reddit_views = con.execute("SELECT count(views), count(shares), count(likes) FROM analytics.posts WHERE platform = 'reddit'").fetchone()
    assert reddit_views[0] == 0 and reddit_views[1] == 0 and reddit_views[2] > 0
    con.close()


def test_materializing_a_partition_twice_leaves_the_warehouse_identical(pipeline_env, instance):
    collect_partition(instance, "reddit", DAY)
    build_analytics(instance)
    first = table_contents(pipeline_env)

    collect_partition(instance, "reddit", DAY)
    build_analytics(instance)
    second = table_contents(pipeline_env)

    # The collection log is a history of runs: it gains one row per source, nothing else changes.
    first_log, second_log = first.pop("ops.collection_log"), second.pop("ops.collection_log")
    # Check results are replaced per platform, day and check; only their checked_at moves.
    first_quality, second_quality = first.pop("ops.data_quality"), second.pop("ops.data_quality")
    assert [row[:5] for row in second_quality] == [row[:5] for row in first_quality] != []
    # The analytics builds are a history too: the second one was incremental (issue #11).
    first_builds, second_builds = first.pop("ops.analytics_builds"), second.pop("ops.analytics_builds")
    assert [row[2] for row in second_builds] == [row[2] for row in first_builds] + [False] == [True, False]
    assert second == first
    assert len(first["analytics.posts"]) > 0 and len(first["raw.comments"]) > 0
    assert [row[2] for row in first_log] == ["r/duckdb", "u/sandbox_bob"]
    assert len(second_log) == 2 * len(first_log) and set(first_log) < set(second_log)
