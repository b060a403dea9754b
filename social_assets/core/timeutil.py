"""Timestamp parsing shared by the normalizers (each platform has its own format)."""

from __future__ import annotations

from datetime import datetime, timezone


def from_epoch_seconds(value: float | int | str) -> datetime:
    return datetime.fromtimestamp(float(value), tz=timezone.utc)


def from_iso(value: str) -> datetime:
    """RFC 3339 / ISO 8601 with `Z`, `+00:00` or Graph's `+0000`; always returned in UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed.astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_warehouse_time(moment: datetime) -> datetime:
    """The warehouse stores UTC as zone-less TIMESTAMP values."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment!r} has no time zone")
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
