"""Past follower counts derived from daily changes: YouTube Analytics' subscribers gained and
lost, LinkedIn's follower gains, Instagram's new followers a day.

No platform reports a past follower count, only the changes of each day. The walk reads the
current count with them and records it beside the body (with the moment it was read); the
count at the end of a day is then that count minus the changes of the days after it. Each
platform decides which days it trusts (contiguity, days not over yet); this module does the
arithmetic and the records, which are derived snapshots (`ProfileRecord.observed_at`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator, TypeVar

from social_assets.core.records import ProfileRecord

DayT = TypeVar("DayT")


def counted_base(followers: str | None, counted_at: str | None) -> tuple[int, datetime] | None:
    """The follower count recorded beside a history body and the moment it was read (ISO 8601
    with a zone); None when either is missing or unreadable."""
    try:
        count, moment = int(followers or ""), datetime.fromisoformat(counted_at or "")
    except ValueError:
        return None
    return (count, moment) if moment.tzinfo is not None else None


def counted_back(count: int, changes: Iterable[tuple[DayT, int]]) -> Iterator[tuple[DayT, int]]:
    """For each (day, net change) of `changes`, newest first: the day, and the count at its
    end, which is `count` minus the net changes of the days after it."""
    later = 0
    for day, net in changes:
        yield day, count - later
        later += net


def derived_snapshot(platform: str, account_id: str, followers: int, observed_at: datetime | None) -> ProfileRecord:
    """A past follower count (or, with `observed_at` None, the current one) as a profile record."""
    return ProfileRecord(platform=platform, account_id=account_id, username=None, followers=followers,
                         following=None, posts_count=None, observed_at=observed_at)
