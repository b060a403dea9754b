"""An app-password session is optional, reused across runs and processes, renewed with
refreshSession, and never a login per run (logins are limited to 10 a day)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_assets.connections import connect
from social_assets.core.errors import AuthError
from social_assets.platforms import PLATFORMS
from social_assets.platforms.bluesky.spec import BlueskySource
from social_assets.sandbox.app import Sandbox, make_server
from social_assets.sandbox.platforms.bluesky import SANDBOX_APP_PASSWORD, SANDBOX_HANDLE
from social_assets.sandbox.world import SandboxClock

PLATFORM = PLATFORMS["bluesky"]
SESSION = {"BLUESKY_HANDLE": SANDBOX_HANDLE, "BLUESKY_APP_PASSWORD": SANDBOX_APP_PASSWORD}
SOURCE = BlueskySource(actor="bsky.app")
# One run of a process: a profile read through a fresh connection, as the pipeline builds it.
RUN = """
import json, sys
from social_assets.connections import connect
from social_assets.platforms import PLATFORMS
from social_assets.platforms.bluesky.spec import BlueskySource
landed = []
connection = connect(PLATFORMS["bluesky"], environ=json.loads(sys.argv[2]), sandbox_url=sys.argv[1])
connection.client(BlueskySource(actor="bsky.app"), landed.append).get(
    "/xrpc/app.bsky.actor.getProfile", params={"actor": "bsky.app"}, land_as="profiles")
print(landed[0].endpoint)
"""


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A sandbox over real HTTP, its request log, and a SQLite limit store shared by processes."""
    monkeypatch.setenv("SOCIAL_LIMIT_STORE", str(tmp_path / "limits.sqlite"))
    log = tmp_path / "requests.jsonl"
    sandbox = Sandbox(clock=SandboxClock(datetime(2026, 11, 20, 3, tzinfo=timezone.utc)), faults="none", log=str(log),
                      credentials={})
    server = make_server(sandbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield sandbox, f"http://127.0.0.1:{server.server_port}", log
    server.shutdown()
    server.server_close()


def one_run(url: str, environ: dict[str, str]) -> str:
    landed: list = []
    connection = connect(PLATFORM, environ=environ, sandbox_url=url)
    try:
        connection.client(SOURCE, landed.append).get(
            "/xrpc/app.bsky.actor.getProfile", params={"actor": "bsky.app"}, land_as="profiles")
    finally:
        connection.close()
    return landed[0].endpoint


def session_calls(log: Path) -> list[str]:
    paths = [json.loads(line)["path"] for line in log.read_text().splitlines()]
    return [p.rsplit(".", 1)[-1] for p in paths if "com.atproto.server" in p]


def test_two_runs_in_two_processes_log_in_once(served):
    sandbox, url, log = served
    assert one_run(url, SESSION) == "https://bsky.social/xrpc/app.bsky.actor.getProfile"  # a session goes to the entryway
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    second = subprocess.run([sys.executable, "-c", RUN, url, json.dumps(SESSION)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "https://bsky.social/xrpc/app.bsky.actor.getProfile"
    assert one_run(url, SESSION) == "https://bsky.social/xrpc/app.bsky.actor.getProfile"
    assert session_calls(log) == ["createSession"]
    assert sum(sandbox.platforms["bluesky"].logins.values()) == 1


def test_an_expired_session_is_refreshed_not_logged_in_again(served):
    sandbox, url, log = served
    one_run(url, SESSION)
    emulation = sandbox.platforms["bluesky"]
    # Three hours on for the server's tokens (not its rate-limit clock): the 2-hour access token is over.
    emulation.tokens._clock = lambda: time.time() + 3 * 3600
    one_run(url, SESSION)
    one_run(url, SESSION)
    assert session_calls(log) == ["createSession", "refreshSession"]


def test_without_credentials_the_public_appview_is_used(served):
    _, url, log = served
    assert one_run(url, {}) == "https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile"
    assert session_calls(log) == []


def test_a_refused_login_names_the_variables_and_never_the_password(served):
    _, url, log = served
    with pytest.raises(AuthError) as raised:
        one_run(url, {**SESSION, "BLUESKY_APP_PASSWORD": "not-the-app-password-123"})
    message = str(raised.value)
    assert "BLUESKY_HANDLE" in message and "BLUESKY_APP_PASSWORD" in message and "AuthenticationRequired" in message
    assert "not-the-app-password-123" not in message
    assert session_calls(log) == ["createSession"]  # a refusal is not retried


def test_a_spent_login_limit_pauses_until_its_reset_instead_of_retrying(served):
    from social_assets.core.errors import QuotaExhaustedError

    sandbox, url, log = served
    emulation = sandbox.platforms["bluesky"]
    day = int(time.time() // 86400)
    emulation.logins[(SANDBOX_HANDLE, day)] = 10  # ten logins today already (elsewhere)
    with pytest.raises(QuotaExhaustedError) as raised:
        one_run(url, SESSION)
    assert raised.value.resets_at == datetime.fromtimestamp((day + 1) * 86400, timezone.utc)
    assert session_calls(log) == ["createSession"]  # one refused login, not a retry storm
