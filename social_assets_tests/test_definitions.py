"""The code location loads the way Dagster's own tools load it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from social_assets_tests.conftest import PROJECT_ROOT

BIN = Path(sys.executable).parent


def test_definitions_hold_every_layer():
    from social_assets.definitions import defs

    keys = set(defs.resolve_all_asset_keys())
    for resource in ("posts", "comments", "profiles"):
        assert AssetKey(["raw", resource]) in keys
        assert AssetKey(["normalized", resource]) in keys
    for model in ("posts", "comments", "profiles", "engagement_snapshots", "follower_snapshots",
                  "rollups_daily", "rollups_weekly", "rollups_monthly"):
        assert AssetKey(["analytics", model]) in keys
    # dbt's sources are the Python assets: the lineage is connected.
    graph = defs.resolve_asset_graph()
    assert AssetKey(["normalized", "posts"]) in graph.get(AssetKey(["analytics", "posts"])).parent_keys
    partitions = defs.resolve_job_def("collect_platform_day").partitions_def
    assert "2026-11-19|reddit" in partitions.get_partition_keys()
    assert "2026-11-19|youtube" in partitions.get_partition_keys()


def test_dagster_definitions_validate():
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr

