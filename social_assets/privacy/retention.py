"""Retention: what the sources file's `privacy` section says may be kept, and no longer.

- `raw_retention_days`: the raw API bodies of daily partitions older than that many days
  (`raw.posts`, `raw.comments`, `raw.profiles`) and of refresh hours older than that
  (`raw.metric_refreshes`) are deleted. The normalized rows made from them stay; a partition
  whose bodies are gone is not normalized again from nothing (see defs/normalized.py).
- `comment_retention_days`: comments published longer ago than that are dropped from
  `normalized.comments` and `analytics.comments`.

Ages count from now (UTC). Every sweep that deletes something writes an `ops.audit_log` row per
table. The sweep runs before each analytics build (defs/warehouse_models.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from social_assets.core.timeutil import to_warehouse_time, utc_now
from social_assets.privacy.audit import audit
from social_assets.privacy.options import PrivacyOptions
from social_assets.warehouse.tables import NORMALIZED_TABLES, RAW_TABLES, REFRESH_RESPONSES


def raw_cutoff(options: PrivacyOptions, now: datetime | None = None) -> date | None:
    """The first partition day whose raw bodies are kept (None: all are)."""
    if options.raw_retention_days is None:
        return None
    return ((now or utc_now()) - timedelta(days=options.raw_retention_days)).date()


def apply_retention(con: duckdb.DuckDBPyConnection, options: PrivacyOptions, now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than the options allow; return the rows deleted per table."""
    now = now or utc_now()
    deleted: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        if options.raw_retention_days is not None:
            cutoff = raw_cutoff(options, now)
            why = f"raw bodies older than {options.raw_retention_days} days (privacy.raw_retention_days): before {cutoff}"
            for table in RAW_TABLES.values():
                (count,) = con.execute(f"DELETE FROM {table.qualified} WHERE partition_date < ?", [cutoff]).fetchone()
                deleted[table.qualified] = count
                if count:
                    audit(con, "retention_raw", table.qualified, count, why)
            hour_cutoff = to_warehouse_time(now - timedelta(days=options.raw_retention_days))
            (count,) = con.execute(
                f"DELETE FROM {REFRESH_RESPONSES.qualified} WHERE partition_hour < ?", [hour_cutoff]
            ).fetchone()
            deleted[REFRESH_RESPONSES.qualified] = count
            if count:
                audit(con, "retention_raw", REFRESH_RESPONSES.qualified, count, why)
        if options.comment_retention_days is not None:
            cutoff_time = to_warehouse_time(now - timedelta(days=options.comment_retention_days))
            why = f"comments published more than {options.comment_retention_days} days ago (privacy.comment_retention_days)"
            comments = NORMALIZED_TABLES["comments"].qualified
            targets = [comments]
            if con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'analytics' "
                "AND table_name = 'comments' AND table_type = 'BASE TABLE' AND table_catalog = current_database()"
            ).fetchone()[0]:
                targets.append("analytics.comments")
            for table in targets:
                (count,) = con.execute(f"DELETE FROM {table} WHERE published_at < ?", [cutoff_time]).fetchone()
                deleted[table] = count
                if count:
                    audit(con, "retention_comments", table, count, why)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {table: count for table, count in deleted.items() if count}
