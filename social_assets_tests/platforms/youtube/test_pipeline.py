"""A YouTube day through the whole pipeline (real Dagster, DuckDB and dbt) with the sandbox's
Analytics credentials: the channel's daily subscriber gains and losses become derived follower
snapshots for the past Pacific days, equal to the world's counts (offset by YouTube's rounding of
the count read), and the daily rollups count them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
from dagster import instance_for_test

from social_assets.platforms.youtube.spec import FOLLOWER_HISTORY_DAYS
from social_assets.sandbox.app import Sandbox
from social_assets.sandbox.platforms.youtube import (
    _three_significant_figures,
    channel_id_for,
)
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.conftest import TEST_CHANNEL
from social_assets_tests.pipeline import build_analytics, collect_partition

DAY = date(2026, 11, 19)
READ_AT = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)  # the pinned sandbox clock (pipeline_env)
PACIFIC = ZoneInfo("America/Los_Angeles")


def test_a_youtube_day_derives_past_follower_snapshots_from_analytics(pipeline_env):
    channel = channel_id_for(TEST_CHANNEL)
    with instance_for_test() as instance:
        collect_partition(instance, "youtube", DAY)
        build_analytics(instance)
    con = duckdb.connect(str(pipeline_env), read_only=True)
    try:
        snapshots = con.execute("SELECT collected_at, followers, snapshot_source FROM analytics.follower_snapshots "
                                "WHERE platform = 'youtube' AND account_id = ? ORDER BY collected_at", [channel]).fetchall()
        rollup = dict(con.execute("SELECT period_start, followers_end FROM analytics.rollups_daily "
                                  "WHERE platform = 'youtube' AND account_id = ?", [channel]).fetchall())
    finally:
        con.close()
    followers = Sandbox(clock=SandboxClock(READ_AT)).world.account("youtube", TEST_CHANNEL).followers
    read = _three_significant_figures(followers(READ_AT))  # what channels.list showed
    naive = lambda moment: moment.astimezone(timezone.utc).replace(tzinfo=None)
    collected = [(moment, count) for moment, count, source in snapshots if source == "collected"]
    assert collected == [(naive(READ_AT), read)]
    # Pacific today is 11-19: the newest day reported is 11-18, whose end carries the count read.
    ends = [datetime.combine(date(2026, 11, 19) - timedelta(days=n), time.min, PACIFIC)
            for n in range(FOLLOWER_HISTORY_DAYS + 1)]
    expected = {naive(end): read - (followers(ends[0]) - followers(end)) for end in ends}
    derived = {moment: count for moment, count, source in snapshots if source == "derived"}
    assert derived == expected
    assert len(set(derived.values())) > 5  # the world's followers moved over the month
    # A UTC day's rollup ends with the last snapshot at or before the next UTC midnight.
    for day in (date(2026, 10, 25), date(2026, 11, 1), date(2026, 11, 10)):
        end = datetime.combine(day + timedelta(days=1), time.min)
        assert rollup[day] == expected[max(moment for moment in expected if moment <= end)]
