"""Fixtures for the limits tests: a fake clock, fresh stores on the real SQLite, Redis and
PostgreSQL of this machine, and a sandbox served over real HTTP.

Redis and PostgreSQL tests skip when the server cannot be reached, unless
SOCIAL_REQUIRE_REDIS / SOCIAL_REQUIRE_POSTGRES is set (as CI does), where they fail instead.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_assets.core.limits.store import open_store
from social_assets.sandbox.app import Sandbox, make_server
from social_assets.sandbox.world import SandboxClock

REDIS_URL = os.environ.get("SOCIAL_TEST_REDIS", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("SOCIAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432") + "/test"
WORLD_NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
USER_AGENT = "python:social_assets_tests:0.1 (by /u/tester)"
BACKENDS = ["sqlite", "redis", "postgres"]


class FakeClock:
    """Epoch seconds that move only when someone sleeps (or a test moves them)."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch, tmp_path):
    # The tests choose their store and sandbox; a developer's shell must not.
    monkeypatch.setenv("SOCIAL_LIMIT_STORE", str(tmp_path / "limits.sqlite"))
    for name in ("SOCIAL_SANDBOX_FAULTS", "SOCIAL_SANDBOX_LOG", "SOCIAL_SANDBOX_URL"):
        monkeypatch.delenv(name, raising=False)


def _unreachable(what: str, variable: str, error: Exception) -> None:
    if os.environ.get(variable):
        pytest.fail(f"{what} is required here ({variable}) and unreachable: {error}")
    pytest.skip(f"{what} unreachable: {error}")


@contextmanager
def fresh_store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A `SOCIAL_LIMIT_STORE` value naming an empty store, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'limits-{uuid.uuid4().hex[:8]}.sqlite'}"
    elif backend == "redis":
        redis = pytest.importorskip("redis")
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        try:
            client.ping()
        except redis.RedisError as exc:
            _unreachable(f"Redis at {REDIS_URL}", "SOCIAL_REQUIRE_REDIS", exc)
        # Tests write keys under "test-<id>/" or a served sandbox's unique "sandbox@<url>/".
        patterns = ("social_assets:test-*", "social_assets:sandbox@*")
        before = {key for pattern in patterns for key in client.scan_iter(pattern)}
        try:
            yield REDIS_URL
        finally:
            # Only what this test wrote: other users of the server keep theirs.
            created = {key for pattern in patterns for key in client.scan_iter(pattern)} - before
            if created:
                client.delete(*created)
            client.close()
    else:
        psycopg2 = pytest.importorskip("psycopg2")
        try:
            admin = psycopg2.connect(PG_URL, connect_timeout=5)
        except psycopg2.OperationalError as exc:
            _unreachable(f"PostgreSQL at {PG_URL}", "SOCIAL_REQUIRE_POSTGRES", exc)
        admin.autocommit = True
        schema = f"limits_test_{uuid.uuid4().hex[:10]}"
        admin.cursor().execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{PG_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
            admin.close()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    with fresh_store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def key() -> str:
    """A key prefix no other test (or concurrent test run) uses."""
    return f"test-{uuid.uuid4().hex[:10]}/"


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield opened
    opened.close()


@dataclass
class Served:
    sandbox: Sandbox
    url: str
    # (wall-clock time, platform path, status) of every request the emulations answered
    requests: list[tuple[float, str, str, int]]


@contextmanager
def served_sandbox() -> Iterator[Served]:
    """A fresh sandbox over real HTTP on a free port, recording what its emulations answer."""
    import time

    sandbox = Sandbox(clock=SandboxClock(WORLD_NOW))
    requests: list[tuple[float, str, str, int]] = []
    for name, emulation in sandbox.platforms.items():
        answer = emulation.handle

        def recorded(request, *args, _answer=answer, _name=name, **kwargs):
            response = _answer(request, *args, **kwargs)
            requests.append((time.time(), _name, request.path, response.status))
            return response

        emulation.handle = recorded
    server = make_server(sandbox, port=0)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.02), daemon=True)
    thread.start()
    try:
        yield Served(sandbox, f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
