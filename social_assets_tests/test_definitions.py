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



IMPORT_WITHOUT_DBT = """
import subprocess
real_run = subprocess.run
def refuse_dbt(args, *rest, **kwargs):
    if any(str(a).endswith("dbt") for a in args[:1]):
        raise SystemExit("dbt was run while the definitions were imported: " + " ".join(map(str, args)))
    return real_run(args, *rest, **kwargs)
subprocess.run = subprocess.Popen = refuse_dbt
from social_assets.definitions import defs
print(sorted(k.to_user_string() for k in defs.resolve_all_asset_keys()))
"""


def test_importing_the_definitions_runs_no_dbt():
    # The manifest is prepared beforehand (make install, run, dev, this test session);
    # importing the code location only reads it.
    result = subprocess.run([sys.executable, "-c", IMPORT_WITHOUT_DBT], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'analytics/rollups_daily'" in result.stdout.splitlines()[-1]


def test_an_unprepared_project_names_the_command_that_prepares_it(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import pytest

    from social_assets.warehouse import dbt_project as module

    # A project whose manifest was never made (a fresh clone before `make install`).
    monkeypatch.setattr(module, "dbt_project", lambda: SimpleNamespace(manifest_path=tmp_path / "target" / "manifest.json"))
    with pytest.raises(module.DbtProjectNotPrepared, match=r"run `social-assets prepare`"):
        module.prepared_manifest()
