"""Partition replacement: exact, atomic, and careful with sources that failed."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd
import pytest

from social_assets.warehouse.tables import NORMALIZED_TABLES, PartitionWrite, replace_partition

PROFILES = NORMALIZED_TABLES["profiles"]
DAY = date(2026, 11, 19)


def profile_rows(day: date, followers: dict[str, int], platform: str = "reddit") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "platform": platform,
                "partition_date": day,
                "account_id": account,
                "username": account,
                "followers": count,
                "following": None,
                "posts_count": None,
                "collected_at": datetime(2026, 11, 20, 1),
            }
            for account, count in followers.items()
        ],
        columns=PROFILES.column_names,
    )


def stored(con) -> list[tuple]:
    return con.execute(
        "SELECT platform, partition_date, account_id, followers FROM normalized.profiles ORDER BY ALL"
    ).fetchall()


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def test_replacing_a_partition_touches_only_that_partition(con):
    replace_partition(con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/a": 1, "r/b": 2}))])
    other_day = date(2026, 11, 18)
    replace_partition(con, "reddit", other_day, [PartitionWrite(PROFILES, profile_rows(other_day, {"r/a": 5}))])
    replace_partition(con, "youtube", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"UC1": 7}, "youtube"))])

    replace_partition(con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/a": 10}))])

    assert stored(con) == [
        ("reddit", other_day, "r/a", 5),
        ("reddit", DAY, "r/a", 10),
        ("youtube", DAY, "UC1", 7),
    ]


def test_a_failing_write_leaves_every_table_as_it_was(con):
    replace_partition(con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/a": 1}))])
    broken = profile_rows(DAY, {"r/a": 2}).assign(collected_at=None)  # violates NOT NULL

    with pytest.raises(duckdb.ConstraintException):
        replace_partition(
            con,
            "reddit",
            DAY,
            [PartitionWrite(PROFILES, profile_rows(DAY, {"r/z": 9})), PartitionWrite(PROFILES, broken)],
        )

    assert stored(con) == [("reddit", DAY, "r/a", 1)]


def test_accounts_that_failed_keep_their_earlier_rows(con):
    replace_partition(con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/a": 1, "r/b": 2}))])

    replace_partition(
        con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/a": 3}), keep_accounts=frozenset({"r/b"}))]
    )

    assert stored(con) == [("reddit", DAY, "r/a", 3), ("reddit", DAY, "r/b", 2)]


def test_a_collection_of_some_accounts_replaces_only_theirs(con):
    replace_partition(con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/a": 1, "r/b": 2}))])

    replace_partition(con, "reddit", DAY, [PartitionWrite(PROFILES, profile_rows(DAY, {"r/b": 5}))], only_accounts={"r/b"})

    assert stored(con) == [("reddit", DAY, "r/a", 1), ("reddit", DAY, "r/b", 5)]
