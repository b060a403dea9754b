"""What an operator does in the Dagster UI, through the UI's own GraphQL API (issue 12, item 3 and
"How we will know"): `dagster dev` (webserver, daemon with its sensors, code server) on a free
port with a temporary DAGSTER_HOME, the project's instance settings and a real DuckDB file.

1. A one-partition run launched from the UI finishes in at most twice the time the command line
   takes for the same partition (the CLI's path: a process that loads the definitions and
   executes the job in process).
2. A 3-day backfill launched from the UI completes; the automation sensor then rebuilds the
   analytics tables: no analytics run fails, none was created while a collection was queued or
   running, and no blocking check is red at the end.

Small sources (two Reddit sources, the sandbox clock pinned) keep it to a few minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from social_assets_tests.ui.dagster_ui import FINISHED, DagsterUI

SOURCES = """
reddit:
  defaults: {post_limit: 100, collect_comments: true, comment_depth: 6, sort: new}
  sources:
    - subreddit: duckdb
    - user: sandbox_bob
"""
NOW = "2026-11-20T03:00:00+00:00"
DAY = "2026-11-19"
BACKFILL_DAYS = ["2026-11-16", "2026-11-17", "2026-11-18"]
ANALYTICS_JOB = "__ASSET_JOB"  # the automation sensor's runs
COLLECTING = {"collect_platform_day", "replay_dead_letters", "refresh_engagement_hourly"}

CLI_ONE_PARTITION = """
import sys
from dagster import DagsterInstance
from social_assets.instance import prepare_dagster_home
prepare_dagster_home()
from social_assets.definitions import defs
from social_assets.defs.partitions import platform_day_key
from datetime import date
with DagsterInstance.get() as instance:
    result = defs.resolve_job_def("collect_platform_day").execute_in_process(
        instance=instance, partition_key=platform_day_key("reddit", date.fromisoformat(sys.argv[1])))
sys.exit(0 if result.success else 1)
"""


def environment(tmp: Path) -> dict[str, str]:
    from social_assets.platforms import PLATFORMS

    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "sources.yaml").write_text(SOURCES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIAL_", "DAGSTER_"))}
    for platform in PLATFORMS.values():
        for name in platform.credentials:
            env.pop(name, None)
    return {**env, "SOCIAL_WAREHOUSE": str(tmp / "warehouse.duckdb"), "SOCIAL_SOURCES": str(tmp / "sources.yaml"),
            "SOCIAL_SANDBOX_NOW": NOW, "DAGSTER_HOME": str(tmp / "dagster_home")}


def cli_seconds(tmp: Path) -> float:
    env = environment(tmp)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CLI_ONE_PARTITION, DAY], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return elapsed


def wait_until(condition, timeout: float, what: str, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout} s")


@pytest.mark.timeout(900)
def test_runs_and_a_backfill_from_the_ui(tmp_path, capsys):
    started = time.monotonic()
    # The command line's time for the partition first, alone on the machine.
    cli = cli_seconds(tmp_path / "cli")

    env = environment(tmp_path / "ui")
    with DagsterUI(Path(env["DAGSTER_HOME"]), env, tmp_path / "dagster_dev.log") as ui:
        loaded = time.monotonic() - started - cli
        # Only the automation (and the failure alert) stay on: the clock-driven ones would add runs.
        ui.turn_off({"daily_collection", "data_quality_hourly", "hourly_engagement_refresh", "new_sources", "trending_posts"})

        # 1. One partition, launched as the UI's "Launch run" does, and while it runs, a 3-day
        #    backfill of the same job, as "Launch backfill" does (its runs queue behind: one writer).
        launched = time.monotonic()
        run_id = ui.launch_partition_run("collect_platform_day", f"{DAY}|reddit", {"date": DAY, "platform": "reddit"})
        backfill = ui.launch_backfill("collect_platform_day", [f"{d}|reddit" for d in BACKFILL_DAYS])
        run = ui.wait_for_run(run_id)
        ui_seconds = time.monotonic() - launched
        assert run["status"] == "SUCCESS", (tmp_path / "dagster_dev.log").read_text()[-5000:]

        wait_until(lambda: ui.backfill_status(backfill) not in ("REQUESTED",), 600, "the backfill")
        assert ui.backfill_status(backfill) == "COMPLETED_SUCCESS"

        # 2. The automation sensor rebuilds the analytics once nothing is being collected.
        def settled():
            runs = ui.runs()
            collections = [r for r in runs if r["jobName"] in COLLECTING]
            analytics = [r for r in runs if r["jobName"] == ANALYTICS_JOB]
            if any(r["status"] not in FINISHED for r in runs):
                return None
            last_write = max(r["endTime"] for r in collections)
            return runs if any(r["creationTime"] > last_write for r in analytics) else None

        runs = wait_until(settled, 420, "the analytics rebuild after the backfill")
        checks = ui.check_statuses()
        total = time.monotonic() - started

    collections = [r for r in runs if r["jobName"] in COLLECTING]
    analytics = [r for r in runs if r["jobName"] == ANALYTICS_JOB]
    assert len(collections) >= 4 and all(r["status"] == "SUCCESS" for r in collections)
    assert analytics and all(r["status"] == "SUCCESS" for r in analytics), [(r["runId"], r["status"]) for r in analytics]
    for build in analytics:  # never created while a collection was queued or running
        assert not [c["runId"] for c in collections
                    if c["creationTime"] <= build["creationTime"] <= c["endTime"]], build["runId"]
        # one dbt build per trigger: every model of the trigger in the one run
        assert len(build["assetSelection"]) == len(analytics_models())

    # No blocking check red: the UI's view of each check's latest execution, and the warehouse's.
    blocking = {name: status for name, (is_blocking, status) in checks.items() if is_blocking}
    assert "analytics/comments:comments_known_posts" in blocking and "normalized/comments:known_posts" in blocking
    assert {name: status for name, status in blocking.items() if status != "SUCCEEDED"} == {}
    con = duckdb.connect(env["SOCIAL_WAREHOUSE"], read_only=True)
    try:
        failed = con.execute('SELECT platform, day, "check" FROM ops.data_quality WHERE NOT passed '
                             "AND \"check\" NOT LIKE '%:freshness' AND \"check\" NOT LIKE '%:volume'").fetchall()
        days = {d.isoformat() for (d,) in con.execute("SELECT DISTINCT published_at::date FROM analytics.posts").fetchall()}
    finally:
        con.close()
    assert failed == []
    assert {DAY, *BACKFILL_DAYS} <= days

    with capsys.disabled():
        print(f"\nUI one-partition run {ui_seconds:.1f} s, CLI same partition {cli:.1f} s "
              f"(ratio {ui_seconds / cli:.2f}); UI loaded in {loaded:.0f} s; whole test {total:.0f} s; "
              f"{len(analytics)} analytics run(s)")
    assert ui_seconds <= 2 * cli, f"UI {ui_seconds:.1f} s vs CLI {cli:.1f} s"


def analytics_models() -> set:
    """Every analytics model of the code location (one dbt build builds them all)."""
    from dagster import AssetSelection

    from social_assets.definitions import defs

    return AssetSelection.groups("analytics").resolve(defs.resolve_asset_graph())
