"""Is a process of this machine still running? Used to recognise work left behind by a process
that was killed (a run, a half-published file), so the next one can clean up after it."""

from __future__ import annotations

import os
from pathlib import Path


def start_marker(pid: int | None = None) -> str | None:
    """When the process started (clock ticks since boot, Linux), or None where /proc is absent.
    With the pid it tells a process from a later one that was given the same pid."""
    fields = _stat_fields(pid or os.getpid())
    return fields[19] if fields else None


def process_alive(pid: int, started: str | None = None) -> bool:
    """True while process `pid` runs (a zombie is not running); when `started` is given, the
    process must also be the one that started then."""
    fields = _stat_fields(pid)
    if fields is not None:
        state, start = fields[0], fields[19]
        return state not in ("Z", "X") and (started is None or start == started)
    if Path("/proc/self/stat").exists():
        return False  # /proc exists and has no entry for the pid: the process is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; field 22 of the file
    (starttime) is index 19 here."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    return text[text.rindex(")") + 2 :].split()
