"""Jobs: collect a platform-day, and rebuild the analytics tables."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from social_assets.defs.partitions import platform_day_partitions

collect_job = define_asset_job(
    "collect_platform_day",
    selection=AssetSelection.groups("raw", "normalized"),
    partitions_def=platform_day_partitions,
    description="Collect one platform-day from its API and normalize it.",
)

analytics_job = define_asset_job(
    "build_analytics",
    selection=AssetSelection.groups("analytics"),
    description="Rebuild the analytics tables (dbt) from everything normalized so far.",
)
JOBS = [collect_job, analytics_job]
