"""The Python-written tables of the warehouse and the one way they are written.

Schemas:
- `raw`        API responses exactly as received, one row per response (assets raw/*)
- `normalized` the cross-platform records of each collection, one partition per platform-day
- `ops`        operational records: collection log, dead letters, data quality
- `analytics`  built by dbt from `normalized` (see dbt_transforms/)

Timestamps are stored as UTC `TIMESTAMP` values (no zone: every one is UTC).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Iterable, Mapping

import duckdb
import pandas as pd

from social_assets.core.timeutil import to_warehouse_time

if TYPE_CHECKING:
    from social_assets.core.http import LandedResponse


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self) -> str:
        cols = ", ".join(f"{name} {type_}" for name, type_ in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} ({cols})"


_PARTITION = (("platform", "VARCHAR NOT NULL"), ("partition_date", "DATE NOT NULL"))

_RAW_COLUMNS = _PARTITION + (
    ("account_id", "VARCHAR NOT NULL"),  # the source the request was made for
    ("seq", "INTEGER NOT NULL"),  # order of the response within the partition's collection
    ("method", "VARCHAR NOT NULL"),
    ("endpoint", "VARCHAR NOT NULL"),
    ("params", "JSON NOT NULL"),  # request parameters, secrets removed
    ("context", "JSON NOT NULL"),  # what the collector knew that the body omits (see LandedResponse)
    ("status", "INTEGER NOT NULL"),
    ("fetched_at", "TIMESTAMP NOT NULL"),
    ("normalize", "BOOLEAN NOT NULL"),  # false for index-only responses
    # The response body, verbatim (known secrets scrubbed). Stored uncompressed: DuckDB would
    # pick ZSTD for strings this long, and reading any body of a ZSTD vector decompresses all of
    # its 2,048 (256 MB for pages of 128 KB), so normalizing a day in small batches would still
    # need that much memory. Uncompressed, a batch reads only its own bodies (issue #11).
    ("body", "VARCHAR NOT NULL USING COMPRESSION uncompressed"),
    ("request_body", "JSON"),  # a JSON request body (TikTok's POSTs), secrets removed; else null
)

RAW_TABLES = {
    resource: Table("raw", resource, _RAW_COLUMNS) for resource in ("posts", "comments", "profiles")
}

# A post's counts, as the platform reports them at one observation: the daily collection
# (normalized.posts) and the hourly refresh (normalized.post_metrics) carry the same ones. A
# count the platform does not report stays null (Reddit and YouTube report none of saves,
# impressions, reach, clicks or watch time through the APIs used).
METRIC_NAMES = ("likes", "comments", "shares", "views", "saves", "impressions", "reach", "clicks", "watch_time_seconds")
POST_METRIC_COLUMNS = tuple(
    (name, "DOUBLE" if name == "watch_time_seconds" else "BIGINT") for name in METRIC_NAMES
)

NORMALIZED_TABLES = {
    "posts": Table(
        "normalized",
        "posts",
        _PARTITION
        + (
            ("account_id", "VARCHAR NOT NULL"),
            ("post_id", "VARCHAR NOT NULL"),
            ("author_id", "VARCHAR"),
            ("author_username", "VARCHAR"),
            ("text", "VARCHAR"),
            ("content_type", "VARCHAR NOT NULL"),
            ("media_urls", "VARCHAR[]"),
            ("published_at", "TIMESTAMP NOT NULL"),
            *POST_METRIC_COLUMNS,
            ("permalink", "VARCHAR"),
            ("collected_at", "TIMESTAMP NOT NULL"),
            ("deleted_at", "TIMESTAMP"),  # set when the platform said it is gone: a tombstone
            ("duration_seconds", "DOUBLE"),  # a video's length (TikTok)
        ),
    ),
    "comments": Table(
        "normalized",
        "comments",
        _PARTITION
        + (
            ("account_id", "VARCHAR NOT NULL"),
            ("comment_id", "VARCHAR NOT NULL"),
            ("post_id", "VARCHAR NOT NULL"),
            ("parent_id", "VARCHAR"),
            ("author_username", "VARCHAR"),
            ("text", "VARCHAR"),
            ("published_at", "TIMESTAMP NOT NULL"),
            ("likes", "BIGINT"),
            ("depth", "INTEGER NOT NULL"),
            ("collected_at", "TIMESTAMP NOT NULL"),
            ("deleted_at", "TIMESTAMP"),  # set when the platform said it is gone: a tombstone
        ),
    ),
    "profiles": Table(
        "normalized",
        "profiles",
        _PARTITION
        + (
            ("account_id", "VARCHAR NOT NULL"),
            ("username", "VARCHAR"),
            ("followers", "BIGINT"),
            ("following", "BIGINT"),
            ("posts_count", "BIGINT"),
            ("collected_at", "TIMESTAMP NOT NULL"),
            ("likes_received", "BIGINT"),  # likes of all the account's posts (TikTok)
        ),
    ),
}

# Past follower counts derived from a platform's history endpoint (Instagram's and LinkedIn's
# daily follower gains, YouTube Analytics' subscriber changes), written by normalized/profiles
# beside the profiles: analytics.follower_snapshots marks them `derived`.
FOLLOWER_HISTORY = Table(
    "normalized",
    "follower_history",
    _PARTITION
    + (
        ("account_id", "VARCHAR NOT NULL"),
        ("observed_at", "TIMESTAMP NOT NULL"),  # the moment the count describes
        ("followers", "BIGINT"),
        ("collected_at", "TIMESTAMP NOT NULL"),  # when the history it comes from was read
    ),
)

# The hourly engagement refresh of recent posts: partitioned by platform x UTC hour.
_HOUR_PARTITION = (("platform", "VARCHAR NOT NULL"), ("partition_hour", "TIMESTAMP NOT NULL"))

REFRESH_RESPONSES = Table("raw", "metric_refreshes", _HOUR_PARTITION + _RAW_COLUMNS[2:])

POST_METRICS = Table(
    "normalized",
    "post_metrics",
    _HOUR_PARTITION
    + (
        ("account_id", "VARCHAR NOT NULL"),
        ("post_id", "VARCHAR NOT NULL"),
        *POST_METRIC_COLUMNS,
        ("collected_at", "TIMESTAMP NOT NULL"),
    ),
)

# One row per run and source: what collecting it cost and how it went (issue #4).
COLLECTION_LOG = Table(
    "ops",
    "collection_log",
    _PARTITION
    + (
        ("account_id", "VARCHAR NOT NULL"),
        ("run_id", "VARCHAR NOT NULL"),
        ("status", "VARCHAR NOT NULL"),  # success | partial | failed
        ("items", "BIGINT NOT NULL"),  # items in the landed responses that normalized cleanly
        ("responses", "BIGINT NOT NULL"),
        ("calls", "BIGINT NOT NULL"),
        ("retries", "BIGINT NOT NULL"),
        ("throttled", "BIGINT NOT NULL"),  # 429 responses
        ("dead_letters", "BIGINT NOT NULL"),
        ("latency_p50_ms", "DOUBLE"),
        ("latency_p95_ms", "DOUBLE"),
        ("duration_s", "DOUBLE NOT NULL"),
        ("api", "VARCHAR NOT NULL"),  # live, or which sandbox
        ("error", "VARCHAR"),
        ("started_at", "TIMESTAMP NOT NULL"),
        ("finished_at", "TIMESTAMP NOT NULL"),
    ),
)

# Requests that failed for good and items that did not validate, kept to replay (issue #3).
DEAD_LETTERS = Table(
    "ops",
    "dead_letters",
    _PARTITION
    + (
        ("account_id", "VARCHAR NOT NULL"),
        ("letter_id", "VARCHAR NOT NULL"),  # stable: the same failure twice is one letter
        ("kind", "VARCHAR NOT NULL"),  # request | item
        ("resource", "VARCHAR NOT NULL"),
        ("method", "VARCHAR NOT NULL"),
        ("endpoint", "VARCHAR NOT NULL"),
        ("params", "JSON NOT NULL"),  # the request, secrets removed
        ("context", "JSON NOT NULL"),
        ("payload", "VARCHAR"),  # the item or response body, when there was one
        ("item_id", "VARCHAR"),
        ("reason", "VARCHAR NOT NULL"),
        ("attempts", "INTEGER NOT NULL"),
        ("first_failed_at", "TIMESTAMP NOT NULL"),
        ("last_failed_at", "TIMESTAMP NOT NULL"),
        ("status", "VARCHAR NOT NULL"),  # open | replayed
    ),
)

# Asset check results per platform and day, for charting quality over time (issue #4).
DATA_QUALITY = Table(
    "ops",
    "data_quality",
    (
        ("platform", "VARCHAR NOT NULL"),
        ("day", "DATE NOT NULL"),
        ('"check"', "VARCHAR NOT NULL"),
        ("passed", "BOOLEAN NOT NULL"),
        ("value", "DOUBLE"),
        ("checked_at", "TIMESTAMP NOT NULL"),
    ),
)

# Which accounts make up each brand (the `brands` section of the sources file), written by the
# analytics step before dbt builds analytics.brand_rollups_* (see brands.py).
BRAND_ACCOUNTS = Table(
    "ops",
    "brand_accounts",
    (("brand", "VARCHAR NOT NULL"), ("platform", "VARCHAR NOT NULL"), ("account_id", "VARCHAR NOT NULL")),
)

# Posts and comments the platform said are deleted or removed (privacy/deletions.py): their
# content is purged everywhere and kept out of what is collected later.
DELETIONS = Table(
    "ops",
    "deletions",
    (
        ("platform", "VARCHAR NOT NULL"),
        ("resource", "VARCHAR NOT NULL"),  # posts | comments
        ("item_id", "VARCHAR NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),  # what the platform said, e.g. "removed_by_category: moderator"
        ("deleted_at", "TIMESTAMP NOT NULL"),  # when the pipeline first saw it gone
    ),
)

# One row per destructive action (a purge, a retention sweep): what, how many rows, why, when.
AUDIT_LOG = Table(
    "ops",
    "audit_log",
    (
        ("action", "VARCHAR NOT NULL"),  # purge_deleted | retention_raw | retention_comments
        ("target", "VARCHAR NOT NULL"),  # the table acted on
        ("rows", "BIGINT NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),
        ("platform", "VARCHAR"),
        ("acted_at", "TIMESTAMP NOT NULL"),
    ),
)

# What the analytics build (dbt) has not folded in yet: the items of the normalized rows each
# partition write removed or added (see `replace_rows`), one row per item and write. The
# incremental models recompute exactly those items (and the periods and accounts they touch),
# then the analytics step deletes what it consumed (warehouse/dbt_project.py).
ANALYTICS_CHANGES = Table(
    "ops",
    "analytics_changes",
    (
        ("resource", "VARCHAR NOT NULL"),  # the normalized table: posts | comments | profiles | follower_history | post_metrics
        ("platform", "VARCHAR NOT NULL"),
        ("account_id", "VARCHAR NOT NULL"),
        ("item_id", "VARCHAR NOT NULL"),  # post_id, comment_id, or account_id (profiles, follower_history)
        ("observed_at", "TIMESTAMP NOT NULL"),  # the earliest moment of the item's rows (collected_at; observed_at of follower history)
        ("published_at", "TIMESTAMP"),  # the earliest published_at of the item's rows (posts, comments)
        ("recorded_at", "TIMESTAMP NOT NULL"),
    ),
)

# One row per analytics build that succeeded: which changes it consumed, and the dbt project it
# built (a changed project is rebuilt in full: an incremental table keeps the old model's rows).
ANALYTICS_BUILDS = Table(
    "ops",
    "analytics_builds",
    (
        ("built_at", "TIMESTAMP NOT NULL"),
        ("project_fingerprint", "VARCHAR NOT NULL"),
        ("full_refresh", "BOOLEAN NOT NULL"),
        ("changes_upto", "TIMESTAMP"),  # recorded_at of the last change consumed; null: there was none
    ),
)

ALL_TABLES = [
    *RAW_TABLES.values(),
    *NORMALIZED_TABLES.values(),
    FOLLOWER_HISTORY,
    REFRESH_RESPONSES,
    POST_METRICS,
    COLLECTION_LOG,
    DEAD_LETTERS,
    DATA_QUALITY,
    BRAND_ACCOUNTS,
    DELETIONS,
    AUDIT_LOG,
    ANALYTICS_CHANGES,
    ANALYTICS_BUILDS,
]


def landed_row(landed: "LandedResponse", partition: Mapping[str, object], account_id: str, seq: int) -> dict:
    """One row of a raw table: the response verbatim with its request, in its partition."""
    return {
        **partition,
        "account_id": account_id,
        "seq": seq,
        "method": landed.method,
        "endpoint": landed.endpoint,
        "params": json.dumps(landed.params, sort_keys=True),
        "context": json.dumps(dict(landed.context), sort_keys=True),
        "status": landed.status,
        "fetched_at": to_warehouse_time(landed.fetched_at),
        "normalize": landed.normalize,
        "body": landed.body,
        "request_body": json.dumps(landed.request_body) if landed.request_body is not None else None,
    }


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing: schemas, tables, and columns added since the warehouse was made.
    Every step of every run calls this, so a complete warehouse costs one catalog query."""
    present = _present_columns(con)
    if all((t.schema, t.name, name.strip('"')) in present for t in ALL_TABLES for name, _ in t.columns) and (
        # fetchall: a result left half-read blocks the connection's next register()
        con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'analytics'").fetchall()[0][0]
    ):
        return
    for schema in sorted({t.schema for t in ALL_TABLES} | {"analytics"}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in ALL_TABLES:
        con.execute(table.ddl())
    _add_new_columns(con, _present_columns(con))


def _present_columns(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str]]:
    return set(con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns()").fetchall())


def _add_new_columns(con: duckdb.DuckDBPyConnection, present: set[tuple[str, str, str]]) -> None:
    """A warehouse made by an older version gets the nullable columns added since (e.g. the
    metrics beyond likes); its rows keep their values and the new columns are null."""
    for table in ALL_TABLES:
        for name, type_ in table.columns:
            if (table.schema, table.name, name.strip('"')) in present:
                continue
            if "NOT NULL" in type_:
                raise RuntimeError(f"{table.qualified} lacks the required column {name}: rebuild the warehouse")
            con.execute(f"ALTER TABLE {table.qualified} ADD COLUMN {name} {type_}")


@dataclass(frozen=True)
class PartitionWrite:
    """New rows for one table's share of a platform-day: a DataFrame, or a DuckDB relation of the
    connection that writes (rows made in DuckDB, too many to bring into Python). `scope` narrows
    the rows replaced further (column -> value), for tables that several assets share; rows of
    `keep_accounts` (sources whose collection failed this time) are kept as they were."""

    table: Table
    rows: pd.DataFrame | duckdb.DuckDBPyRelation
    scope: tuple[tuple[str, object], ...] = ()
    keep_accounts: frozenset[str] = frozenset()


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    platform: str,
    day: date,
    writes: list[PartitionWrite],
    only_accounts: set[str] | frozenset[str] | None = None,
    batches: Iterable[tuple[Table, pd.DataFrame]] = (),
) -> None:
    """Replace one platform-day (see `replace_rows`)."""
    replace_rows(con, {"platform": platform, "partition_date": day}, writes, only_accounts, batches)


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    partition: Mapping[str, object],
    writes: list[PartitionWrite],
    only_accounts: set[str] | frozenset[str] | None = None,
    batches: Iterable[tuple[Table, pd.DataFrame]] = (),
) -> None:
    """Replace one partition (its key columns -> values) in each table, in one transaction.

    Either every table holds exactly the new rows for the partition or, if anything fails,
    every table is left as it was: re-running a partition is always safe. With
    `only_accounts`, only those accounts' rows are replaced (a collection of some sources).
    `batches` are more new rows (table, rows) for tables of `writes`, inserted in the same
    transaction as they come: a generator keeps a big partition's memory bounded.
    """
    ensure_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for write in writes:
            table = write.table
            matches = [*partition.items(), *write.scope]
            conditions = [f"{column} = ?" for column, _ in matches]
            params: list[object] = [value for _, value in matches]
            if write.keep_accounts:
                conditions.append(f"account_id NOT IN ({', '.join('?' for _ in write.keep_accounts)})")
                params.extend(sorted(write.keep_accounts))
            if only_accounts is not None:
                conditions.append(f"account_id IN ({', '.join('?' for _ in only_accounts) or 'NULL'})")
                params.extend(sorted(only_accounts))
            where = " AND ".join(conditions)
            record_analytics_changes(con, table, f"{table.qualified} WHERE {where}", params)
            con.execute(f"DELETE FROM {table.qualified} WHERE {where}", params)
            _insert(con, table, write.rows)
        written = {write.table for write in writes}
        for table, rows in batches:
            if table not in written:
                raise ValueError(f"rows for {table.qualified}, which this write does not replace")
            _insert(con, table, rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _insert(con: duckdb.DuckDBPyConnection, table: Table, rows: pd.DataFrame | duckdb.DuckDBPyRelation) -> None:
    if not len(rows):
        return
    con.register("incoming_rows", rows if isinstance(rows, duckdb.DuckDBPyRelation) else rows[table.column_names])
    columns = ", ".join(table.column_names)
    con.execute(f"INSERT INTO {table.qualified} ({columns}) SELECT {columns} FROM incoming_rows")
    record_analytics_changes(con, table, "incoming_rows", [])
    con.unregister("incoming_rows")


# For each normalized table the analytics read: the item's id column, the column of the moment a
# row describes, and its publication column (None: the table has none).
_CHANGE_COLUMNS = {
    "normalized.posts": ("post_id", "collected_at", "published_at"),
    "normalized.comments": ("comment_id", "collected_at", "published_at"),
    "normalized.profiles": ("account_id", "collected_at", None),
    "normalized.follower_history": ("account_id", "observed_at", None),
    "normalized.post_metrics": ("post_id", "collected_at", None),
}


def record_analytics_changes(con: duckdb.DuckDBPyConnection, table: Table, rows: str, params: list[object]) -> None:
    """Note in ops.analytics_changes the items of `rows` (`<relation> [WHERE ...]` with its
    `params`) of a normalized table: called for the rows a write removes and for those it adds,
    so that an incremental build forgets an item a replaced partition no longer holds, as a
    full rebuild would. Tables the analytics do not read are not noted."""
    if table.qualified not in _CHANGE_COLUMNS:
        return
    item, moment, published = _CHANGE_COLUMNS[table.qualified]
    con.execute(
        f"INSERT INTO {ANALYTICS_CHANGES.qualified} "
        f"(resource, platform, account_id, item_id, observed_at, published_at, recorded_at) "
        f"SELECT ?, platform, account_id, {item}, min({moment}), {f'min({published})' if published else 'NULL'}, "
        f"? FROM {rows} GROUP BY platform, account_id, {item}",
        [table.name, to_warehouse_time(datetime.now(timezone.utc)), *params],
    )
