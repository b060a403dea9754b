"""One calm run of the whole pipeline, shared by the tests that compare against it. It is also
the no-network run: `make run`, with every outbound connection refused (test_no_network.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from social_assets_tests.reliability.cli_runs import DAY, NO_NETWORK, PROJECT_ROOT, Place, duplicated_keys, table_keys


@dataclass
class CalmRun:
    place: Place
    result: subprocess.CompletedProcess
    outbound_attempts: Path  # one JSON line per refused attempt; absent when there was none
    keys: dict[str, list[tuple]]


@pytest.fixture(scope="session")
def calm_run(tmp_path_factory) -> CalmRun:
    """`make run` on a fresh project with the network refused to every Python process."""
    root = tmp_path_factory.mktemp("calm")
    place = Place(root / "project")
    attempts = root / "outbound.jsonl"
    env = place.env(
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
    return CalmRun(place, result, attempts, table_keys(place.warehouse))


@pytest.fixture(scope="session")
def calm_keys(calm_run) -> dict[str, list[tuple]]:
    """The keys of every table after one undisturbed run on a fresh home."""
    keys = calm_run.keys
    assert all(keys[t] for t in ("normalized.posts", "normalized.comments", "analytics.posts", "analytics.rollups_daily"))
    assert duplicated_keys(keys) == {}
    return keys
