"""The project-local Dagster home.

`DAGSTER_HOME` defaults to `.dagster_home/` in the project. Its dagster.yaml is made from the
project's dagster.yaml, plus dagster.postgres.yaml's storage block when `DAGSTER_PG_URL` is set,
so one switch moves run and event storage to PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from social_assets.settings import PROJECT_ROOT


def instance_config() -> dict:
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text()) or {}
    if os.environ.get("DAGSTER_PG_URL"):
        config.update(yaml.safe_load((PROJECT_ROOT / "dagster.postgres.yaml").read_text()))
    return config


def prepare_dagster_home() -> Path:
    """Make sure DAGSTER_HOME exists and holds the project's instance config; return it."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    wanted = yaml.safe_dump(instance_config(), sort_keys=False)
    if not target.exists() or target.read_text() != wanted:
        target.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
