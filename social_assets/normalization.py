"""Turning landed responses into normalized rows: the code behind both the
`social-assets normalize` command and the `normalized/*` assets.

A platform-day can hold a million comments, so the pipeline never holds it in Python at once
(issue #11): `normalize_partition` reads the landed responses a batch at a time, normalizes
each batch into columns and stages them in a DuckDB temporary table; the latest observation of
each item, the posts' day window, the removal of gone items and the comment depths are then
computed in SQL. DuckDB spills what does not fit its memory limit (`bounded_memory`) to disk.
"""

from __future__ import annotations

import json
import operator
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import duckdb
import orjson
import pandas as pd

from social_assets.core.records import (
    ITEM_ERRORS,
    RECORD_TYPES,
    Gone,
    NotAResponse,
    Normalized,
    Rejected,
    Resource,
    reason_of,
)
from social_assets.core.timeutil import utc_now
from social_assets.dead_letters import item_letters
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import DayWindow
from social_assets.warehouse.tables import FOLLOWER_HISTORY, NORMALIZED_TABLES, RAW_TABLES

# Landed responses normalized at a time. Each one's items are turned into columns before the
# next is parsed, so a batch holds its bodies' text and their rows, not their parsed JSON.
BATCH_RESPONSES = 50
# What DuckDB may keep in memory while a partition is normalized and written: the staged rows
# beyond it spill to its temporary directory. Without a cap DuckDB would keep them all (and the
# raw blocks it read) in memory, up to 80% of the machine's.
MEMORY_LIMIT = "64MB"


def normalize_body(
    platform: str, resource: Resource, body: Any, context: Mapping[str, str] | None = None
) -> Normalized:
    """Normalize one parsed response body. `context` carries what the collector knew that the
    body omits (see `LandedResponse.context`). Raises `NotAResponse` (or its `ApiErrorBody`)
    when the body is not a response of `resource`, `KeyError` for an unknown platform.

    The normalizers reject a bad item on its own; should bad data still break the handling of
    the body as a whole, the body is not a response we can use: `NotAResponse`, never a crash
    (in the pipeline the response becomes one dead letter and the rest of the day goes on)."""
    normalizer = PLATFORMS[platform].normalizers[resource]
    try:
        return normalizer(body, **(context or {}))
    except NotAResponse:
        raise
    except ITEM_ERRORS as exc:
        raise NotAResponse(f"the body could not be read: {reason_of(exc)}") from exc


def decode_body(data: bytes) -> str:
    """Response bytes as text. Invalid UTF-8 becomes U+FFFD, as when the pipeline reads an
    HTTP body (httpx decodes with replacement), so the command and the pipeline agree."""
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def parse_body(text: str) -> Any:
    """The JSON of a body. orjson reads it about twice as fast; what orjson refuses (a lone
    surrogate escape, NaN, an integer beyond 64 bits, deep nesting) is read by `json`, which
    accepts the first three (the records repair or reject them per item) and words the error."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAResponse(f"body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise NotAResponse("body is not JSON we can read: it is nested too deeply") from None


@dataclass
class PartitionRows:
    # The partition's normalized rows (the columns of its normalized table, in landing order),
    # in a temporary table of the connection that normalized them: `table` names it.
    rows: duckdb.DuckDBPyRelation
    table: str
    dead_letters: list[dict[str, Any]]  # items (or whole responses) that did not normalize
    items_seen: int
    # profiles only: past follower counts (records with `observed_at`), for normalized.follower_history
    history: pd.DataFrame | None = None
    gone: list[Gone] = field(default_factory=list)  # items the bodies say are deleted or removed


class _Landed(NamedTuple):
    """The columns of a raw.* row that normalizing (and a dead letter) needs."""

    seq: int
    account_id: str
    method: str
    endpoint: str
    params: str
    context: str
    fetched_at: datetime
    body: str


# The rows a batch reads: responses to normalize, in landing order (ties of `seq`, possible
# when sources were collected in separate runs, in account order).
_LANDED_WHERE = "platform = ? AND partition_date = ? AND normalize AND status BETWEEN 200 AND 299"


def landed_batches(
    con: duckdb.DuckDBPyConnection, platform: str, resource: Resource, day: date, batch_responses: int
) -> Iterator[list[_Landed]]:
    """The partition's landed responses to normalize, `batch_responses` at a time, in `seq` order."""
    raw = RAW_TABLES[resource].qualified
    seqs = [s for (s,) in con.execute(
        f"SELECT DISTINCT seq FROM {raw} WHERE {_LANDED_WHERE} ORDER BY seq", [platform, day]
    ).fetchall()]
    columns = ", ".join(_Landed._fields)
    for start in range(0, len(seqs), batch_responses):
        chunk = seqs[start:start + batch_responses]
        rows = con.execute(
            f"SELECT {columns} FROM {raw} WHERE {_LANDED_WHERE} AND seq BETWEEN ? AND ? ORDER BY seq, account_id",
            [platform, day, chunk[0], chunk[-1]],
        ).fetchall()
        yield [_Landed(*row) for row in rows]


