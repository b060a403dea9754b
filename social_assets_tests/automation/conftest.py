"""Fixtures for the automation and data-quality tests.

One warehouse is built per test session through the project's own jobs (collect_platform_day,
which runs the partition checks, and build_analytics): reddit on two days and youtube on one,
the sandbox clock pinned the morning after. Each test gets its own copy of the DuckDB file, so
it can break the data on purpose without affecting the others, and its own Dagster instance.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, Definitions, instance_for_test

from social_assets_tests.conftest import TEST_CHANNEL, TEST_SOURCES
from social_assets_tests.pipeline import memory_instance

NOW = "2026-11-20T03:00:00+00:00"
# 2026-11-13 is a busy reddit day of the test sources (3 posts, 91 comments); 2026-11-19 a plain one.
DAYS = {"reddit": [date(2026, 11, 13), date(2026, 11, 19)], "youtube": [date(2026, 11, 19)]}


def project_defs() -> Definitions:
    """The code location's definitions (social_assets.definitions:defs), bound to resources
    read from the current environment: the real `defs` binds them when it is imported."""
    from social_assets.definitions import defs
    from social_assets.defs.resources import build_resources

    return Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        resources=build_resources(),
    )


def run_job(instance: DagsterInstance, name: str, partition_key: str | None = None, run_config=None, success=True):
    result = project_defs().resolve_job_def(name).execute_in_process(
        instance=instance, partition_key=partition_key, run_config=run_config, raise_on_error=False
    )
    if success is not None:
        assert result.success is success, [e.message for e in result.all_events if e.is_failure]
    return result


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def execute(warehouse: Path, *statements: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def write_sources(path: Path, extra_reddit: str = "") -> Path:
    from social_assets.sandbox.platforms.youtube import channel_id_for

    text = TEST_SOURCES.replace("{youtube_channel}", channel_id_for(TEST_CHANNEL))
    if extra_reddit:
        text = text.replace("    - user: sandbox_bob\n", f"    - user: sandbox_bob\n{extra_reddit}")
    path.write_text(text)
    return path


def use_environment(patch: pytest.MonkeyPatch, warehouse: Path, sources: Path, now: str | None = NOW) -> None:
    from social_assets import connections
    from social_assets.platforms import PLATFORMS

    patch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
    patch.setenv("SOCIAL_SOURCES", str(sources))
    if now:
        patch.setenv("SOCIAL_SANDBOX_NOW", now)
    else:
        patch.delenv("SOCIAL_SANDBOX_NOW", raising=False)
    patch.delenv("SOCIAL_SANDBOX_URL", raising=False)
    patch.delenv("SOCIAL_ALERT_WEBHOOK_URL", raising=False)
    for platform in PLATFORMS.values():
        for name in platform.credentials:
            patch.delenv(name, raising=False)
    patch.setattr(connections, "_SANDBOX", None)


@pytest.fixture(scope="session")
def base_warehouse(tmp_path_factory) -> Path:
    from social_assets.defs.partitions import platform_day_key

    tmp = tmp_path_factory.mktemp("automation_base")
    warehouse, sources = tmp / "warehouse.duckdb", write_sources(tmp / "sources.yaml")
    patch = pytest.MonkeyPatch()
    use_environment(patch, warehouse, sources)
    try:
        with memory_instance() as instance:
            for platform, days in DAYS.items():
                for day in days:
                    run_job(instance, "collect_platform_day", str(platform_day_key(platform, day)))
            run_job(instance, "build_analytics")
    finally:
        patch.undo()
    return warehouse


@pytest.fixture
def warehouse(base_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the session's warehouse, with the environment pointing at it."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(base_warehouse, copy)
    use_environment(monkeypatch, copy, write_sources(tmp_path / "sources.yaml"))
    return copy


@pytest.fixture
def instance():
    with instance_for_test() as dagster_instance:
        yield dagster_instance
