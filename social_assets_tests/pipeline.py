"""Helpers that drive the real pipeline for tests: a real Dagster instance, the project's
assets and resources, a real DuckDB file and the in-process sandbox."""

from __future__ import annotations

from datetime import date

import duckdb
from dagster import DagsterInstance, materialize

from social_assets.defs.normalized import NORMALIZED_ASSETS
from social_assets.defs.partitions import platform_day_key
from social_assets.defs.raw import collect
from social_assets.defs.refresh import refresh_engagement
from social_assets.defs.resources import build_resources
from social_assets.defs.warehouse_models import analytics_models


def memory_instance() -> DagsterInstance:
    """A real Dagster instance with its storage in memory: each run costs half what it does on
    `instance_for_test`'s SQLite files. Tests that read what Dagster stored use those instead."""
    return DagsterInstance.ephemeral()


def collect_partition(instance: DagsterInstance, platform: str, day: date, **collect_config):
    """Materialize raw/* and normalized/* for one platform-day; `collect_config` is the collect
    step's config (sources, comment_depth, replay_dead_letters)."""
    result = materialize(
        [collect, *NORMALIZED_ASSETS],
        instance=instance,
        resources=build_resources(),
        partition_key=str(platform_day_key(platform, day)),
        run_config={"ops": {"collect": {"config": collect_config}}} if collect_config else None,
    )
    assert result.success
    return result


def refresh_hour(instance: DagsterInstance, platform: str, hour: str):
    """Materialize the hourly engagement refresh for one platform-hour ("2026-11-20-08:00")."""
    result = materialize(
        [refresh_engagement], instance=instance, resources=build_resources(), partition_key=f"{hour}|{platform}"
    )
    assert result.success
    return result


def build_analytics(instance: DagsterInstance):
    result = materialize([analytics_models], instance=instance, resources=build_resources())
    assert result.success
    return result


def table_contents(warehouse, schemas=("raw", "normalized", "analytics", "ops")) -> dict[str, list[tuple]]:
    """Every row of every table in the schemas, sorted: two equal results mean equal tables."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            f"WHERE table_schema IN ({', '.join('?' for _ in schemas)}) ORDER BY 1",
            list(schemas),
        ).fetchall()
        return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for (name,) in names}
    finally:
        con.close()