class _Columns:
    """A batch of records as columns (one per field of the table), with the source account, the
    collection time and the landing order `ord` (the latest observation has the highest)."""

    def __init__(self, names: list[str], first_ord: int):
        self.names = names
        self.values_of = operator.itemgetter(*names)  # a record's values, in `names` order
        self.rows: list[tuple] = []
        self.accounts: list[str] = []
        self.collected: list[datetime] = []
        self.first_ord = first_ord

    def add(self, values: dict[str, Any], account_id: str, collected_at: datetime) -> None:
        self.rows.append(self.values_of(values))
        self.accounts.append(account_id)
        self.collected.append(collected_at)

    @property
    def next_ord(self) -> int:
        return self.first_ord + len(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self, kinds: Mapping[str, str]) -> pd.DataFrame:
        """The columns as a DataFrame DuckDB reads without guessing: integers nullable Int64
        (an int column with a None would turn float64 and round counts beyond 2**53),
        timestamps naive UTC."""
        data: dict[str, Any] = {}
        for name, values in zip(self.names, zip(*self.rows)):
            kind = kinds[name]
            if kind in ("BIGINT", "INTEGER"):
                data[name] = pd.array(values, dtype="Int64")
            elif kind == "DOUBLE":
                data[name] = pd.array(values, dtype="Float64")
            elif kind == "TIMESTAMP":
                data[name] = pd.to_datetime(values, utc=True).tz_localize(None)  # the records': zoned
            else:
                data[name] = list(values)
        data["account_id"] = self.accounts
        data["collected_at"] = pd.array(self.collected, dtype="datetime64[us]")  # raw.* fetched_at: naive UTC
        data["ord"] = pd.array(range(self.first_ord, self.next_ord), dtype="Int64")
        return pd.DataFrame(data)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def normalize_partition(
    platform: str,
    resource: Resource,
    day: date,
    window: DayWindow,
    con: duckdb.DuckDBPyConnection,
    *,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    batch_responses: int = BATCH_RESPONSES,
) -> PartitionRows:
    """Normalize the landed responses of one platform-day (the partition's rows of raw.<resource>
    on `con`) into a temporary table of `con`, a batch of `batch_responses` responses at a time.
    `prepare` is applied to each batch's rows before they are staged (the privacy options); it
    must work row by row.

    Posts are kept when published inside the day; each item keeps its latest observation;
    comment depths are recomputed from the parent chain so every response style agrees.
    """
    table = NORMALIZED_TABLES[resource]
    kinds = {name: kind.split()[0] for name, kind in table.columns}
    # A row's account_id is the source it was collected for (a profile's record names it too).
    fields = [
        name for name in RECORD_TYPES[resource].model_fields if name in kinds and name not in ("platform", "account_id")
    ]
    staged = _temp_name(f"staged_{resource}")
    con.execute(f"CREATE TEMP TABLE {staged} ({', '.join(f'{n} {kinds[n]}' for n in fields)}, "
                "account_id VARCHAR, collected_at TIMESTAMP, ord BIGINT)")
    letters: list[dict[str, Any]] = []
    gone: list[Gone] = []
    history: list[dict[str, Any]] = []
    record_count = 0
    failed_at = utc_now()
    for batch in landed_batches(con, platform, resource, day, batch_responses):
        columns = _Columns(fields, record_count)
        for row in batch:
            try:
                result = normalize_body(platform, resource, parse_body(row.body), json.loads(row.context))
            except NotAResponse as exc:
                whole = Rejected(item_id=None, reason=f"response rejected: {exc}", payload=row.body)
                letters += item_letters(platform, day, resource, row, [whole], failed_at)
                continue
            for record in result.records:
                values = record.__dict__
                if values.get("observed_at") is not None:
                    history.append({**values, "account_id": row.account_id, "collected_at": row.fetched_at})
                else:
                    columns.add(values, row.account_id, row.fetched_at)
            letters += item_letters(platform, day, resource, row, result.rejected, failed_at)
            gone += result.gone
        record_count = columns.next_ord
        if len(columns):
            frame = columns.frame(kinds)
            if prepare is not None:
                frame = prepare(frame)
            _insert(con, staged, frame)

    latest = _latest_observations(con, staged, resource, window, {g.item_id for g in gone if g.resource == resource})
    if resource == "comments":
        _recompute_depths(con, latest)
    final = _temp_name(f"normalized_{resource}")
    select = ", ".join(
        "?::VARCHAR AS platform" if name == "platform" else "?::DATE AS partition_date" if name == "partition_date"
        else "NULL::TIMESTAMP AS deleted_at" if name == "deleted_at" else name
        for name in table.column_names
    )
    con.execute(f"CREATE TEMP TABLE {final} AS SELECT {select} FROM {latest} ORDER BY ord", [platform, day])
    con.execute(f"DROP TABLE {latest}")
    return PartitionRows(
        rows=con.table(final),
        table=final,
        dead_letters=letters,
        items_seen=record_count + len(letters) + len(history) + len(gone),
        history=_follower_history(history, platform, day) if resource == "profiles" else None,
        gone=gone,
    )


