"""The analytics dbt project (dbt_transforms/) and its parsed manifest.

The manifest is made before the definitions are loaded, never while they are imported: by
`make install` (`social-assets prepare`), by the commands that load the definitions (`run`,
`dev`) and by the test session. Importing the definitions only reads it, so a code server, a
run worker or the daemon starts without running dbt.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject
from filelock import FileLock

from social_assets.settings import DBT_PROJECT_DIR, dbt_executable, warehouse_path


class DbtProjectNotPrepared(RuntimeError):
    """The dbt manifest is missing: the definitions cannot be built without it."""


@cache
def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_dbt_project() -> Path:
    """Parse the project when it has no manifest (a fresh clone) or a model, macro or YAML file
    changed since; return the manifest. Processes preparing at once parse once: the others
    wait for the manifest instead of reading it half written."""
    manifest = dbt_project().manifest_path
    if not _is_current(manifest):
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(manifest.parent / ".parse.lock")):
            if not _is_current(manifest):
                subprocess.run(
                    [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                     "--profiles-dir", str(DBT_PROJECT_DIR)],
                    check=True,
                    env={**os.environ, "SOCIAL_WAREHOUSE": str(warehouse_path())},
                )
    return manifest


def prepared_manifest() -> Path:
    """The manifest the definitions are built from; an error naming the fix when there is none."""
    manifest = dbt_project().manifest_path
    if not manifest.exists():
        raise DbtProjectNotPrepared(
            f"the dbt project is not prepared ({manifest} is missing): run `social-assets prepare` "
            "(make install does it)"
        )
    return manifest


def _is_current(manifest: Path) -> bool:
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    project_files = (
        p for p in DBT_PROJECT_DIR.rglob("*")
        if p.suffix in (".sql", ".yml", ".yaml") and "target" not in p.parts and "logs" not in p.parts
    )
    return all(p.stat().st_mtime <= built for p in project_files)
