"""Collecting one platform-day: every selected source, every response landed.

A source that fails does not stop the others: its failing request is kept as a dead letter,
its earlier data stays, and the collection reports itself partial, naming what failed.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from social_assets.connections import Connection
from social_assets.core.errors import ApiError
from social_assets.core.http import CallStats, LandedResponse
from social_assets.core.records import NotAResponse
from social_assets.core.rest import RestClient
from social_assets.core.timeutil import utc_now
from social_assets.platforms.base import DayWindow, Platform, PostRef, SourceConfig, Walk


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
    error: ApiError | None = None

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


@dataclass
class PartitionCollection:
    platform: str
    mode: str
    landed: list[tuple[str, LandedResponse]] = field(default_factory=list)  # (account_id, response)
    outcomes: list[SourceOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def status(self) -> str:
        if self.failed:
            return "failed" if len(self.failed) == len(self.outcomes) else "partial"
        return "partial" if any(o.status == "partial" for o in self.outcomes) else "success"


def collect_partition(
    connection: Connection, sources: list[SourceConfig], window: DayWindow, workers: int | None = None
) -> PartitionCollection:
    """Collect every source, `workers` at a time (default `SOCIAL_COLLECT_WORKERS`, 4): each
    source has its own client, and the limiter they share keeps them inside the platform's
    limits together. Results keep the sources' order, whatever order they finish in."""
    result = PartitionCollection(platform=connection.platform.name, mode=connection.mode)
    workers = max(1, min(workers or collect_workers(), len(sources) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"collect-{result.platform}") as pool:
        collected = list(pool.map(lambda source: _collect_source(connection, source, window), sources))
    for outcome, landed in collected:
        result.outcomes.append(outcome)
        # A failed source keeps nothing: half a collection would look like a quiet day.
        if outcome.error is None:
            result.landed.extend((outcome.account_id, response) for response in landed)
    return result


def collect_workers() -> int:
    raw = os.environ.get("SOCIAL_COLLECT_WORKERS", "4")
    try:
        workers = int(raw)
    except ValueError:
        raise ValueError(f"SOCIAL_COLLECT_WORKERS must be a whole number of sources collected at once, not {raw!r}") from None
    if workers < 1:
        raise ValueError(f"SOCIAL_COLLECT_WORKERS must be at least 1, not {workers}")
    return workers


def _collect_source(
    connection: Connection, source: SourceConfig, window: DayWindow
) -> tuple[SourceOutcome, list[LandedResponse]]:
    landed: list[LandedResponse] = []
    started_at, clock = utc_now(), time.monotonic()
    error: ApiError | None = None
    client: RestClient | None = None
    try:
        client = open_client(connection, source, landed.append)
        walk_source(connection.platform, connection.platform.walk(client, source), source, window)
    except ApiError as exc:
        error = exc
    finished_at = started_at + _elapsed(clock)
    items, problems = count_items(connection.platform.name, landed)
    stats = client.session.stats if client is not None else CallStats()
    outcome = SourceOutcome(
        account_id=source.account_id,
        status="failed" if error else ("partial" if problems else "success"),
        items=items,
        item_problems=problems,
        responses=len(landed),
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
    return outcome, landed


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

    def problem(resource, response, context) -> str | None:
        try:
            result = normalize_body(platform, resource, response.json(), context)
        except (NotAResponse, ValueError) as exc:
            return f"not a {resource} response: {exc}"
        if result.rejected:
            first = result.rejected[0]
            return f"{len(result.rejected)} item(s) did not normalize, e.g. {first.item_id}: {first.reason}"
        return None

    return problem


def count_items(platform: str, landed: list[LandedResponse]) -> tuple[int, int]:
    """How many items of the landed responses normalize cleanly, and how many do not."""
    from social_assets.normalization import normalize_body

    clean = problems = 0
    for response in landed:
        if not response.normalize or not 200 <= response.status < 300:
            continue
        try:
            result = normalize_body(platform, response.resource, json.loads(response.body), response.context)
        except (NotAResponse, json.JSONDecodeError):
            problems += 1
            continue
        clean += len(result.records)
        problems += len(result.rejected)
    return clean, problems


def _elapsed(since: float) -> timedelta:
    return timedelta(seconds=time.monotonic() - since)


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)
