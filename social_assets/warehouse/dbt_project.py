"""The analytics dbt project (dbt_transforms/) and its parsed manifest.

The manifest is made before the definitions are loaded, never while they are imported: by
`make install` (`social-assets prepare`), by the commands that load the definitions (`run`,
`dev`) and by the test session. Importing the definitions only reads it, so a code server, a
run worker or the daemon starts without running dbt.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import duckdb
from dagster_dbt import DbtProject
from filelock import FileLock

from social_assets.core.timeutil import to_warehouse_time
from social_assets.settings import DBT_PROJECT_DIR, dbt_executable, warehouse_path
from social_assets.warehouse.tables import ANALYTICS_BUILDS, ANALYTICS_CHANGES, ensure_schema


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


# -- incremental builds ----------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsBuild:
    """What the next analytics build does: rebuild every table (`full_refresh`), or fold in the
    changes recorded up to `changes_upto` (None: none are pending)."""

    full_refresh: bool
    changes_upto: datetime | None
    fingerprint: str

    @property
    def dbt_args(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []


def project_fingerprint() -> str:
    """A hash of what the models compute (models, macros, dbt_project.yml): a table built
    incrementally by another version of a model must be rebuilt in full."""
    digest = hashlib.sha256()
    files = [DBT_PROJECT_DIR / "dbt_project.yml", *DBT_PROJECT_DIR.joinpath("models").rglob("*"),
             *DBT_PROJECT_DIR.joinpath("macros").rglob("*")]
    for path in sorted(p for p in files if p.suffix in (".sql", ".yml", ".yaml") and p.is_file()):
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def plan_analytics_build(con: duckdb.DuckDBPyConnection, force_full: bool = False) -> AnalyticsBuild:
    """Incremental when the last successful build was of this same project; in full otherwise
    (the first build, a changed model, a warehouse built before changes were recorded) or when
    asked (`force_full`: only the pipeline's writes are recorded, not edits by hand)."""
    ensure_schema(con)
    fingerprint = project_fingerprint()
    last = con.execute(
        f"SELECT project_fingerprint FROM {ANALYTICS_BUILDS.qualified} ORDER BY built_at DESC LIMIT 1"
    ).fetchall()
    (upto,) = con.execute(f"SELECT max(recorded_at) FROM {ANALYTICS_CHANGES.qualified}").fetchone()
    full = force_full or not last or last[0][0] != fingerprint
    return AnalyticsBuild(full_refresh=full, changes_upto=upto, fingerprint=fingerprint)


def record_analytics_build(con: duckdb.DuckDBPyConnection, build: AnalyticsBuild) -> None:
    """After a build of every model succeeded: the changes it folded in are done with. (A build
    that failed, or built only some models, leaves them for the next one: folding a change in
    twice gives the same tables.)"""
    con.execute("BEGIN TRANSACTION")
    try:
        if build.changes_upto is not None:
            con.execute(f"DELETE FROM {ANALYTICS_CHANGES.qualified} WHERE recorded_at <= ?", [build.changes_upto])
        con.execute(
            f"INSERT INTO {ANALYTICS_BUILDS.qualified} (built_at, project_fingerprint, full_refresh, changes_upto) "
            "VALUES (?, ?, ?, ?)",
            [to_warehouse_time(datetime.now(timezone.utc)), build.fingerprint, build.full_refresh, build.changes_upto],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
