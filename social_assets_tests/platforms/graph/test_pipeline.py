"""Instagram and Facebook through the real pipeline (a real Dagster instance, DuckDB and dbt):

- with planted tokens (holding characters that URL-encoding changes), which the sandbox echoes
  in every `paging.next` as Graph does, no token is found in the warehouse, the Dagster storage
  or the logs, in plain or URL-encoded form;
- Instagram's follower history from account insights reaches `analytics.follower_snapshots`
  (marked `derived`) and `analytics.rollups_daily`, days the pipeline never collected;
"""

from __future__ import annotations

import io
import json
import logging
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import pytest
import yaml
from dagster import instance_for_test

from social_assets import connections
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import build_analytics, collect_partition, table_contents

DAY = date(2026, 11, 19)
GRAPH = ("instagram", "facebook")
PLANTED = {"INSTAGRAM_ACCESS_TOKEN": "IGQVJplanted+ig/token=2026", "FACEBOOK_PAGE_TOKEN": "EAAplanted+fb/token=2026"}


def graph_sources(path: Path) -> Path:
    """The project's own Instagram and Facebook sections."""
    raw = yaml.safe_load((PROJECT_ROOT / "sources.yaml").read_text())
    path.write_text(yaml.safe_dump({name: raw[name] for name in GRAPH}))
    return path


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    """One collection of both platforms' day and an analytics build, with planted tokens and
    every log record kept."""
    root = tmp_path_factory.mktemp("graph")
    warehouse, dagster_home = root / "warehouse.duckdb", root / "dagster"
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger()
    level = logger.level
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
        patch.setenv("SOCIAL_SOURCES", str(graph_sources(root / "sources.yaml")))
        patch.setenv("SOCIAL_SANDBOX_NOW", "2026-11-20T03:00:00+00:00")
        for name in ("SOCIAL_SANDBOX_URL", "SOCIAL_SANDBOX_FAULTS", "SOCIAL_SANDBOX_LOG", "SOCIAL_API_MODE"):
            patch.delenv(name, raising=False)
        for name, value in PLANTED.items():
            patch.setenv(name, value)
        patch.setattr(connections, "_SANDBOX", None)  # a new sandbox accepts the planted tokens
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)  # httpx logs every URL it requests at INFO
        try:
            dagster_home.mkdir()
            with instance_for_test(temp_dir=str(dagster_home)) as instance:
                for platform in GRAPH:
                    collect_partition(instance, platform, DAY)
                build_analytics(instance)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
    return warehouse, dagster_home, logs.getvalue()


def forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def test_planted_tokens_are_nowhere_in_the_warehouse_the_dagster_storage_or_the_logs(planted_run):
    warehouse, dagster_home, logs = planted_run
    tables = table_contents(warehouse, ("raw", "normalized", "analytics", "ops"))
    assert tables["raw.posts"], "nothing was collected"
    assert "<redacted>" in json.dumps(tables["raw.posts"], default=str), "the sandbox's paging.next carried no token"
    everything = json.dumps(tables, default=str)
    stored = b"".join(p.read_bytes() for p in dagster_home.rglob("*") if p.is_file())
    assert "HTTP Request: GET https://graph.instagram.com" in logs  # the logs were really captured
    for secret in PLANTED.values():
        for form in forms(secret):
            assert form not in everything
            assert form.encode() not in warehouse.read_bytes()
            assert form.encode() not in stored
            assert form not in logs


def test_instagram_follower_history_fills_days_never_collected_in_rollups_daily(planted_run):
    warehouse, *_ = planted_run
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        snapshots = con.execute(
            "SELECT collected_at, followers, snapshot_source FROM analytics.follower_snapshots "
            "WHERE platform = 'instagram' ORDER BY collected_at").fetchall()
        daily = dict(con.execute(
            "SELECT period_start, followers_end FROM analytics.rollups_daily WHERE platform = 'instagram'").fetchall())
        growth = con.execute("SELECT follower_growth FROM analytics.rollups_daily "
                             "WHERE platform = 'instagram' AND period_start = DATE '2026-11-10'").fetchone()[0]
    finally:
        con.close()
    collected = [s for s in snapshots if s[2] == "collected"]
    history = [s for s in snapshots if s[2] == "derived"]
    assert [s[0] for s in collected] == [datetime(2026, 11, 20, 3)]
    # The last 30 days (the sandbox world's clock is pinned to 2026-11-20), one a day at 07:00 UTC.
    assert len(history) >= 19 and all(s[0].hour == 7 for s in history)
    assert all(a[1] <= b[1] for a, b in zip(history, history[1:]))  # counted back from today's followers
    # Every day of the month before has its followers and growth without a collection then.
    by_day = {s[0].date(): s[1] for s in history}
    assert daily[date(2026, 11, 10)] == by_day[date(2026, 11, 10)] and growth is not None and growth > 0
    # Close to what the account really had then: off by at most the new followers since the last day reported.
    from social_assets.sandbox.app import Sandbox
    from social_assets.sandbox.world import SandboxClock

    world = Sandbox(clock=SandboxClock(datetime(2026, 11, 20, 3, tzinfo=timezone.utc)), faults="none", log="").world
    account = world.account("instagram", "sandbox_studio")
    truth = account.followers(datetime(2026, 11, 10, 7, tzinfo=timezone.utc))
    assert truth <= by_day[date(2026, 11, 10)] <= truth * 1.005
