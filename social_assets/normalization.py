"""Turning landed responses into normalized rows: the code behind both the
`social-assets normalize` command and the `normalized/*` assets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

import pandas as pd

from social_assets.core.records import ITEM_ERRORS, Gone, NotAResponse, Normalized, Rejected, Resource, reason_of
from social_assets.core.timeutil import utc_now
from social_assets.dead_letters import item_letters
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import DayWindow
from social_assets.warehouse.tables import FOLLOWER_HISTORY, NORMALIZED_TABLES


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
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAResponse(f"body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise NotAResponse("body is not JSON we can read: it is nested too deeply") from None


@dataclass
class PartitionRows:
    rows: pd.DataFrame
    dead_letters: list[dict[str, Any]]  # items (or whole responses) that did not normalize
    items_seen: int
    # profiles only: past follower counts (records with `observed_at`), for normalized.follower_history
    history: pd.DataFrame | None = None
    gone: list[Gone] = field(default_factory=list)  # items the bodies say are deleted or removed


def normalize_partition(
    platform: str, resource: Resource, day: date, window: DayWindow, landed: pd.DataFrame
) -> PartitionRows:
    """Normalize the landed responses of one platform-day (rows of a `raw.*` table, in `seq` order).

    Posts are kept when published inside the day; each item keeps its latest observation;
    comment depths are recomputed from the parent chain so every response style agrees.
    """
    table = NORMALIZED_TABLES[resource]
    records: list[dict[str, Any]] = []
    letters: list[dict[str, Any]] = []
    gone: list[Gone] = []
    failed_at = utc_now()
    for row in landed.sort_values("seq").itertuples(index=False):
        if not row.normalize or not 200 <= row.status < 300:
            continue
        try:
            result = normalize_body(platform, resource, parse_body(row.body), json.loads(row.context))
        except NotAResponse as exc:
            whole = Rejected(item_id=None, reason=f"response rejected: {exc}", payload=row.body)
            letters += item_letters(platform, day, resource, row, [whole], failed_at)
            continue
        for record in result.records:
            records.append(
                {**record.model_dump(), "account_id": row.account_id, "collected_at": row.fetched_at}
            )
        letters += item_letters(platform, day, resource, row, result.rejected, failed_at)
        gone += result.gone

    history = None
    if resource == "profiles":
        history = _follower_history([r for r in records if r.get("observed_at") is not None], platform, day)
        records = [r for r in records if r.get("observed_at") is None]
    frame = pd.DataFrame(records) if records else pd.DataFrame(columns=table.column_names)
    if records:
        # Nullable integers: with a None in it, an int column would become float64, which
        # rounds counts beyond 2**53 and turns 2**63 - 1 into a value BIGINT cannot hold.
        for column, kind in table.columns:
            if column in frame and kind.split()[0] in ("BIGINT", "INTEGER"):
                frame[column] = pd.array([r[column] for r in records], dtype="Int64")
        for column in ("published_at", "collected_at"):
            if column not in frame:
                continue
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
        if resource == "posts":
            start, end = (pd.Timestamp(t).tz_convert("UTC").tz_localize(None) for t in (window.start, window.end))
            frame = frame[(frame.published_at >= start) & (frame.published_at < end)]
        frame = _latest_observation(frame, resource)
        gone_here = {g.item_id for g in gone if g.resource == resource}
        if gone_here and resource in _ID_COLUMN:
            # Gone in any response of the day: no observation of it is kept (see privacy/deletions.py).
            frame = frame[~frame[_ID_COLUMN[resource]].isin(gone_here)].reset_index(drop=True)
        if resource == "comments":
            frame = _recompute_depths(frame)
    frame = frame.assign(platform=platform, partition_date=day)
    return PartitionRows(
        rows=frame.reindex(columns=table.column_names),
        dead_letters=letters,
        items_seen=len(records) + len(letters) + (len(history) if history is not None else 0) + len(gone),
        history=history,
        gone=gone,
    )


def _follower_history(records: list[dict[str, Any]], platform: str, day: date) -> pd.DataFrame:
    """Derived past follower counts: one per account and moment, the latest derivation kept."""
    frame = pd.DataFrame(records, columns=[*FOLLOWER_HISTORY.column_names])
    for column in ("observed_at", "collected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    frame["followers"] = pd.array(frame["followers"].tolist(), dtype="Int64")
    frame = frame.drop_duplicates(subset=["account_id", "observed_at"], keep="last").reset_index(drop=True)
    return frame.assign(platform=platform, partition_date=day)[FOLLOWER_HISTORY.column_names]


_ID_COLUMN = {"posts": "post_id", "comments": "comment_id"}
_KEYS = {"posts": ["account_id", "post_id"], "comments": ["post_id", "comment_id"], "profiles": ["account_id"]}


def _latest_observation(frame: pd.DataFrame, resource: str) -> pd.DataFrame:
    # Records arrive in landing order; the last one of a key is the newest observation.
    return frame.drop_duplicates(subset=_KEYS[resource], keep="last").reset_index(drop=True)


def _recompute_depths(frame: pd.DataFrame) -> pd.DataFrame:
    """Depth from the parent chain: some responses (Reddit "continue this thread") number
    depths from the comment they start at rather than from the post. Where a parent was not
    collected, the response's own depth stands."""
    keys = list(zip(frame.post_id, frame.comment_id))
    parent_of = dict(zip(keys, frame.parent_id))
    given = dict(zip(keys, frame.depth))
    depths: dict[tuple[str, str], int] = {}

    def resolve(key: tuple[str, str]) -> int:
        path: list[tuple[str, str]] = []
        while key not in depths:
            parent = parent_of[key]
            parent_key = (key[0], parent)
            if parent is None or pd.isna(parent):
                depths[key] = 0
            elif parent_key not in parent_of or parent_key in path:
                depths[key] = int(given[key])
            else:
                path.append(key)
                key = parent_key
        for steps, child in enumerate(reversed(path), start=1):
            depths[child] = depths[key] + steps
        return depths[path[0]] if path else depths[key]

    frame = frame.copy()
    frame["depth"] = [resolve(k) for k in keys]
    return frame
