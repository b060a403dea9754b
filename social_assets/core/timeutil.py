"""Timestamp parsing shared by the normalizers (each platform has its own format).

The parsers are strict on purpose: a timestamp that is not one (NaN, infinity, 1e20, a negative
epoch, YouTube's `"0"`) raises `ValueError` instead of turning into 1914 or 1970, so its item is
rejected. Whether a real timestamp is plausible (not before the platform existed, not in the
future) is the records' rule: see `core/records.py`.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator

# The last second `datetime` can hold (9999-12-31T23:59:59Z); later epochs cannot be dates.
_LAST_EPOCH_SECOND = 253_402_300_799


def epoch_seconds(value: Any) -> float:
    """A Unix time in seconds: a finite, non-negative number a datetime can hold."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"epoch seconds must be a number, not {type(value).__name__}")
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"epoch seconds {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(seconds):
        raise ValueError(f"epoch seconds {str(value)[:40]!r} is not a finite number")
    if not 0 <= seconds <= _LAST_EPOCH_SECOND:
        raise ValueError(f"epoch seconds {str(value)[:40]!r} is outside 1970..9999")
    return seconds


def from_epoch_seconds(value: float | int | str) -> datetime:
    return datetime.fromtimestamp(epoch_seconds(value), tz=timezone.utc)


def from_iso(value: Any) -> datetime:
    """RFC 3339 / ISO 8601 with `Z`, `+00:00` or Graph's `+0000`; always returned in UTC.
    Only strings with a date and a zone: a bare number (`"0"`) is not a timestamp here."""
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be an ISO 8601 string, not {type(value).__name__}")
    text = value.strip()
    # fromisoformat also reads compact forms such as "2026" or "20261120"; APIs send dashes.
    if len(text) < 10 or text[4:5] != "-" or text[7:8] != "-":
        raise ValueError(f"timestamp {value[:40]!r} is not ISO 8601 (YYYY-MM-DD...)")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {value[:40]!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value[:40]!r} has no time zone")
    return parsed.astimezone(timezone.utc)


def _iso_or_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else from_iso(value)


# For pydantic models of API objects: pydantic's own datetime also takes numbers and numeric
# strings as epochs, which is how YouTube's `publishedAt: "0"` became 1970.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_or_datetime)]
EpochSeconds = Annotated[float, BeforeValidator(epoch_seconds)]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_warehouse_time(moment: datetime) -> datetime:
    """The warehouse stores UTC as zone-less TIMESTAMP values."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment!r} has no time zone")
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
