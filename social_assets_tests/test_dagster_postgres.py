"""The Dagster instance on the machine's real PostgreSQL (dagster-postgres).

CI sets SOCIAL_REQUIRE_POSTGRES=1 (after making sure the server is up), so there these tests
fail rather than skip when PostgreSQL cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from dagster import AssetKey, DagsterRunStatus, instance_for_test

from social_assets.instance import instance_config
from social_assets_tests.pipeline import collect_partition

psycopg2 = pytest.importorskip("psycopg2")
SERVER = os.environ.get("SOCIAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture
def postgres_url():
    try:
        admin = psycopg2.connect(f"{SERVER}/test", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        if os.environ.get("SOCIAL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL at {SERVER} is required here and unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {SERVER} unreachable: {exc}")
    admin.autocommit = True
    name = f"social_assets_test_{uuid.uuid4().hex[:10]}"
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_runs_and_materializations_are_stored_in_postgres(pipeline_env, postgres_url, monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_url)
    config = instance_config()  # the project's dagster.yaml plus the postgres switch
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}

    with instance_for_test(overrides=config) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = collect_partition(instance, "reddit", date(2026, 11, 19))
        event = instance.get_latest_materialization_event(AssetKey(["normalized", "posts"]))
        assert event is not None and event.run_id == result.run_id
        assert event.asset_materialization.partition == "2026-11-19|reddit"

    # Read it back through PostgreSQL itself, not through Dagster's cache.
    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
        assert cur.fetchone() == (DagsterRunStatus.SUCCESS.value,)
        cur.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (result.run_id,),
        )
        assert cur.fetchone()[0] == 6  # raw posts/comments/profiles + normalized posts/comments/profiles
