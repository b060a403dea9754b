"""Where things live. Every path can be moved with an environment variable."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_transforms"

# First day the daily partitions offer; backfills can reach back to it.
PARTITIONS_START = "2025-01-01"


def warehouse_path() -> Path:
    """The DuckDB file (`SOCIAL_WAREHOUSE`, default data/warehouse.duckdb), always absolute."""
    configured = os.environ.get("SOCIAL_WAREHOUSE")
    path = Path(configured) if configured else PROJECT_ROOT / "data" / "warehouse.duckdb"
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def landing_path() -> Path:
    """Where collections land their responses before they are loaded into raw.* (`SOCIAL_LANDING`,
    default a `landing` directory beside the warehouse), always absolute."""
    configured = os.environ.get("SOCIAL_LANDING")
    if not configured:
        return warehouse_path().parent / "landing"
    path = Path(configured)
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


LIMIT_STORE_VARIABLE = "SOCIAL_LIMIT_STORE"


def limit_store_url() -> str:
    """Where rate-limit, quota, breaker and token state is shared (`SOCIAL_LIMIT_STORE`):
    `redis://...` or `postgresql://...` to share it across machines; by default a SQLite file
    next to the warehouse, shared by the processes of this machine."""
    return os.environ.get(LIMIT_STORE_VARIABLE) or str(warehouse_path().parent / "limits.sqlite")


def sources_path() -> Path:
    """The sources file (`SOCIAL_SOURCES`, default sources.yaml at the project root)."""
    configured = os.environ.get("SOCIAL_SOURCES")
    return Path(configured).resolve() if configured else PROJECT_ROOT / "sources.yaml"


def dbt_executable() -> str:
    """The dbt installed beside this interpreter, so nothing depends on the venv being on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def analytics_snapshot_path() -> Path:
    """The read-only copy of the analytics that analysts open (`SOCIAL_ANALYTICS_SNAPSHOT`,
    default analytics.duckdb beside the warehouse), always absolute."""
    configured = os.environ.get("SOCIAL_ANALYTICS_SNAPSHOT")
    if not configured:
        return warehouse_path().parent / "analytics.duckdb"
    path = Path(configured)
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def _seconds(variable: str, default: float) -> float:
    raw = os.environ.get(variable)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{variable}={raw!r} is not a number of seconds") from None
    if seconds < 0:
        raise ValueError(f"{variable}={raw!r} must not be negative")
    return seconds


def pool_wait_seconds() -> float:
    """How long a run waits for a slot of the `duckdb` pool held by another live run before it
    gives up (`SOCIAL_POOL_WAIT_SECONDS`, default 900)."""
    return _seconds("SOCIAL_POOL_WAIT_SECONDS", 900.0)


def warehouse_lock_wait_seconds() -> float:
    """How long a write step waits for another process (not a pipeline step) to release the
    warehouse file before it fails (`SOCIAL_WAREHOUSE_LOCK_WAIT_SECONDS`, default 120)."""
    return _seconds("SOCIAL_WAREHOUSE_LOCK_WAIT_SECONDS", 120.0)


def runs_at_once() -> int | None:
    """How many platforms of a day `social-assets run` collects at once, a Dagster run each
    (`SOCIAL_RUNS_AT_ONCE`; default None: every platform of the day). Their fetches overlap;
    then they take turns at the warehouse."""
    raw = os.environ.get("SOCIAL_RUNS_AT_ONCE")
    return at_least_one("SOCIAL_RUNS_AT_ONCE", raw, "platforms collected at once") if raw else None


def at_least_one(variable: str, raw: str, what: str) -> int:
    """`raw`, the value of `variable`, as a whole number of `what`; an error naming both unless
    it is one and at least 1."""
    try:
        number = int(raw)
    except ValueError:
        raise ValueError(f"{variable} must be a whole number of {what}, not {raw!r}") from None
    if number < 1:
        raise ValueError(f"{variable} must be at least 1, not {number}")
    return number
