"""Opening the warehouse for writing while another process may hold it.

DuckDB lets one process write a file, and refuses a writer while any other process has it open,
even read-only. Pipeline steps take turns through the Dagster pool `duckdb`; what can still
hold the file is a process outside the pool: someone who opened the private warehouse file
instead of the published snapshot, `social-assets health`, or a dbt left running by a killed
run. A write step then says which process holds the file, waits for it within a bound
(`SOCIAL_WAREHOUSE_LOCK_WAIT_SECONDS`) and fails with a message that says what to do.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

import duckdb

_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseLocked(RuntimeError):
    """The warehouse stayed locked by another process for longer than allowed."""


def lock_holder(error: BaseException) -> str | None:
    """'PID 123 (/usr/bin/python3 -m something)' from DuckDB's lock error, None if it is not one."""
    match = _HOLDER.search(str(error))
    if not match:
        return None
    pid = int(match["pid"])
    return f"PID {pid} ({_command_line(pid) or match['program']})"


def _command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    return " ".join(words)[:200] or None


def connect_for_writing(
    database: str,
    wait_seconds: float,
    say: Callable[[str], None],
    config: dict | None = None,
    poll_seconds: float = 0.5,
) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `database`. While another process holds the file, say who
    once (and again when the holder changes), retry every `poll_seconds`, and raise
    `WarehouseLocked` after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    announced: str | None = None
    while True:
        try:
            return duckdb.connect(database, read_only=False, config=config or {})
        except duckdb.IOException as error:
            holder = lock_holder(error)
            if holder is None:
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"the warehouse {database} is still held by {holder} after {wait_seconds:g} s. "
                    "Close that process (analysts read the published snapshot, not this file), "
                    "or raise SOCIAL_WAREHOUSE_LOCK_WAIT_SECONDS."
                ) from None
            if holder != announced:
                say(f"the warehouse {database} is held by {holder}; waiting up to {wait_seconds:g} s for it")
                announced = holder
            time.sleep(poll_seconds)