def _temp_name(stem: str) -> str:
    return f"{stem}_{uuid.uuid4().hex[:12]}"


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    name = _temp_name("batch")
    con.register(name, frame)
    try:
        columns = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {name}")
    finally:
        con.unregister(name)


_ID_COLUMN = {"posts": "post_id", "comments": "comment_id"}
_KEYS = {"posts": ["account_id", "post_id"], "comments": ["post_id", "comment_id"], "profiles": ["account_id"]}


def _latest_observations(
    con: duckdb.DuckDBPyConnection, staged: str, resource: str, window: DayWindow, gone: set[str]
) -> str:
    """A temporary table of the staged rows kept: posts published inside the day, the latest
    observation of each item, none of an item gone in any response of the day (see
    privacy/deletions.py). `staged` is dropped."""
    conditions, params = ["true"], []
    if resource == "posts":
        conditions.append("published_at >= ? AND published_at < ?")
        params += [_naive_utc(window.start), _naive_utc(window.end)]
    gone_table = None
    if gone and resource in _ID_COLUMN:
        gone_table = _temp_name("gone")
        con.execute(f"CREATE TEMP TABLE {gone_table} (item_id VARCHAR)")
        con.executemany(f"INSERT INTO {gone_table} VALUES (?)", [[item] for item in sorted(gone)])
        conditions.append(f"{_ID_COLUMN[resource]} NOT IN (SELECT item_id FROM {gone_table})")
    latest = _temp_name(f"latest_{resource}")
    con.execute(
        f"CREATE TEMP TABLE {latest} AS SELECT * FROM {staged} WHERE {' AND '.join(conditions)} "
        f"QUALIFY row_number() OVER (PARTITION BY {', '.join(_KEYS[resource])} ORDER BY ord DESC) = 1",
        params,
    )
    con.execute(f"DROP TABLE {staged}")
    if gone_table:
        con.execute(f"DROP TABLE {gone_table}")
    return latest


