"""What the analytics build of one new day costs as history grows: the project's `dbt build`
(dbt_transforms/, the dbt beside this interpreter) over a warehouse holding only the new day,
then over one holding a year of history before it. The normalized.* rows are synthetic
(--posts a day over --accounts accounts per platform, --comments per post, a profile per
account and day). Issue #11's goal: the year costs at most 3 x the empty warehouse.

The year is built as the pipeline builds it: the history is built first (not measured), then the
new day is written by the pipeline's partition writer (which records what changed) and the
measured build is the incremental one that follows, planned and recorded as the analytics step
does (warehouse/dbt_project.py). The empty warehouse's build is its first, a full one.

    .venv/bin/python benchmarks/dbt_scaling.py [--posts 100] [--comments 5] [--days 365]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from social_assets.settings import DBT_PROJECT_DIR, dbt_executable  # noqa: E402
from social_assets.warehouse.dbt_project import plan_analytics_build, record_analytics_build  # noqa: E402
from social_assets.warehouse.tables import NORMALIZED_TABLES, PartitionWrite, ensure_schema, replace_partition  # noqa: E402

NEW_DAY = date(2026, 11, 19)
PLATFORMS = ("reddit", "youtube")


def fill(warehouse: Path, first: date, last: date, posts: int, comments: int, accounts: int,
         through_writer: bool = False) -> None:
    """normalized posts, comments and profiles for every platform-day from `first` to `last`;
    with `through_writer`, each platform-day is written by `replace_partition`, as the
    normalized step writes it (slower: for the day an incremental build is measured on)."""
    con = duckdb.connect(str(warehouse))
    ensure_schema(con)
    days = f"SELECT d::DATE AS day FROM range(DATE '{first}', DATE '{last}' + 1, INTERVAL 1 DAY) t(d)"
    accounts_of = f"SELECT p AS platform, 'acct' || a AS account_id FROM unnest({list(PLATFORMS)}) u(p), range({accounts}) r(a)"
    con.execute(f"""
        CREATE TEMP TABLE bench_posts AS
        SELECT a.platform, d.day AS partition_date, a.account_id,
               a.account_id || '-' || strftime(d.day, '%Y%m%d') || '-' || n AS post_id,
               'author' || (n % 50) AS author_username, 'post text ' || n AS text, 'text' AS content_type,
               d.day + INTERVAL (n * 13 % 86400) SECOND AS published_at,
               (n * 7) % 1000 AS likes, {comments} AS comments, n % 10 AS shares, (n * 31) % 100000 AS views,
               'https://example.invalid/' || n AS permalink, d.day + INTERVAL 27 HOUR AS collected_at
        FROM ({days}) d, ({accounts_of}) a, range({max(1, posts // accounts)}) r(n)""")
    con.execute(f"""
        CREATE TEMP TABLE bench_comments AS
        SELECT p.platform, p.partition_date, p.account_id, p.post_id || '-c' || c AS comment_id, p.post_id,
               CASE WHEN c = 0 THEN NULL ELSE p.post_id || '-c0' END AS parent_id,
               'commenter' || (c * 17 % 200) AS author_username, 'comment ' || c AS text,
               p.published_at + INTERVAL (c * 60) SECOND AS published_at, c AS likes,
               CASE WHEN c = 0 THEN 0 ELSE 1 END AS depth, p.collected_at
        FROM bench_posts p, range({comments}) r(c)""")
    con.execute(f"""
        CREATE TEMP TABLE bench_profiles AS
        SELECT a.platform, d.day AS partition_date, a.account_id, a.account_id AS username,
               10000 + datediff('day', DATE '{first}', d.day) * 3 AS followers, 100 AS following,
               1000 AS posts_count, d.day + INTERVAL 27 HOUR AS collected_at
        FROM ({days}) d, ({accounts_of}) a""")
    generated = {"posts": "bench_posts", "comments": "bench_comments", "profiles": "bench_profiles"}
    if not through_writer:
        for resource, temp in generated.items():
            con.execute(f"INSERT INTO {NORMALIZED_TABLES[resource].qualified} BY NAME SELECT * FROM {temp}")
    else:
        for platform in PLATFORMS:
            for day in (first + timedelta(days=i) for i in range((last - first).days + 1)):
                writes = []
                for resource, temp in generated.items():
                    table = NORMALIZED_TABLES[resource]
                    rows = con.execute(f"SELECT * FROM {temp} WHERE platform = ? AND partition_date = ?", [platform, day]).df()
                    writes.append(PartitionWrite(table, rows.reindex(columns=table.column_names)))
                replace_partition(con, platform, day, writes)
    con.close()


def dbt_build(warehouse: Path, work: Path) -> dict:
    """One `dbt build` of the project, planned and recorded as the analytics step does it
    (incremental after a build of the same project); wall seconds and the CPU-seconds of dbt
    and its children."""
    with duckdb.connect(str(warehouse)) as con:
        build = plan_analytics_build(con)
    env = {**os.environ, "SOCIAL_WAREHOUSE": str(warehouse)}
    command = [dbt_executable(), "build", *build.dbt_args, "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work / "target"),
               "--log-path", str(work / "logs"), "--no-use-colors", "--quiet"]
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=DBT_PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"dbt build over {warehouse} failed:\n{output.decode(errors='replace')[-3000:]}")
    seconds = time.monotonic() - started
    with duckdb.connect(str(warehouse)) as con:
        record_analytics_build(con, build)
    return {"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime, "full_refresh": build.full_refresh}


def run(posts: int = 100, comments: int = 5, days: int = 365, accounts: int = 5) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        work = Path(tmp)
        # Both files are named warehouse.duckdb (dbt-duckdb names the catalog after the file).
        empty, year = work / "empty" / "warehouse.duckdb", work / "year" / "warehouse.duckdb"
        empty.parent.mkdir()
        year.parent.mkdir()
        fill(empty, NEW_DAY, NEW_DAY, posts, comments, accounts)
        fill(year, NEW_DAY - timedelta(days=days), NEW_DAY - timedelta(days=1), posts, comments, accounts)
        # dbt parses the project once (kept in the target path): neither build pays for it.
        subprocess.run([dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                        str(DBT_PROJECT_DIR), "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
                        "--quiet"], env={**os.environ, "SOCIAL_WAREHOUSE": str(empty)}, cwd=DBT_PROJECT_DIR, check=True)
        measured_empty = dbt_build(empty, work)
        history_build = dbt_build(year, work)  # the history as it stood before the new day (not measured)
        fill(year, NEW_DAY, NEW_DAY, posts, comments, accounts, through_writer=True)
        measured_history = dbt_build(year, work)
        assert measured_empty["full_refresh"] and history_build["full_refresh"] and not measured_history["full_refresh"]
        return {"days": days, "posts_per_day": posts * len(PLATFORMS), "comments_per_post": comments,
                "empty": measured_empty, "history": measured_history, "history_full_build": history_build}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100, help="posts a day per platform")
    parser.add_argument("--comments", type=int, default=5, help="comments per post")
    parser.add_argument("--days", type=int, default=365, help="days of history")
    args = parser.parse_args()
    r = run(args.posts, args.comments, args.days)
    for which in ("empty", "history"):
        print(f"{which:8} {r[which]['seconds']:6.1f} s wall  {r[which]['cpu_s']:6.1f} cpu-s")
    print(f"history / empty (cpu): {r['history']['cpu_s'] / r['empty']['cpu_s']:.2f}")
    print(f"(the year's full build: {r['history_full_build']['seconds']:.1f} s wall, {r['history_full_build']['cpu_s']:.1f} cpu-s)")


if __name__ == "__main__":
    main()
