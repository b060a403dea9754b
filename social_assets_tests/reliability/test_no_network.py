"""Nothing phones home: a whole `make run` (install check, collection, normalization, checks,
dbt, the snapshot) with every outbound connection and name lookup refused. Every Python process
it starts (social-assets, dbt, make's pip if it ran) loads a guard from PYTHONPATH that refuses
anything but this machine and records the attempt."""

from __future__ import annotations

import os
import subprocess
import sys

from social_assets_tests.reliability.cli_runs import DAY, NO_NETWORK, PROJECT_ROOT, Place, table_keys


def test_make_run_succeeds_with_the_network_refused_and_tries_nothing(tmp_path):
    attempts = tmp_path / "outbound.jsonl"
    env = Place(tmp_path / "project").env(
        PYTHONPATH=os.pathsep.join(filter(None, [str(NO_NETWORK), os.environ.get("PYTHONPATH")])),
        SOCIAL_TEST_NETWORK_LOG=str(attempts),
    )
    # The guard is in force in this environment: a lookup of pypi.org is refused and recorded.
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.getaddrinfo('pypi.org', 443)"], env=env, capture_output=True, text=True
    )
    assert probe.returncode != 0 and "refused by the test's network guard" in probe.stderr
    assert "pypi.org" in attempts.read_text()
    attempts.unlink()

    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"DATE={DAY}"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "analytics: published for analysts" in result.stdout
    assert not attempts.exists(), f"outbound attempts: {attempts.read_text()}"
    assert table_keys(Place(tmp_path / "project").snapshot, tables=["analytics.posts"])["analytics.posts"]
