"""Fetching and loading are apart (landing.py): a run killed for real (SIGKILL) between them
loses nothing, and one killed in the middle of fetching leaves nothing half-written that gets
loaded. Real Dagster runs, real DuckDB files, the in-process sandbox over its HTTP emulation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from social_assets.landing import (
    OUTCOME_SUFFIX,
    PARTIAL_SUFFIX,
    RESPONSES_SUFFIX,
    CollectionBusy,
    load_partition,
    partition_dir,
    partition_lock,
)
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import collect_partition, memory_instance, table_contents

DAY = date(2026, 11, 19)
SOURCES = ["r/duckdb", "u/sandbox_bob"]

# Runs one collection of reddit's day in a fresh process that SIGKILLs itself at the given point:
# "before-load" (every source fetched, nothing loaded) or "mid-fetch" (inside the second source's
# landing file, two responses in).
VICTIM = """
import os, signal, sys
from datetime import date

from social_assets import landing

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "before-load":
    landing.load_partition = die
else:
    write = landing.SourceLandingFile.write
    def write_then_die(self, landed):
        write(self, landed)
        self.written = getattr(self, "written", 0) + 1
        if self.position == 1 and self.written == 2:
            self._out.flush()
            die()
    landing.SourceLandingFile.write = write_then_die

from social_assets_tests.pipeline import collect_partition, memory_instance
collect_partition(memory_instance(), "reddit", date(2026, 11, 19))
"""


def kill_a_collection(point: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "SOCIAL_COLLECT_WORKERS": "1"}
    victim = subprocess.run([sys.executable, "-c", VICTIM, point], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert victim.returncode == -signal.SIGKILL, victim.stdout + victim.stderr


def calm_tables(tmp_path: Path, monkeypatch) -> dict[str, list[tuple]]:
    """raw.* and normalized.* of a run that nobody killed, in a warehouse of its own."""
    calm = tmp_path / "calm" / "warehouse.duckdb"
    calm.parent.mkdir()
    with monkeypatch.context() as patch:
        patch.setenv("SOCIAL_WAREHOUSE", str(calm))
        collect_partition(memory_instance(), "reddit", DAY)
    return table_contents(calm, schemas=("raw", "normalized"))


def landing_files(pattern: str) -> list[Path]:
    return sorted(partition_dir("reddit", DAY).glob(f"*/{pattern}"))


def raw_accounts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return dict(con.execute("SELECT account_id, count(*) FROM raw.posts GROUP BY 1").fetchall())
    finally:
        con.close()


def test_a_run_killed_between_fetching_and_loading_loses_nothing(pipeline_env, tmp_path, monkeypatch):
    calm = calm_tables(tmp_path, monkeypatch)
    kill_a_collection("before-load")

    # The dead run fetched both sources, completely, and loaded nothing.
    assert len(landing_files(f"*{OUTCOME_SUFFIX}")) == 2 and len(landing_files(f"*{RESPONSES_SUFFIX}")) == 2
    assert landing_files(f"*{PARTIAL_SUFFIX}") == []
    (dead_run,) = {path.parent.name for path in landing_files("*")}

    # The next run collects one source only: the other comes from the dead run's file.
    result = collect_partition(memory_instance(), "reddit", DAY, sources=["r/duckdb"])
    assert table_contents(pipeline_env, schemas=("raw", "normalized")) == calm
    assert landing_files("*") == []  # loaded files are removed
    metadata = result.asset_materializations_for_node("collect")[0].metadata
    assert metadata["recovered_from_runs"].value == {"u/sandbox_bob": dead_run}
    con = duckdb.connect(str(pipeline_env), read_only=True)
    try:
        logged = con.execute("SELECT run_id, account_id, status FROM ops.collection_log").fetchall()
    finally:
        con.close()
    # The dead run's collection is in the log under its own run id, the source fetched again too.
    assert sorted(logged) == sorted([(result.run_id, "r/duckdb", "success"), (dead_run, "r/duckdb", "success"),
                                     (dead_run, "u/sandbox_bob", "success")])

    # And a plain run over it all ends where a calm run does.
    collect_partition(memory_instance(), "reddit", DAY)
    assert table_contents(pipeline_env, schemas=("raw", "normalized")) == calm
    assert landing_files("*") == []


def test_a_run_killed_mid_fetch_leaves_no_half_file_that_is_loaded(pipeline_env, tmp_path, monkeypatch):
    calm = calm_tables(tmp_path, monkeypatch)
    kill_a_collection("mid-fetch")

    # The first source is complete; the second died two responses into its file.
    (complete,) = landing_files(f"*{OUTCOME_SUFFIX}")
    assert complete.name.startswith("r_duckdb-")
    (half,) = landing_files(f"*{PARTIAL_SUFFIX}")
    assert half.name.startswith("u_sandbox_bob-") and half.stat().st_size > 0

    # A load now takes the complete source and leaves the half file alone.
    con = duckdb.connect(str(pipeline_env))
    try:
        loaded = load_partition(con, "reddit", DAY, configured=SOURCES, order=SOURCES, whole_partition=True)
    finally:
        con.close()
    assert [landed.account_id for landed in loaded.chosen] == ["r/duckdb"]
    assert raw_accounts(pipeline_env) == {"r/duckdb": dict(calm_posts(calm))["r/duckdb"]}
    assert landing_files("*") == [half]

    # The next collection of the partition clears the half file away and collects afresh.
    collect_partition(memory_instance(), "reddit", DAY)
    assert table_contents(pipeline_env, schemas=("raw", "normalized")) == calm
    assert landing_files("*") == []


def calm_posts(calm: dict[str, list[tuple]]) -> list[tuple[str, int]]:
    """(account, raw.posts rows) of the calm run."""
    counts: dict[str, int] = {}
    for row in calm["raw.posts"]:
        counts[row[2]] = counts.get(row[2], 0) + 1
    return sorted(counts.items())


def test_one_fetch_per_platform_day_at_a_time(tmp_path):
    said: list[str] = []
    with partition_lock("reddit", DAY, 5, said.append, root=tmp_path):
        with pytest.raises(CollectionBusy, match="reddit 2026-11-19: another collection of this platform-day is still running"):
            with partition_lock("reddit", DAY, 1.5, said.append, root=tmp_path):
                pass
        assert said == ["reddit 2026-11-19: another collection of this platform-day is running; waiting for it"]
        with partition_lock("youtube", DAY, 0, said.append, root=tmp_path):  # another platform-day is free
            pass
    with partition_lock("reddit", DAY, 0, said.append, root=tmp_path):  # and this one once released
        pass
    assert len(said) == 1
