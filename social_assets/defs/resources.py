"""Resources: the platform APIs and the warehouse."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from dagster import ConfigurableResource, EnvVar
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from pydantic import Field

from social_assets.connections import Connection, api_mode, connect, credential_variables
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import SourceConfig
from social_assets.sources import SourcesConfigError, load_sources
from social_assets.settings import DBT_PROJECT_DIR, dbt_executable, sources_path, warehouse_path


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

    def sources(self) -> dict[str, list[SourceConfig]]:
        return load_sources(Path(self.sources_file))

    def connect(self, platform: str) -> Connection:
        return connect(
            PLATFORMS[platform], self.credentials, sandbox_url=self.sandbox_url, mode=self.modes.get(platform)
        )


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


def build_resources() -> dict[str, object]:
    database = warehouse_path()
    database.parent.mkdir(parents=True, exist_ok=True)
    return {
        "social_api": SocialApiResource(
            credentials=_credentials_from_environment(),
            modes={name: api_mode(name) for name in PLATFORMS},
            sandbox_url=os.environ.get("SOCIAL_SANDBOX_URL") or None,
            sources_file=str(sources_path()),
        ),
        "warehouse": DuckDBResource(database=str(database)),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }
