"""`kill -9` of `social-assets run` at a random moment, then a plain rerun: it completes with no
manual step, and the warehouse and the analysts' snapshot hold exactly what a calm run leaves.

The moment is drawn from a seeded generator (SOCIAL_KILL_SEED, default 13; SOCIAL_KILL_TRIALS
trials, default 1, each a kill and a rerun on the same project) and printed, so a failure can
be replayed. It is counted from the moment the run starts its steps (it prints "collecting"):
killing it while Python is still importing tests nothing. The kill then lands inside a step
holding the `duckdb` slot, in the middle of a DuckDB transaction, between steps, while dbt runs
(dbt then carries on as an orphan and holds the warehouse for a while), or while the snapshot
is written."""

from __future__ import annotations

import pytest

import os
import random
import signal
import threading
import time

from social_assets_tests.reliability.cli_runs import (
    Place,
    duplicated_keys,
    run,
    start_run,
    table_keys,
    unfinished_runs,
)

SEED = int(os.environ.get("SOCIAL_KILL_SEED", "13"))
TRIALS = int(os.environ.get("SOCIAL_KILL_TRIALS", "1"))
# The steps of a run take 15 s (idle machine) to 90 s (busy one) here.
LATEST_KILL_SECONDS = 15.0


# Whole runs of the pipeline as separate processes: minutes on a busy machine (the calm
# reference run is made by the first test that needs it).
@pytest.mark.timeout(1800)
def test_a_run_killed_at_a_random_moment_is_recovered_by_the_next_run(calm_keys, tmp_path):
    rng = random.Random(SEED)
    place = Place(tmp_path)
    killed = recovered = 0
    for trial in range(TRIALS):
        moment = round(rng.uniform(0.0, LATEST_KILL_SECONDS), 1)
        victim = start_run(place, own_group=True)
        finished_first = _kill_at(victim, moment)
        killed += not finished_first
        print(f"trial {trial}: seed {SEED}, kill -9 {moment} s into the steps" + (" (the run had finished)" if finished_first else ""))

        rerun = run(place)

        assert rerun.returncode == 0, f"trial {trial} (kill {moment} s into the steps): rerun failed\n{rerun.stdout}{rerun.stderr}"
        keys = table_keys(place.warehouse)
        assert duplicated_keys(keys) == {}
        assert keys == calm_keys, f"trial {trial} (kill {moment} s into the steps): the tables differ from a calm run"
        snapshot = table_keys(place.snapshot, tables=[t for t in calm_keys if t.startswith("analytics.")])
        assert snapshot == {t: k for t, k in calm_keys.items() if t.startswith("analytics.")}
        assert unfinished_runs(place.home) == []
        _end_group(victim.pid)  # a dbt the killed run started may live on as an orphan
        recovered += 1
    print(f"killed runs: {TRIALS} trials, {killed} killed before finishing, {recovered} recovered by a plain rerun")
    assert killed, "every run finished before its kill moment: nothing was tested"


def _kill_at(process, moment: float) -> bool:
    """kill -9 the run `moment` seconds after it began its steps; True when it had finished."""
    steps_began = threading.Event()

    def read_output():
        for line in process.stdout:
            if "collecting" in line:
                steps_began.set()

    threading.Thread(target=read_output, daemon=True).start()
    while not steps_began.wait(0.05):
        if process.poll() is not None:
            return True
    deadline = time.monotonic() + moment
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return True
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return False


def _end_group(group: int) -> None:
    """End what the killed run left running (its dbt), once the test no longer needs it."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
