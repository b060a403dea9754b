"""Helpers for the fault-injection tests: sandboxes with a request log, clients that talk to
them like the platform clients do (in process or over real HTTP), and forcing one fault."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from social_assets.sandbox.platforms.reddit import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from social_assets.sandbox.platforms.youtube import SANDBOX_API_KEY, channel_id_for, uploads_playlist_id
from social_assets.sandbox.app import LoopbackSandboxTransport, Sandbox, SandboxTransport, make_server
from social_assets.sandbox.world import SandboxClock

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
WALL_CLOCK = 1_800_000_100.0  # 100 s into a Reddit rate-limit window
UA = "python:social_assets_tests:0.1 (by /u/tester)"
CHANNEL = channel_id_for("@socialpulse")
UPLOADS = uploads_playlist_id(CHANNEL)
LOG_KEYS = {"platform", "method", "path", "status", "refused_for_overuse", "injected_fault"}


@pytest.fixture(autouse=True)
def _no_fault_environment(monkeypatch):
    # The tests say which profile and log they want; a developer's shell must not.
    monkeypatch.delenv("SOCIAL_SANDBOX_FAULTS", raising=False)
    monkeypatch.delenv("SOCIAL_SANDBOX_LOG", raising=False)
    monkeypatch.delenv("SOCIAL_SANDBOX_SCALE", raising=False)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "requests.jsonl"


def make_sandbox(log_path: Path | None = None, faults: str = "none") -> Sandbox:
    sandbox = Sandbox(clock=SandboxClock(NOW), faults=faults, log=str(log_path) if log_path else "")
    # Real time stands still: no rate-limit window or quota day ends in the middle of a test.
    sandbox.platforms["reddit"].wall_clock = lambda: WALL_CLOCK
    sandbox.platforms["youtube"].wall_clock = lambda: NOW.timestamp()
    return sandbox


def log_lines(path: Path) -> list[dict]:
    text = path.read_text() if path.exists() else ""
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def force(sandbox: Sandbox, kind: str) -> None:
    """The sandbox's next request gets `kind`, which must be one it can show."""
    real_draw = sandbox.faults.draw

    def draw(platform, key, kinds):
        sandbox.faults.draw = real_draw
        assert kind in kinds, f"{kind} cannot show on this request (kinds: {sorted(kinds)})"
        return kind

    sandbox.faults.draw = draw


class Reddit:
    """Talks to Reddit like the Reddit client: app-only token, then oauth.reddit.com."""

    def __init__(self, http: httpx.Client):
        self.http = http
        self.token = self.new_token()

    def new_token(self) -> str:
        for _ in range(10):  # the token endpoint can be throttled or fail under a fault profile
            response = self.http.post(
                "https://www.reddit.com/api/v1/access_token", auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
                data={"grant_type": "client_credentials"}, headers={"User-Agent": UA},
            )
            if response.status_code == 200:
                return response.json()["access_token"]
        raise AssertionError(f"no token: {response.status_code} {response.text}")

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(
            f"https://oauth.reddit.com{path}", params={"raw_json": "1", **params},
            headers={"User-Agent": UA, "Authorization": f"bearer {self.token}"},
        )


class YouTube:
    def __init__(self, http: httpx.Client):
        self.http = http

    def get(self, resource: str, **params) -> httpx.Response:
        return self.http.get(f"https://www.googleapis.com/youtube/v3/{resource}", params={**params, "key": SANDBOX_API_KEY})


def in_process(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(transport=SandboxTransport(sandbox))


@contextmanager
def served(sandbox: Sandbox, stall_seconds: float = 1.0, client_timeout: float = 0.3):
    """An httpx client that reaches `sandbox` over real HTTP on a loopback port."""
    server = make_server(sandbox, port=0, stall_seconds=stall_seconds)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    client = httpx.Client(transport=LoopbackSandboxTransport(f"http://{host}:{port}"), timeout=client_timeout)
    try:
        yield client
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
