"""Issue #3's yardstick: under a storm of injected faults the pipeline ends with exactly the
analyst tables of a calm run, and never overuses a platform's real limits."""

from __future__ import annotations

import json
from datetime import date

import pytest

from social_assets import connections
from social_assets.sources import load_sources
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, table_contents

DAYS = (date(2026, 11, 18), date(2026, 11, 19))
ANALYST_TABLES = ("analytics.posts", "analytics.comments", "analytics.profiles")


def run_pipeline(tmp_path, monkeypatch, profile: str) -> tuple[dict, list[dict]]:
    warehouse = tmp_path / f"{profile}.duckdb"
    log = tmp_path / f"{profile}.jsonl"
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
    # The project's own sources: enough traffic (hundreds of requests) for every fault kind.
    monkeypatch.setenv("SOCIAL_SOURCES", str(PROJECT_ROOT / "sources.yaml"))
    monkeypatch.setenv("SOCIAL_SANDBOX_FAULTS", profile)
    monkeypatch.setenv("SOCIAL_SANDBOX_LOG", str(log))
    monkeypatch.setattr(connections, "_SANDBOX", None)  # a new sandbox reads the profile
    with memory_instance() as instance:
        for day in DAYS:
            for platform in sorted(load_sources(PROJECT_ROOT / "sources.yaml")):  # every platform with sources
                collect_partition(instance, platform, day)
        build_analytics(instance)
    served = [json.loads(line) for line in log.read_text().splitlines()]
    return {t: rows for t, rows in table_contents(warehouse, ("analytics",)).items() if t in ANALYST_TABLES}, served


# Two days of all nine platforms, calm then under a storm (whose backoffs wait in real time).
@pytest.mark.timeout(1500)
def test_a_storm_ends_with_the_tables_of_a_calm_run(pipeline_env, tmp_path, monkeypatch):
    calm, calm_log = run_pipeline(tmp_path, monkeypatch, "none")
    stormy, storm_log = run_pipeline(tmp_path, monkeypatch, "storm")

    assert all(calm[t] for t in ANALYST_TABLES), "the calm run must collect something"
    assert stormy == calm
    injected = [r for r in storm_log if r["injected_fault"]]
    assert len(injected) >= 0.2 * len(storm_log), "a storm injects faults into many requests"
    kinds = {r["injected_fault"] for r in injected}
    assert len(kinds) >= 6, kinds
    assert kinds & {"field_missing", "field_renamed"}, "content faults must be exercised"
    # Real overuse only: refusals the sandbox did not inject.
    assert [r for r in storm_log if r["refused_for_overuse"] and not r["injected_fault"]] == []
    assert not any(r["injected_fault"] for r in calm_log)
