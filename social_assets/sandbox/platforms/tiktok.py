"""Emulation of TikTok's Display API v2 and Research API over the synthetic world: routes and
renderers (tokens, paging helpers and fault shaping are the engine's), on `open.tiktokapis.com`,
in the documented shapes (the hand-written files in social_assets_tests/platforms/tiktok/documented).

- `POST /v2/oauth/token/` (form, `client_key` and `client_secret`): `grant_type=refresh_token`
  for the Display app, where each refresh token works once and the answer carries its successor
  (rotation; the configured one is always accepted, as after a new authorization), and
  `grant_type=client_credentials` for the Research app. Refusals are OAuth's `{"error",
  "error_description", "log_id"}`. `refreshes` lists every refresh token presented, for tests;
- Display, with a user token (a Research token is refused 401 `scope_not_authorized`):
  `GET /v2/user/info/`, `POST /v2/video/list/` (`max_count` 1-20, `cursor` in the JSON body:
  the oldest video's time in ms, the sandbox adding its index of the day so videos of one
  second stay apart; `has_more`) and `POST /v2/video/query/` (`filters.video_ids`, at most 20;
  another account's, a deleted or an unknown id is left out);
- Research, with a client token: `POST /v2/research/video/comment/list/` with `video_id` (the
  video's comments) or `comment_id` (the replies of a comment's thread), never both;
  `max_count` up to 100 (default 10), `cursor` an offset. Ids are int64 numbers; a top-level
  comment's `parent_comment_id` is its video, a reply's its thread's comment;
- every answer is `{"data", "error": {"code", "message", "log_id"}}`, only the `fields` asked
  for; `invalid_params` 400 for a wrong body.

The refresh token authorizes the catalog's first account (`dagster_tok`). Limits: 600
requests per minute per token and endpoint, a sliding window (429 `rate_limit_exceeded`, no
headers); Research: 1,000 requests per day per client, reset 00:00 UTC (429
`daily_quota_limit_exceeded`).

Faults: `429_burst` (`rate_limit_exceeded`), `5xx` (500 `internal_error`), `expired_token` (401
`access_token_invalid`), `duplicate_items` (a `video/list` or comment page with a cursor starts
one item early), `field_missing` / `field_renamed` (`create_time` -> `createTime`, one video or
comment), and the wire faults.

Not emulated: accounts other than the first one authorizing the app, scopes (every token has
them all), the Research API's video and user queries and its data delay, comment ordering,
deleted comments, cover URLs that really expire, `union_id` across apps.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Mapping

from social_assets.platforms.tiktok.spec import (
    CALLS_PER_MINUTE,
    PAGE_SIZE,
    RESEARCH_DAILY_REQUESTS,
    RESEARCH_LIMITS,
    RESEARCH_PAGE_SIZE,
)
from social_assets.sandbox.engine import (
    AUTH,
    QUOTA,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    FieldFault,
    Meter,
    Quota,
    b64,
    bearer,
    decode_uid,
    digest,
    encode_uid,
)
from social_assets.sandbox.faults import DUPLICATE_ITEMS, RATE_LIMITED, SERVER_ERROR
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import CommentTree, World, WorldAccount, WorldComment, WorldPost

PLATFORM = "tiktok"
CREDENTIALS = {
    "TIKTOK_CLIENT_KEY": "sbxtiktokdisplaykey",
    "TIKTOK_CLIENT_SECRET": "sandbox-tiktok-display-secret",
    "TIKTOK_REFRESH_TOKEN": "rft.sandbox-tiktok-refresh-token",
    "TIKTOK_RESEARCH_CLIENT_KEY": "sbxtiktokresearchkey",
    "TIKTOK_RESEARCH_CLIENT_SECRET": "sandbox-tiktok-research-secret",
}
TOKEN_PATH = "/v2/oauth/token/"
COMMENT_PATH = "/v2/research/video/comment/list/"
DISPLAY_PATHS = ("/v2/user/info/", "/v2/video/list/", "/v2/video/query/")
VIDEO_BASE, COMMENT_BASE = 7_000_000_000_000_000_000, 7_200_000_000_000_000_000  # int64 ids, 19 digits
COVER_LIFETIME = timedelta(hours=6)


def _envelope(data: Any, code: str = "ok", message: str = "") -> dict[str, Any]:
    log_id = f"2026{digest('log', code, json.dumps(data, sort_keys=True)[:200]) % 10**26:026d}"
    return {"data": data, "error": {"code": code, "message": message, "log_id": log_id}}


def _error(status: int, code: str, message: str) -> ErrorAnswer:
    return ErrorAnswer(status, _envelope({}, code, message))


def _oauth_error(code: str, description: str) -> SandboxResponse:
    return SandboxResponse(400, {"error": code, "error_description": description, "log_id": "20261120030000SANDBOX"})


class _Invalid(Exception):
    def __init__(self, message: str):
        self.response = _error(400, "invalid_params", message).response()


# -- ids --------------------------------------------------------------------------------------


def video_id(post: WorldPost) -> int:
    return VIDEO_BASE + int.from_bytes(encode_uid(post.uid, 7, "tiktok-video"), "big")


def comment_id(comment: WorldComment) -> int:
    return COMMENT_BASE + int.from_bytes(encode_uid(comment.uid, 7, "tiktok-comment"), "big")


def _uid(value: Any, base: int, label: str) -> int | None:
    try:
        number = int(value) - base
    except (TypeError, ValueError):
        return None
    return decode_uid(number.to_bytes(7, "big"), label) if 0 <= number < 2**56 else None


def _cursor(post: WorldPost) -> int:
    return int(post.published_at.timestamp()) * 1000 + post.index


# -- limits -----------------------------------------------------------------------------------


@dataclass
class SlidingLog:
    """`limit` calls in any `seconds` per key, refused calls counted (TikTok saw them)."""

    limit: int
    seconds: int
    _calls: dict[str, deque] = field(default_factory=dict)

    refusal: ClassVar[str] = THROTTLED
    charges_refusals: ClassVar[bool] = True

    def used(self, key: str, now: float) -> int:
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - self.seconds:
            calls.popleft()
        return len(calls)

    def charge(self, key: str, now: float, units: int) -> None:
        self.used(key, now)
        self._calls[key].extend([now] * units)

    def spent(self, key: str, now: float) -> bool:
        return self.used(key, now) >= self.limit

    def headers(self, key: str, now: float) -> dict[str, str]:
        return {}  # TikTok documents no rate-limit headers


class TikTokMeter(Meter):
    """Display calls meet the sliding window (keys `user|...`), Research calls the daily quota."""

    def __init__(self) -> None:
        super().__init__(None)
        self.windows = [SlidingLog(CALLS_PER_MINUTE, 60)]
        self.quotas = [Quota(RESEARCH_DAILY_REQUESTS, RESEARCH_LIMITS.limits[0])]

    def _of(self, key: str) -> list:
        return self.quotas if key.startswith("research|") else self.windows

    def refusal(self, key: str, now: float):
        return next((limit for limit in self._of(key) if limit.spent(key, now)), None)

    def charge(self, key: str, now: float, units: int, refused_by=None) -> None:
        for limit in self._of(key):
            if refused_by is None or limit.charges_refusals:
                limit.charge(key, now, units)

    def headers(self, key: str, now: float) -> dict[str, str]:
        return {}


# -- the emulation ----------------------------------------------------------------------------


class TikTokEmulation(Emulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = ("open.tiktokapis.com",)
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("user", "dagster_tok"), ("user", "tiktok_brand"),
        *(("user", f"sbx_tiktok_user_{n:02d}") for n in range(1, 49)),  # for scaling tests
    )
    credentials = CREDENTIALS
    bearer_tokens = True
    token_lifetime = 7200  # the 2026 docs: access tokens last 2 hours (older page: 24 h)
    errors = {
        THROTTLED: (_error(429, "rate_limit_exceeded", "API rate limit exceeded, please retry later."),),
        TRANSIENT: (_error(500, "internal_error", "Something went wrong. Please try again later."),),
        QUOTA: (_error(429, "daily_quota_limit_exceeded", "The daily quota of the Research API is spent."),),
        AUTH: (_error(401, "access_token_invalid", "The access token is invalid or not found in the request."),),
    }
    faulted_fields = {"posts": FieldFault(("create_time",), "createTime"),
                      "comments": FieldFault(("create_time",), "createTime")}

    def __init__(self, world: World, configured: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self.meter = TikTokMeter()
        self.refreshes: list[str] = []  # every refresh token presented, in order
        self._spent_refresh_tokens: set[str] = set()
        accounts = world.accounts(PLATFORM)
        self.authorized: WorldAccount | None = accounts[0] if accounts else None

    # -- the engine's hooks -----------------------------------------------------------------

    def authenticate(self, request: SandboxRequest) -> str | None | SandboxResponse:
        if request.path == TOKEN_PATH:
            return None  # the token endpoint is not metered
        subject = self.tokens.subject(bearer(request))
        if subject is None:
            return self.error(AUTH)
        research = request.path == COMMENT_PATH
        if subject.startswith("research|") != research:
            return _error(401, "scope_not_authorized", "The token is not authorized for this endpoint.").response()
        return subject if research else f"{subject} {request.path}"  # Display: a window per endpoint

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if request.path == TOKEN_PATH:
            return frozenset({RATE_LIMITED, SERVER_ERROR})
        kinds = super().fault_kinds(request)
        try:
            paged = bool(_body(request).get("cursor"))
        except _Invalid:
            paged = False
        return kinds | {DUPLICATE_ITEMS} if paged else kinds

    def resource_of(self, request: SandboxRequest) -> str | None:
        if request.path in ("/v2/video/list/", "/v2/video/query/"):
            return "posts"
        return "comments" if request.path == COMMENT_PATH else None

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        data = body.get("data") if isinstance(body, dict) else None
        items = (data.get("videos") or data.get("comments")) if isinstance(data, dict) else None
        return items if isinstance(items, list) else []

    def route(self, request: SandboxRequest) -> SandboxResponse:
        try:
            if request.method == "POST" and request.path == TOKEN_PATH:
                return self._token(request.form())
            fields = {f for f in (request.param("fields") or "").split(",") if f}
            match (request.method, request.path):
                case ("GET", "/v2/user/info/"):
                    return self.ok(_envelope({"user": self._user(fields)}))
                case ("POST", "/v2/video/list/"):
                    return self._list(request, fields)
                case ("POST", "/v2/video/query/"):
                    return self._query(request, fields)
                case ("POST", "/v2/research/video/comment/list/"):
                    return self._comments(request, fields)
        except _Invalid as invalid:
            return invalid.response
        return _error(404, "invalid_params", f"{request.method} {request.path} is not an endpoint").response()

    # -- auth -------------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> SandboxResponse:
        key, secret, grant = form.get("client_key", ""), form.get("client_secret", ""), form.get("grant_type")
        if grant == "client_credentials":
            if not self.accepted.accepts(TIKTOK_RESEARCH_CLIENT_KEY=key, TIKTOK_RESEARCH_CLIENT_SECRET=secret):
                return _oauth_error("invalid_client", "Client key or secret is incorrect.")
            token = self.tokens.issue(f"research|{key}", self.token_lifetime)
            return self.ok({"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"})
        if not self.accepted.accepts(TIKTOK_CLIENT_KEY=key, TIKTOK_CLIENT_SECRET=secret):
            return _oauth_error("invalid_client", "Client key or secret is incorrect.")
        offered = form.get("refresh_token", "")
        self.refreshes.append(offered)
        seed = self.accepted.accepts(TIKTOK_CLIENT_KEY=key, TIKTOK_REFRESH_TOKEN=offered)
        issued = self.tokens.subject(offered) == f"refresh|{key}" and offered not in self._spent_refresh_tokens
        if grant != "refresh_token" or not (seed or issued) or self.authorized is None:
            return _oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        if issued:
            self._spent_refresh_tokens.add(offered)  # rotation: a refresh token works once
        return self.ok({
            "access_token": self.tokens.issue(f"user|{self.authorized.handle}", self.token_lifetime),
            "expires_in": self.token_lifetime, "open_id": self._open_id(self.authorized),
            "refresh_expires_in": 180 * 86400, "refresh_token": self.tokens.issue(f"refresh|{key}", 180 * 86400),
            "scope": "user.info.basic,user.info.profile,user.info.stats,video.list", "token_type": "Bearer",
        })

    # -- Display ----------------------------------------------------------------------------

    @staticmethod
    def _open_id(account: WorldAccount) -> str:
        return f"-000{b64(digest('tiktok-open-id', account.handle).to_bytes(8, 'big'))}"

    def _user(self, fields: set[str]) -> dict[str, Any]:
        account, now = self.authorized, self.world.now()
        days = max(1, (now - account.created_at).days)
        user = {
            "open_id": self._open_id(account),
            "union_id": f"c9c{digest('tiktok-union', account.handle) % 10**12:012d}",
            "avatar_url": f"https://p16-sign.tiktokcdn-us.com/tos-useast5-avt-0068-tx/{digest('avatar', account.handle):x}.jpeg",
            "display_name": account.display_name,
            "bio_description": f"The {account.display_name} account (sandbox).",
            "profile_deep_link": f"https://vm.tiktok.com/{b64((digest('link', account.handle) % 2**48).to_bytes(6, 'big'))}/",
            "is_verified": account.number % 3 == 0,
            "username": account.handle,
            "follower_count": account.followers(now),
            "following_count": 40 + digest("following", account.handle) % 700,
            "likes_count": int(account.followers(now) * 3.5),
            "video_count": int(account.posts_per_day * days),
        }
        return {k: v for k, v in user.items() if k in fields}

    def _video(self, post: WorldPost, fields: set[str]) -> dict[str, Any]:
        now, vid = self.world.now(), video_id(post)
        expires = int((now + COVER_LIFETIME).timestamp())
        video = {
            "id": str(vid),
            "create_time": int(post.published_at.timestamp()),
            "title": post.title,
            "video_description": f"{post.title} {post.body} #sandbox".strip(),
            "duration": 5 + digest("duration", post.uid) % 175,
            "cover_image_url": (f"https://p16-sign.tiktokcdn-us.com/obj/tos-useast5-p-0068-tx/{vid:x}?x-expires={expires}"
                                f"&x-signature={b64(digest('cover', post.uid, expires).to_bytes(8, 'big'))}"),
            "share_url": f"https://www.tiktok.com/@{post.account.handle}/video/{vid}",
            "embed_link": f"https://www.tiktok.com/player/v1/{vid}",
            "like_count": post.likes(now),
            "comment_count": self.world.comment_count(post, now),
            "share_count": post.shares(now),
            "view_count": post.views(now),
        }
        return {k: v for k, v in video.items() if k in fields}

    def _list(self, request: SandboxRequest, fields: set[str]) -> SandboxResponse:
        body = _body(request)
        size, cursor = body.get("max_count", 10), body.get("cursor")
        if type(size) is not int or not 1 <= size <= PAGE_SIZE:
            raise _Invalid(f"max_count must be an integer from 1 to {PAGE_SIZE}")
        if cursor is not None and type(cursor) is not int:
            raise _Invalid("cursor must be an int64")
        page, more = [], False
        for post in self.world.iter_posts_newest_first(self.authorized):
            key = _cursor(post)
            if cursor is not None and (key > cursor or key == cursor and not request.overlap):
                continue
            if len(page) == size:
                more = True
                break
            page.append(post)
        next_cursor = _cursor(page[-1]) if page else (cursor or 0)
        response = self.ok(_envelope({"videos": [self._video(p, fields) for p in page],
                                      "cursor": next_cursor, "has_more": more}))
        overlapped = bool(request.overlap and cursor is not None and page and _cursor(page[0]) == cursor)
        response.injected_fault = DUPLICATE_ITEMS if overlapped else None
        return response

    def _query(self, request: SandboxRequest, fields: set[str]) -> SandboxResponse:
        filters = _body(request).get("filters")
        ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= PAGE_SIZE:
            raise _Invalid(f"filters.video_ids must list 1 to {PAGE_SIZE} video ids")
        found = []
        for asked in ids:
            uid = _uid(asked, VIDEO_BASE, "tiktok-video")
            post = self.world.post_by_uid(PLATFORM, uid) if uid is not None else None
            if post is not None and post.account == self.authorized and str(video_id(post)) == str(asked):
                found.append(self._video(post, fields))
        return self.ok(_envelope({"videos": found}))

    # -- Research ---------------------------------------------------------------------------

    def _comments(self, request: SandboxRequest, fields: set[str]) -> SandboxResponse:
        body = _body(request)
        size, cursor = body.get("max_count", 10), body.get("cursor", 0)
        if ("video_id" in body) == ("comment_id" in body):
            raise _Invalid("Request either video_id or comment_id, not both")
        if type(size) is not int or not 1 <= size <= RESEARCH_PAGE_SIZE or type(cursor) is not int or cursor < 0:
            raise _Invalid(f"max_count must be 1 to {RESEARCH_PAGE_SIZE} and cursor a non-negative int64")
        comments, video, tree = self._thread(body)
        start = max(0, cursor - request.overlap)
        page = comments[start : start + size]
        rendered = [self._comment(c, video, tree, fields) for c in page]
        response = self.ok(_envelope({"comments": rendered, "cursor": start + len(page),
                                      "has_more": start + len(page) < len(comments)}))
        response.injected_fault = DUPLICATE_ITEMS if start < cursor and page else None
        return response

    def _thread(self, body: dict) -> tuple[list[WorldComment], WorldPost | None, CommentTree | None]:
        """The comments asked for (a video's top level, or a thread's replies), oldest first."""
        if "video_id" in body:
            uid = _uid(body["video_id"], VIDEO_BASE, "tiktok-video")
            post = self.world.post_by_uid(PLATFORM, uid) if uid is not None else None
            if post is None or video_id(post) != body["video_id"]:
                return [], None, None
            tree = CommentTree(self.world.comments(post))
            return tree.top_level, post, tree
        uid = _uid(body["comment_id"], COMMENT_BASE, "tiktok-comment")
        comment = self.world.comment_by_uid(PLATFORM, uid) if uid is not None else None
        if comment is None or comment_id(comment) != body["comment_id"] or comment.parent_index is not None:
            return [], None, None  # a reply has no thread of its own
        tree = CommentTree(self.world.comments(comment.post))
        return sorted(tree.descendants(comment), key=lambda c: c.index), comment.post, tree

    def _comment(self, comment: WorldComment, post: WorldPost, tree: CommentTree, fields: set[str]) -> dict[str, Any]:
        now, thread = self.world.now(), comment
        existing = self.world.comments(post)
        while thread.parent_index is not None:  # a reply's parent is its thread's comment
            thread = existing[thread.parent_index]
        item = {
            "id": comment_id(comment),
            "video_id": video_id(post),
            "text": comment.text,
            "like_count": comment.likes(now),
            "reply_count": len(tree.descendants(comment)) if comment.parent_index is None else 0,
            "parent_comment_id": video_id(post) if thread is comment else comment_id(thread),
            "create_time": int(comment.published_at.timestamp()),
        }
        return {k: v for k, v in item.items() if k in fields}


def _body(request: SandboxRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _Invalid("The request body is not JSON") from None
    if not isinstance(body, dict):
        raise _Invalid("The request body is not a JSON object")
    return body


EMULATION = TikTokEmulation
