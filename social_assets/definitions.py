"""The code location: `social_assets.definitions:defs`.

Each area keeps its own list; this file only puts them together.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from social_assets.defs import claim_wait
from social_assets.defs.automation import SCHEDULES, SENSORS
from social_assets.defs.checks import CHECKS
from social_assets.defs.jobs import JOBS
from social_assets.defs.normalized import NORMALIZED_ASSETS
from social_assets.defs.raw import collect
from social_assets.defs.refresh import refresh_engagement, refresh_job, refresh_schedule
from social_assets.defs.resources import build_resources
from social_assets.defs.warehouse_models import analytics_models

claim_wait.apply()  # every run of this code location sleeps while a step waits for a pool slot

defs = Definitions(
    assets=[collect, *NORMALIZED_ASSETS, refresh_engagement, analytics_models],
    asset_checks=CHECKS,
    jobs=[*JOBS, refresh_job],
    schedules=[*SCHEDULES, refresh_schedule],
    sensors=SENSORS,
    resources=build_resources(),
    # One process per run, not per step (see defs/jobs.py); the implicit asset job included.
    executor=in_process_executor,
)
