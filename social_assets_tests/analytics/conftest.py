"""One real warehouse for the analytics tests: several days collected from the sandbox at
different times, an hourly refresh, brands in the sources file, and a real dbt build."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, refresh_hour

# Collected the morning after each day. Snapshots then end periods of every grain: October and
# November, the weeks starting Mon 26 Oct, 9 Nov and 16 Nov, and consecutive days.
DAYS = [date(2026, 10, 30), date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 18)]

# `pulse` spans both platforms; u/sandbox_bob is in two brands; r/duckdb is in `community` only.
BRANDS_YAML = """
brands:
  pulse: [u/sandbox_bob, {youtube_channel}]
  community: [r/duckdb, reddit:u/sandbox_bob]
"""


def brand_members(youtube_channel: str) -> dict[str, set[tuple[str, str]]]:
    """BRANDS_YAML as (platform, account_id) pairs, written out by hand."""
    return {
        "pulse": {("reddit", "u/sandbox_bob"), ("youtube", youtube_channel)},
        "community": {("reddit", "r/duckdb"), ("reddit", "u/sandbox_bob")},
    }


def follower_snapshots(con) -> pd.DataFrame:
    """Every follower snapshot, computed here from the normalized tables: the counts collected
    (normalized.profiles, at collected_at) and the past counts derived from a platform's history
    (normalized.follower_history, at observed_at). One per account and moment: a collected count
    wins over a derived one of the same moment; of several derivations of a moment, the latest
    read (its collected_at) wins. Columns: platform, account_id, collected_at (the moment),
    followers, snapshot_source."""
    collected = con.execute(
        "SELECT platform, account_id, collected_at, followers, collected_at AS read_at FROM normalized.profiles").df()
    derived = con.execute(
        "SELECT platform, account_id, observed_at AS collected_at, followers, collected_at AS read_at "
        "FROM normalized.follower_history").df()
    both = pd.concat([collected.assign(snapshot_source="collected"), derived.assign(snapshot_source="derived")])
    # "collected" sorts before "derived"; then the latest read first.
    both = both.sort_values(["snapshot_source", "read_at"], ascending=[True, False], kind="stable")
    kept = both.drop_duplicates(["platform", "account_id", "collected_at"], keep="first")
    return kept.drop(columns="read_at").reset_index(drop=True)


@pytest.fixture(scope="package")
def youtube_channel() -> str:
    from social_assets.sandbox.platforms.youtube import channel_id_for
    from social_assets_tests.conftest import TEST_CHANNEL

    return channel_id_for(TEST_CHANNEL)


@pytest.fixture(scope="package")
def built(tmp_path_factory, youtube_channel):
    """(warehouse path, the run result of the analytics build)."""
    from social_assets import connections
    from social_assets_tests.conftest import TEST_SOURCES

    tmp = tmp_path_factory.mktemp("analytics")
    sources = tmp / "sources.yaml"
    sources.write_text((TEST_SOURCES + BRANDS_YAML).replace("{youtube_channel}", youtube_channel))
    patch = pytest.MonkeyPatch()
    patch.setenv("SOCIAL_WAREHOUSE", str(tmp / "warehouse.duckdb"))
    patch.setenv("SOCIAL_SOURCES", str(sources))
    patch.delenv("SOCIAL_SANDBOX_URL", raising=False)
    patch.delenv("SOCIAL_SANDBOX_FAULTS", raising=False)
    patch.setattr(connections, "_SANDBOX", None)
    try:
        with memory_instance() as instance:
            for day in DAYS:
                patch.setenv("SOCIAL_SANDBOX_NOW", f"{day + timedelta(days=1)}T02:00:00+00:00")
                for platform in ("reddit", "youtube"):
                    collect_partition(instance, platform, day)
            # An hourly refresh later on: the latest metrics of recent posts come from it.
            patch.setenv("SOCIAL_SANDBOX_NOW", "2026-11-19T12:00:00+00:00")
            for platform in ("reddit", "youtube"):
                refresh_hour(instance, platform, "2026-11-19-11:00")
            result = build_analytics(instance)
    finally:
        patch.undo()
    return tmp / "warehouse.duckdb", result


@pytest.fixture(scope="package")
def warehouse(built):
    return built[0]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (a fresh CI machine)."""
    from social_assets_tests.analytics.browser import ensure_chromium

    return ensure_chromium()
