"""A LinkedIn day through the whole pipeline: real Dagster, DuckDB and dbt. Impressions, clicks
and reach land in their own columns up to the rollups; the follower gains become derived follower
snapshots for past days, which the daily rollups count; the hourly refresh adds a point to the
engagement snapshots."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import duckdb

from social_assets.sandbox.app import Sandbox
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, refresh_hour

DAY = date(2026, 11, 19)
ORGANIZATION = "urn:li:organization:2414183"


def test_a_linkedin_day_reaches_the_rollups_with_impressions_clicks_and_derived_follower_history(
        pipeline_env, monkeypatch):
    monkeypatch.setenv("SOCIAL_SOURCES", str(PROJECT_ROOT / "sources.yaml"))
    with memory_instance() as instance:
        collect_partition(instance, "linkedin", DAY)
        refresh_hour(instance, "linkedin", "2026-11-20-02:00")
        build_analytics(instance)
    con = duckdb.connect(str(pipeline_env), read_only=True)
    try:
        posts = con.execute("SELECT count(*), count(impressions), count(clicks), count(reach), count(views), "
                            "sum(impressions) FROM analytics.posts WHERE platform = 'linkedin'").fetchone()
        snapshots = con.execute("SELECT collected_at, followers, snapshot_source FROM analytics.follower_snapshots "
                                "WHERE platform = 'linkedin' ORDER BY collected_at").fetchall()
        rollup = dict(con.execute("SELECT period_start, followers_end FROM analytics.rollups_daily "
                                  "WHERE platform = 'linkedin'").fetchall())
        day_rollup = con.execute("SELECT posts, impressions, clicks FROM analytics.rollups_daily "
                                 "WHERE platform = 'linkedin' AND period_start = ?", [DAY]).fetchone()
        refreshed = con.execute("SELECT count(*), count(impressions) FROM normalized.post_metrics "
                                "WHERE platform = 'linkedin'").fetchone()
    finally:
        con.close()
    assert posts[0] > 0 and posts[1:4] == (posts[0],) * 3 and posts[4] == 0
    assert day_rollup[0] == posts[0] and day_rollup[1] == posts[5] and day_rollup[2] is not None
    assert refreshed[0] == posts[0] == refreshed[1]
    # The sandbox world's own follower counts at each past midnight, counted back from the gains
    # (the warehouse keeps UTC times without a zone).
    world = Sandbox(clock=SandboxClock(datetime(2026, 11, 20, 3, tzinfo=timezone.utc))).world
    followers = world.account("linkedin", "2414183").followers
    read_at, midnight = datetime(2026, 11, 20, 3, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc)
    naive = lambda moment: moment.replace(tzinfo=None)  # noqa: E731
    derived = {moment: count for moment, count, source in snapshots if source == "derived"}
    collected = [(moment, count) for moment, count, source in snapshots if source == "collected"]
    assert collected == [(naive(read_at), followers(read_at))]
    expected = {naive(midnight - timedelta(days=n)): followers(read_at) - (followers(midnight) - followers(midnight - timedelta(days=n)))
                for n in range(31)}
    assert derived == expected
    # The daily rollups know the followers of past days: a day ends at the next midnight.
    assert rollup[date(2026, 11, 1)] == expected[datetime(2026, 11, 2)]
    assert len(rollup) >= 31
