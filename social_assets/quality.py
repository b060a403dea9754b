"""What data quality means here, shared by the Dagster checks (defs/checks.py) and `health`.

Both read the same things, so they live here and neither imports the other:
- freshness: a platform's last successful collection and newest data (`read_freshness`), and
  how old it may be (`max_age_from_environment`, SOCIAL_FRESHNESS_MAX_AGE_HOURS, 36 h);
- the checks of a platform-day (`PARTITION_CHECKS`) and which of them are blocking;
- the dbt tests: blocking unless their dbt severity is `warn` (what dagster-dbt does too), read
  from the dbt manifest; their results are stored in ops.data_quality under platform `all`;
- `failed_dbt_tests`: the dbt tests whose latest result in ops.data_quality failed.

No Dagster import here: plain data and SQL over the warehouse.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

import duckdb

from social_assets.settings import DBT_PROJECT_DIR

# Written by `dbt parse` (the definitions run it when the project changed): tells which dbt tests exist.
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

MAX_AGE_VARIABLE = "SOCIAL_FRESHNESS_MAX_AGE_HOURS"
DEFAULT_MAX_AGE_HOURS = 36.0  # a daily collection, plus a missed hour or two of slack

# ops.data_quality rows of checks that are not about one platform (the dbt tests).
ALL_PLATFORMS = "all"


def max_age_from_environment(environ: Mapping[str, str] = os.environ) -> timedelta:
    """`SOCIAL_FRESHNESS_MAX_AGE_HOURS` (default 36): the oldest a platform's data may be."""
    raw = environ.get(MAX_AGE_VARIABLE)
    try:
        hours = float(raw) if raw else DEFAULT_MAX_AGE_HOURS
    except ValueError:
        raise ValueError(f"{MAX_AGE_VARIABLE}={raw!r} is not a number of hours") from None
    return timedelta(hours=hours)


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Warehouse timestamps are zone-less UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


# -- freshness --------------------------------------------------------------------------------


@dataclass
class Freshness:
    platform: str
    last_success: datetime | None  # newest finished_at of a successful (or partial) source collection
    newest_day: date | None  # newest partition day with such a collection
    newest_observation: datetime | None  # newest collected_at in the normalized tables

    def hours_since_success(self, now: datetime) -> float | None:
        if self.last_success is None:
            return None
        return max(0.0, (now - self.last_success).total_seconds() / 3600)

    def hours_since_observation(self, now: datetime) -> float | None:
        if self.newest_observation is None:
            return None
        return max(0.0, (now - self.newest_observation).total_seconds() / 3600)

    def stale_reason(self, now: datetime, max_age: timedelta) -> str | None:
        """Why the platform's data is stale, or None when it is fresh."""
        limit = max_age.total_seconds() / 3600
        if self.last_success is None:
            return "no successful collection yet"
        since = self.hours_since_success(now)
        if since > limit:
            return f"last successful collection {since:.1f} h ago (allowed {limit:g} h)"
        return None


def read_freshness(con: duckdb.DuckDBPyConnection | None, platforms: list[str]) -> dict[str, Freshness]:
    found = {p: Freshness(p, None, None, None) for p in platforms}
    if con is None or not platforms:
        return found
    marks = ", ".join("?" for _ in platforms)
    if has_table(con, "ops.collection_log"):
        for platform, last, day in con.execute(
            f"SELECT platform, max(finished_at), max(partition_date) FROM ops.collection_log "
            f"WHERE status IN ('success', 'partial') AND platform IN ({marks}) GROUP BY 1",
            platforms,
        ).fetchall():
            found[platform].last_success, found[platform].newest_day = _utc(last), day
    observed = [
        f"SELECT platform, max(collected_at) AS newest FROM {table} WHERE platform IN ({marks}) GROUP BY 1"
        for table in ("normalized.posts", "normalized.profiles", "normalized.post_metrics")
        if has_table(con, table)
    ]
    if observed:
        for platform, newest in con.execute(
            f"SELECT platform, max(newest) FROM ({' UNION ALL '.join(observed)}) GROUP BY 1",
            platforms * len(observed),
        ).fetchall():
            found[platform].newest_observation = _utc(newest)
    return found


# -- the checks and which are blocking --------------------------------------------------------


@dataclass(frozen=True)
class PartitionCheck:
    """A check of each platform-day partition of a normalized table (see defs/checks.py)."""

    table: str  # normalized.posts
    name: str
    blocking: bool
    description: str
    reads: tuple[str, ...] = ()  # other tables it reads (they must be written first)

    @property
    def check_name(self) -> str:
        """How it is named in ops.data_quality: `<asset>:<check>`, e.g. normalized/posts:volume."""
        return f"{self.table.replace('.', '/')}:{self.name}"


PARTITION_CHECKS = [
    PartitionCheck("normalized.posts", "unique_keys", True,
                   "No post has a null key or shares (account_id, post_id) with another."),
    PartitionCheck("normalized.comments", "unique_keys", True,
                   "No comment has a null key or shares (post_id, comment_id) with another."),
    PartitionCheck("normalized.profiles", "unique_keys", True,
                   "No profile has a null account_id or shares it with another."),
    PartitionCheck("normalized.comments", "known_posts", True,
                   "Every comment's post is in normalized.posts (any day).", reads=("normalized.posts",)),
    PartitionCheck("normalized.posts", "quality_score", True,
                   "At least 95% of the fetched items normalized cleanly.",
                   reads=("normalized.comments", "normalized.profiles")),
    PartitionCheck("normalized.posts", "quality_score_target", False,
                   "At least 99% of the fetched items normalized cleanly (WARN).",
                   reads=("normalized.comments", "normalized.profiles")),
    PartitionCheck("normalized.posts", "volume", False, "The post count is inside its trailing 14-day band."),
    PartitionCheck("normalized.comments", "volume", False, "The comment count is inside its trailing 14-day band."),
]

BLOCKING_PARTITION_CHECKS = frozenset(c.check_name for c in PARTITION_CHECKS if c.blocking)


def dbt_tests(manifest: Path) -> dict[str, bool]:
    """Every dbt test of an analytics model, by check name (`analytics/posts:posts_key`), and
    whether it is blocking (dbt severity `error`, the default; dagster-dbt makes those blocking)."""
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text()).get("nodes", {})
    tests = {}
    for node in nodes.values():
        if node.get("resource_type") != "test" or not node.get("attached_node"):
            continue
        model = nodes.get(node["attached_node"])
        if model is None:
            continue
        name = f"{model['schema']}/{model['name']}:{node['name']}"
        tests[name] = str(node.get("config", {}).get("severity", "error")).lower() == "error"
    return tests


def is_blocking(check: str, platform: str, dbt: Mapping[str, bool]) -> bool:
    """A stored result's check is blocking: a blocking partition check, or a dbt test that is
    not `warn` (a dbt test unknown to the manifest counts as blocking: better said than missed)."""
    if platform == ALL_PLATFORMS:
        return dbt.get(check, True)
    return check in BLOCKING_PARTITION_CHECKS


@dataclass(frozen=True)
class FailedCheck:
    check: str
    day: date  # the day the test ran
    failing_rows: float | None
    checked_at: datetime
    blocking: bool

    def describe(self) -> str:
        rows = f"{self.failing_rows:g} failing row(s), " if self.failing_rows is not None else ""
        return f"{self.check} ({rows}checked {self.checked_at:%Y-%m-%d %H:%M} UTC)"


def failed_dbt_tests(con: duckdb.DuckDBPyConnection | None, manifest: Path | None = None) -> list[FailedCheck]:
    """The dbt tests whose latest result (ops.data_quality, platform `all`) is a failure."""
    if con is None or not has_table(con, "ops.data_quality"):
        return []
    dbt = dbt_tests(manifest or DBT_MANIFEST)
    rows = con.execute(
        """
        SELECT "check", day, value, checked_at, passed FROM ops.data_quality WHERE platform = ?
        QUALIFY row_number() OVER (PARTITION BY "check" ORDER BY checked_at DESC, day DESC) = 1
        ORDER BY "check"
        """,
        [ALL_PLATFORMS],
    ).fetchall()
    return [
        FailedCheck(check, day, value, _utc(checked_at), is_blocking(check, ALL_PLATFORMS, dbt))
        for check, day, value, checked_at, passed in rows
        if not passed
    ]
