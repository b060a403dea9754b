"""ops.audit_log: one row for every destructive action the pipeline takes (a purge of deleted
content, a retention sweep): what it did, to which table, how many rows, why and when."""

from __future__ import annotations

from social_assets.core.records import one_line
from social_assets.core.timeutil import to_warehouse_time, utc_now
from social_assets.warehouse.tables import AUDIT_LOG


def audit(con, action: str, target: str, rows: int, reason: str, platform: str | None = None) -> None:
    """Record one destructive action (in the caller's transaction, if it has one)."""
    con.execute(
        f"INSERT INTO {AUDIT_LOG.qualified} (action, target, rows, reason, platform, acted_at) VALUES (?, ?, ?, ?, ?, ?)",
        [action, target, int(rows), one_line(reason, 1000), platform, to_warehouse_time(utc_now())],
    )
