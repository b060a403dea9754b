"""Jobs: collect a platform-day, rebuild the analytics tables, and watch data quality.

Every job runs its steps in one process (`in_process_executor`, also the code location's default,
so the runs the automation sensor and the UI's "Materialize" launch do the same): the steps
share the duckdb pool one at a time anyway, and a process per step cost seconds each.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from social_assets.core.records import RESOURCES
from social_assets.defs.checks import FRESHNESS_KEY

# The platform-day assets by key: the raw and normalized groups also hold the hourly
# refresh's assets, which are partitioned by platform x hour and cannot share these jobs.
PLATFORM_DAY_ASSETS = AssetSelection.assets(
    *(["raw", r] for r in RESOURCES), *(["normalized", r] for r in RESOURCES)
)

collect_job = define_asset_job(
    "collect_platform_day",
    executor_def=in_process_executor,
    selection=PLATFORM_DAY_ASSETS,
    description="Collect one platform-day from its API and normalize it.",
)

replay_job = define_asset_job(
    "replay_dead_letters",
    executor_def=in_process_executor,
    selection=PLATFORM_DAY_ASSETS,
    config={"ops": {"collect": {"config": {"replay_dead_letters": True}}}},
    description=(
        "Once the cause is fixed: re-collect the sources whose requests failed for good in the "
        "partition, and re-normalize it (items that did not normalize are tried again)."
    ),
)

analytics_job = define_asset_job(
    "build_analytics",
    executor_def=in_process_executor,
    selection=AssetSelection.groups("analytics"),
    description="Rebuild the analytics tables (dbt) from everything normalized so far.",
)
quality_monitor_job = define_asset_job(
    "data_quality_monitor",
    executor_def=in_process_executor,
    selection=AssetSelection.checks(FRESHNESS_KEY),
    description="Check that every platform's data is fresh (runs hourly: staleness is what happens when nothing runs).",
)

JOBS = [collect_job, replay_job, analytics_job, quality_monitor_job]
