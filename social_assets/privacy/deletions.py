"""Honouring deletions: a post or comment the platform says is gone loses its content
everywhere in the warehouse, and stays as a tombstone.

Platforms only report what they see (`core.records.Gone`): a normalizer for the items a body
marks as deleted or removed (Reddit's `[deleted]`, Bluesky's `notFoundPost`), a refresh for the
posts its lookup no longer returns (X's and Mastodon's 404s, YouTube's videos.list). This
module does the rest, the same way for every platform:

1. `record_gone` adds them to `ops.deletions`, which remembers every gone item (and when the
   pipeline first saw it gone) so that what is collected or normalized later is purged too;
2. `purge` removes their content:
   - `normalized.posts` / `normalized.comments`: text, author and media (and the permalink,
     which holds the title) become null and `deleted_at` is set. The row stays, with its ids,
     its dates and its metrics as last observed: rollups of past periods keep counting it;
   - every `analytics.*` table with the item's id column: the same columns nulled (dbt rebuilds
     them from `normalized` anyway), and the analysts' snapshot republished;
   - `raw.*` bodies that hold the item: rewritten without it (`scrub.py`);
   - `ops.dead_letters`: the item's own letters are deleted, other payloads scrubbed;
   and writes one `ops.audit_log` row per table touched.
3. `keep_tombstones` carries a partition's tombstones over when it is normalized again from
   raw bodies that no longer hold the item.
A step that writes a partition calls `record_gone`, `keep_tombstones` (normalized rows), writes,
then `honour` (purge and scrub).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd

from social_assets.core.records import Gone
from social_assets.core.timeutil import to_warehouse_time
from social_assets.privacy.audit import audit
from social_assets.privacy.scrub import GoneContent, scrub
from social_assets.warehouse.tables import (
    DEAD_LETTERS,
    DELETIONS,
    NORMALIZED_TABLES,
    RAW_TABLES,
    REFRESH_RESPONSES,
    Table,
)

# The columns that hold what a person wrote or is: nulled in a tombstone.
CONTENT_COLUMNS = {
    "posts": ("text", "author_id", "author_username", "media_urls", "permalink"),
    "comments": ("text", "author_username"),
}
ID_COLUMN = {"posts": "post_id", "comments": "comment_id"}
RAW_BODY_TABLES = (*RAW_TABLES.values(), REFRESH_RESPONSES)
ACTION = "purge_deleted"


def record_gone(con: duckdb.DuckDBPyConnection, platform: str, gone: Iterable[Gone], seen_at: datetime) -> list[Gone]:
    """Add gone items to ops.deletions; return those not known before."""
    wanted = {(g.resource, g.item_id): g for g in gone}
    if not wanted:
        return []
    known = set(
        con.execute(
            f"SELECT resource, item_id FROM {DELETIONS.qualified} WHERE platform = ?", [platform]
        ).fetchall()
    )
    new = [g for key, g in wanted.items() if key not in known]
    if new:
        con.executemany(
            f"INSERT INTO {DELETIONS.qualified} (platform, resource, item_id, reason, deleted_at) VALUES (?, ?, ?, ?, ?)",
            [[platform, g.resource, g.item_id, g.reason, to_warehouse_time(seen_at)] for g in new],
        )
    return new


def gone_ids(con: duckdb.DuckDBPyConnection, platform: str, resource: str) -> set[str]:
    rows = con.execute(
        f"SELECT item_id FROM {DELETIONS.qualified} WHERE platform = ? AND resource = ?", [platform, resource]
    ).fetchall()
    return {item_id for (item_id,) in rows}


def keep_tombstones(
    con: duckdb.DuckDBPyConnection, platform: str, resource: str, partition: dict[str, object], staged: str
) -> None:
    """Add to `staged` (a table of a partition's new normalized rows, in the columns of its
    normalized table) the partition's current rows of gone items it lacks: a re-normalization
    from scrubbed bodies must not lose the tombstones."""
    if resource not in ID_COLUMN:
        return
    table, id_column = NORMALIZED_TABLES[resource], ID_COLUMN[resource]
    where = " AND ".join(f"t.{column} = ?" for column in partition)
    columns = ", ".join(table.column_names)
    con.execute(
        f"INSERT INTO {staged} ({columns}) SELECT {', '.join(f't.{c}' for c in table.column_names)} "
        f"FROM {table.qualified} t JOIN {DELETIONS.qualified} d "
        f"ON d.platform = t.platform AND d.resource = ? AND d.item_id = t.{id_column} "
        f"WHERE {where} AND t.{id_column} NOT IN (SELECT {id_column} FROM {staged})",
        [resource, *partition.values()],
    )


def purge(
    con: duckdb.DuckDBPyConnection,
    platform: str,
    items: Iterable[Gone],
    why: str,
    snapshot: Path | None = None,
) -> dict[str, int]:
    """Remove the content of gone items from every table (see the module docstring); return
    the rows changed per table. Each table touched gets its ops.audit_log row."""
    by_resource: dict[str, set[str]] = {}
    for item in items:
        by_resource.setdefault(item.resource, set()).add(item.item_id)
    if not by_resource:
        return {}
    changed: dict[str, int] = {}
    content = _known_content(con, platform, by_resource)
    con.execute("BEGIN TRANSACTION")
    try:
        for resource, ids in by_resource.items():
            changed.update(_tombstone_normalized(con, platform, resource, ids))
            changed.update(_purge_analytics(con, platform, resource, ids))
            changed.update(_purge_letters(con, platform, resource, ids))
        changed.update(scrub_raw(con, platform, content))
        changed = {table: rows for table, rows in changed.items() if rows}
        for table, rows in sorted(changed.items()):
            audit(con, ACTION, table, rows, why, platform)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if changed and snapshot is not None and snapshot.exists() and any(t.startswith("analytics.") for t in changed):
        from social_assets.warehouse.snapshot import publish_snapshot

        publish_snapshot(con, snapshot, f"purge of deleted {platform} items")
    return changed


def _known_content(con: duckdb.DuckDBPyConnection, platform: str, by_resource: dict[str, set[str]]) -> GoneContent:
    """The gone items' ids with the text and media the warehouse holds for them (before the
    purge): what the raw bodies are scrubbed of."""
    texts: list[str | None] = []
    media: list[str | None] = []
    ids: set[str] = set()
    for resource, wanted in by_resource.items():
        ids |= wanted
        table, id_column = NORMALIZED_TABLES[resource], ID_COLUMN[resource]
        con.register("gone_ids", pd.DataFrame({"item_id": sorted(wanted)}))
        media_column = "media_urls" if resource == "posts" else "NULL::VARCHAR[]"
        for text, urls in con.execute(
            f"SELECT text, {media_column} FROM {table.qualified} "
            f"WHERE platform = ? AND {id_column} IN (SELECT item_id FROM gone_ids)",
            [platform],
        ).fetchall():
            texts.append(text)
            media.extend(urls or [])
        con.unregister("gone_ids")
    return GoneContent.of(ids, texts, media)


def _tombstone_normalized(con, platform: str, resource: str, ids: set[str]) -> dict[str, int]:
    table, id_column = NORMALIZED_TABLES[resource], ID_COLUMN[resource]
    blanks = ", ".join(f"{column} = NULL" for column in CONTENT_COLUMNS[resource])
    con.register("gone_ids", pd.DataFrame({"item_id": sorted(ids)}))
    try:
        (count,) = con.execute(
            f"UPDATE {table.qualified} t SET {blanks}, deleted_at = coalesce(t.deleted_at, d.deleted_at) "
            f"FROM {DELETIONS.qualified} d WHERE d.platform = t.platform AND d.resource = ? AND d.item_id = t.{id_column} "
            f"AND t.platform = ? AND t.{id_column} IN (SELECT item_id FROM gone_ids) "
            f"AND (t.deleted_at IS NULL OR {' OR '.join(f't.{c} IS NOT NULL' for c in CONTENT_COLUMNS[resource])})",
            [resource, platform],
        ).fetchone()
    finally:
        con.unregister("gone_ids")
    return {table.qualified: count}


def _purge_analytics(con, platform: str, resource: str, ids: set[str]) -> dict[str, int]:
    """Every analytics table keyed by the item's id: its content columns nulled. A table of
    posts is one with `post_id` and no `comment_id` (analytics.comments has both)."""
    id_column = ID_COLUMN[resource]
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN information_schema.tables t "
        "USING (table_catalog, table_schema, table_name) WHERE c.table_schema = 'analytics' "
        "AND c.table_catalog = current_database() AND t.table_type = 'BASE TABLE'"
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    changed = {}
    con.register("gone_ids", pd.DataFrame({"item_id": sorted(ids)}))
    try:
        for table, present in sorted(columns.items()):
            if id_column not in present or "platform" not in present:
                continue
            if resource == "posts" and "comment_id" in present:
                continue
            blank = [c for c in CONTENT_COLUMNS[resource] if c in present]
            if not blank:
                continue
            sets = ", ".join(f"{c} = NULL" for c in blank)
            params: list[object] = []
            if "deleted_at" in present:
                sets += (
                    f", deleted_at = coalesce(deleted_at, (SELECT min(d.deleted_at) FROM {DELETIONS.qualified} d "
                    f"WHERE d.platform = analytics.{table}.platform AND d.resource = ? AND d.item_id = analytics.{table}.{id_column}))"
                )
                params.append(resource)
            (count,) = con.execute(
                f"UPDATE analytics.{table} SET {sets} WHERE platform = ? AND {id_column} IN (SELECT item_id FROM gone_ids) "
                f"AND ({' OR '.join(f'{c} IS NOT NULL' for c in blank)})",
                [*params, platform],
            ).fetchone()
            changed[f"analytics.{table}"] = count
    finally:
        con.unregister("gone_ids")
    return changed


def _purge_letters(con, platform: str, resource: str, ids: set[str]) -> dict[str, int]:
    con.register("gone_ids", pd.DataFrame({"item_id": sorted(ids)}))
    try:
        (count,) = con.execute(
            f"DELETE FROM {DEAD_LETTERS.qualified} WHERE platform = ? AND resource = ? "
            "AND item_id IN (SELECT item_id FROM gone_ids)",
            [platform, resource],
        ).fetchone()
    finally:
        con.unregister("gone_ids")
    return {DEAD_LETTERS.qualified: count}


def honour(
    con: duckdb.DuckDBPyConnection,
    platform: str,
    new: Iterable[Gone],
    partition: dict[str, object],
    raw_tables: Iterable[Table],
    resource: str | None = None,
    snapshot: Path | None = None,
) -> dict[str, int]:
    """After a partition was written: purge everywhere the gone items its responses reported
    (`new`: what `record_gone` returned, called before the write so that `keep_tombstones`
    knows them); then purge what the partition itself brought in of items already known gone
    (rows of `resource` normalized again, bodies of `raw_tables` landed again)."""
    new = list(new)
    items = list(new)
    if resource in ID_COLUMN:
        items += _collected_again(con, platform, resource, partition)
    changed: dict[str, int] = {}
    if items:
        reasons = sorted({g.reason for g in new}) or ["collected again after it was gone"]
        why = f"{platform} reported {len(new)} item(s) deleted or removed ({'; '.join(reasons[:3])})"
        changed.update(purge(con, platform, items, why, snapshot))
    known = GoneContent.of(gone_ids(con, platform, "posts") | gone_ids(con, platform, "comments"))
    for table, rows in scrub_raw(con, platform, known, where=partition, tables=raw_tables).items():
        if rows:
            audit(con, ACTION, table, rows, f"responses landed again held {platform} items known to be gone", platform)
            changed[table] = changed.get(table, 0) + rows
    return changed


def _collected_again(con, platform: str, resource: str, partition: dict[str, object]) -> list[Gone]:
    table, id_column = NORMALIZED_TABLES[resource], ID_COLUMN[resource]
    where = " AND ".join(f"t.{column} = ?" for column in partition)
    content = " OR ".join(f"t.{c} IS NOT NULL" for c in CONTENT_COLUMNS[resource])
    rows = con.execute(
        f"SELECT DISTINCT t.{id_column}, d.reason FROM {table.qualified} t JOIN {DELETIONS.qualified} d "
        f"ON d.platform = t.platform AND d.resource = ? AND d.item_id = t.{id_column} "
        f"WHERE {where} AND (t.deleted_at IS NULL OR {content})",
        [resource, *partition.values()],
    ).fetchall()
    return [Gone(resource=resource, item_id=item_id, reason=reason) for item_id, reason in rows]


def scrub_raw(
    con, platform: str, gone: GoneContent, where: dict[str, object] | None = None, tables: Iterable[Table] | None = None
) -> dict[str, int]:
    """Rewrite the platform's raw bodies (and dead-letter payloads) that hold a gone item
    without it; `where` narrows it to one partition of `tables`. Returns the rows rewritten
    per table."""
    if not gone.ids:
        return {}
    changed = {}
    needles = sorted(gone.ids)
    if tables is None:
        targets = [(t.qualified, "body") for t in RAW_BODY_TABLES] + [(DEAD_LETTERS.qualified, "payload")]
    else:
        targets = [(t.qualified, "body") for t in tables]
    for table, column in targets:
        conditions = ["t.platform = ?"] + [f"t.{k} = ?" for k in (where or {})]
        params: list[object] = [platform, *(where or {}).values()]
        con.register("needles", pd.DataFrame({"needle": needles}))
        try:
            candidates = con.execute(
                f"SELECT t.rowid, t.{column} FROM {table} t WHERE {' AND '.join(conditions)} AND t.{column} IS NOT NULL "
                f"AND EXISTS (SELECT 1 FROM needles WHERE contains(t.{column}, needle))",
                params,
            ).fetchall()
        finally:
            con.unregister("needles")
        rewritten = []
        for rowid, text in candidates:
            try:
                body = json.loads(text)
            except ValueError:
                continue
            cleaned, removed = scrub(body, gone)
            if removed:
                rewritten.append((json.dumps(cleaned), rowid))  # ASCII: a lone surrogate stays escaped
        if rewritten:
            con.executemany(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", rewritten)
        changed[table] = len(rewritten)
    return changed
