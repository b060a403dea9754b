"""Runs started by `social-assets run`: who runs them, what is left when one dies, and waiting
for the `duckdb` pool without hanging silently.

Every step that writes the warehouse takes the single slot of the Dagster pool `duckdb`. A run
killed while holding it (`kill -9`, a crash, a reboot) stays STARTED and keeps the slot
forever: Dagster frees slots only when a run ends, and without a daemon nothing ends it. So:

- every run the command line starts is tagged with its process (pid, host and start time);
- before a run starts, runs of this machine whose process is gone are marked failed and their
  slots freed (`reap_dead_runs`); where a daemon runs (`dagster dev`), Dagster's run monitoring
  (dagster.yaml) also fails runs that exceed the maximum runtime and frees their slots;
- the analytics builds of command-line runs of one Dagster home take turns (`pool_turn`, a file
  lock the operating system releases when a process dies), so a waiting build sleeps instead of
  polling the pool; collection runs, several at once, share the pool step by step;
- a run waiting for the pool says which run holds it, and gives up after
  `SOCIAL_POOL_WAIT_SECONDS` (`watch_pool_wait`).
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from social_assets.core.processes import process_alive, start_marker
from social_assets.instance import WAREHOUSE_POOL

PID_TAG = "social_assets/pid"
HOST_TAG = "social_assets/host"
STARTED_TAG = "social_assets/process_started"

UNFINISHED = ("NOT_STARTED", "STARTING", "STARTED", "CANCELING")
POLL_SECONDS = 1.0

Say = Callable[[str], None]


class PoolWaitTimeout(RuntimeError):
    """A run waited longer than allowed for the warehouse pool."""


def process_tags() -> dict[str, str]:
    """Tags that let a later process tell whether the run's process is still alive."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    started = start_marker()
    if started:
        tags[STARTED_TAG] = started
    return tags


def run_process_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process that started a run still runs; None when it cannot be told (a run
    started elsewhere: by the daemon, or on another machine)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return None
    return process_alive(int(tags[PID_TAG]), tags.get(STARTED_TAG))


