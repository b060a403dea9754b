"""Peak memory of normalizing one platform-day: the real normalized/comments step (Dagster
materialize, project resources) over a DuckDB file holding N Reddit comments landed in raw.comments,
in a fresh process whose peak RSS (ru_maxrss) is read when it ends. The goal of issue #11:
the peak at 1M comments at most 1.5 x the peak at 10k, i.e. memory that does not grow with the day.

    .venv/bin/python benchmarks/normalize_memory.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.home import home_env  # noqa: E402

DAY = date(2026, 11, 19)
# Landed in chunks of this many pages, each as a source of its own (the way a scoped collection
# replaces one source's rows), so landing a big day does not need the whole day in memory.
PAGES_PER_SOURCE = 200


def land(comments: int) -> None:
    """Write raw.comments for the day as the collect step does (landed_row, replace_partition)."""
    import duckdb

    from benchmarks.normalize_throughput import landed_frame
    from benchmarks.pages import KINDS, pages
    from social_assets.settings import warehouse_path
    from social_assets.warehouse.tables import RAW_TABLES, PartitionWrite, ensure_schema, replace_partition

    kind = KINDS[("reddit", "comments")]
    con = duckdb.connect(str(warehouse_path()))
    ensure_schema(con)
    chunk: list[str] = []
    seq = 0

    def write(chunk: list[str], seq: int) -> None:
        frame = landed_frame(kind, chunk)
        frame["seq"] += seq
        account = f"bench{seq // PAGES_PER_SOURCE}"
        frame["account_id"] = account
        replace_partition(con, "reddit", DAY, [PartitionWrite(RAW_TABLES["comments"], frame)], only_accounts={account})

    for body in pages(kind, comments):
        chunk.append(body)
        if len(chunk) == PAGES_PER_SOURCE:
            write(chunk, seq)
            seq += len(chunk)
            chunk = []
    if chunk:
        write(chunk, seq)
    con.close()


def normalize() -> None:
    """The normalized/comments step for the day, as a run materializes it."""
    from dagster import DagsterInstance, materialize

    from social_assets.defs.normalized import NORMALIZED_ASSETS
    from social_assets.defs.partitions import platform_day_key
    from social_assets.defs.resources import build_resources

    comments = next(a for a in NORMALIZED_ASSETS if a.key.path == ["normalized", "comments"])
    result = materialize([comments], instance=DagsterInstance.ephemeral(), resources=build_resources(),
                         partition_key=str(platform_day_key("reddit", DAY)),
                         run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    if not result.success:
        raise SystemExit("normalized/comments failed")


def measure(comments: int) -> dict:
    """Peak RSS (MiB) of the normalize step over `comments` landed comments, in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        env = home_env(Path(tmp))
        subprocess.run([sys.executable, __file__, "land", str(comments)], env=env, check=True)
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, __file__, "normalize"], env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"normalizing {comments} comments failed (exit {child.returncode})")
        rows = _normalized_rows(Path(env["SOCIAL_WAREHOUSE"]))
        if rows != comments:
            raise SystemExit(f"normalizing {comments} comments stored {rows} rows: the benchmark measured something else")
        return {"comments": comments, "peak_mib": usage.ru_maxrss / 1024, "seconds": time.monotonic() - started,
                "cpu_s": usage.ru_utime + usage.ru_stime}


def _normalized_rows(warehouse: Path) -> int:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM normalized.comments").fetchone()[0]


def run(sizes: list[int]) -> list[dict]:
    return [measure(n) for n in sizes]


def extrapolate(small: dict, large: dict, to: int) -> float:
    """The peak at `to` comments on the line through two measured peaks."""
    slope = (large["peak_mib"] - small["peak_mib"]) / (large["comments"] - small["comments"])
    return small["peak_mib"] + slope * (to - small["comments"])


def main() -> None:
    if sys.argv[1:2] == ["land"]:
        return land(int(sys.argv[2]))
    if sys.argv[1:2] == ["normalize"]:
        return normalize()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    for r in run(parser.parse_args().sizes):
        print(f"{r['comments']:>9} comments: peak RSS {r['peak_mib']:7.0f} MiB, {r['seconds']:.1f} s ({r['cpu_s']:.1f} cpu-s)")


if __name__ == "__main__":
    main()
