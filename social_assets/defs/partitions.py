"""Partitions: raw and normalized assets are partitioned by platform x UTC day."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from dagster import (
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import DayWindow
from social_assets.settings import PARTITIONS_START

platforms_partitions = StaticPartitionsDefinition(sorted(PLATFORMS))
daily_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")
platform_day_partitions = MultiPartitionsDefinition({"platform": platforms_partitions, "date": daily_partitions})


def platform_day_key(platform: str, day: date) -> MultiPartitionKey:
    return MultiPartitionKey({"platform": platform, "date": day.isoformat()})


def split_key(keys_by_dimension: dict[str, str]) -> tuple[str, date, DayWindow]:
    platform = keys_by_dimension["platform"]
    day = date.fromisoformat(keys_by_dimension["date"])
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return platform, day, DayWindow(start, start + timedelta(days=1))
