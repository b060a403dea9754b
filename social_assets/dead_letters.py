"""Dead letters: requests that failed for good and items that did not normalize.

Each letter has a stable id (platform, day, source, kind, request, item), so when the same
thing fails again the letter's attempt count goes up instead of a second letter appearing.
Letters are rewritten with the partition they belong to: once a replay (or a fixed normalizer)
gets the thing through, its letter is gone. One response can hold the same bad item twice (a
duplicate across pages, a repeated id): it is one letter, the last copy's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any, Iterable

import duckdb
import pandas as pd

from social_assets.core.errors import ApiError
from social_assets.core.records import Rejected, one_line
from social_assets.core.timeutil import to_warehouse_time
from social_assets.warehouse.tables import DEAD_LETTERS, PartitionWrite, ensure_schema


def letter_id(platform: str, day: date, account_id: str, kind: str, method: str, endpoint: str,
              params: str, item_id: str | None) -> str:
    key = "|".join([platform, day.isoformat(), account_id, kind, method, endpoint, params, item_id or ""])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def item_letters(platform: str, day: date, resource: str, landed: Any, rejected: Iterable[Rejected],
                 failed_at: datetime) -> list[dict[str, Any]]:
    """Letters for the items of one landed response (a row of raw.*) that did not normalize.
    An item without an id is told apart from the others by its payload."""
    letters = []
    for r in rejected:
        payload = _payload(r.payload)
        identity = r.item_id if r.item_id is not None else (
            "payload:" + hashlib.sha256((payload or "").encode()).hexdigest()[:16]
        )
        letters.append(_letter(platform, day, landed.account_id, "item", resource, landed.method, landed.endpoint,
                               landed.params, landed.context, payload, r.item_id, r.reason, failed_at, identity))
    return letters


def request_letter(platform: str, day: date, account_id: str, resource: str, error: ApiError,
                   failed_at: datetime) -> dict[str, Any]:
    """A letter for a request that failed for good; replaying it re-collects its source."""
    params = json.dumps(error.params, sort_keys=True)
    return _letter(platform, day, account_id, "request", resource, error.method, error.endpoint,
                   params, "{}", None, None, str(error), failed_at)


def with_history(con: duckdb.DuckDBPyConnection, letters: list[dict[str, Any]]) -> pd.DataFrame:
    """The letters as rows, each counting the attempts its earlier copy already had."""
    frame = pd.DataFrame(letters, columns=DEAD_LETTERS.column_names)
    if frame.empty:
        return frame
    frame = frame.drop_duplicates(subset="letter_id", keep="last").reset_index(drop=True)
    con.register("new_letters", frame[["letter_id"]])
    # Grouped: a warehouse written before letters were de-duplicated may hold an id twice.
    earlier = con.execute(
        f"SELECT letter_id, max(attempts) AS attempts, min(first_failed_at) AS first_failed_at "
        f"FROM {DEAD_LETTERS.qualified} WHERE letter_id IN (SELECT letter_id FROM new_letters) GROUP BY letter_id"
    ).df()
    con.unregister("new_letters")
    if earlier.empty:
        return frame
    known = earlier.set_index("letter_id")
    seen = frame.letter_id.isin(known.index)
    frame.loc[seen, "attempts"] = frame.loc[seen, "letter_id"].map(known.attempts) + 1
    frame.loc[seen, "first_failed_at"] = frame.loc[seen, "letter_id"].map(known.first_failed_at)
    return frame


def letters_write(con: duckdb.DuckDBPyConnection, letters: list[dict[str, Any]], kind: str,
                  resource: str | None = None) -> PartitionWrite:
    """The write that replaces a partition's letters of one kind (and resource)."""
    ensure_schema(con)  # the letters' history is read before the partition write creates tables
    scope: tuple[tuple[str, object], ...] = (("kind", kind),)
    if resource is not None:
        scope += (("resource", resource),)
    return PartitionWrite(DEAD_LETTERS, with_history(con, letters), scope=scope)


def open_request_letters(con: duckdb.DuckDBPyConnection, platform: str, day: date) -> list[str]:
    """Accounts of the partition with a request that failed for good and awaits a replay."""
    rows = con.execute(
        f"SELECT DISTINCT account_id FROM {DEAD_LETTERS.qualified} "
        "WHERE platform = ? AND partition_date = ? AND kind = 'request' AND status = 'open' ORDER BY 1",
        [platform, day],
    ).fetchall()
    return [account for (account,) in rows]


def _letter(platform: str, day: date, account_id: str, kind: str, resource: str, method: str,
            endpoint: str, params: str, context: str, payload: str | None, item_id: str | None,
            reason: str, failed_at: datetime, identity: str | None = None) -> dict[str, Any]:
    """`identity` tells the letter's item apart (default: its id)."""
    moment = to_warehouse_time(failed_at)
    return {
        "platform": platform,
        "partition_date": day,
        "account_id": account_id,
        "letter_id": letter_id(platform, day, account_id, kind, method, endpoint, params, identity or item_id),
        "kind": kind,
        "resource": resource,
        "method": method,
        "endpoint": endpoint,
        "params": params,
        "context": context,
        "payload": payload,
        "item_id": item_id,
        "reason": one_line(reason, 1000),
        "attempts": 1,
        "first_failed_at": moment,
        "last_failed_at": moment,
        "status": "open",
    }


def _payload(value: Any) -> str | None:
    """The payload as JSON text; ASCII-escaped, so a lone surrogate in it is kept as `\\ud800`
    (as the platform sent it) rather than refused by DuckDB."""
    if value is None:
        return None
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (RecursionError, ValueError, TypeError):
        return one_line(repr(value), 10_000)
