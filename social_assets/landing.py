"""Landing files: a collection's responses on disk, between fetching them and loading them.

Fetching (HTTP, minutes when a platform makes us wait) runs outside the warehouse's `duckdb`
pool; loading into raw.* is a short step inside it. In between, each source's responses are in
its landing file, one per platform, day, run and source:

    <landing>/<platform>/<day>/<run id>/<source>.jsonl.gz       the responses, one JSON line each
    <landing>/<platform>/<day>/<run id>/<source>.outcome.json   how the source's collection went

Both are written under a temporary name and renamed when the source is done, responses first:
a source is complete only once its outcome file exists, so a run that dies mid-fetch leaves
nothing that is ever loaded (the next collection of the partition removes its leftovers). A
run that dies after fetching leaves complete files: the next load of the partition loads them,
or, for a source it collected again, the fresher of the two. Loaded files are removed.

One collection per platform-day fetches at a time (`partition_lock`, a file lock the operating
system releases when a process dies): a second one waits for it, whatever started it (the
command line, the Dagster daemon, the UI).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import orjson
import pandas as pd
from filelock import FileLock, Timeout

from social_assets.collection import SourceOutcome, collection_status, failed_sources
from social_assets.core.http import LandedResponse
from social_assets.core.records import RESOURCES
from social_assets.core.timeutil import to_warehouse_time
from social_assets.dead_letters import letters_write, request_letter
from social_assets.settings import landing_path
from social_assets.warehouse.tables import COLLECTION_LOG, RAW_TABLES, PartitionWrite, landed_row, replace_partition

RESPONSES_SUFFIX = ".jsonl.gz"
OUTCOME_SUFFIX = ".outcome.json"
PARTIAL_SUFFIX = ".partial"
# Rows inserted into DuckDB at a time while loading, at most so many and so many bytes of
# bodies: bounds the memory of a big day (a page of comments can be megabytes).
LOAD_BATCH_ROWS = 2000
LOAD_BATCH_BYTES = 32 * 1024 * 1024
POLL_SECONDS = 1.0


class CollectionBusy(RuntimeError):
    """Another collection of the platform-day kept fetching for longer than this one may wait."""


def partition_dir(platform: str, day: date, root: Path | None = None) -> Path:
    return (root or landing_path()) / platform / day.isoformat()


def source_file_stem(account_id: str) -> str:
    """A file name for a source: readable, and unique even where two ids differ only in
    characters a file name cannot hold ("r/a.b" and "r/a_b")."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", account_id).strip("._")[:60]
    return f"{readable}-{hashlib.sha256(account_id.encode()).hexdigest()[:10]}"


# -- writing, while a collection runs -----------------------------------------------------------


