"""The project-local Dagster home.

`DAGSTER_HOME` defaults to `.dagster_home/` in the project. Its dagster.yaml is made from the
project's dagster.yaml, plus dagster.postgres.yaml's storage block when `DAGSTER_PG_URL` is set,
so one switch moves run and event storage to PostgreSQL.

The storage is created and migrated once, under a file lock, before any run: processes that
start together on a fresh home would otherwise each create the schema and race (SQLite's
`alembic_version` then ends up with two heads, and every later run fails).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from pathlib import Path

import yaml
from filelock import FileLock

from social_assets.settings import PROJECT_ROOT

# The pool every warehouse-writing step takes (see dagster.yaml); created with the storage.
WAREHOUSE_POOL = "duckdb"


def instance_config() -> dict:
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text()) or {}
    if os.environ.get("DAGSTER_PG_URL"):
        config.update(yaml.safe_load((PROJECT_ROOT / "dagster.postgres.yaml").read_text()))
    return config


def prepare_dagster_home() -> Path:
    """Make sure DAGSTER_HOME exists, holds the project's instance config and has its storage
    created and migrated; return it. Safe when several processes call it at once."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    wanted = yaml.safe_dump(instance_config(), sort_keys=False)
    with FileLock(str(home / "instance.lock")):
        target = home / "dagster.yaml"
        if not target.exists() or target.read_text() != wanted:
            _write_atomically(target, wanted)
        _initialize_storage(home, wanted)
    return home


def _initialize_storage(home: Path, config_text: str) -> None:
    """Create or migrate the storage once per Dagster version and instance config (for
    PostgreSQL, per database URL too); a marker file remembers that it was done."""
    from dagster import DagsterInstance
    from dagster.version import __version__ as dagster_version

    key = hashlib.sha256(
        "\n".join([dagster_version, config_text, os.environ.get("DAGSTER_PG_URL", "")]).encode()
    ).hexdigest()
    marker = home / "storage-initialized"
    if marker.exists() and marker.read_text() == key:
        return
    # upgrade() prints its progress (and a progress bar); an error still raises.
    with DagsterInstance.get() as instance, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        instance.upgrade()
        # The pool's limit row too: first claims by concurrent runs would each create it.
        instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    _write_atomically(marker, key)


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(text)
    os.replace(temp, path)

