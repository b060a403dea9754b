"""Resources: the platform APIs and the warehouse."""

from __future__ import annotations

import os
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Optional

from dagster import ConfigurableResource, EnvVar, get_dagster_logger, mem_io_manager
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging.version import Version
from pydantic import Field

from social_assets.connections import Connection, api_mode, connect, credential_variables
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import SourceConfig
from social_assets.privacy.options import PSEUDONYM_KEY_VARIABLE, PrivacyOptions, load_privacy
from social_assets.sources import SourcesConfigError, load_sources
from social_assets.settings import (
    DBT_PROJECT_DIR,
    dbt_executable,
    sources_path,
    warehouse_lock_wait_seconds,
    warehouse_path,
)
from social_assets.warehouse.locking import connect_for_writing


class SocialApiResource(ConfigurableResource):
    """Connections to the platforms, each in its mode (`SOCIAL_API_MODE`, default sandbox)."""

    credentials: dict[str, str] = Field(
        default_factory=dict, description="credential values by environment variable name (EnvVar)"
    )
    modes: dict[str, str] = Field(default_factory=dict, description="live or sandbox, by platform")
    sandbox_url: Optional[str] = Field(
        default=None, description="a served sandbox (social-assets sandbox serve); in-process when unset"
    )
    sources_file: str = Field(description="the sources YAML file")
    pseudonym_key: Optional[str] = Field(
        default=None, description="the key of the username pseudonyms (EnvVar SOCIAL_PSEUDONYM_KEY)"
    )

    def sources(self) -> dict[str, list[SourceConfig]]:
        return load_sources(Path(self.sources_file))

    def privacy(self) -> PrivacyOptions:
        """The `privacy` section of the sources file (pseudonyms, retention)."""
        return load_privacy(Path(self.sources_file))

    def connect(self, platform: str) -> Connection:
        return connect(
            PLATFORMS[platform], self.credentials, sandbox_url=self.sandbox_url, mode=self.modes.get(platform)
        )


class WarehouseResource(DuckDBResource):
    """The warehouse: a DuckDB file that a step opens for writing once a process outside the
    pipeline lets go of it (see warehouse/locking.py)."""

    @contextmanager
    def get_connection(self):
        con = connect_for_writing(
            self.database, warehouse_lock_wait_seconds(), get_dagster_logger().warning, self.connection_config
        )
        try:
            yield con
        finally:
            con.close()


class LocalDbtCliResource(DbtCliResource):
    """dbt, without asking the internet and without work nobody uses. Before every command
    dagster-dbt (0.29) runs `dbt --version`, which always asks pypi.org for the latest release,
    and loads a dbt adapter in this process, which only its row-count and column metadata
    helpers use (this project calls neither); together about a third of a build's time.
    The dbt run is the dbt-core installed beside this interpreter (`settings.dbt_executable`),
    so its version is known without running it."""

    @property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def _credentials_from_environment() -> dict[str, EnvVar]:
    """EnvVar references for the credential variables that are set (the platforms' defaults
    and those the sources file names); the values are resolved by Dagster at run time and
    never appear in config, logs or metadata."""
    try:
        sources = load_sources(sources_path())
    except SourcesConfigError:
        sources = {}  # the collect step reports the file's mistakes
    names = credential_variables(PLATFORMS, sources)
    return {name: EnvVar(name) for name in sorted(names) if os.environ.get(name)}


HANDOFF = "in_memory_handoff"


def build_resources() -> dict[str, object]:
    database = warehouse_path()
    database.parent.mkdir(parents=True, exist_ok=True)
    return {
        "social_api": SocialApiResource(
            credentials=_credentials_from_environment(),
            modes={name: api_mode(name) for name in PLATFORMS},
            sandbox_url=os.environ.get("SOCIAL_SANDBOX_URL") or None,
            sources_file=str(sources_path()),
            # Resolved by Dagster at run time: the key never appears in config, logs or metadata.
            pseudonym_key=EnvVar(PSEUDONYM_KEY_VARIABLE) if os.environ.get(PSEUDONYM_KEY_VARIABLE) else None,
        ),
        "warehouse": WarehouseResource(database=str(database)),
        # Hands a step's output to the next step of the same run in memory (every run executes
        # in one process): the refresh's API answers are never written to Dagster's storage.
        HANDOFF: mem_io_manager,
        "dbt": LocalDbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }
