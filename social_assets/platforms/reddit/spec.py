"""Reddit's API as the seam sees it: where it is, its auth, limits, errors and capabilities,
and what a source of it is. App-only tokens come from the client credentials grant and are
shared (sealed) by every process using the client id (`core.limits.tokens`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from http import HTTPStatus
from typing import Any, Literal

import httpx
from pydantic import model_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import Envelope, ErrorKind, ErrorTable, rule
from social_assets.core.limits import LimitPolicy, WindowHeaders, WindowLimit
from social_assets.platforms.base import SourceConfig

PLATFORM = "reddit"
API_BASE = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
CREDENTIAL_VARS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")
USER_AGENT_VAR = "REDDIT_USER_AGENT"
# Reddit asks for `<platform>:<app id>:<version> (by /u/<name>)`; set REDDIT_USER_AGENT for live use.
DEFAULT_USER_AGENT = "python:social_assets:0.1 (sandbox; set REDDIT_USER_AGENT)"
SORTS = ("new", "hot", "top", "rising")
# The `t` periods of a `top` listing, shortest first.
TOP_PERIODS: dict[str, timedelta | None] = {
    "hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1), "month": timedelta(days=30),
    "year": timedelta(days=365), "all": None}
INFO_BATCH = 100  # fullnames per /api/info call, Reddit's maximum


class RedditSource(SourceConfig):
    """One subreddit or one user, e.g. `{subreddit: python}` or `{user: spez, sort: top}`."""

    subreddit: str | None = None
    user: str | None = None
    sort: Literal["new", "hot", "top", "rising"] | None = None

    @model_validator(mode="after")
    def _one_account(self) -> "RedditSource":
        if (self.subreddit is None) == (self.user is None):
            raise ValueError("a Reddit source needs exactly one of 'subreddit' or 'user'")
        name = self.subreddit or self.user or ""
        if not name or "/" in name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"Reddit name {name!r} is not valid: give the bare name, e.g. 'python', not 'r/python'")
        if self.user is not None and self.sort == "rising":
            raise ValueError("sort 'rising' exists only for subreddits; use new, hot or top for a user")
        return self

    @property
    def account_id(self) -> str:
        return f"r/{self.subreddit}" if self.subreddit else f"u/{self.user}"

    @property
    def listing_sort(self) -> str:
        return self.sort or SORTS[0]


def endpoint_of(method: str, url: str) -> str:
    """Endpoints without the names and ids in their paths, so each has one breaker."""
    parts = [p for p in httpx.URL(url).path.split("/") if p]
    match parts:
        case ["r", _, "comments", *rest]:
            template = "/r/{sub}/comments/{post}" + ("/_/{comment}" if len(rest) > 2 else "")
        case ["r", _, *rest]:
            template = "/".join(["/r/{sub}", *rest])
        case ["user", _, *rest]:
            template = "/".join(["/user/{name}", *rest])
        case ["comments", _, _, _]:
            template = "/comments/{post}/_/{comment}"
        case ["comments", _]:
            template = "/comments/{post}"
        case _:
            template = "/" + "/".join(parts)
    return f"{method} {template}"


# About 1000 calls per client id per 10-minute window, reported in `X-Ratelimit-*` (PLATFORMS.md
# §1), the defaults until the first response's headers tell; a tenth may go at once, the rest
# spread to the reset, as prawcore does.
RATE_LIMIT_HEADERS = WindowHeaders(
    used="x-ratelimit-used", remaining="x-ratelimit-remaining", reset="x-ratelimit-reset", reset_is_epoch=False
)
LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(WindowLimit("calls", limit=1000, window=600, burst_share=0.1, headers=RATE_LIMIT_HEADERS),),
    endpoint=endpoint_of,
)


_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_STATUS_OF_PHRASE = {status.phrase: status.value for status in HTTPStatus}


def envelope(body: Any) -> Envelope | None:
    """Reddit's errors: `{"message": "Forbidden", "error": 403, "reason": "quarantined"}`; a bare
    `{"error": 403}` (its message: the status's phrase); `{"message": "Bad Request", "reason":
    "USER_DOESNT_EXIST", "explanation": ...}` (the status only named by its phrase); the token
    endpoint's `{"error": "invalid_grant"}`; a write endpoint's `{"json": {"errors": [[CODE,
    message, field], ...]}}`. Fields of unexpected types (`{"error": {"code": 404}}`) still make
    an error, with what can be read. Things and Listings (`kind`, `data`) are never errors."""
    if not isinstance(body, dict) or "kind" in body or "data" in body:
        return None
    if isinstance(body.get("json"), dict):
        errors = body["json"].get("errors")
        if not (isinstance(errors, list) and errors):
            return None
        first = errors[0] if isinstance(errors[0], list) else [errors[0]]
        return Envelope(code=str(first[0]), message=str(first[1]) if len(first) > 1 else "")
    if "error" not in body and not ("reason" in body and "explanation" in body):
        return None
    error, message, reason, explanation = (body.get(key) for key in ("error", "message", "reason", "explanation"))
    if isinstance(error, bool) or not isinstance(error, (int, str, type(None))) or not all(
            isinstance(text, (str, type(None))) for text in (message, reason, explanation)):
        code = error.get("code") if isinstance(error, dict) else error
        code = None if isinstance(code, bool) or not isinstance(code, (int, str)) else code
        keys = ", ".join(str(key) for key in list(body)[:5])
        return Envelope(code=None if code is None else str(code), message=f"malformed error envelope (keys: {keys})")
    code = error if error is not None else _STATUS_OF_PHRASE.get(message or "")
    return Envelope(code=None if code is None else str(code), reasons=frozenset([reason]) if reason else frozenset(),
                    message=explanation or message or _PHRASES.get(error, ""))


ERRORS = ErrorTable(
    envelope=envelope,
    # A write endpoint's errors come back with 200 (morechildren with bad ids); other statuses
    # mean what `core.errors.STATUS_KINDS` says (403: permission, as for a quarantined subreddit).
    rules=(rule(ErrorKind.INVALID, statuses=[200], codes=["INVALID_ID", "TOO_MANY_IDS", "BAD_NUMBER", "NO_THING_ID"]),),
)


API = ApiSpec(
    base_url=API_BASE,
    auth=(Auth(AuthKind.CLIENT_CREDENTIALS, CREDENTIAL_VARS, token_url=TOKEN_URL, scheme="bearer"),),
    limits=LIMITS,
    errors=ERRORS,
    # REDDIT_USER_AGENT is not a credential, so it may come from the environment directly.
    headers={"User-Agent": os.environ.get(USER_AGENT_VAR) or DEFAULT_USER_AGENT},
)


CAPABILITIES = Capabilities(comments=True, max_depth=None, sorts=SORTS, batch_lookup=INFO_BATCH)
