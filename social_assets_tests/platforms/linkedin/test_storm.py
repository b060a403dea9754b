"""A LinkedIn day collected under a storm of injected faults (429 bursts, 5xx, timeouts, dropped
connections, cut bodies, expired tokens, repeated items, renamed and missing fields) ends with the
normalized tables of a calm run (the analytics are built from them alone)."""

from __future__ import annotations

import json
from datetime import date

from dagster import instance_for_test

from social_assets import connections
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import collect_partition, table_contents

DAY = date(2026, 11, 19)
TABLES = ("normalized.posts", "normalized.comments", "normalized.profiles")


def run(tmp_path, monkeypatch, profile: str) -> tuple[dict, list[dict]]:
    warehouse, log = tmp_path / f"{profile}.duckdb", tmp_path / f"{profile}.jsonl"
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SOCIAL_SOURCES", str(PROJECT_ROOT / "sources.yaml"))
    monkeypatch.setenv("SOCIAL_SANDBOX_FAULTS", profile)
    monkeypatch.setenv("SOCIAL_SANDBOX_LOG", str(log))
    monkeypatch.setattr(connections, "_SANDBOX", None)
    with instance_for_test() as instance:
        collect_partition(instance, "linkedin", DAY)
    served = [json.loads(line) for line in log.read_text().splitlines()]
    return {t: rows for t, rows in table_contents(warehouse, ("normalized",)).items() if t in TABLES}, served


def test_a_linkedin_storm_ends_with_the_tables_of_a_calm_run(pipeline_env, tmp_path, monkeypatch):
    calm, _ = run(tmp_path, monkeypatch, "none")
    stormy, storm_log = run(tmp_path, monkeypatch, "storm")
    assert all(calm[t] for t in TABLES), "the calm run must collect something"
    assert len(calm["normalized.profiles"]) == 1
    assert stormy == calm
    faults = {r["injected_fault"] for r in storm_log} - {None}
    assert {"429_burst", "5xx"} <= faults and faults & {"field_missing", "field_renamed"}, faults
    assert [r for r in storm_log if r["refused_for_overuse"] and not r["injected_fault"]] == []
