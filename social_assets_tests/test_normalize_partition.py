"""`normalize_partition` streams a platform-day in batches through DuckDB (issue #11): the rows
do not depend on the batch size, the comment depths computed in SQL are those of the parent
chain (as the Python recursion they replace gave them), and a bad item fails only itself."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from social_assets.core.http import LandedResponse
from social_assets.defs.normalized import NORMALIZED_ASSETS
from social_assets.defs.partitions import platform_day_key
from social_assets.defs.resources import build_resources
from social_assets.normalization import _recompute_depths, bounded_memory, normalize_partition
from social_assets.platforms.base import DayWindow
from social_assets.warehouse.tables import RAW_TABLES, PartitionWrite, ensure_schema, landed_row, replace_partition
from social_assets_tests.pipeline import memory_instance

DAY = date(2026, 11, 19)
WINDOW = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))
NOON = datetime(2026, 11, 19, 12, tzinfo=timezone.utc).timestamp()


def t1(comment_id: str, parent: str, score: int, depth: int = 0, body: str = "text", author: str = "someone",
       created: float | str = NOON, post: str = "p1") -> dict:
    return {"kind": "t1", "data": {"id": comment_id, "name": f"t1_{comment_id}", "body": body, "author": author,
                                   "created_utc": created, "score": score, "parent_id": parent,
                                   "link_id": f"t3_{post}", "depth": depth}}


def t3(post_id: str, score: int, created: float = NOON) -> dict:
    return {"kind": "t3", "data": {"id": post_id, "name": f"t3_{post_id}", "title": f"title {post_id}",
                                   "author": "op", "created_utc": created, "score": score, "num_comments": 1,
                                   "permalink": f"/r/x/comments/{post_id}/", "is_self": True}}


def listing(*things: dict) -> str:
    return json.dumps({"kind": "Listing", "data": {"children": list(things)}})


COMMENT_BODIES = [
    listing(t1("a", "t3_p1", 1), t1("b", "t1_a", 2, depth=1), t1("c", "t1_b", 3, depth=2)),
    # A "continue this thread" page: depths counted from its first comment, which answers c.
    listing(t1("d", "t1_c", 4, depth=0), t1("e", "t1_d", 5, depth=1)),
    "<html>not json</html>",  # the whole response is a dead letter
    # A reply whose parent was never collected keeps its own depth; a bad timestamp fails only its item.
    listing(t1("f", "t1_missing", 6, depth=4), t1("bad", "t3_p1", 7, created="yesterday"), t1("g", "t1_f", 8)),
    # Observed again later: the latest observation wins (a's score 10, not 1).
    listing(t1("a", "t3_p1", 10), t1("h", "t3_p1", 11, body="[deleted]", author="[deleted]")),
    listing(t1("i", "t3_p2", 12, post="p2"), t1("a", "t3_p2", 13, post="p2")),  # the same id under another post
]
POST_BODIES = [
    listing(t3("p1", 1), t3("p2", 2)),
    listing(t3("old", 3, created=NOON - 86400)),  # published the day before: not this day's post
    listing(t3("p1", 9)),  # observed again: latest wins
]


def land(con: duckdb.DuckDBPyConnection, resource: str, bodies: list[str], platform: str = "reddit") -> None:
    fetched = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
    rows = [
        landed_row(LandedResponse(platform, resource, True, "GET", "https://api.invalid/x", {"page": str(seq)}, 200,
                                  fetched + timedelta(minutes=seq), body),
                   {"platform": platform, "partition_date": DAY}, "r/x", seq)
        for seq, body in enumerate(bodies)
    ]
    replace_partition(con, platform, DAY, [PartitionWrite(RAW_TABLES[resource], pd.DataFrame(rows))])


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schema(connection)
    land(connection, "comments", COMMENT_BODIES)
    land(connection, "posts", POST_BODIES)
    yield connection
    connection.close()


def without_times(letters: list[dict]) -> list[dict]:
    return [{k: v for k, v in letter.items() if not k.endswith("failed_at")} for letter in letters]


def normalized(con, resource: str, batch: int):
    result = normalize_partition("reddit", resource, DAY, WINDOW, con, batch_responses=batch)
    return result, result.rows.df()


@pytest.mark.parametrize("resource", ["comments", "posts"])
def test_small_batches_make_the_same_rows_as_one_batch(con, resource):
    whole, rows = normalized(con, resource, batch=1000)
    for batch in (1, 2, 4):
        part, part_rows = normalized(con, resource, batch)
        pd.testing.assert_frame_equal(part_rows, rows)
        assert without_times(part.dead_letters) == without_times(whole.dead_letters)
        assert (part.items_seen, part.gone) == (whole.items_seen, whole.gone)


def test_comments_of_the_day_in_batches(con):
    result, rows = normalized(con, "comments", batch=2)
    by_key = {(r.post_id, r.comment_id): r for r in rows.itertuples()}
    # Latest observation, landing order of the last observations, deleted comment left out.
    assert list(by_key) == [("p1", "b"), ("p1", "c"), ("p1", "d"), ("p1", "e"), ("p1", "f"), ("p1", "g"),
                            ("p1", "a"), ("p2", "i"), ("p2", "a")]
    assert by_key[("p1", "a")].likes == 10 and by_key[("p2", "a")].likes == 13
    assert {key: r.depth for key, r in by_key.items()} == {
        ("p1", "a"): 0, ("p1", "b"): 1, ("p1", "c"): 2, ("p1", "d"): 3, ("p1", "e"): 4,
        ("p1", "f"): 4, ("p1", "g"): 5, ("p2", "i"): 0, ("p2", "a"): 0,
    }
    assert [(g.item_id, g.reason) for g in result.gone] == [("h", "[deleted] on Reddit")]
    # The bad item fails alone; its neighbours f and g are rows. The HTML page is one letter.
    assert [(letter["item_id"], letter["reason"][:40]) for letter in result.dead_letters] == [
        (None, "response rejected: body is not JSON (Exp"), ("t1_bad", "t1 field 'created_utc': Value error, epo"),
    ]
    assert result.items_seen == 10 + 2 + 1  # records (a twice under p1), letters, gone
    assert set(rows.platform) == {"reddit"} and set(rows.partition_date) == {pd.Timestamp(DAY)}
    # When the observation kept was fetched: a's latest is the fifth page, fetched at 03:04.
    assert (by_key[("p1", "b")].collected_at, by_key[("p1", "a")].collected_at) == (
        pd.Timestamp(2026, 11, 20, 3, 0), pd.Timestamp(2026, 11, 20, 3, 4))


def test_posts_of_the_day_keep_their_latest_observation(con):
    _, rows = normalized(con, "posts", batch=1)
    assert list(zip(rows.post_id, rows.likes)) == [("p2", 2), ("p1", 9)]


# -- depths ----------------------------------------------------------------------------------


def python_depths(comments: list[tuple[str, str, str | None, int]]) -> dict[tuple[str, str], int]:
    """The recursion normalization used before the depths moved to SQL, as it was."""
    keys = [(post, comment) for post, comment, _, _ in comments]
    parent_of = {(post, comment): parent for post, comment, parent, _ in comments}
    given = {(post, comment): depth for post, comment, _, depth in comments}
    depths: dict[tuple[str, str], int] = {}

    def resolve(key):
        path = []
        while key not in depths:
            parent = parent_of[key]
            parent_key = (key[0], parent)
            if parent is None:
                depths[key] = 0
            elif parent_key not in parent_of or parent_key in path:
                depths[key] = int(given[key])
            else:
                path.append(key)
                key = parent_key
        for steps, child in enumerate(reversed(path), start=1):
            depths[child] = depths[key] + steps
        return depths[path[0]] if path else depths[key]

    return {key: resolve(key) for key in keys}


TRICKY_TREE = [
    # post, comment, parent, depth as the response gave it (landing order)
    ("p1", "c4", "c3", 1),  # a reply listed before its parents
    ("p1", "c1", None, 0),
    ("p1", "c2", "c1", 1),
    ("p1", "c3", "c2", 0),  # continue-thread renumbering: 0 in its page, 2 in the tree
    ("p1", "c5", "gone", 4),  # parent not collected: its own depth stands
    ("p1", "c6", "c5", 0),
    ("p1", "c7", "c8", 2),  # a cycle c7 -> c8 -> c7, and c9 hanging off it
    ("p1", "c9", "c7", 0),
    ("p1", "c8", "c7", 5),
    ("p1", "c10", "c10", 3),  # its own parent
    ("p2", "c1", "c2", 6),  # same ids under another post: parents are looked up within the post
    ("p2", "c11", None, 9),  # a top-level comment is at 0 whatever it says
]


@pytest.mark.parametrize("order", ["as landed", "reversed"])
def test_sql_depths_equal_the_python_recursion(order):
    tree = TRICKY_TREE if order == "as landed" else TRICKY_TREE[::-1]
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE comments (post_id VARCHAR, comment_id VARCHAR, parent_id VARCHAR, "
                "depth INTEGER, ord BIGINT)")
    con.executemany("INSERT INTO comments VALUES (?, ?, ?, ?, ?)", [[*row, n] for n, row in enumerate(tree)])
    _recompute_depths(con, "comments")
    got = {(post, comment): depth for post, comment, depth in
           con.execute("SELECT post_id, comment_id, depth FROM comments").fetchall()}
    expected = python_depths(tree)
    assert got == expected
    assert (got[("p1", "c3")], got[("p1", "c4")], got[("p1", "c6")], got[("p2", "c1")]) == (2, 3, 5, 6)


def test_the_memory_cap_holds_for_the_block_and_can_be_lifted():
    con = duckdb.connect()
    limit = lambda: con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # noqa: E731
    before = limit()  # DuckDB's default
    with bounded_memory(con, "64MB") as lift:
        assert limit() == "61.0 MiB"
        lift()
        assert limit() == before
    assert limit() == before
    con.execute("SET memory_limit = '32MB'")
    with bounded_memory(con, "64MB"):
        assert limit() == "30.5 MiB"  # lower already: kept
    assert limit() == "30.5 MiB"


def test_bodies_stored_compressed_are_normalized_without_the_cap(pipeline_env):
    """A warehouse made before raw bodies were stored uncompressed holds them ZSTD-compressed,
    and reading one decompresses up to 2,048 at once: more than the cap for a big day. The
    step then normalizes again without the cap, and the day is stored whole."""
    con = duckdb.connect(str(pipeline_env))
    ensure_schema(con)
    con.execute("DROP TABLE raw.comments")
    con.execute(RAW_TABLES["comments"].ddl().replace(" USING COMPRESSION uncompressed", ""))
    text = "a long comment " * 70  # 1 KB: 700 pages of 100 comments are about 75 MB of bodies
    land(con, "comments", [listing(*(t1(f"c{page}x{n}", "t3_p1", n, body=text) for n in range(100)))
                           for page in range(700)])
    con.close()  # checkpointed: the bodies are compressed now
    with duckdb.connect(str(pipeline_env), read_only=True) as con:
        compressions = {c for (c,) in con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('raw.comments') WHERE column_name = 'body'").fetchall()}
    assert "ZSTD" in compressions

    comments = next(a for a in NORMALIZED_ASSETS if a.key.path == ["normalized", "comments"])
    with memory_instance() as instance:
        result = materialize([comments], instance=instance, resources=build_resources(),
                             partition_key=str(platform_day_key("reddit", DAY)))
        assert result.success
        warnings = [e.user_message for e in instance.all_logs(result.run_id) if "without the cap" in e.user_message]
    assert len(warnings) == 1 and "Out of Memory" in warnings[0]
    with duckdb.connect(str(pipeline_env), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT comment_id) FROM normalized.comments").fetchone() == (
            70_000, 70_000)
