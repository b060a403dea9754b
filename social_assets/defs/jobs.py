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

replay_job = define_asset_job(
    "replay_dead_letters",
    selection=AssetSelection.groups("raw", "normalized"),
    partitions_def=platform_day_partitions,
    config={"ops": {"collect": {"config": {"replay_dead_letters": True}}}},
    description=(
        "Once the cause is fixed: re-collect the sources whose requests failed for good in the "
        "partition, and re-normalize it (items that did not normalize are tried again)."
    ),
)

analytics_job = define_asset_job(
    "build_analytics",
    selection=AssetSelection.groups("analytics"),
    description="Rebuild the analytics tables (dbt) from everything normalized so far.",
)
JOBS = [collect_job, replay_job, analytics_job]
