"""Four `social-assets run` started at once on a fresh Dagster home, with two analysts reading
the published snapshot the whole time: one holds it open, one opens and closes it in a loop.
Every run succeeds, no analyst query fails, the one holding it open keeps a consistent view,
and the warehouse ends as after one calm run."""

from __future__ import annotations

import pytest

import json
import subprocess
import sys

from social_assets_tests.reliability.cli_runs import (
    PROJECT_ROOT,
    Place,
    duplicated_keys,
    start_run,
    table_keys,
    unfinished_runs,
)

RUNS = 4


# Whole runs of the pipeline as separate processes: minutes on a busy machine (the calm
# reference run is made by the first test that needs it).
@pytest.mark.timeout(1800)
def test_four_runs_at_once_on_a_fresh_home_with_analysts_reading(calm_keys, tmp_path):
    place = Place(tmp_path / "project")
    assert not place.home.exists()
    stop = tmp_path / "stop"
    analysts = {
        mode: subprocess.Popen(
            [sys.executable, "-m", "social_assets_tests.reliability.analyst", mode, str(place.snapshot), str(stop),
             str(tmp_path / f"{mode}.json")],
            cwd=PROJECT_ROOT,
        )
        for mode in ("hold", "reopen")
    }
    runs = [start_run(place) for _ in range(RUNS)]
    try:
        outputs = [run.communicate(timeout=1200)[0] for run in runs]
    finally:
        stop.touch()
        for analyst in analysts.values():
            analyst.wait(timeout=60)

    failed = [out for run, out in zip(runs, outputs) if run.returncode != 0]
    reports = {mode: json.loads((tmp_path / f"{mode}.json").read_text()) for mode in analysts}
    print(f"concurrent runs: {RUNS} started, {RUNS - len(failed)} succeeded; analysts: {reports}")
    assert failed == [], "\n\n".join(failed)
    # They took turns at the warehouse, and the ones waiting said for whom.
    assert any("waiting for the duckdb pool: run " in out for out in outputs)
    assert reports["hold"]["errors"] == [] and reports["reopen"]["errors"] == []
    assert reports["hold"]["opens"] == 1 and reports["hold"]["queries"] > 0
    assert reports["hold"]["changed_while_open"] == 0  # its view did not move under it
    assert reports["reopen"]["opens"] > 10
    # The snapshot was published by every run's build; the reopening analyst saw more than one.
    assert reports["reopen"]["snapshots_seen"] >= 2
    keys = table_keys(place.warehouse)
    assert duplicated_keys(keys) == {}
    assert keys == calm_keys
    assert unfinished_runs(place.home) == []
