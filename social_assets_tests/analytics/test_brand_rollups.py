"""analytics.brand_rollups_*: a brand's accounts across platforms, against an independent pandas
computation from analytics.posts and the follower snapshots merged from the normalized tables
(`conftest.follower_snapshots`; the package's warehouse: see conftest.py), with the brands
written out by hand."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from social_assets_tests.analytics.conftest import brand_members, follower_snapshots

METRICS = ["likes", "comments", "shares", "views", "saves", "impressions", "reach", "clicks", "watch_time_seconds"]
GRAINS = {"daily": "D", "weekly": "W", "monthly": "M"}


def period_start(moment, grain: str) -> pd.Timestamp:
    day = pd.Timestamp(moment).normalize()
    if grain == "W":
        return day - pd.Timedelta(days=day.weekday())
    if grain == "M":
        return day.replace(day=1)
    return day


def next_period(start: pd.Timestamp, grain: str) -> pd.Timestamp:
    if grain == "W":
        return start + pd.Timedelta(days=7)
    if grain == "M":
        return start + pd.offsets.MonthBegin(1)
    return start + pd.Timedelta(days=1)


def total(values) -> float:
    """A sum that is unknown (NaN) when no value is known: an unreported count is not 0."""
    present = [float(v) for v in values if not pd.isna(v)]
    return float(sum(present)) if present else np.nan


def expected_brand_rollups(con, grain: str, members: dict[str, set[tuple[str, str]]]) -> list[dict]:
    posts = con.execute("SELECT * FROM analytics.posts").df()
    snapshots = follower_snapshots(con)  # collected and derived counts, merged in the test

    def followers_at(platform: str, account: str, moment) -> float:
        mine = snapshots[(snapshots.platform == platform) & (snapshots.account_id == account) & (snapshots.collected_at <= moment)]
        if mine.empty:
            return np.nan
        value = mine.sort_values("collected_at").followers.iloc[-1]
        return np.nan if pd.isna(value) else float(value)

    def engagement(post) -> float:
        counts = [post.likes, post.comments, post.shares]
        return np.nan if all(pd.isna(c) for c in counts) else float(sum(0 if pd.isna(c) else c for c in counts))

    rows = []
    for brand, accounts in members.items():
        mine = posts[[key in accounts for key in zip(posts.platform, posts.account_id)]].copy()
        mine["period"] = [period_start(t, grain) for t in mine.published_at]
        mine["engagement"] = [engagement(p) for p in mine.itertuples()]
        snaps = snapshots[[key in accounts for key in zip(snapshots.platform, snapshots.account_id)]]
        periods = set(mine.period) | {period_start(t, grain) for t in snaps.collected_at}
        for start in sorted(periods):
            in_period = mine[mine.period == start]
            ends = {key: followers_at(*key, next_period(start, grain)) for key in accounts}
            previous = {key: followers_at(*key, start) for key in accounts}
            both = [key for key in accounts if not pd.isna(ends[key]) and not pd.isna(previous[key])]
            growth = total(ends[k] - previous[k] for k in both)
            base = sum(previous[k] for k in both)
            brand_posts, brand_engagement = len(in_period), total(in_period.engagement)
            brand_followers = total(ends.values())
            rates = in_period.engagement_rate.dropna()
            platforms = []
            for platform in sorted({p for p, _ in accounts}):
                of_platform = in_period[in_period.platform == platform]
                platform_engagement = total(of_platform.engagement)
                platform_followers = total(v for (p, _), v in ends.items() if p == platform)
                platforms.append(
                    {
                        "platform": platform,
                        "posts": len(of_platform),
                        "engagement": platform_engagement,
                        "followers_end": platform_followers,
                        "posts_share": 100.0 * len(of_platform) / brand_posts if brand_posts else np.nan,
                        "engagement_share": 100.0 * (0 if pd.isna(platform_engagement) else platform_engagement) / brand_engagement
                        if brand_engagement and brand_engagement > 0 else np.nan,
                        "followers_share": 100.0 * platform_followers / brand_followers
                        if brand_followers and brand_followers > 0 else np.nan,
                    }
                )
            rows.append(
                {
                    "brand": brand,
                    "period_start": start,
                    "accounts": len(accounts),
                    "posts": brand_posts,
                    **{metric: total(in_period[metric]) for metric in METRICS},
                    "engagement": brand_engagement,
                    "avg_engagement_rate": rates.mean() if len(rates) else np.nan,
                    "followers_end": brand_followers,
                    "accounts_with_followers": sum(not pd.isna(v) for v in ends.values()),
                    "follower_growth": growth,
                    "follower_growth_rate": 100.0 * growth / base if both and base > 0 else np.nan,
                    "platforms": platforms,
                }
            )
    return rows


def canonical(rows: list[dict]) -> list[dict]:
    """Comparable rows: numbers as floats rounded to 9 significant digits, None and NaN as None."""

    def value(v):
        if isinstance(v, (list, np.ndarray)):
            return [{k: value(x) for k, x in entry.items()} for entry in v]
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return float(f"{float(v):.9g}")
        if isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat"):
            return pd.Timestamp(v).date().isoformat()
        return v

    return sorted(({k: value(v) for k, v in row.items()} for row in rows), key=lambda r: (r["brand"], r["period_start"]))


@pytest.mark.parametrize("grain_name,grain", list(GRAINS.items()))
def test_brand_rollups_match_an_independent_computation(warehouse, youtube_channel, grain_name, grain):
    members = brand_members(youtube_channel)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        actual = con.execute(f"SELECT * FROM analytics.brand_rollups_{grain_name}").df().to_dict("records")
        expected = expected_brand_rollups(con, grain, members)
    finally:
        con.close()

    assert canonical(actual) == canonical(expected)
    # The data exercise what is compared: both brands, two platforms in one, known followers
    # and growth, and counts that no platform reports (null, not 0).
    assert {row["brand"] for row in actual} == {"pulse", "community"}
    pulse = [row for row in actual if row["brand"] == "pulse"]
    assert any(len(row["platforms"]) == 2 and row["posts"] > 0 for row in pulse)
    assert any(not pd.isna(row["follower_growth"]) for row in actual)
    assert all(pd.isna(row["saves"]) and pd.isna(row["watch_time_seconds"]) for row in actual)
    community = [row for row in actual if row["brand"] == "community"]
    assert all(pd.isna(row["views"]) for row in community)  # Reddit reports no views
    assert any(not pd.isna(row["views"]) for row in pulse)  # YouTube does


def test_brand_accounts_in_the_warehouse_follow_the_sources_file(warehouse, youtube_channel):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stored = con.execute("SELECT brand, platform, account_id FROM ops.brand_accounts").fetchall()
    finally:
        con.close()
    members = brand_members(youtube_channel)
    assert sorted(stored) == sorted((brand, *key) for brand, keys in members.items() for key in keys)
