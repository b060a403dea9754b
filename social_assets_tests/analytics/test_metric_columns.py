"""The metrics beyond likes: in the normalized records and tables, null where not reported, and
added to a warehouse made before they existed."""

from __future__ import annotations

from datetime import date, datetime, timezone

import duckdb
import pandas as pd

from social_assets.core.records import PostRecord
from social_assets.warehouse.tables import METRIC_NAMES, NORMALIZED_TABLES, POST_METRICS, PartitionWrite, ensure_schema, replace_partition

NEW = ["saves", "impressions", "reach", "clicks", "watch_time_seconds"]


def test_a_post_record_without_the_new_metrics_has_them_unknown():
    post = PostRecord(
        platform="reddit", post_id="p1", author_id=None, author_username=None, text="t", content_type="text",
        published_at=datetime(2026, 11, 1, tzinfo=timezone.utc), likes=3, comments=None, shares=None,
        views=None, permalink=None,
    )
    assert [getattr(post, name) for name in NEW] == [None] * 5
    assert set(METRIC_NAMES) <= set(NORMALIZED_TABLES["posts"].column_names)
    assert set(METRIC_NAMES) <= set(POST_METRICS.column_names)


def test_an_older_warehouse_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    try:
        old_columns = [(n, t) for n, t in NORMALIZED_TABLES["posts"].columns if n not in NEW]
        con.execute("CREATE SCHEMA normalized")
        con.execute(f"CREATE TABLE normalized.posts ({', '.join(f'{n} {t}' for n, t in old_columns)})")
        con.execute(
            "INSERT INTO normalized.posts (platform, partition_date, account_id, post_id, text, content_type, "
            "published_at, likes, collected_at) VALUES ('reddit', DATE '2026-11-01', 'r/a', 'old', 't', 'text', "
            "TIMESTAMP '2026-11-01 10:00', 7, TIMESTAMP '2026-11-02 02:00')"
        )

        ensure_schema(con)
        row = {name: None for name in NORMALIZED_TABLES["posts"].column_names} | {
            "platform": "reddit", "partition_date": date(2026, 11, 2), "account_id": "r/a", "post_id": "new",
            "text": "t", "content_type": "image", "published_at": datetime(2026, 11, 2, 9), "likes": 1,
            "saves": 4, "watch_time_seconds": 12.5, "collected_at": datetime(2026, 11, 3, 2),
        }
        replace_partition(con, "reddit", date(2026, 11, 2), [PartitionWrite(NORMALIZED_TABLES["posts"], pd.DataFrame([row]))])

        stored = con.execute("SELECT post_id, likes, saves, impressions, watch_time_seconds FROM normalized.posts ORDER BY 1").fetchall()
    finally:
        con.close()
    assert stored == [("new", 1, 4, None, 12.5), ("old", 7, None, None, None)]