def _recompute_depths(con: duckdb.DuckDBPyConnection, comments: str) -> None:
    """Depth from the parent chain: some responses (Reddit "continue this thread") number
    depths from the comment they start at rather than from the post. Where a parent was not
    collected, the response's own depth stands.

    In SQL, from the top: a comment without a parent is at 0, one whose parent was not collected
    keeps its depth, and a reply is one below its parent. Comments that no chain from the top
    reaches hang on a cycle of parents (bad data, and few): `_depths_off_the_roots` walks those."""
    depths = _temp_name("depths")
    con.execute(f"""
        CREATE TEMP TABLE {depths} AS
        WITH RECURSIVE tree AS (
            SELECT c.post_id, c.comment_id, CASE WHEN c.parent_id IS NULL THEN 0 ELSE c.depth END AS depth
            FROM {comments} c
            WHERE c.parent_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM {comments} p WHERE p.post_id = c.post_id AND p.comment_id = c.parent_id)
            UNION ALL
            SELECT c.post_id, c.comment_id, tree.depth + 1
            FROM tree JOIN {comments} c ON c.post_id = tree.post_id AND c.parent_id = tree.comment_id
        )
        SELECT post_id, comment_id, depth FROM tree
    """)
    unreached = con.execute(
        f"SELECT c.post_id, c.comment_id, c.parent_id, c.depth FROM {comments} c "
        f"ANTI JOIN {depths} d ON d.post_id = c.post_id AND d.comment_id = c.comment_id ORDER BY c.ord"
    ).fetchall()
    if unreached:
        con.executemany(f"INSERT INTO {depths} VALUES (?, ?, ?)",
                        [[*key, depth] for key, depth in _depths_off_the_roots(unreached).items()])
    con.execute(
        f"UPDATE {comments} c SET depth = d.depth FROM {depths} d "
        "WHERE d.post_id = c.post_id AND d.comment_id = c.comment_id AND d.depth IS DISTINCT FROM c.depth"
    )
    con.execute(f"DROP TABLE {depths}")


def _depths_off_the_roots(comments: list[tuple[str, str, str, int]]) -> dict[tuple[str, str], int]:
    """Depths of comments (post_id, comment_id, parent_id, depth, in landing order) whose
    parents all were collected but whose chain never reaches the top: it runs into a cycle.
    Each is walked up until a comment repeats; there its own depth stands."""
    parent_of = {(post, comment): parent for post, comment, parent, _ in comments}
    given = {(post, comment): depth for post, comment, _, depth in comments}
    depths: dict[tuple[str, str], int] = {}

    def resolve(key: tuple[str, str]) -> None:
        path: list[tuple[str, str]] = []
        while key not in depths:
            parent_key = (key[0], parent_of[key])
            if parent_key not in parent_of or parent_key in path:
                depths[key] = given[key]
            else:
                path.append(key)
                key = parent_key
        for steps, child in enumerate(reversed(path), start=1):
            depths[child] = depths[key] + steps

    for post, comment, _, _ in comments:
        resolve((post, comment))
    return depths


def _follower_history(records: list[dict[str, Any]], platform: str, day: date) -> pd.DataFrame:
    """Derived past follower counts: one per account and moment, the latest derivation kept."""
    frame = pd.DataFrame(records, columns=[*FOLLOWER_HISTORY.column_names])
    for column in ("observed_at", "collected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    frame["followers"] = pd.array(frame["followers"].tolist(), dtype="Int64")
    frame = frame.drop_duplicates(subset=["account_id", "observed_at"], keep="last").reset_index(drop=True)
    return frame.assign(platform=platform, partition_date=day)[FOLLOWER_HISTORY.column_names]


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection, limit: str = MEMORY_LIMIT) -> Iterator[Callable[[], None]]:
    """DuckDB's memory capped at `limit` (if it was higher) for the block, then restored. The
    cap is the database's, so it holds for every connection to it meanwhile. Yields a function
    that lifts the cap early, for work that cannot be done within it."""
    def setting() -> str:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    before = setting()
    con.execute("RESET memory_limit")
    # DuckDB shows the limit rounded (e.g. "18.8 GiB"): its default is restored exactly by RESET.
    was_default = setting() == before

    def lift() -> None:
        if was_default:
            con.execute("RESET memory_limit")
        else:
            con.execute("SET memory_limit = ?", [before])

    con.execute("SET memory_limit = ?", [limit])
    if _bytes(setting()) >= _bytes(before):
        lift()  # it was lower already: keep it
    try:
        yield lift
    finally:
        lift()


def _bytes(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}.get(unit, 1)
