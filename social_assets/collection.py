"""Collecting one platform-day: every configured source, every response landed.

A source that fails does not stop the others: its error is recorded and the partition is
reported partial. The caller decides what a partial collection means for the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from social_assets.connections import Connection
from social_assets.core.http import ApiError, CallStats, LandedResponse
from social_assets.platforms.base import DayWindow, SourceConfig


@dataclass
class SourceOutcome:
    account_id: str
    status: str  # "success" or "failed"
    responses: int
    calls: int
    retries: int
    throttled: int
    seconds: float
    error: str | None = None


@dataclass
class PartitionCollection:
    platform: str
    mode: str
    landed: list[tuple[str, LandedResponse]] = field(default_factory=list)  # (account_id, response)
    outcomes: list[SourceOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status != "success"]

    @property
    def status(self) -> str:
        if not self.failed:
            return "success"
        return "failed" if len(self.failed) == len(self.outcomes) else "partial"


def collect_partition(
    connection: Connection, sources: list[SourceConfig], window: DayWindow
) -> PartitionCollection:
    result = PartitionCollection(platform=connection.platform.name, mode=connection.mode)
    for source in sources:
        landed: list[LandedResponse] = []
        collector = connection.platform.make_collector(connection.http, connection.credentials, landed.append)
        started = time.monotonic()
        error: str | None = None
        try:
            collector.collect(source, window)
        except ApiError as exc:
            error = str(exc)
        stats: CallStats = collector.session.stats
        result.outcomes.append(
            SourceOutcome(
                account_id=source.account_id,
                status="failed" if error else "success",
                responses=len(landed),
                calls=stats.calls,
                retries=stats.retries,
                throttled=stats.throttled,
                seconds=round(time.monotonic() - started, 3),
                error=error,
            )
        )
        # A failed source keeps nothing: half a collection would look like a quiet day.
        if error is None:
            result.landed.extend((source.account_id, response) for response in landed)
    return result
