"""Normalization throughput: items per CPU-second of the pipeline's normalization of a
platform-day (social_assets.normalization.normalize_partition, the code of the normalized/*
assets, then one DuckDB insert of its rows), beside a floor measured in the same process on
the same pages: orjson parse -> column lists of the same fields -> a DataFrame -> one DuckDB
insert. The floor is what any normalizer must spend; the goal is >= 0.7 x the floor.

    .venv/bin/python benchmarks/normalize_throughput.py [--items 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402
import orjson  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.pages import KINDS, WHOLE_TIME, Kind, pages  # noqa: E402
from social_assets.core.http import LandedResponse  # noqa: E402
from social_assets.normalization import normalize_partition  # noqa: E402
from social_assets.platforms.base import DayWindow  # noqa: E402
from social_assets.warehouse.tables import (  # noqa: E402
    NORMALIZED_TABLES,
    RAW_TABLES,
    PartitionWrite,
    ensure_schema,
    landed_row,
    replace_partition,
)

DAY = date(2026, 11, 19)
FETCHED_AT = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)


def landed_frame(kind: Kind, bodies: list[str]) -> pd.DataFrame:
    """The rows of raw.<resource> the collect step would have landed for these bodies."""
    partition = {"platform": kind.platform, "partition_date": DAY}
    rows = [
        landed_row(
            LandedResponse(kind.platform, kind.resource, True, "GET", "https://bench.invalid/page", {"page": str(seq)},
                           200, FETCHED_AT, body),
            partition, "bench", seq,
        )
        for seq, body in enumerate(bodies)
    ]
    return pd.DataFrame(rows, columns=RAW_TABLES[kind.resource].column_names)


def land(kind: Kind, landed: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> None:
    """raw.<resource> holding the landed day (the collect step's work: not timed)."""
    replace_partition(con, kind.platform, DAY, [PartitionWrite(RAW_TABLES[kind.resource], landed)])


def pipeline(kind: Kind, con: duckdb.DuckDBPyConnection) -> int:
    """What normalized/<resource> does with a landed day, less the privacy options and the
    purge bookkeeping: normalize (reading raw.<resource> in batches), then insert the rows."""
    result = normalize_partition(kind.platform, kind.resource, DAY, DayWindow(*WHOLE_TIME), con)
    table = NORMALIZED_TABLES[kind.resource]
    con.register("incoming_rows", result.rows)
    columns = ", ".join(table.column_names)
    con.execute(f"INSERT INTO {table.qualified} ({columns}) SELECT {columns} FROM incoming_rows")
    con.unregister("incoming_rows")
    return len(result.rows)


# -- the floor: the same fields, read with no validation -------------------------------------


def _epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def _reddit_post_row(thing: dict) -> tuple:
    d = thing["data"]
    return (d["id"], d.get("author_fullname"), d.get("author"), d.get("selftext") or d["title"],
            "text" if d.get("is_self") else "link", [d["url"]] if d.get("url") else [], _epoch(d["created_utc"]),
            d.get("score"), d.get("num_comments"), "https://www.reddit.com" + d["permalink"])


def _reddit_comment_rows(thing: dict) -> list[tuple]:
    d = thing["data"]
    parent = d["parent_id"]
    return [(d["id"], d["link_id"][3:], parent[3:] if parent.startswith("t1_") else None, d.get("author"),
             d["body"], _epoch(d["created_utc"]), d.get("score"), d.get("depth") or 0)]


def _youtube_comment_rows(thread: dict) -> list[tuple]:
    top = thread["snippet"]["topLevelComment"]
    video = thread["snippet"]["videoId"]

    def row(comment: dict, parent: str | None, depth: int) -> tuple:
        s = comment["snippet"]
        return (comment["id"], video, parent, s.get("authorDisplayName"), s.get("textOriginal") or s.get("textDisplay"),
                _iso(s["publishedAt"]), s.get("likeCount"), depth)

    return [row(top, None, 0)] + [row(r, top["id"], 1) for r in thread.get("replies", {}).get("comments", [])]


_POST_FIELDS = ["post_id", "author_id", "author_username", "text", "content_type", "media_urls", "published_at",
                "likes", "comments", "permalink"]
_COMMENT_FIELDS = ["comment_id", "post_id", "parent_id", "author_username", "text", "published_at", "likes", "depth"]
FLOOR: dict[tuple[str, str], tuple[list[str], Callable[[dict], list], Callable[[dict], list[tuple]]]] = {
    ("reddit", "posts"): (_POST_FIELDS, lambda b: b["data"]["children"], lambda t: [_reddit_post_row(t)]),
    ("reddit", "comments"): (_COMMENT_FIELDS, lambda b: b["data"]["children"], _reddit_comment_rows),
    ("youtube", "comments"): (_COMMENT_FIELDS, lambda b: b["items"], _youtube_comment_rows),
}


def floor(kind: Kind, bodies: list[str], con: duckdb.DuckDBPyConnection) -> int:
    fields, items, rows_of = FLOOR[(kind.platform, kind.resource)]
    columns: list[list] = [[] for _ in fields]
    for body in bodies:
        for item in items(orjson.loads(body)):
            for row in rows_of(item):
                for column, value in zip(columns, row):
                    column.append(value)
    frame = pd.DataFrame(dict(zip(fields, columns)))
    con.register("floor_rows", frame)
    con.execute(f"CREATE TABLE IF NOT EXISTS floor_{kind.resource} AS SELECT * FROM floor_rows LIMIT 0")
    con.execute(f"INSERT INTO floor_{kind.resource} SELECT * FROM floor_rows")
    con.unregister("floor_rows")
    return len(frame)


def _cpu(run: Callable[[], int]) -> tuple[int, float]:
    started = time.process_time()
    items = run()
    return items, time.process_time() - started


def measure(kind: Kind, items: int, rounds: int) -> dict:
    """Best of `rounds` for each side, alternating, each on a fresh in-memory database."""
    bodies = list(pages(kind, items))
    landed = landed_frame(kind, bodies)
    best = {"pipeline": float("inf"), "floor": float("inf")}
    counts = {}
    for _ in range(rounds):
        for side in ("pipeline", "floor"):
            con = duckdb.connect()
            ensure_schema(con)
            if side == "pipeline":
                land(kind, landed, con)
            run = (lambda: pipeline(kind, con)) if side == "pipeline" else (lambda: floor(kind, bodies, con))
            counts[side], seconds = _cpu(run)
            best[side] = min(best[side], seconds)
            con.close()
    if counts["pipeline"] != counts["floor"]:
        raise SystemExit(f"{kind.platform} {kind.resource}: the pipeline made {counts['pipeline']} rows, "
                         f"the floor {counts['floor']}: they do not read the same items")
    return {
        "platform": kind.platform,
        "resource": kind.resource,
        "items": counts["pipeline"],
        "pipeline_per_cpu_s": counts["pipeline"] / best["pipeline"],
        "floor_per_cpu_s": counts["floor"] / best["floor"],
    }


def run(items: int = 20_000, rounds: int = 3) -> list[dict]:
    return [measure(kind, items, rounds) for kind in KINDS.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for r in run(args.items, args.rounds):
        print(f"{r['platform']:8} {r['resource']:9} {r['items']:>8} items  pipeline {r['pipeline_per_cpu_s']:>9,.0f}/cpu-s"
              f"  floor {r['floor_per_cpu_s']:>9,.0f}/cpu-s  ratio {r['pipeline_per_cpu_s'] / r['floor_per_cpu_s']:.2f}")


if __name__ == "__main__":
    main()
