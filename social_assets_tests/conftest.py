"""Shared fixtures: a private warehouse, sources file and sandbox clock per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# A small, fast set of sources for pipeline tests: real platforms, few posts, full comment trees.
TEST_CHANNEL = "@socialpulse"
TEST_SOURCES = """
reddit:
  defaults: {post_limit: 100, collect_comments: true, comment_depth: 6, sort: new}
  sources:
    - subreddit: duckdb
    - user: sandbox_bob
youtube:
  defaults: {post_limit: 50, collect_comments: true, comment_depth: 1}
  sources:
    - channel: {youtube_channel}
"""


def pytest_configure(config):
    """The dbt manifest the definitions are built from, as `make install` and `run` prepare it
    (each xdist worker calls this; the parse happens once, under a file lock)."""
    from social_assets.warehouse.dbt_project import prepare_dbt_project

    prepare_dbt_project()


# Tests that take minutes (alone or with the tests sharing their fixture), longest first. They
# start first, one per worker, and the short tests fill in around them, so the workers finish
# at about the same time (pytest-xdist hands tests out in collection order).
SLOW_FIRST = (
    "social_assets_tests/reliability/test_concurrent_runs.py",
    "social_assets_tests/reliability/test_killed_run.py",
    "social_assets_tests/reliability/test_no_network.py",
    "social_assets_tests/ui/",
    "social_assets_tests/automation/",
    "social_assets_tests/test_storm.py",
    "social_assets_tests/analytics/",
    "social_assets_tests/reliability/test_planted_secrets.py",
    "social_assets_tests/reliability/test_deletions.py",
    "social_assets_tests/reliability/test_dead_runs.py",
    "social_assets_tests/contract/test_contract.py::test_limits_are_obeyed_under_a_storm",
    "social_assets_tests/contract/test_contract.py::test_a_day_collects_end_to_end",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next((i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


def realdata_files(platform: str) -> list[Path]:
    return sorted((REALDATA / platform).glob("*.json"))


def realdata_body(path: Path):
    return json.loads(path.read_text())["body"]


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    from social_assets.sandbox.platforms.youtube import channel_id_for

    path = tmp_path / "sources.yaml"
    path.write_text(TEST_SOURCES.replace("{youtube_channel}", channel_id_for(TEST_CHANNEL)))
    return path


@pytest.fixture
def pipeline_env(tmp_path: Path, sources_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the pipeline at a fresh warehouse, the test sources and a pinned sandbox clock;
    no platform credentials, so every platform uses the in-process sandbox."""
    from social_assets import connections
    from social_assets.platforms import PLATFORMS

    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SOCIAL_SOURCES", str(sources_file))
    monkeypatch.setenv("SOCIAL_SANDBOX_NOW", "2026-11-20T03:00:00+00:00")
    monkeypatch.delenv("SOCIAL_SANDBOX_URL", raising=False)
    # A developer's shell must not change what the tests see.
    monkeypatch.delenv("SOCIAL_SANDBOX_FAULTS", raising=False)
    monkeypatch.delenv("SOCIAL_SANDBOX_LOG", raising=False)
    monkeypatch.delenv("SOCIAL_SANDBOX_SCALE", raising=False)
    monkeypatch.delenv("SOCIAL_API_MODE", raising=False)
    for platform in PLATFORMS.values():
        monkeypatch.delenv(f"SOCIAL_API_MODE_{platform.name.upper()}", raising=False)
        for name in platform.credentials:
            monkeypatch.delenv(name, raising=False)
    # A fresh sandbox per test: its rate-limit and quota counters start from zero.
    monkeypatch.setattr(connections, "_SANDBOX", None)
    return warehouse


@pytest.fixture(params=["in-process", "served"])
def sandbox_api(request, pipeline_env, monkeypatch):
    """The sandbox the pipeline talks to: in process, or served on a loopback port and reached
    over real HTTP (SOCIAL_SANDBOX_URL). Either way the returned Sandbox is the one answering."""
    import threading

    from social_assets import connections
    from social_assets.sandbox.app import Sandbox, make_server

    if request.param == "in-process":
        yield connections.shared_sandbox()
        return
    sandbox = Sandbox()
    server = make_server(sandbox, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SOCIAL_SANDBOX_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield sandbox
    finally:
        server.shutdown()
        server.server_close()