class PartitionLanding:
    """Where one run lands its collection of one platform-day."""

    def __init__(self, platform: str, day: date, run_id: str, mode: str, root: Path | None = None):
        self.platform, self.day, self.run_id, self.mode = platform, day, run_id, mode
        self.directory = partition_dir(platform, day, root) / run_id

    @contextmanager
    def source(self, account_id: str, position: int) -> Iterator["SourceLandingFile"]:
        """The landing file of one source; removed again unless it was completed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        landing_file = SourceLandingFile(self.directory / source_file_stem(account_id), account_id, position, self.mode)
        try:
            yield landing_file
        finally:
            landing_file.discard_unless_complete()


class SourceLandingFile:
    """Writes one source's responses as they arrive (gzip JSON lines), then its outcome."""

    def __init__(self, stem: Path, account_id: str, position: int, mode: str):
        self.account_id, self.position, self.mode = account_id, position, mode
        self.responses_path = stem.with_name(stem.name + RESPONSES_SUFFIX)
        self.outcome_path = stem.with_name(stem.name + OUTCOME_SUFFIX)
        self._partial = self.responses_path.with_name(self.responses_path.name + PARTIAL_SUFFIX)
        self._out = gzip.open(self._partial, "wb", compresslevel=3)  # fast: the file lives minutes
        self._complete = False

    def write(self, landed: LandedResponse) -> None:
        # The raw row as the warehouse keeps it, with its resource; the load numbers it (`seq`)
        # in the partition's order of sources.
        row = landed_row(landed, {"resource": landed.resource}, self.account_id, seq=0)
        del row["seq"]
        self._out.write(orjson.dumps(row) + b"\n")

    def complete(self, outcome: SourceOutcome) -> None:
        """The source is done: make its responses, then its outcome, visible to the loader."""
        self._out.close()
        _fsync(self._partial)
        os.replace(self._partial, self.responses_path)
        recorded = {"account_id": self.account_id, "position": self.position, "api": self.mode,
                    "outcome": outcome.to_json()}
        partial_outcome = self.outcome_path.with_name(self.outcome_path.name + PARTIAL_SUFFIX)
        partial_outcome.write_text(json.dumps(recorded))
        _fsync(partial_outcome)
        os.replace(partial_outcome, self.outcome_path)
        self._complete = True

    def discard_unless_complete(self) -> None:
        if self._complete:
            return
        self._out.close()
        self._partial.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def partition_lock(platform: str, day: date, wait_seconds: float, say: Callable[[str], None],
                   root: Path | None = None) -> Iterator[None]:
    """Hold the right to collect one platform-day. While another process or run holds it, say so
    once and wait; give up after `wait_seconds` with an error that names the partition. Once
    held, what a dead collection of the partition left half-written is removed."""
    directory = partition_dir(platform, day, root)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / ".collecting.lock"), is_singleton=False, thread_local=False)
    started, announced = time.monotonic(), False
    while True:
        try:
            lock.acquire(timeout=POLL_SECONDS)
            break
        except Timeout:
            if time.monotonic() - started >= wait_seconds:
                raise CollectionBusy(
                    f"{platform} {day}: another collection of this platform-day is still running after "
                    f"{wait_seconds:g} s of waiting; run again once it is done (SOCIAL_POOL_WAIT_SECONDS waits longer)"
                ) from None
            if not announced:
                say(f"{platform} {day}: another collection of this platform-day is running; waiting for it")
                announced = True
    try:
        for leftover in directory.glob(f"*/*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
        for run in directory.iterdir():
            if run.is_dir():
                with contextlib.suppress(OSError):  # not empty: complete files, still to load
                    run.rmdir()
        yield
    finally:
        lock.release()


# -- loading, in the warehouse's pool -----------------------------------------------------------


@dataclass(frozen=True)
class LandedSource:
    """A complete landing file: one source's collection by one run."""

    run_id: str
    account_id: str
    position: int
    mode: str  # the API collected from: live, or which sandbox
    outcome: SourceOutcome
    responses_path: Path
    outcome_path: Path

    def rows(self) -> Iterator[dict]:
        with gzip.open(self.responses_path, "rb") as lines:
            for line in lines:
                yield orjson.loads(line)


def complete_landings(platform: str, day: date, root: Path | None = None) -> list[LandedSource]:
    """Every complete landing file of the platform-day, whichever run wrote it."""
    found = []
    for outcome_path in sorted(partition_dir(platform, day, root).glob(f"*/*{OUTCOME_SUFFIX}")):
        recorded = json.loads(outcome_path.read_text())
        stem = outcome_path.name[: -len(OUTCOME_SUFFIX)]
        found.append(LandedSource(
            run_id=outcome_path.parent.name,
            account_id=recorded["account_id"],
            position=recorded["position"],
            mode=recorded["api"],
            outcome=SourceOutcome.from_json(recorded["outcome"]),
            responses_path=outcome_path.with_name(stem + RESPONSES_SUFFIX),
            outcome_path=outcome_path,
        ))
    return found


@dataclass
class PartitionLoad:
    """What a load put into the warehouse."""

    chosen: list[LandedSource]  # per source, the landing loaded (or, if it failed, logged)
    superseded: list[LandedSource]  # older landings of the same sources: logged, not loaded
    responses: dict[str, int] = field(default_factory=lambda: {r: 0 for r in RESOURCES})

    @property
    def outcomes(self) -> list[SourceOutcome]:
        return [landed.outcome for landed in self.chosen]

    @property
    def failed(self) -> list[SourceOutcome]:
        return failed_sources(self.outcomes)

    @property
    def status(self) -> str:
        return collection_status(self.outcomes)

    def recovered(self, run_id: str) -> list[LandedSource]:
        """Landings of other runs (which died before loading them) that this load put in."""
        return [landed for landed in self.chosen if landed.run_id != run_id]


def load_partition(
    con: duckdb.DuckDBPyConnection,
    platform: str,
    day: date,
    configured: list[str],
    order: list[str],
    whole_partition: bool,
    root: Path | None = None,
) -> PartitionLoad:
    """Load the platform-day's complete landing files into raw.*, with their collection log
    rows and request dead letters, in one transaction; then remove the files.

    Per source, the newest landing that did not fail is loaded (a failed one only when there is
    no other): a source that failed this time keeps what a dead run had collected, or else its
    earlier rows. `order` gives the sources' order (their responses' `seq`); with
    `whole_partition` (a collection of every configured source), rows of accounts no longer
    configured go too, as long as every configured source has a landing.
    """
    landings = complete_landings(platform, day, root)
    by_account: dict[str, list[LandedSource]] = {}
    for landed in landings:
        by_account.setdefault(landed.account_id, []).append(landed)
    rank = {account: i for i, account in enumerate(order)}
    chosen, superseded = [], []
    for account in sorted(by_account, key=lambda a: (rank.get(a, len(rank)), a)):
        candidates = sorted(by_account[account], key=lambda l: (l.outcome.status != "failed", l.outcome.finished_at))
        chosen.append(candidates[-1])
        superseded.extend(candidates[:-1])
    load = PartitionLoad(chosen=chosen, superseded=superseded)

    covered = set(by_account)
    failed = frozenset(landed.account_id for landed in chosen if landed.outcome.status == "failed")
    letters = [
        request_letter(platform, day, landed.account_id, "posts", landed.outcome.error, landed.outcome.finished_at)
        for landed in chosen if landed.outcome.status == "failed"
    ]
    runs = sorted({landed.run_id for landed in landings})
    log_writes = [
        PartitionWrite(COLLECTION_LOG, _log_rows([l for l in landings if l.run_id == run], platform, day),
                       scope=(("run_id", run),))
        for run in runs
    ]
    replace_partition(
        con,
        platform,
        day,
        # A failed source keeps its earlier responses; its request letter is rewritten.
        [PartitionWrite(RAW_TABLES[r], _empty(RAW_TABLES[r].column_names), keep_accounts=failed) for r in RESOURCES]
        + [letters_write(con, letters, kind="request")]
        + log_writes,
        only_accounts=None if whole_partition and covered >= set(configured) else covered,
        batches=_raw_batches([l for l in chosen if l.outcome.status != "failed"], platform, day, load.responses),
    )
    for landed in landings:
        landed.outcome_path.unlink(missing_ok=True)
        landed.responses_path.unlink(missing_ok=True)
    for run in runs:
        # Only once empty: a run still fetching other sources of the partition writes there.
        with contextlib.suppress(OSError):
            (partition_dir(platform, day, root) / run).rmdir()
    return load


def _raw_batches(landings: list[LandedSource], platform: str, day: date, counts: dict[str, int]):
    """The raw rows of the landings, a bounded batch at a time, numbered in the sources' order."""
    columns = RAW_TABLES["posts"].column_names
    pending: dict[str, list[dict]] = {r: [] for r in RESOURCES}
    pending_bytes = {r: 0 for r in RESOURCES}
    seq = 0
    for landed in landings:
        for row in landed.rows():
            resource = row.pop("resource")
            row.update(platform=platform, partition_date=day, account_id=landed.account_id, seq=seq)
            seq += 1
            pending[resource].append(row)
            pending_bytes[resource] += len(row["body"])
            counts[resource] += 1
            if len(pending[resource]) >= LOAD_BATCH_ROWS or pending_bytes[resource] >= LOAD_BATCH_BYTES:
                yield RAW_TABLES[resource], _frame(pending[resource], columns)
                pending[resource], pending_bytes[resource] = [], 0
    for resource, rows in pending.items():
        if rows:
            yield RAW_TABLES[resource], _frame(rows, columns)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["fetched_at"] = pd.to_datetime(frame["fetched_at"])
    return frame


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def _log_rows(landings: list[LandedSource], platform: str, day: date) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "platform": platform,
                "partition_date": day,
                "account_id": o.account_id,
                "run_id": landed.run_id,
                "status": o.status,
                "items": o.items,
                "responses": o.responses,
                "calls": o.calls,
                "retries": o.retries,
                "throttled": o.throttled,
                "dead_letters": o.item_problems + (1 if o.error else 0),
                "latency_p50_ms": o.latency_p50_ms,
                "latency_p95_ms": o.latency_p95_ms,
                "duration_s": o.duration_s,
                "api": landed.mode,
                "error": str(o.error) if o.error else None,
                "started_at": to_warehouse_time(o.started_at),
                "finished_at": to_warehouse_time(o.finished_at),
            }
            for landed in landings
            for o in [landed.outcome]
        ],
        columns=COLLECTION_LOG.column_names,
    )
