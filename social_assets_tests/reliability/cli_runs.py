"""Drive `social-assets run` as separate processes, the way people and cron use it, and read
what they left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMAND = str(Path(sys.executable).parent / "social-assets")
NO_NETWORK = Path(__file__).resolve().parent / "no_network"
DAY = "2026-11-19"

# One subreddit with its comment trees: the whole pipeline (collect, normalize, checks, dbt,
# publish) at the smallest size that still has posts, comments and a profile.
SOURCES = """
reddit:
  defaults: {post_limit: 100, collect_comments: true, comment_depth: 6, sort: new}
  sources:
    - subreddit: duckdb
"""

# Keys of every table whose rows a rerun must reproduce exactly (analytics: the dbt keys).
KEYS = {
    "normalized.posts": "platform, account_id, post_id",
    "normalized.comments": "platform, post_id, comment_id",
    "normalized.profiles": "platform, account_id",
    "analytics.posts": "platform, post_id",
    "analytics.comments": "platform, comment_id",
    "analytics.profiles": "platform, account_id",
    "analytics.engagement_snapshots": "platform, post_id, collected_at",
    "analytics.follower_snapshots": "platform, account_id, collected_at",
    "analytics.rollups_daily": "platform, account_id, period_start",
    "analytics.rollups_weekly": "platform, account_id, period_start",
    "analytics.rollups_monthly": "platform, account_id, period_start",
    "raw.posts": "platform, partition_date, account_id, seq",
    "raw.comments": "platform, partition_date, account_id, seq",
    "raw.profiles": "platform, partition_date, account_id, seq",
}


@dataclass
class Place:
    """A project's state outside the code: warehouse, snapshot, Dagster home, sources."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "data" / "warehouse.duckdb"

    @property
    def snapshot(self) -> Path:
        return self.root / "data" / "analytics.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    def env(self, **extra: str) -> dict[str, str]:
        sources = self.root / "sources.yaml"
        if not sources.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            sources.write_text(SOURCES)
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("SOCIAL_", "REDDIT_", "YOUTUBE_", "DAGSTER_"))
        }
        env.update(
            SOCIAL_WAREHOUSE=str(self.warehouse),
            SOCIAL_SOURCES=str(sources),
            SOCIAL_SANDBOX_NOW="2026-11-20T03:00:00+00:00",
            DAGSTER_HOME=str(self.home),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env


def start_run(place: Place, *, own_group: bool = False, **extra_env: str) -> subprocess.Popen:
    """`social-assets run` in the background; `own_group` puts it and whatever it starts (dbt)
    in a process group of their own, to be ended together."""
    return subprocess.Popen(
        [COMMAND, "run", "--date", DAY],
        env=place.env(**extra_env),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=own_group,
    )


def run(place: Place, timeout: float = 400, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [COMMAND, "run", "--date", DAY],
        env=place.env(**extra_env),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def table_keys(database: Path, tables=tuple(KEYS)) -> dict[str, list[tuple]]:
    """The sorted keys of each table (a table that is missing has none)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {table: _keys(con, table) for table in tables}
    finally:
        con.close()


def _keys(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    try:
        return con.execute(f"SELECT {KEYS[table]} FROM {table} ORDER BY ALL").fetchall()
    except duckdb.CatalogException:
        return []


def duplicated_keys(keys: dict[str, list[tuple]]) -> dict[str, int]:
    return {table: len(rows) - len(set(rows)) for table, rows in keys.items() if len(rows) != len(set(rows))}


def unfinished_runs(home: Path) -> list[str]:
    """Runs of the Dagster home that are not finished, read in a separate process so the test
    never holds the instance open next to the runs."""
    script = (
        "from dagster import DagsterInstance, DagsterRunStatus, RunsFilter\n"
        "with DagsterInstance.get() as i:\n"
        "    s = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]\n"
        "    print('\\n'.join(r.run_id + ' ' + r.status.value for r in i.get_runs(RunsFilter(statuses=s))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    return [line for line in out.splitlines() if line.strip()]
