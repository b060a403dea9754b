"""The analysts' copy of the analytics: a DuckDB file published after every successful build.

DuckDB refuses a writer while any other process has the file open, even read-only, so analysts
never open the pipeline's warehouse. They open this snapshot, which the pipeline never writes in
place: each build writes a new file beside it and renames it over the old one (an atomic
replace). A reader that has the old file open keeps reading it, consistently, until it
reopens; a reader that opens the path gets either the old or the new snapshot, never a mix.

It holds every `analytics.*` table, `ops.data_quality` and `ops.collection_log` (what the
figures rest on and how fresh they are), and `ops.snapshot`: one row saying when it was
published and by which run.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from social_assets.core.processes import process_alive

COPIED_SCHEMAS = ("analytics",)
COPIED_TABLES = ("ops.data_quality", "ops.collection_log")
_TEMP_MARK = ".publishing-"


def publish_snapshot(con: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> Path:
    """Copy the analyst tables from the warehouse connection `con` into a new file and put it
    at `target` atomically. Returns `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    temp = target.with_name(f"{target.name}{_TEMP_MARK}{os.getpid()}")
    _remove(temp)
    tables = _tables_to_copy(con)
    con.execute(f"ATTACH '{_quoted(temp)}' AS snapshot")
    try:
        for schema in sorted({_schema_in_file(schema, target) for schema, _ in tables} | {_schema_in_file("ops", target)}):
            con.execute(f'CREATE SCHEMA IF NOT EXISTS snapshot."{schema}"')
        for schema, name in tables:
            con.execute(
                f'CREATE TABLE snapshot."{_schema_in_file(schema, target)}"."{name}" AS SELECT * FROM "{schema}"."{name}"'
            )
        con.execute(
            f'CREATE TABLE snapshot."{_schema_in_file("ops", target)}".snapshot AS '
            "SELECT ?::TIMESTAMP AS published_at, ?::VARCHAR AS run_id",
            [datetime.now(timezone.utc).replace(tzinfo=None), run_id],
        )
        con.execute("CHECKPOINT snapshot")
    finally:
        con.execute("DETACH snapshot")
    temp.chmod(0o444)  # a copy to read: what is written to it is lost at the next publish
    os.replace(temp, target)
    return target


def _schema_in_file(schema: str, target: Path) -> str:
    """DuckDB names an opened file's catalog after its stem, so in `analytics.duckdb` a schema
    `analytics` would make `analytics.posts` ambiguous. That schema's tables go to the file's
    `main` schema instead, where `analytics.posts` (catalog.table) finds them: the warehouse's
    queries run unchanged on the snapshot, whatever the file is called."""
    return "main" if schema == target.stem else schema


def _tables_to_copy(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' ORDER BY 1, 2"
    ).fetchall()
    return [
        (schema, name) for schema, name in rows
        if schema in COPIED_SCHEMAS or f"{schema}.{name}" in COPIED_TABLES
    ]


def _remove_leftovers(target: Path) -> None:
    """Temporary files of publishers that died before their rename (a killed run)."""
    for leftover in target.parent.glob(f"{target.name}{_TEMP_MARK}*"):
        pid = leftover.name.rsplit("-", 1)[-1].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            _remove(leftover)


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
