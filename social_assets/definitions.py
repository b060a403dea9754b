"""The code location: `social_assets.definitions:defs`."""

from __future__ import annotations

from dagster import Definitions

from social_assets.defs.jobs import analytics_job, collect_job
from social_assets.defs.normalized import NORMALIZED_ASSETS
from social_assets.defs.raw import collect
from social_assets.defs.resources import build_resources
from social_assets.defs.warehouse_models import analytics_models

defs = Definitions(
    assets=[collect, *NORMALIZED_ASSETS, analytics_models],
    jobs=[collect_job, analytics_job],
    resources=build_resources(),
)
