"""The analysts' snapshot: published by atomic replace, readers keep what they opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb

from social_assets.warehouse.snapshot import publish_snapshot


def _warehouse(path):
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA analytics; CREATE SCHEMA ops; CREATE SCHEMA normalized")
    con.execute("CREATE TABLE analytics.posts AS SELECT 'reddit' AS platform, 'p1' AS post_id")
    con.execute("CREATE TABLE ops.data_quality AS SELECT 'reddit' AS platform, true AS passed")
    con.execute("CREATE TABLE ops.collection_log AS SELECT 'r/duckdb' AS account_id")
    con.execute("CREATE TABLE ops.dead_letters AS SELECT 'raw payload' AS payload")
    con.execute("CREATE TABLE normalized.posts AS SELECT 'p1' AS post_id")
    return con


def test_a_reader_keeps_its_snapshot_while_a_new_one_is_published(tmp_path):
    con = _warehouse(tmp_path / "warehouse.duckdb")
    target = tmp_path / "analytics.duckdb"
    publish_snapshot(con, target, "run-1")
    reader = duckdb.connect(str(target), read_only=True)  # an analyst who keeps it open

    con.execute("INSERT INTO analytics.posts VALUES ('reddit', 'p2')")
    publish_snapshot(con, target, "run-2")  # the reader does not stand in the way

    assert reader.execute("SELECT post_id FROM analytics.posts ORDER BY 1").fetchall() == [("p1",)]
    assert reader.execute("SELECT run_id FROM ops.snapshot").fetchall() == [("run-1",)]
    # Another analyst opening it now gets the new one. (Another process: within one process
    # DuckDB hands out the database already open, until every connection to it is closed.)
    fresh = json.loads(subprocess.run([sys.executable, "-c", (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps(["
        "c.execute('SELECT post_id FROM analytics.posts ORDER BY 1').fetchall(),"
        "c.execute('SELECT run_id FROM ops.snapshot').fetchall(),"
        "c.execute(\"SELECT table_schema || '.' || table_name FROM information_schema.tables ORDER BY 1\").fetchall()]))"
    ), str(target)], capture_output=True, text=True, check=True).stdout)
    assert fresh[0] == [["p1"], ["p2"]]
    assert fresh[1] == [["run-2"]]
    # Only what analysts need: no raw payloads, no normalized tables.
    assert fresh[2] == [["main.posts"], ["ops.collection_log"], ["ops.data_quality"], ["ops.snapshot"]]
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analytics.duckdb", "warehouse.duckdb", "warehouse.duckdb.wal"]
    assert not os.access(target, os.W_OK) or os.geteuid() == 0  # published read-only (root writes anyway)
    assert target.stat().st_mode & 0o777 == 0o444


def test_another_name_keeps_the_analytics_schema_and_a_dead_publishers_leftovers_go(tmp_path):
    con = _warehouse(tmp_path / "warehouse.duckdb")
    target = tmp_path / "exports" / "report.duckdb"
    target.parent.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    leftover = target.with_name(f"report.duckdb.publishing-{gone.pid}")
    leftover.write_text("half a file from a publisher killed mid-write")

    publish_snapshot(con, target, "run-1")

    assert not leftover.exists()
    reader = duckdb.connect(str(target), read_only=True)
    assert reader.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'posts'").fetchall() == [("analytics",)]
    assert reader.execute("SELECT post_id FROM analytics.posts").fetchall() == [("p1",)]
    reader.close()
