"""`social-assets health`: per platform reachable, limit left, last success, freshness, recent
errors and failed checks; exit 0 when healthy, 1 when a platform is not (naming it)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from social_assets import connections, definitions
from social_assets.cli import main
from social_assets.sandbox.http import SandboxResponse
from social_assets_tests.automation.conftest import (
    execute,
    project_defs,
    query,
    run_job,
    use_environment,
    write_sources,
)

UTC = timezone.utc


def health(capsys, *args) -> tuple[int, str]:
    code = main(["health", *args])
    return code, capsys.readouterr().out


def test_make_run_fills_the_quality_table_and_the_log_and_health_follows(tmp_path, monkeypatch, capsys):
    """What the issue asks: after `make run`, one row per platform (and check) in ops.data_quality
    and per source in ops.collection_log for the day, and health exits 0; made stale, it exits 1
    and names the platform."""
    warehouse = tmp_path / "warehouse.duckdb"
    use_environment(monkeypatch, warehouse, write_sources(tmp_path / "sources.yaml"), now=None)  # the real clock
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    # `run` uses the code location's `defs`, whose resources were bound when it was first
    # imported (by an earlier test, maybe): the same definitions, bound to this environment.
    monkeypatch.setattr(definitions, "defs", project_defs())
    yesterday = datetime.now(UTC).date() - timedelta(days=1)

    assert main(["run"]) == 0
    capsys.readouterr()

    log = query(warehouse, "SELECT platform, account_id, status FROM ops.collection_log WHERE partition_date = ? ORDER BY 1, 2", [yesterday])
    assert [row[:2] for row in log] == [("reddit", "r/duckdb"), ("reddit", "u/sandbox_bob"), ("youtube", log[-1][1])]
    assert {status for *_, status in log} == {"success"}
    quality = query(warehouse, 'SELECT platform, "check", passed FROM ops.data_quality WHERE day = ? ORDER BY 1, 2', [yesterday])
    per_platform = {p: [c for q, c, _ in quality if q == p] for p in ("reddit", "youtube")}
    assert per_platform["reddit"] == per_platform["youtube"] and len(per_platform["reddit"]) == 8
    assert len(set(per_platform["reddit"])) == 8  # one row per check
    assert all(passed for *_, passed in quality)
    fresh = query(warehouse, "SELECT platform, passed FROM ops.data_quality WHERE \"check\" = 'analytics/posts:freshness' ORDER BY 1")
    assert fresh == [("reddit", True), ("youtube", True)]

    code, out = health(capsys)
    assert code == 0, out
    assert "reddit: healthy" in out and "youtube: healthy" in out and out.rstrip().endswith("overall: healthy")
    assert f"newest day {yesterday}" in out

    # Nothing collected from YouTube for three days.
    execute(warehouse, "UPDATE ops.collection_log SET started_at = started_at - INTERVAL 3 DAY, "
                       "finished_at = finished_at - INTERVAL 3 DAY WHERE platform = 'youtube'")
    code, out = health(capsys)
    assert code == 1
    assert "youtube: UNHEALTHY: last successful collection 72." in out and "reddit: healthy" in out
    assert out.rstrip().endswith("overall: UNHEALTHY (youtube)")


def test_health_reports_every_field_as_json(warehouse, capsys):
    code, out = health(capsys, "--json")
    report = json.loads(out)
    assert code == 0 and report["healthy"] is True
    by_name = {p["platform"]: p for p in report["platforms"]}  # every registered platform is listed
    reddit, youtube = by_name["reddit"], by_name["youtube"]
    assert (reddit["platform"], reddit["sources"], reddit["reachable"], reddit["api"]) == ("reddit", 2, True, "sandbox (in-process)")
    assert reddit["limit"].startswith("unknown")
    (calls,) = query(warehouse, "SELECT sum(calls) FROM ops.collection_log WHERE platform = 'youtube'")[0]
    assert youtube["limit"].startswith(f"~{10_000 - calls:,} of 10,000 quota units left today")
    assert reddit["newest_day"] == "2026-11-19" and reddit["newest_observation"].startswith("2026-11-20T03:00:00")
    assert (reddit["collections_24h"], reddit["failed_24h"], reddit["error_rate"]) == (4, 0, 0.0)
    assert reddit["failed_checks"] == [] and reddit["problems"] == []


def test_an_unreachable_api_is_unhealthy(warehouse, capsys, monkeypatch):
    monkeypatch.setenv("SOCIAL_SANDBOX_URL", "http://127.0.0.1:9")  # nothing listens there
    code, out = health(capsys)
    assert code == 1
    # The API host is probed first, then the token endpoint's.
    assert "reddit: UNHEALTHY: unreachable: oauth.reddit.com: no answer (ConnectError)" in out
    assert "overall: UNHEALTHY (reddit, youtube)" in out


def test_recent_failures_above_the_allowed_rate_are_unhealthy(warehouse, instance, capsys, monkeypatch):
    emulation = connections.shared_sandbox().platforms["reddit"]
    monkeypatch.setattr(emulation, "handle", lambda r: SandboxResponse(403, {"message": "Forbidden", "error": 403}))
    run_job(instance, "collect_platform_day", "2026-11-19|reddit", success=False)  # both sources refused

    code, out = health(capsys)
    assert code == 1
    assert "reddit: UNHEALTHY: 2 of 6 source collections failed in the last 24 h (allowed 25%)" in out
    assert "youtube: healthy" in out
    code, out = health(capsys, "--max-error-rate", "0.5")
    assert code == 0, out


def test_a_failed_blocking_check_on_the_newest_day_is_unhealthy(warehouse, capsys):
    execute(warehouse, "UPDATE ops.data_quality SET passed = false WHERE platform = 'youtube' "
                       "AND \"check\" IN ('normalized/comments:known_posts', 'normalized/posts:volume')")
    code, out = health(capsys)
    assert code == 1
    assert ("youtube: UNHEALTHY: blocking check failed on 2026-11-19: normalized/comments:known_posts" in out)
    assert "normalized/comments:known_posts, normalized/posts:volume failed on 2026-11-19" in out


def test_a_spent_quota_is_unhealthy(warehouse, capsys):
    execute(warehouse, "UPDATE ops.collection_log SET calls = 10000 WHERE platform = 'youtube'")
    code, out = health(capsys)
    assert code == 1 and "youtube: UNHEALTHY: quota spent" in out
    assert "~0 of 10,000 quota units left today" in out


def test_nothing_collected_yet_is_unhealthy_and_a_broken_sources_file_cannot_be_judged(tmp_path, monkeypatch, capsys):
    use_environment(monkeypatch, tmp_path / "none.duckdb", write_sources(tmp_path / "sources.yaml"))
    code, out = health(capsys)
    assert code == 1 and "reddit: UNHEALTHY: no successful collection yet" in out

    (tmp_path / "sources.yaml").write_text("reddit: [")
    assert main(["health"]) == 2
    assert "health: cannot check:" in capsys.readouterr().err


FULL_REFRESH = {"ops": {"analytics_models": {"config": {"full_refresh": True}}}}


def test_a_failing_blocking_dbt_test_is_unhealthy_until_it_passes_again(warehouse, instance, capsys):
    """dbt's tests are stored under platform `all`; the latest result of each counts."""
    # A comment whose post was never collected: dbt's comments_known_posts fails on the rebuild.
    # Written by hand, not by the pipeline: an incremental build does not see it (only the
    # pipeline's writes are recorded), so the operator rebuilds in full, as the README says.
    execute(warehouse, "INSERT INTO normalized.comments SELECT * REPLACE ('t3_nowhere' AS post_id, 'orphan1' AS comment_id) "
                       "FROM normalized.comments WHERE platform = 'reddit' LIMIT 1")
    run_job(instance, "build_analytics")
    assert query(warehouse, "SELECT count(*) FROM analytics.comments WHERE comment_id = 'orphan1'") == [(0,)]
    run_job(instance, "build_analytics", run_config=FULL_REFRESH, success=False)
    assert query(warehouse, "SELECT platform, value, passed FROM ops.data_quality "
                            "WHERE \"check\" = 'analytics/comments:comments_known_posts'") == [("all", 1.0, False)]

    code, out = health(capsys)
    assert code == 1, out
    assert "reddit: healthy" in out and "youtube: healthy" in out
    assert "analytics: UNHEALTHY: blocking check failed: analytics/comments:comments_known_posts (1 failing row(s), checked " in out
    assert out.rstrip().endswith("overall: UNHEALTHY (analytics)")
    code, out = health(capsys, "--json")
    report = json.loads(out)
    assert code == 1 and report["healthy"] is False and report["analytics"]["healthy"] is False
    assert [(f["check"], f["failing_rows"], f["blocking"]) for f in report["analytics"]["failed_checks"]] == [
        ("analytics/comments:comments_known_posts", 1.0, True)
    ]

    execute(warehouse, "DELETE FROM normalized.comments WHERE comment_id = 'orphan1'")
    run_job(instance, "build_analytics", run_config=FULL_REFRESH)
    code, out = health(capsys)
    assert code == 0, out
    assert "analytics: healthy" in out and "no blocking test failed" in out


def test_every_dbt_test_of_the_project_is_known_and_blocking():
    from social_assets.quality import DBT_MANIFEST, dbt_tests

    tests = dbt_tests(DBT_MANIFEST)
    assert tests["analytics/comments:comments_known_posts"] is True
    assert {"analytics/posts:posts_key", "analytics/rollups_weekly:rollups_weekly_schema"} <= set(tests)
    assert all(tests.values())  # no dbt test of the project has severity warn
