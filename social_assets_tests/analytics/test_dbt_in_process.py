"""dbt runs inside the analytics step's process (warehouse/dbt_runner.py): once the build is
over, the warehouse is free for every other process, as after a dbt process exited."""

from __future__ import annotations

import subprocess
import sys


def test_after_a_build_in_process_another_process_can_write_the_warehouse(built):
    warehouse, result = built
    assert result.success
    done = subprocess.run(
        [sys.executable, "-c",
         "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "con.execute('CREATE TABLE ops.probe AS SELECT count(*) AS n FROM analytics.posts'); "
         "print(con.execute('SELECT n FROM ops.probe').fetchone()[0]); con.execute('DROP TABLE ops.probe')",
         str(warehouse)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0
