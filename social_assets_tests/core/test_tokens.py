"""Token lifecycle against a fake OAuth token endpoint served over real HTTP: tokens cached until
shortly before expiry, shared by every cache of a credential (processes), refreshed once on a
401, rotated refresh tokens kept, nothing secret in the store, and a refusal that names the
variables to fix."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx
import pytest

from social_assets.core.errors import AuthError, TransientApiError
from social_assets.core.limits import OAuthClient, SharedState, SQLiteStore, TokenCache
from social_assets.core.limits.tokens import TOKEN_ATTEMPTS
from social_assets.platforms.reddit import PLATFORM as REDDIT
from social_assets.sandbox.app import LoopbackSandboxTransport
from social_assets_tests.clients import sandbox_client
from social_assets_tests.core.conftest import served_sandbox

CLIENT_ID, CLIENT_SECRET = "app-id-123", "app-secret-never-stored"
FIRST_REFRESH_TOKEN = "refresh-0-configured"


class TokenEndpoint:
    """A rotating-refresh-token OAuth server (TikTok-style): every refresh token works once."""

    def __init__(self, lifetime: int = 7200):
        self.lifetime = lifetime
        self.valid_refresh_tokens = {FIRST_REFRESH_TOKEN}
        self.grants: list[str] = []  # the refresh tokens spent, in order
        self.lock = threading.Lock()
        self.throttle_next = 0  # this many requests get a 429 first
        self.requests = 0

    def answer(self, authorization: str, form: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
            if self.throttle_next:
                self.throttle_next -= 1
                return 429, {"error": "too_many_requests"}
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != expected:
            return 401, {"error": "invalid_client"}
        with self.lock:
            token = form.get("refresh_token")
            if form.get("grant_type") != "refresh_token" or token not in self.valid_refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": f"refresh token {token} is not valid"}
            self.valid_refresh_tokens.discard(token)
            n = len(self.grants) + 1
            self.grants.append(token)
            self.valid_refresh_tokens.add(f"refresh-{n}")
        return 200, {"access_token": f"access-{n}", "token_type": "bearer", "expires_in": self.lifetime,
                     "refresh_token": f"refresh-{n}"}


@contextmanager
def serve(endpoint: TokenEndpoint):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            status, body = endpoint.answer(self.headers.get("authorization", ""), form)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.02), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oauth/token"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint():
    server = TokenEndpoint()
    with serve(server) as url:
        server.url = url
        yield server


@pytest.fixture
def shared(tmp_path) -> SharedState:
    return SharedState(SQLiteStore(tmp_path / "limits.sqlite"), "live/example/credentialhash")


def cache(endpoint, shared, clock, secret=CLIENT_SECRET, refresh_token=FIRST_REFRESH_TOKEN) -> TokenCache:
    client = OAuthClient("example", endpoint.url, CLIENT_ID, secret, variables=("EXAMPLE_CLIENT_SECRET", "EXAMPLE_REFRESH_TOKEN"))
    http = httpx.Client()
    return TokenCache("example", shared, secret, lambda refresh: client.refresh(http, refresh),
                      refresh_token=refresh_token, clock=clock)


def test_a_token_is_kept_until_shortly_before_it_expires_then_refreshed_with_the_rotated_token(endpoint, shared, clock):
    tokens = cache(endpoint, shared, clock)
    assert tokens.get() == "access-1" and tokens.get() == "access-1"
    assert endpoint.grants == [FIRST_REFRESH_TOKEN]
    clock.now += 7200 - 61  # a minute and a second before expiry: still good
    assert tokens.get() == "access-1"
    clock.now += 2
    assert tokens.get() == "access-2"
    # The endpoint rotated the refresh token; the configured one is spent and was not reused.
    assert endpoint.grants == [FIRST_REFRESH_TOKEN, "refresh-1"]


def test_every_cache_of_the_credential_shares_one_token_and_one_refresh(endpoint, shared, clock):
    caches = [cache(endpoint, shared, clock) for _ in range(6)]  # one per process, say
    got: list[str] = []
    threads = [threading.Thread(target=lambda c=c: got.append(c.get())) for c in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == ["access-1"] * 6 and endpoint.grants == [FIRST_REFRESH_TOKEN]
    # A 401 on access-1: the first cache to see it refreshes, the others take its token.
    assert caches[0].get(refused="access-1") == "access-2"
    assert caches[1].get(refused="access-1") == "access-2"
    assert endpoint.grants == [FIRST_REFRESH_TOKEN, "refresh-1"]
    # A cache started later (a new run) picks up the rotated refresh token, not the spent one.
    clock.now += 7200
    assert cache(endpoint, shared, clock).get() == "access-3"
    assert endpoint.grants == [FIRST_REFRESH_TOKEN, "refresh-1", "refresh-2"]


def test_the_store_holds_neither_the_secret_nor_a_usable_token(endpoint, shared, clock, tmp_path):
    tokens = cache(endpoint, shared, clock)
    tokens.get()
    rows = sqlite3.connect(tmp_path / "limits.sqlite").execute("SELECT key, value FROM limit_state").fetchall()
    assert [key for key, _ in rows] == ["live/example/credentialhash/token"]
    stored = rows[0][1]
    for secret in (CLIENT_SECRET, CLIENT_ID, "access-1", "refresh-1", FIRST_REFRESH_TOKEN):
        assert secret not in stored
    # Another secret cannot open it: it fetches its own token (and is refused, here).
    with pytest.raises(AuthError):
        cache(endpoint, shared, clock, secret="another-secret").get()


def test_a_refused_refresh_is_an_auth_error_naming_platform_and_variables(endpoint, shared, clock):
    tokens = cache(endpoint, shared, clock, refresh_token="refresh-revoked")
    with pytest.raises(AuthError) as refused:
        tokens.get()
    message = str(refused.value)
    assert message.startswith("example: POST") and "invalid_grant" in message
    assert "EXAMPLE_CLIENT_SECRET" in message and "EXAMPLE_REFRESH_TOKEN" in message
    assert "refresh-revoked" not in message and CLIENT_SECRET not in message
    # The lease was given back: a fixed configuration gets through at once.
    assert cache(endpoint, shared, clock).get() == "access-1"


def test_a_newer_configured_refresh_token_replaces_a_kept_one_that_was_revoked(endpoint, shared, clock):
    cache(endpoint, shared, clock).get()  # keeps refresh-1
    endpoint.valid_refresh_tokens = {"refresh-reauthorized"}  # the user authorized the app again
    clock.now += 7200
    tokens = cache(endpoint, shared, clock, refresh_token="refresh-reauthorized")
    assert tokens.get() == "access-2" and endpoint.grants[-1] == "refresh-reauthorized"
    clock.now += 7200  # and from then on the token it rotated to
    assert tokens.get() == "access-3" and endpoint.grants[-1] == "refresh-2"


def test_a_throttled_token_endpoint_is_retried_on_its_own_budget(endpoint):
    client = OAuthClient("example", endpoint.url, CLIENT_ID, CLIENT_SECRET, variables=("EXAMPLE_CLIENT_SECRET",))
    endpoint.throttle_next = TOKEN_ATTEMPTS - 1
    grant = client.refresh(httpx.Client(), FIRST_REFRESH_TOKEN)
    assert (grant.access_token, endpoint.requests, endpoint.grants) == ("access-1", TOKEN_ATTEMPTS, [FIRST_REFRESH_TOKEN])

    endpoint.throttle_next = TOKEN_ATTEMPTS  # throttled throughout: a transient error for the caller to retry
    with pytest.raises(TransientApiError, match="token endpoint unavailable"):
        client.refresh(httpx.Client(), "refresh-1")
    assert endpoint.requests == 2 * TOKEN_ATTEMPTS and endpoint.valid_refresh_tokens == {"refresh-1"}


def test_reddit_processes_share_one_app_token_through_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIAL_LIMIT_STORE", str(tmp_path / "shared.sqlite"))
    with served_sandbox() as served:
        clients = [sandbox_client(REDDIT, httpx.Client(transport=LoopbackSandboxTransport(served.url)))
                   for _ in range(3)]
        for client in clients:
            client.session.get("https://oauth.reddit.com/r/duckdb/about", params={"raw_json": "1"},
                                  headers={"User-Agent": "python:social_assets_tests:0.1 (by /u/tester)"})
    assert [path for _, _, path, _ in served.requests].count("/api/v1/access_token") == 1
    scope = clients[0].session.limiter.state.scope
    assert scope.startswith(f"sandbox@{served.url}/reddit/") and "sandbox-reddit" not in scope
    assert {c.session.limiter.state.scope for c in clients} == {scope}
