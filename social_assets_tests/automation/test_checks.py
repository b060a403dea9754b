"""The data-quality checks: they pass on clean data, and each fails when the data is broken on
purpose; a blocking failure stops the run and keeps the rollups from being rebuilt."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from dagster import AssetCheckSeverity, AssetKey, evaluate_automation_conditions

from social_assets.core.records import Normalized, Rejected
from social_assets.defs import checks, normalized
from social_assets.defs.checks import volume_band, volume_outcome
from social_assets.platforms import PLATFORMS
from social_assets_tests.automation.conftest import (
    DAYS,
    execute,
    project_defs,
    query,
    run_job,
    use_environment,
)

PARTITION_CHECKS = {
    "normalized/posts:unique_keys",
    "normalized/comments:unique_keys",
    "normalized/profiles:unique_keys",
    "normalized/comments:known_posts",
    "normalized/posts:quality_score",
    "normalized/posts:quality_score_target",
    "normalized/posts:volume",
    "normalized/comments:volume",
}
ANALYTICS = [
    AssetKey(["analytics", name])
    for name in ("posts", "comments", "profiles", "engagement_snapshots", "follower_snapshots",
                 "rollups_daily", "rollups_weekly", "rollups_monthly")
]


def evaluations(result) -> dict[str, tuple[bool, AssetCheckSeverity, str | None]]:
    found = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            found[f"{data.asset_key.to_user_string()}:{data.check_name}"] = (data.passed, data.severity, data.description)
    return found


def quality_rows(warehouse, platform: str, day: date) -> dict[str, tuple[bool, float | None]]:
    rows = query(
        warehouse, 'SELECT "check", passed, value FROM ops.data_quality WHERE platform = ? AND day = ?', [platform, day]
    )
    return {name: (passed, value) for name, passed, value in rows}


def test_clean_partitions_pass_every_check_and_each_result_is_a_row(base_warehouse):
    for platform, days in DAYS.items():
        for day in days:
            rows = quality_rows(base_warehouse, platform, day)
            assert set(rows) == PARTITION_CHECKS, (platform, day)
            assert all(passed for passed, _ in rows.values()), rows
            (posts,) = query(base_warehouse, "SELECT count(*) FROM normalized.posts WHERE platform = ? AND partition_date = ?", [platform, day])[0]
            (comments,) = query(base_warehouse, "SELECT count(*) FROM normalized.comments WHERE platform = ? AND partition_date = ?", [platform, day])[0]
            assert rows["normalized/posts:volume"][1] == posts > 0
            assert rows["normalized/comments:volume"][1] == comments
            assert rows["normalized/posts:unique_keys"][1] == 0
            assert rows["normalized/posts:quality_score"][1] == 1.0  # the sandbox's items all normalize
    # One row per platform, day and check: the table is a history of days, not of runs.
    assert query(base_warehouse, 'SELECT count(*) - count(DISTINCT (platform, day, "check")) FROM ops.data_quality')[0][0] == 0
    # The dbt tests of the analytics build are recorded too (platform 'all', the day they ran).
    dbt_rows = query(base_warehouse, "SELECT \"check\", passed, value FROM ops.data_quality WHERE platform = 'all'")
    names = {name for name, _, _ in dbt_rows}
    assert {"analytics/posts:posts_schema", "analytics/posts:posts_key", "analytics/comments:comments_known_posts",
            "analytics/rollups_weekly:rollups_weekly_key", "analytics/rollups_monthly:rollups_monthly_schema"} <= names
    assert len(names) == 23 and all(passed and value == 0 for _, passed, value in dbt_rows)


def duplicating(real, resource: str):
    """A normalizer bug: the first row of `resource` comes out twice."""

    def normalize_partition(platform, res, day, window, con, **options):
        result = real(platform, res, day, window, con, **options)
        if res == resource and len(result.rows):
            con.execute(f"INSERT INTO {result.table} SELECT * FROM {result.table} LIMIT 1")
        return result

    return normalize_partition


def test_duplicate_rows_fail_a_blocking_check_the_run_and_hold_back_the_rollups(warehouse, instance, monkeypatch):
    defs = project_defs()
    key = "2026-11-19|reddit"
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor  # the sensor's first tick

    run_job(instance, "collect_platform_day", key)  # clean
    first = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    # Every analytics model follows, the weekly and monthly rollups included.
    assert {k for k in ANALYTICS if first.get_requested_partitions(k) == {None}} == set(ANALYTICS)

    with monkeypatch.context() as bug:
        bug.setattr(normalized, "normalize_partition", duplicating(normalized.normalize_partition, "posts"))
        result = run_job(instance, "collect_platform_day", key, success=False)

    found = evaluations(result)
    assert found["normalized/posts:unique_keys"][:2] == (False, AssetCheckSeverity.ERROR)
    assert "1 duplicate row(s)" in found["normalized/posts:unique_keys"][2]
    assert all(passed for name, (passed, _, _) in found.items() if name != "normalized/posts:unique_keys")
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["platform_day_checks"]
    assert "blocking asset check failed" in failures[0].step_failure_data.error.message
    assert quality_rows(warehouse, "reddit", date(2026, 11, 19))["normalized/posts:unique_keys"] == (False, 1.0)

    # The collection updated normalized/posts, but a blocking check failed on it: no rollup.
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.total_requested == 0
    # Another platform's clean collection does not release them either.
    run_job(instance, "collect_platform_day", "2026-11-19|youtube")
    third = evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.total_requested == 0

    run_job(instance, "collect_platform_day", key)  # the bug is fixed; the partition is collected again
    fourth = evaluate_automation_conditions(defs=defs, instance=instance, cursor=third.cursor)
    assert {k for k in ANALYTICS if fourth.get_requested_partitions(k) == {None}} == set(ANALYTICS)
    assert quality_rows(warehouse, "reddit", date(2026, 11, 19))["normalized/posts:unique_keys"] == (True, 0.0)


def test_orphan_comments_fail_known_posts(warehouse, instance, monkeypatch):
    real = normalized.normalize_partition
    dropped: list[str] = []

    def losing_a_post(platform, resource, day, window, con, **options):
        """A normalizer bug: the post with the most comments disappears (its comments stay)."""
        result = real(platform, resource, day, window, con, **options)
        if resource == "posts":
            (victim,) = con.execute(f"SELECT post_id FROM {result.table} ORDER BY comments DESC LIMIT 1").fetchone()
            dropped.append(victim)
            con.execute(f"DELETE FROM {result.table} WHERE post_id = ?", [victim])
        return result

    monkeypatch.setattr(normalized, "normalize_partition", losing_a_post)
    result = run_job(instance, "collect_platform_day", "2026-11-13|reddit", success=False)

    (orphans,) = query(
        warehouse, "SELECT count(*) FROM normalized.comments WHERE platform = 'reddit' AND post_id = ?", dropped
    )[0]
    assert orphans > 0
    passed, severity, description = evaluations(result)["normalized/comments:known_posts"]
    assert (passed, severity) == (False, AssetCheckSeverity.ERROR)
    assert description == f"{orphans} comment(s) point at 1 post(s) not in normalized.posts"
    assert quality_rows(warehouse, "reddit", date(2026, 11, 13))["normalized/comments:known_posts"] == (False, orphans)


def rejecting(count: int):
    """A normalizer bug: the first `count` comments of the partition are refused."""
    real = PLATFORMS["reddit"].normalizers["comments"]
    refused: list[str] = []

    def normalize_comments(body, **context) -> Normalized:
        result = real(body, **context)
        keep, reject = [], []
        for record in result.records:
            if record.comment_id not in refused and len(refused) < count:
                refused.append(record.comment_id)
            if record.comment_id in refused:
                reject.append(Rejected(item_id=record.comment_id, reason="bug", payload=None))
            else:
                keep.append(record)
        return Normalized(records=keep, rejected=[*result.rejected, *reject])

    return normalize_comments


@pytest.mark.parametrize("refused,run_succeeds", [(2, True), (10, False)])
def test_the_quality_score_warns_under_99_and_blocks_under_95_percent(warehouse, instance, monkeypatch, refused, run_succeeds):
    day = date(2026, 11, 13)
    monkeypatch.setitem(PLATFORMS["reddit"].normalizers, "comments", rejecting(refused))
    result = run_job(instance, "collect_platform_day", f"{day}|reddit", success=run_succeeds)

    clean = sum(
        query(warehouse, f"SELECT count(*) FROM normalized.{t} WHERE platform = 'reddit' AND partition_date = ?", [day])[0][0]
        for t in ("posts", "comments", "profiles")
    )
    (letters,) = query(
        warehouse, "SELECT count(*) FROM ops.dead_letters WHERE platform = 'reddit' AND partition_date = ? AND kind = 'item'", [day]
    )[0]
    assert letters == refused
    score = clean / (clean + letters)
    found = evaluations(result)
    rows = quality_rows(warehouse, "reddit", day)
    assert rows["normalized/posts:quality_score"][1] == pytest.approx(score)
    assert found["normalized/posts:quality_score_target"][:2] == (False, AssetCheckSeverity.WARN)  # under 99 %
    if run_succeeds:
        assert 0.95 <= score < 0.99
        assert found["normalized/posts:quality_score"][0] is True
    else:
        assert score < 0.95
        assert found["normalized/posts:quality_score"][:2] == (False, AssetCheckSeverity.ERROR)
        assert rows["normalized/posts:quality_score"][0] is False


def test_a_stale_platform_fails_freshness_and_is_named(warehouse, instance):
    run_job(instance, "data_quality_monitor")  # the collections just ran: fresh
    today = datetime.now(timezone.utc).date()
    assert {p: passed for p, passed in query(
        warehouse, "SELECT platform, passed FROM ops.data_quality WHERE \"check\" = 'analytics/posts:freshness' AND day = ?", [today]
    )} == {"reddit": True, "youtube": True}

    execute(warehouse, "UPDATE ops.collection_log SET finished_at = finished_at - INTERVAL 3 DAY, "
                       "started_at = started_at - INTERVAL 3 DAY WHERE platform = 'youtube'")
    result = run_job(instance, "data_quality_monitor")  # a failed check that is not blocking: the run succeeds

    passed, severity, description = evaluations(result)["analytics/posts:freshness"]
    assert (passed, severity) == (False, AssetCheckSeverity.ERROR)
    assert description.startswith("stale: youtube (last successful collection 7")
    assert "reddit" not in description
    rows = dict(query(warehouse, "SELECT platform, passed FROM ops.data_quality WHERE \"check\" = 'analytics/posts:freshness' AND day = ?", [today]))
    assert rows == {"reddit": True, "youtube": False}
    (hours,) = query(warehouse, "SELECT value FROM ops.data_quality WHERE \"check\" = 'analytics/posts:freshness' AND platform = 'youtube'")[0]
    assert 72 <= hours < 74


def test_a_schema_change_fails_the_schema_test_and_the_rollups_are_not_rebuilt(warehouse, instance):
    rollups_before = query(warehouse, "SELECT * FROM analytics.rollups_weekly ORDER BY ALL")
    # Upstream, a column changes type (say a normalizer starts writing fractional view counts).
    execute(warehouse, "ALTER TABLE normalized.posts ALTER views SET DATA TYPE DOUBLE",
            "UPDATE normalized.posts SET likes = likes + 1000")  # a change the rollups would show
    result = run_job(instance, "build_analytics", success=False)

    found = evaluations(result)
    assert found["analytics/engagement_snapshots:engagement_snapshots_schema"][:2] == (False, AssetCheckSeverity.ERROR)
    materialized = {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert AssetKey(["analytics", "engagement_snapshots"]) in materialized
    # dbt skipped everything downstream of the failed test: posts and the three rollups.
    for name in ("posts", "rollups_daily", "rollups_weekly", "rollups_monthly"):
        assert AssetKey(["analytics", name]) not in materialized
    assert query(warehouse, "SELECT * FROM analytics.rollups_weekly ORDER BY ALL") == rollups_before
    (actual_type,) = query(warehouse, "SELECT data_type FROM information_schema.columns WHERE table_schema = 'analytics' "
                                      "AND table_name = 'engagement_snapshots' AND column_name = 'views'")[0]
    assert actual_type == "DOUBLE"
    today = datetime.now(timezone.utc).date()
    assert query(warehouse, "SELECT passed, value FROM ops.data_quality WHERE platform = 'all' AND day = ? AND "
                            "\"check\" = 'analytics/engagement_snapshots:engagement_snapshots_schema'", [today]) == [(False, 1.0)]


# -- the volume band --------------------------------------------------------------------------


def history(*counts: int) -> dict[date, int]:
    return {date(2026, 11, 1) + timedelta(days=i): c for i, c in enumerate(counts)}


KEY = checks.AssetCheckKey(checks.POSTS, "volume")


def test_volume_needs_five_collected_days_to_judge():
    outcome = volume_outcome(KEY, 0, history(40, 42, 38, 41))
    assert outcome.passed and "4 collected day(s) of history, 5 needed" in outcome.description


def test_zero_rows_where_the_source_normally_has_data_is_an_error():
    outcome = volume_outcome(KEY, 0, history(40, 42, 38, 41, 45, 39, 44))
    assert not outcome.passed and outcome.severity == AssetCheckSeverity.ERROR
    assert outcome.description.startswith("0 posts, far below the trailing band")


def test_a_spike_is_a_warning():
    outcome = volume_outcome(KEY, 400, history(40, 42, 38, 41, 45, 39, 44))
    assert not outcome.passed and outcome.severity == AssetCheckSeverity.WARN


def test_a_quiet_day_of_a_small_source_is_normal():
    # Three posts a day: 0 and 9 are outside the band of the last days, but a Poisson count of
    # mean 3 gives 0 one day in twenty and 9 or more one day in 260: not anomalies.
    small = history(3, 2, 4, 3, 5, 3, 1, 3)
    band = volume_band(small.values())
    assert band.median == 3 and 0 < band.low and band.high < 9
    assert volume_outcome(KEY, 0, small).passed
    assert volume_outcome(KEY, 9, small).passed
    assert not volume_outcome(KEY, 12, small).passed  # one day in 14,000


def test_a_real_empty_partition_fails_volume(busy_warehouse, instance):
    """Five busy subreddits collected for a week; then a day collected before anything was posted."""
    warehouse, day, patch = busy_warehouse
    patch.setenv("SOCIAL_SANDBOX_NOW", f"{day}T00:00:01+00:00")  # the day has just begun: nothing yet
    result = run_job(instance, "collect_platform_day", f"{day}|reddit")  # not blocking: the run succeeds

    passed, severity, description = evaluations(result)["normalized/posts:volume"]
    history_counts = [c for _, c in query(
        warehouse, "SELECT partition_date, count(*) FROM normalized.posts WHERE partition_date < ? GROUP BY 1", [day])]
    assert len(history_counts) == 7 and min(history_counts) >= 5
    assert (passed, severity) == (False, AssetCheckSeverity.ERROR)
    assert description.startswith("0 posts, far below")
    assert quality_rows(warehouse, "reddit", day)["normalized/posts:volume"] == (False, 0.0)

    patch.setenv("SOCIAL_SANDBOX_NOW", f"{day + timedelta(days=1)}T03:00:00+00:00")  # collected properly
    result = run_job(instance, "collect_platform_day", f"{day}|reddit")
    assert evaluations(result)["normalized/posts:volume"][0] is True


BUSY_SOURCES = """
reddit:
  defaults: {post_limit: 100, collect_comments: false}
  sources:
    - subreddit: analytics
    - subreddit: socialmedia
    - subreddit: python
    - subreddit: dataengineering
    - user: sandbox_alice
"""


@pytest.fixture
def busy_warehouse(tmp_path, monkeypatch, instance):
    day = date(2026, 11, 19)
    warehouse = tmp_path / "busy.duckdb"
    sources = tmp_path / "busy.yaml"
    sources.write_text(BUSY_SOURCES)
    use_environment(monkeypatch, warehouse, sources, now=f"{day}T03:00:00+00:00")
    for back in range(7, 0, -1):
        run_job(instance, "collect_platform_day", f"{day - timedelta(days=back)}|reddit")
    return warehouse, day, monkeypatch
