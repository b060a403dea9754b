"""An analyst reading the published snapshot, as a separate process (DuckDB's file locks are
per process). Reports what happened as JSON when the stop file appears.

    python -m social_assets_tests.reliability.analyst hold|reopen SNAPSHOT STOP_FILE REPORT

`hold` opens the snapshot once (as soon as it exists) and queries it until stopped: every
answer must be the one it got first, however many times the pipeline publishes meanwhile.
`reopen` opens, queries and closes it in a loop, like a dashboard refreshing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

QUERY = "SELECT (SELECT count(*) FROM analytics.posts), (SELECT count(*) FROM analytics.comments), (SELECT published_at FROM ops.snapshot)"


def main(mode: str, snapshot: Path, stop: Path, report: Path) -> None:
    queries, opens, errors, changed, seen = 0, 0, [], 0, set()
    while not snapshot.exists() and not stop.exists():
        time.sleep(0.05)
    con = None
    try:
        while not stop.exists():
            try:
                if con is None:
                    con = duckdb.connect(str(snapshot), read_only=True)
                    opens += 1
                    first = con.execute(QUERY).fetchone()
                answer = con.execute(QUERY).fetchone()
                queries += 1
                seen.add(str(answer[2]))
                changed += answer != first
                if mode == "reopen":
                    con.close()
                    con = None
            except Exception as error:  # an analyst error is what the test counts
                errors.append(f"{type(error).__name__}: {error}")
                con = None
            time.sleep(0.2 if mode == "hold" else 0.02)
    finally:
        if con is not None:
            con.close()
    report.write_text(json.dumps(
        {"mode": mode, "opens": opens, "queries": queries, "errors": errors, "changed_while_open": changed,
         "snapshots_seen": len(seen)}
    ))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
