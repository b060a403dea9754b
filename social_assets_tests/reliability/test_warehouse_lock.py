"""A write step that finds the warehouse held by another process names it, waits within a
bound, and then either gets the file or fails with a message saying what to do."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from social_assets.warehouse.locking import WarehouseLocked, connect_for_writing

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); time.sleep(float(sys.argv[2]))"


def _holder(database, seconds: float) -> subprocess.Popen:
    """Another process (an analyst who opened the warehouse itself) holding it read-only."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(database), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "open"
    return process


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_a_writer_names_the_holder_and_gets_the_file_once_it_is_let_go(database):
    holder = _holder(database, 2)
    said: list[str] = []
    started = time.monotonic()
    con = connect_for_writing(str(database), wait_seconds=60, say=said.append)
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    con.close()
    holder.wait()
    assert 1.0 < time.monotonic() - started < 30
    assert len(said) == 1
    assert f"is held by PID {holder.pid} ({sys.executable} -c import duckdb" in said[0]
    assert "waiting up to 60 s" in said[0]


def test_a_writer_gives_up_after_the_bound_with_a_clear_message(database):
    holder = _holder(database, 30)
    try:
        with pytest.raises(WarehouseLocked) as raised:
            connect_for_writing(str(database), wait_seconds=1, say=lambda _: None)
    finally:
        holder.kill()
        holder.wait()
    message = str(raised.value)
    assert f"is still held by PID {holder.pid}" in message and "after 1 s" in message
    assert "SOCIAL_WAREHOUSE_LOCK_WAIT_SECONDS" in message and "published snapshot" in message