def reap_dead_runs(instance, say: Say, only: set[str] | None = None) -> list[str]:
    """Mark failed the unfinished runs of this machine whose process is gone, and free their
    pool slots; return their ids. `only` limits it to those run ids."""
    from dagster import DagsterRunStatus, RunsFilter

    if only is not None and not only:
        return []
    filters = RunsFilter(
        statuses=[DagsterRunStatus[s] for s in UNFINISHED],
        tags={HOST_TAG: socket.gethostname()},
        run_ids=sorted(only) if only is not None else None,
    )
    reaped = []
    for record in instance.get_run_records(filters=filters):
        run = record.dagster_run
        if run_process_alive(run.tags) is not False:
            continue
        message = (
            f"the process of this run (pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) is gone: "
            "marked failed and its pool slots freed before the next run"
        )
        instance.report_run_failed(run, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        say(f"run {run.run_id} ({describe_run(run)}) died without finishing: {message}")
        reaped.append(run.run_id)
    return reaped


def describe_run(run) -> str:
    partition = run.tags.get("dagster/partition")
    where = f" {partition}" if partition else ""
    alive = run_process_alive(run.tags)
    if alive is None:
        owner = "started by Dagster" if HOST_TAG not in run.tags else f"on {run.tags[HOST_TAG]}"
    else:
        owner = f"social-assets run, pid {run.tags[PID_TAG]}{'' if alive else ', gone'}"
    return f"{run.job_name}{where}, {owner}"


# -- command-line runs take turns ---------------------------------------------------------------


@contextmanager
def pool_turn(home: Path, run_id: str, what: str, wait_seconds: float, say: Say) -> Iterator[None]:
    """Hold the command line's turn at the warehouse for one run. While another run has the
    turn, say which (once per holder), and raise `PoolWaitTimeout` after `wait_seconds`."""
    lock = FileLock(str(home / "warehouse-turn.lock"))
    holder_file = home / "warehouse-turn.json"
    started = time.monotonic()
    announced = None
    while True:
        try:
            lock.acquire(timeout=POLL_SECONDS)
            break
        except Timeout:
            holder = _read_holder(holder_file)
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise PoolWaitTimeout(_gave_up(what, wait_seconds, holder)) from None
            if holder != announced:
                say(f"{what}: waiting for the {WAREHOUSE_POOL} pool: {holder} holds it")
                announced = holder
    try:
        holder_file.write_text(json.dumps({"run_id": run_id, "what": what, "pid": process_tags()[PID_TAG]}))
        yield
    finally:
        lock.release()


def _read_holder(holder_file: Path) -> str:
    try:
        holder = json.loads(holder_file.read_text())
        if not holder["run_id"]:  # reading the warehouse between runs (the summary)
            return f"social-assets run pid {holder['pid']} ({holder['what']})"
        return f"run {holder['run_id']} ({holder['what']}, social-assets run pid {holder['pid']})"
    except (OSError, ValueError, KeyError):
        return "another social-assets run"


def _gave_up(what: str, wait_seconds: float, holder: str) -> str:
    return (
        f"{what}: gave up after waiting {wait_seconds:g} s for the {WAREHOUSE_POOL} pool, held by {holder}. "
        "Let that run finish and run again, or wait longer with SOCIAL_POOL_WAIT_SECONDS."
    )


# -- a run waiting inside Dagster for a slot held by a run the daemon started ---------------------


@contextmanager
def watch_pool_wait(instance, run_id: str, what: str, wait_seconds: float, say: Say) -> Iterator["_PoolWatch"]:
    """While the body executes run `run_id` in this thread (runs of several platforms execute
    at once, each in its thread): when the run waits for the pool, say which run holds it,
    free it if that run's process is gone, and after `wait_seconds` of waiting make the run
    give up (`PoolWaitTimeout` is raised in this thread; the watch's `gave_up` says why)."""
    watch = _PoolWatch(instance, run_id, what, wait_seconds, say, threading.get_ident())
    watch.start()
    try:
        yield watch
    finally:
        watch.stop.set()
        watch.join()


class _PoolWatch(threading.Thread):
    def __init__(self, instance, run_id: str, what: str, wait_seconds: float, say: Say, run_thread: int):
        super().__init__(name=f"pool-watch-{run_id[:8]}", daemon=True)
        self.instance, self.run_id, self.what, self.wait_seconds, self.say = instance, run_id, what, wait_seconds, say
        self.run_thread = run_thread
        self.stop = threading.Event()
        self.gave_up: str | None = None
        self._stopped_the_run = False

    def run(self) -> None:
        waiting_since = None
        announced = None
        while not self.stop.wait(POLL_SECONDS):
            try:
                holders = self._holders_while_waiting()
            except Exception:  # the watch must never break the run it watches
                continue
            if not holders:
                waiting_since = announced = None
                continue
            if reap_dead_runs(self.instance, self.say, only=set(holders)):
                waiting_since = announced = None
                continue
            now = time.monotonic()
            if waiting_since is None:
                waiting_since = now
                continue  # a claim settles within a poll; only a real wait is worth a message
            description = ", ".join(
                f"run {h} ({describe_run(r) if (r := self.instance.get_run_by_id(h)) else 'unknown'})" for h in holders
            )
            if description != announced:
                self.say(f"{self.what}: waiting for the {WAREHOUSE_POOL} pool: {description} holds it")
                announced = description
            if now - waiting_since >= self.wait_seconds and not self._stopped_the_run:
                self.gave_up = _gave_up(self.what, self.wait_seconds, description)
                self._stop_the_run()

    def _holders_while_waiting(self) -> list[str]:
        """The runs holding the pool while this run waits for it; empty when it is not waiting."""
        info = self.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        if any(slot.run_id == self.run_id for slot in info.claimed_slots):
            return []
        if not any(p.run_id == self.run_id and p.assigned_timestamp is None for p in info.pending_steps):
            return []
        return sorted({slot.run_id for slot in info.claimed_slots if slot.run_id})

    def _stop_the_run(self) -> None:
        """Raise `PoolWaitTimeout` in the run's thread, only while Dagster's executor sleeps
        between its polls for a slot, never inside a step (else the next poll tries again).
        The exception is raised there as the sleep ends: Python delivers an exception set for
        a thread at the next instruction that thread runs."""
        frame = sys._current_frames().get(self.run_thread)
        if frame is None or not _sleeping_for_a_slot(frame):
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.run_thread), ctypes.py_object(PoolWaitTimeout))
        self._stopped_the_run = True


def _sleeping_for_a_slot(frame) -> bool:
    innermost = frame.f_code.co_name
    names = set()
    while frame is not None:
        names.add(frame.f_code.co_name)
        frame = frame.f_back
    # inner_plan_execution_iterator is the executor's loop, which sleeps in sleep_til_ready
    # between polls; a step runs inside dagster_event_sequence_for_step, hooks inside _trigger_hook.
    return (
        innermost == "sleep_til_ready"
        and "inner_plan_execution_iterator" in names
        and not names & {"dagster_event_sequence_for_step", "_trigger_hook"}
    )
