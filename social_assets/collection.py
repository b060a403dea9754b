"""Collecting one platform-day: every selected source, every response landed.

A source that fails does not stop the others: its failing request is kept as a dead letter,
its earlier data stays, and the collection reports itself partial, naming what failed.

Each response goes, as it arrives, to the source's landing file (landing.py), so memory does
not grow with the day; the load step puts the files into raw.* afterwards.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from social_assets.connections import Connection
from social_assets.core.errors import ApiError
from social_assets.core.http import CallStats, ItemCheck, LandedResponse
from social_assets.core.records import NotAResponse
from social_assets.core.rest import RestClient
from social_assets.core.timeutil import utc_now
from social_assets.platforms.base import DayWindow, Platform, PostRef, SourceConfig, Walk
from social_assets.settings import at_least_one

if TYPE_CHECKING:
    from social_assets.landing import PartitionLanding


@dataclass(frozen=True)
class FailedRequest:
    """A request that failed for good, as a landing file recorded its `ApiError`: what a dead
    letter and the collection log need of it."""

    message: str
    method: str
    endpoint: str
    params: dict[str, str]

    def __str__(self) -> str:
        return self.message


@dataclass
class SourceOutcome:
    account_id: str
    status: str  # success: all collected and normalized; partial: some items did not; failed
    items: int  # items that normalized cleanly
    item_problems: int  # items (or responses) that did not
    responses: int
    calls: int
    retries: int
    throttled: int
    units: int  # quota units charged (YouTube), or calls where a platform counts calls
    waited_s: float  # time spent pacing to stay inside the limits
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    started_at: datetime
    finished_at: datetime
    error: ApiError | FailedRequest | None = None

    @property
    def duration_s(self) -> float:
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def summary(self) -> dict:
        """For run metadata: plain values, no secrets (errors never carry them)."""
        return {
            "account_id": self.account_id,
            "status": self.status,
            "items": self.items,
            "item_problems": self.item_problems,
            "responses": self.responses,
            "calls": self.calls,
            "retries": self.retries,
            "throttled_429": self.throttled,
            "quota_units": self.units,
            "paced_wait_s": round(self.waited_s, 3),
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "duration_s": self.duration_s,
            "error": str(self.error) if self.error else None,
        }

    def to_json(self) -> dict[str, Any]:
        """Everything, as JSON values: what a landing file keeps of the source's collection."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "error"}
        values["started_at"], values["finished_at"] = self.started_at.isoformat(), self.finished_at.isoformat()
        values["error"] = None if self.error is None else {
            "message": str(self.error), "method": self.error.method,
            "endpoint": self.error.endpoint, "params": dict(self.error.params),
        }
        return values

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> "SourceOutcome":
        error = values.get("error")
        return cls(**{
            **values,
            "started_at": datetime.fromisoformat(values["started_at"]),
            "finished_at": datetime.fromisoformat(values["finished_at"]),
            "error": FailedRequest(**error) if error else None,
        })


@dataclass
class PartitionCollection:
    platform: str
    mode: str
    # (account_id, response), kept only by a collection without landing files (tests, small tools)
    landed: list[tuple[str, LandedResponse]] = field(default_factory=list)
    outcomes: list[SourceOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceOutcome]:
        return failed_sources(self.outcomes)

    @property
    def status(self) -> str:
        return collection_status(self.outcomes)


def failed_sources(outcomes: list[SourceOutcome]) -> list[SourceOutcome]:
    return [o for o in outcomes if o.status == "failed"]


def collection_status(outcomes: list[SourceOutcome]) -> str:
    """A collection's status from its sources': failed when every source failed, partial when
    some failed or did not fully normalize, else success."""
    failed = failed_sources(outcomes)
    if failed:
        return "failed" if len(failed) == len(outcomes) else "partial"
    return "partial" if any(o.status == "partial" for o in outcomes) else "success"


