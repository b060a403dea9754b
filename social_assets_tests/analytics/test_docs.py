"""What an analyst sees without reading the README: a comment on every analytics table and
column in the warehouse, the same descriptions in the Dagster catalog, account names next to
account ids, and figures on the rollups' materializations for the Plots tab."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import yaml

from social_assets.settings import DBT_PROJECT_DIR
from social_assets_tests.analytics.conftest import DAYS

MODELS = {
    "posts", "comments", "profiles", "engagement_snapshots", "follower_snapshots",
    "rollups_daily", "rollups_weekly", "rollups_monthly",
    "brand_rollups_daily", "brand_rollups_weekly", "brand_rollups_monthly",
}


def declared_descriptions() -> dict[tuple[str, str], str]:
    schema = yaml.safe_load((DBT_PROJECT_DIR / "models" / "analytics" / "schema.yml").read_text())
    return {(model["name"], column["name"]): column.get("description", "") for model in schema["models"] for column in model["columns"]}


def test_every_analytics_table_and_column_has_its_description_as_a_comment(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'analytics'").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'analytics'"
        ).fetchall()
        described = con.execute("DESCRIBE analytics.posts").df()
    finally:
        con.close()

    assert set(tables) == MODELS
    assert all(comment and comment.strip() for comment in tables.values()), tables
    assert len(columns) > 150
    declared = declared_descriptions()
    missing = [(t, c) for t, c, comment in columns if not (comment and comment.strip())]
    assert missing == []
    # The comments are the descriptions of schema.yml, column for column.
    assert {(t, c): comment for t, c, comment in columns} == declared
    assert "account_name" in set(described.column_name)


def test_the_dagster_catalog_shows_clean_descriptions_for_models_columns_and_checks():
    from dagster import AssetKey

    from social_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    declared = declared_descriptions()
    for model in MODELS:
        spec = graph.get(AssetKey(["analytics", model]))
        assert spec.description and "Raw SQL" not in spec.description and "select" not in spec.description.lower()
        schema = spec.metadata["dagster/column_schema"]
        schema = getattr(schema, "schema", schema)
        assert {(model, c.name): c.description for c in schema.columns} == {
            key: value for key, value in declared.items() if key[0] == model
        }
    checks = [key for key in graph.asset_check_keys if key.asset_key.path[0] == "analytics"]
    assert len(checks) >= 2 * len(MODELS)
    undescribed = [key.name for key in checks if not graph.get_check_spec(key).description]
    assert undescribed == []


def test_profiles_and_posts_name_their_account(warehouse, youtube_channel):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = dict(con.execute("SELECT account_id, account_name FROM analytics.profiles").fetchall())
        latest_usernames = dict(con.execute(
            "SELECT DISTINCT ON (account_id) account_id, username FROM normalized.profiles "
            "WHERE username IS NOT NULL ORDER BY account_id, collected_at DESC"
        ).fetchall())
        unnamed_posts = con.execute(
            "SELECT count(*) FROM analytics.posts p JOIN analytics.profiles a USING (platform, account_id) "
            "WHERE p.account_name IS DISTINCT FROM a.account_name"
        ).fetchone()[0]
        (posts,) = con.execute("SELECT count(*) FROM analytics.posts").fetchone()
    finally:
        con.close()
    assert names == latest_usernames
    # A YouTube channel shows its handle, not only its id.
    assert names[youtube_channel] and names[youtube_channel] != youtube_channel
    assert names["r/duckdb"] == "duckdb"
    assert posts > 0 and unnamed_posts == 0


def test_follower_snapshots_are_taken_when_the_platform_answered(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        snapshots = con.execute(
            "SELECT platform, account_id, collected_at, followers, snapshot_source FROM analytics.follower_snapshots"
        ).fetchall()
        answered = set(con.execute(
            "SELECT platform, account_id, fetched_at FROM raw.profiles WHERE status = 200"
        ).fetchall())
        history = {(p, a, moment): followers for p, a, moment, followers in con.execute(
            "SELECT platform, account_id, observed_at, followers FROM normalized.follower_history "
            "ORDER BY collected_at").fetchall()}  # of several derivations of a moment, the latest read
    finally:
        con.close()
    collected = [s for s in snapshots if s[4] == "collected"]
    derived = [s for s in snapshots if s[4] == "derived"]
    # Each collection (the sandbox clock pinned to 02:00 the morning after each day) gave one
    # collected snapshot per account, dated when the profile request was answered.
    assert {moment for _, _, moment, _, _ in collected} == {datetime.combine(d + timedelta(days=1), datetime.min.time()) + timedelta(hours=2) for d in DAYS}
    assert all((p, a, moment) in answered for p, a, moment, _, _ in collected)
    # Derived snapshots are YouTube's past counts (Analytics), at the end of Los Angeles days
    # (07:00 UTC in summer time, 08:00 after 1 November), with the count normalized from it.
    assert derived and {p for p, *_ in derived} == {"youtube"}
    assert {moment.hour for _, _, moment, _, _ in derived} == {7, 8}
    assert all(history[(p, a, moment)] == followers for p, a, moment, followers, _ in derived)
    assert {(p, a, moment) for p, a, moment, *_ in derived}.isdisjoint((p, a, m) for p, a, m, *_ in collected)


def test_rollup_materializations_carry_per_platform_figures(built):
    warehouse, result = built
    events = {
        e.event_specific_data.materialization.asset_key.path[-1]: e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        followers = dict(con.execute("SELECT platform, sum(followers) FROM analytics.profiles GROUP BY 1").fetchall())
        daily = events["rollups_daily"]
        day = daily["trend_period"].value
        posted = dict(con.execute(
            "SELECT platform, count(*) FROM analytics.posts WHERE published_at::date = ?::date GROUP BY 1", [day]
        ).fetchall())
        (newest_day,) = con.execute("SELECT max(published_at)::date FROM analytics.posts").fetchone()
    finally:
        con.close()
    assert day == str(newest_day)
    for platform in ("reddit", "youtube"):
        # The newest follower count of each account, added up: what the profiles table says.
        assert daily[f"{platform}/followers"].value == followers[platform]
        assert daily[f"{platform}/posts"].value == posted[platform]
        assert daily[f"{platform}/engagement"].value > 0
    for model in ("rollups_weekly", "rollups_monthly"):
        assert events[model][f"reddit/followers"].value == followers["reddit"]
    for model in ("brand_rollups_daily", "brand_rollups_weekly", "brand_rollups_monthly"):
        assert {"pulse/posts", "pulse/followers", "community/followers"} <= set(events[model])
