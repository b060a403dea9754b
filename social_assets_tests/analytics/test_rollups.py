"""The dbt rollups against an independent pandas computation over the normalized tables
(the warehouse is built once for the package: see conftest.py)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from social_assets_tests.analytics.conftest import follower_snapshots

GRAINS = {"daily": "D", "weekly": "W", "monthly": "M"}
METRICS = ["likes", "comments", "shares", "views", "saves", "impressions", "reach", "clicks", "watch_time_seconds"]


def expected_rollups(con: duckdb.DuckDBPyConnection, grain: str) -> pd.DataFrame:
    posts = con.execute("SELECT * FROM normalized.posts").df()
    refreshed = con.execute("SELECT * FROM normalized.post_metrics").df()
    # Collected and derived (past) follower counts, merged here (see conftest.follower_snapshots).
    profiles = follower_snapshots(con)

    # Each post: what it is from its latest collection, its counts from its latest observation.
    described = posts.sort_values(["collected_at", "account_id"]).groupby(["platform", "post_id"]).tail(1)
    counts = [*METRICS, "collected_at"]
    observed = pd.concat([posts[["platform", "post_id", *counts]], refreshed[["platform", "post_id", *counts]]])
    newest = observed.sort_values("collected_at").groupby(["platform", "post_id"]).tail(1)
    latest = described.drop(columns=counts).merge(newest, on=["platform", "post_id"])
    assert len(refreshed) > 0 and len(latest) == len(described)

    def followers_at(platform: str, account: str, moment) -> float:
        """The last snapshot at or before `moment`."""
        mine = profiles[(profiles.platform == platform) & (profiles.account_id == account)]
        mine = mine[mine.collected_at <= moment]
        if mine.empty:
            return np.nan
        value = mine.sort_values("collected_at").followers.iloc[-1]
        return np.nan if pd.isna(value) else float(value)

    def period_start(moment) -> pd.Timestamp:
        ts = pd.Timestamp(moment).normalize()
        if grain == "W":
            return ts - pd.Timedelta(days=ts.weekday())
        if grain == "M":
            return ts.replace(day=1)
        return ts

    def next_period(start: pd.Timestamp) -> pd.Timestamp:
        if grain == "W":
            return start + pd.Timedelta(days=7)
        if grain == "M":
            return start + pd.offsets.MonthBegin(1)
        return start + pd.Timedelta(days=1)

    def previous_period(start: pd.Timestamp) -> pd.Timestamp:
        if grain == "W":
            return start - pd.Timedelta(days=7)
        if grain == "M":
            return start - pd.offsets.MonthBegin(1)
        return start - pd.Timedelta(days=1)

    rows = {}
    for post in latest.itertuples():
        followers = followers_at(post.platform, post.account_id, post.collected_at)
        engaged = sum(0 if pd.isna(v) else v for v in (post.likes, post.comments, post.shares))
        rate = 100.0 * engaged / followers if followers and followers > 0 else np.nan
        key = (post.platform, post.account_id, period_start(post.published_at))
        rows.setdefault(key, []).append((*(getattr(post, m) for m in METRICS), rate))
    for snap in profiles.itertuples():
        rows.setdefault((snap.platform, snap.account_id, period_start(snap.collected_at)), [])

    def total(values):
        present = [v for v in values if not pd.isna(v)]
        return float(sum(present)) if present else np.nan

    out = []
    for (platform, account, start), items in rows.items():
        end_followers = followers_at(platform, account, next_period(start))
        prev_followers = followers_at(platform, account, start)
        rates = [r for *_, r in items if not pd.isna(r)]
        growth = end_followers - prev_followers
        out.append(
            {
                "platform": platform,
                "account_id": account,
                "period_start": start,
                "posts": len(items),
                **{metric: total(i[n] for i in items) for n, metric in enumerate(METRICS)},
                "avg_engagement_rate": np.mean(rates) if rates else np.nan,
                "min_engagement_rate": min(rates) if rates else np.nan,
                "max_engagement_rate": max(rates) if rates else np.nan,
                "followers_end": end_followers,
                "follower_growth": growth,
                "follower_growth_rate": 100.0 * growth / prev_followers if prev_followers and prev_followers > 0 else np.nan,
            }
        )
    return _canonical(pd.DataFrame(out))


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.tz_localize(None).astype("datetime64[ns]")
    for column in frame.columns:
        if column not in ("platform", "account_id", "period_start"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.sort_values(["platform", "account_id", "period_start"]).reset_index(drop=True)


@pytest.mark.parametrize("table,grain", [(f"rollups_{name}", g) for name, g in GRAINS.items()])
def test_rollups_match_an_independent_computation(warehouse, table, grain):
    con = duckdb.connect(str(warehouse), read_only=True)
    actual = _canonical(con.execute(f"SELECT * FROM analytics.{table}").df())
    expected = expected_rollups(con, grain)
    con.close()

    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected) > 0
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9, check_dtype=False)
    # The fixture's data must exercise what is being compared, or the test proves nothing.
    assert actual.followers_end.notna().any() and actual.follower_growth.notna().any()
    assert actual.avg_engagement_rate.notna().any()
    # Reddit and YouTube report none of the metrics beyond likes: null, never 0.
    assert actual[["saves", "impressions", "reach", "clicks", "watch_time_seconds"]].isna().all().all()
    assert actual.views.notna().any() and actual.views[actual.platform == "reddit"].isna().all()