def collect_partition(
    connection: Connection,
    sources: list[SourceConfig],
    window: DayWindow,
    workers: int | None = None,
    landing: "PartitionLanding | None" = None,
) -> PartitionCollection:
    """Collect every source, `workers` at a time (default `SOCIAL_COLLECT_WORKERS`, 4): each
    source has its own client, and the limiter they share keeps them inside the platform's
    limits together. Results keep the sources' order, whatever order they finish in.

    With `landing`, each source's responses are written to its landing file as they arrive;
    without, they are kept in memory, in `landed`."""
    result = PartitionCollection(platform=connection.platform.name, mode=connection.mode)
    workers = max(1, min(workers or collect_workers(), len(sources) or 1))

    def collect_one(position: int, source: SourceConfig) -> tuple[SourceOutcome, list[LandedResponse]]:
        if landing is None:
            kept: list[LandedResponse] = []
            return _collect_source(connection, source, window, kept.append), kept
        with landing.source(source.account_id, position) as landing_file:
            outcome = _collect_source(connection, source, window, landing_file.write)
            landing_file.complete(outcome)
        return outcome, []

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"collect-{result.platform}") as pool:
        collected = list(pool.map(collect_one, range(len(sources)), sources))
    for outcome, landed in collected:
        result.outcomes.append(outcome)
        # A failed source keeps nothing: half a collection would look like a quiet day.
        if outcome.error is None:
            result.landed.extend((outcome.account_id, response) for response in landed)
    return result


def collect_workers() -> int:
    return at_least_one("SOCIAL_COLLECT_WORKERS", os.environ.get("SOCIAL_COLLECT_WORKERS", "4"), "sources collected at once")


class _Tally:
    """Counts a source's responses and their items as they land, and passes each one on."""

    def __init__(self, forward: Callable[[LandedResponse], None]):
        self.forward = forward
        self.responses = self.items = self.problems = 0

    def __call__(self, landed: LandedResponse) -> None:
        self.responses += 1
        # The item check already normalized the response to decide whether to fetch it again.
        if landed.item_check is not None and 200 <= landed.status < 300:
            self.items += landed.item_check.clean
            self.problems += landed.item_check.problems
        self.forward(landed)


def _collect_source(
    connection: Connection, source: SourceConfig, window: DayWindow, forward: Callable[[LandedResponse], None]
) -> SourceOutcome:
    tally = _Tally(forward)
    started_at, clock = utc_now(), time.monotonic()
    error: ApiError | None = None
    client: RestClient | None = None
    try:
        client = open_client(connection, source, tally)
        walk_source(connection.platform, connection.platform.walk(client, source), source, window)
    except ApiError as exc:
        error = exc
    finished_at = started_at + _elapsed(clock)
    stats = client.session.stats if client is not None else CallStats()
    return SourceOutcome(
        account_id=source.account_id,
        status="failed" if error else ("partial" if tally.problems else "success"),
        items=tally.items,
        item_problems=tally.problems,
        responses=tally.responses,
        calls=stats.calls,
        retries=stats.retries,
        throttled=stats.throttled,
        units=stats.units,
        waited_s=stats.waited_s,
        latency_p50_ms=_percentile(stats.latencies_ms, 50),
        latency_p95_ms=_percentile(stats.latencies_ms, 95),
        started_at=started_at,
        finished_at=finished_at,
        error=error,
    )


def open_client(connection: Connection, source: SourceConfig | None, sink) -> RestClient:
    """The source's API client, whose session re-fetches responses with unusable items."""
    client = connection.client(source, sink)
    client.session.check_items = item_checker(connection.platform.name)
    return client


def walk_source(platform: Platform, walk: Walk, source: SourceConfig, window: DayWindow) -> list[PostRef]:
    """One source's day: its profile, its posts of the day and, where asked for and the
    platform has them, each post's comments. Every response is landed by the walk's client."""
    walk.profile()
    posts = walk.posts(window)
    if source.collect_comments and platform.capabilities.comments:
        for post in posts:
            if post.comments != 0:  # the listing already says there is nothing to fetch
                walk.comments(post)
    return posts


def item_checker(platform: str):
    """`ApiSession.check_items` for a platform: the pipeline's own normalizers are the judge."""
    from social_assets.normalization import normalize_body

    def check(resource, response, context) -> ItemCheck:
        try:
            result = normalize_body(platform, resource, response.json(), context)
        except (NotAResponse, ValueError) as exc:
            return ItemCheck(0, 1, f"not a {resource} response: {exc}")
        if result.rejected:
            first = result.rejected[0]
            problem = f"{len(result.rejected)} item(s) did not normalize, e.g. {first.item_id}: {first.reason}"
            return ItemCheck(len(result.records), len(result.rejected), problem)
        return ItemCheck(len(result.records), 0)

    return check


def _elapsed(since: float) -> timedelta:
    return timedelta(seconds=time.monotonic() - since)


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)
