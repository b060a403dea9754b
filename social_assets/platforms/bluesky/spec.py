"""Bluesky (AT Protocol XRPC) as the seam sees it: the public AppView without credentials, or
an app-password session, the `RateLimit-*` window, the XRPC error envelope, and actors
(handles or DIDs) as sources.

Every call is `GET {host}/xrpc/{nsid}`. Without credentials the calls go to the public AppView
(https://public.api.bsky.app), which needs none for public reads. With `BLUESKY_HANDLE` and
`BLUESKY_APP_PASSWORD` set, a session is opened at the entryway (https://bsky.social,
`com.atproto.server.createSession`) and its calls go there. Logins have their own tiny limit
(10 a day per account, PLATFORMS.md §9), so a session is kept sealed in the shared token store
and reused by every run and process until its access token nears expiry; it is then renewed
with `refreshSession` (the refresh token), and a new login happens only when that is refused.

Limits: 3000 calls per 5 minutes (`RateLimit-Policy: 3000;w=300`), reported on every answer
in `RateLimit-Limit/-Remaining/-Reset`, the reset an absolute epoch second.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import httpx
from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import AuthError, Envelope, ErrorKind, ErrorTable, QuotaExhaustedError, TransientApiError, rule
from social_assets.core.limits import LimitPolicy, TokenGrant, WindowHeaders, WindowLimit
from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.base import SourceConfig

PLATFORM = "bluesky"
APPVIEW = "https://public.api.bsky.app"
ENTRYWAY = "https://bsky.social"
SESSION_VARIABLES = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
GET_POSTS_BATCH = 25  # URIs per app.bsky.feed.getPosts call (lexicon maximum)

# A handle is a domain name (RFC 1035 labels, at least two); a DID names the method and its id.
HANDLE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")


class BlueskySource(SourceConfig):
    """One account by handle or DID, e.g. `{actor: bsky.app}` or `{actor: did:plc:z72i7hdynmk6r22z27h6tvur}`."""

    actor: str

    @field_validator("actor")
    @classmethod
    def _handle_or_did(cls, value: str) -> str:
        if value.startswith("did:"):
            if not DID.match(value):
                raise ValueError(f"actor {value!r} is not a valid DID, e.g. 'did:plc:z72i7hdynmk6r22z27h6tvur'")
            return value
        if value.startswith("@") or not HANDLE.match(value) or len(value) > 253:
            raise ValueError(f"actor {value!r} is not a Bluesky handle or DID: give e.g. 'bsky.app' (no '@') or 'did:plc:...'")
        return value.lower()  # handles are case-insensitive

    @property
    def account_id(self) -> str:
        return self.actor


# -- the session ------------------------------------------------------------------------------


def _expires_in(jwt: str) -> float | None:
    """Seconds until a JWT's `exp` claim (read, not verified: the server verifies it)."""
    try:
        payload = jwt.split(".")[1]
        exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
        return max(0.0, float(exp) - time.time())
    except (IndexError, KeyError, TypeError, ValueError):
        return None  # not a JWT we can read: the token cache assumes an hour


def _session_call(http: httpx.Client, path: str, **kwargs: Any) -> TokenGrant:
    url = f"{ENTRYWAY}{path}"
    try:
        response = http.post(url, **kwargs)
    except httpx.TransportError as exc:
        raise TransientApiError(PLATFORM, "POST", url, None, type(exc).__name__) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), str) else None
    if response.status_code == 429:
        # The login window (10 a day) is spent: waiting belongs to the next run, not this one.
        reset = response.headers.get("ratelimit-reset")
        resets_at = from_epoch_seconds(float(reset)) if reset and reset.isdigit() else None
        raise QuotaExhaustedError(PLATFORM, "POST", url, 429, "the session login limit is spent", resets_at=resets_at)
    if response.status_code >= 500 or (response.is_success and not body):
        # Unavailable, or a success cut short on the way: worth another try.
        raise TransientApiError(PLATFORM, "POST", url, response.status_code, error or "session endpoint unavailable")
    access, refresh = body.get("accessJwt"), body.get("refreshJwt")
    if response.is_error or not isinstance(access, str) or not access:
        # Never the message: it may echo the identifier. The variables are named instead.
        raise AuthError(PLATFORM, "POST", url, response.status_code,
                        f"{path.rsplit('.', 1)[-1]} refused ({error or 'no accessJwt'}); check "
                        f"{' and '.join(SESSION_VARIABLES)} (or the source's own credential variables)")
    return TokenGrant(access, _expires_in(access), refresh if isinstance(refresh, str) else None)


def create_session(http: httpx.Client, values: tuple[str, ...]) -> TokenGrant:
    identifier, password = values
    return _session_call(http, CREATE_SESSION, json={"identifier": identifier, "password": password})


def refresh_session(http: httpx.Client, refresh_jwt: str) -> TokenGrant:
    return _session_call(http, REFRESH_SESSION, headers={"Authorization": f"Bearer {refresh_jwt}"})


# -- limits and errors ------------------------------------------------------------------------

RATE_LIMIT_HEADERS = WindowHeaders(
    remaining="ratelimit-remaining", reset="ratelimit-reset", reset_is_epoch=True, limit="ratelimit-limit"
)
LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(WindowLimit("calls", limit=3000, window=300, burst_share=0.1, headers=RATE_LIMIT_HEADERS),),
)


def envelope(body: Any) -> Envelope | None:
    """XRPC errors: `{"error": "InvalidRequest", "message": "..."}` (the message is optional)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), str) or set(body) - {"error", "message"}:
        return None
    message = body.get("message")
    return Envelope(code=body["error"], message=message if isinstance(message, str) else "")


ERRORS = ErrorTable(
    envelope=envelope,
    rules=(
        # An expired or revoked access token is a 400 ExpiredToken / InvalidToken: get a new one.
        rule(ErrorKind.AUTH, statuses=[400, 401], codes=["ExpiredToken", "InvalidToken", "AuthMissing",
                                                         "AuthenticationRequired", "AuthRequired"]),
        rule(ErrorKind.THROTTLED, statuses=[429]),
        rule(ErrorKind.NOT_FOUND, statuses=[400, 404], codes=["NotFound"]),
        rule(ErrorKind.PERMISSION, statuses=[400, 403], codes=["BlockedActor", "BlockedByActor",
                                                               "AccountTakedown", "AccountDeactivated"]),
    ),
)

API = ApiSpec(
    base_url=APPVIEW,
    # A session when its credentials are set; else the public AppView, which needs none.
    auth=(
        Auth(AuthKind.SESSION, SESSION_VARIABLES, login=create_session, resume=refresh_session, base_url=ENTRYWAY),
        Auth(AuthKind.NONE),
    ),
    limits=LIMITS,
    errors=ERRORS,
)

CAPABILITIES = Capabilities(comments=True, max_depth=None, sorts=(), batch_lookup=GET_POSTS_BATCH)
