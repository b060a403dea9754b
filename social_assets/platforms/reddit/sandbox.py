"""Emulation of the Reddit API over the synthetic world.

What it answers, in Reddit's real JSON shapes (key sets and types follow the recorded 2025/2026
responses in shared/realdata/reddit):

- `POST www.reddit.com/api/v1/access_token`: app-only OAuth (HTTP Basic with the sandbox
  credentials, `grant_type=client_credentials`); signed tokens that expire after `expires_in`.
- on `oauth.reddit.com`, with `Authorization: bearer <token>` (else 401):
  `/r/{sub}/{new,hot,top,rising}` and `/user/{name}/submitted` (`after`/`before`/`limit`),
  `/r/{sub}/about`, `/user/{name}/about`, `/api/info?id=`, the comment tree
  `[/r/{sub}]/comments/{post}[/{slug}[/{comment}]]` (`depth`, `limit`, `sort`, `comment`), and
  `/api/morechildren` (GET or POST).
- `X-Ratelimit-Used/-Remaining/-Reset` on every authenticated response: 1000 calls per client
  id per fixed 600-second window of real wall-clock time; past that, 429.

Ids are reversible: a post's id is the base-36 world uid, a comment's the base-36 comment uid,
so any id a client was given resolves again without state. The only state is the rate-limit
counter per client (and the tokens an injected `expired_token` fault revoked).

Faithful quirks a client must cope with: `replies` is "" on leaves; `more` stubs ("load more"
with `children`/`count`, "continue this thread" with id "_" at the depth cut); the comment tree
depth is capped at 10 like Reddit's; a subtree view (`/comments/{post}/_/{comment}`) numbers
`depth` from its first comment; without `raw_json=1` every string is HTML-escaped.

Injected faults (`social_assets.sandbox.faults`, shaped here, never charged to the window):
- `429_burst`: 429 `{"message": "Too Many Requests", "error": 429}` with the client's true
  X-Ratelimit-* headers (remaining > 0: a short throttle, not the window's end);
- `5xx`: 500 `{"message": "Internal Server Error", "error": 500}` (as recorded) or
  503 `{"message": "Service Unavailable", "error": 503}`, with X-Ratelimit-* headers;
- `expired_token`: the token is revoked and the request answered 401 `{"message":
  "Unauthorized", "error": 401}` with `WWW-Authenticate: ... error="invalid_token"`, exactly
  as for an expired token: only a new token helps;
- `duplicate_items` (post listings with `after`): the page starts with the `after` post, the
  previous page's last; a full page then drops its last post and `after` points at the new
  last one, so the next page carries on without a gap;
- `field_missing` / `field_renamed` (post listings, comment pages, morechildren): one post's
  or comment's `created_utc` is dropped or renamed `createdUtc`;
- the token endpoint only ever gets `429_burst` or `5xx` (429/500/503 above).

Simplifications: listings reach at most 1000 posts deep (as Reddit's do) and hot/top/rising
rank only those newest 1000; `context` on subtree views is ignored; no deleted or removed items.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import math
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, ClassVar

from social_assets.platforms.base import SandboxRequest, SandboxResponse
from social_assets.sandbox.faults import (
    DUPLICATE_ITEMS,
    EXPIRED_TOKEN,
    FIELD_FAULTS,
    GENERIC_FAULTS,
    RATE_LIMITED,
    SERVER_ERROR,
    TRUNCATED_BODY,
    WIRE_FAULTS,
    tamper,
)
from social_assets.sandbox.world import World, WorldAccount, WorldComment, WorldPost

PLATFORM = "reddit"
SANDBOX_CLIENT_ID = "sandbox-reddit-client"
SANDBOX_CLIENT_SECRET = "sandbox-reddit-secret"

LISTING_SORTS = ("new", "hot", "top", "rising")
USER_LISTING_SORTS = ("new", "hot", "top", "controversial")
TOP_PERIODS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
    "all": None,
}
COMMENT_SORTS = ("confidence", "top", "new", "controversial", "old", "random", "qa", "live")
REDDIT_EPOCH_FOR_HOT = 1134028003  # the constant of Reddit's open-sourced hot ranking

# Library default user agents Reddit throttles to nothing; a client must name itself.
GENERIC_USER_AGENTS = ("python-httpx/", "python-requests/", "curl/", "python-urllib/", "Go-http-client/")


def to_base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(reversed(out))


def from_base36(text: str) -> int | None:
    try:
        return int(text, 36) if text and text.isalnum() else None
    except ValueError:
        return None


def _digest(*parts: object) -> int:
    """A stable pseudo-random integer for derived values (ids, ratios) that the world lacks."""
    data = "|".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def user_id36(username: str) -> str:
    return to_base36(_digest("t2", username.lower()) % 36**10)


def subreddit_id36(name: str) -> str:
    return to_base36(_digest("t5", name.lower()) % 36**6)


def _media_key(*parts: object) -> str:
    return to_base36(_digest("media", *parts) % 36**13).rjust(13, "0")


def _slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9 ]+", "", title.lower()).split()
    return "_".join(words)[:50].rstrip("_") or "post"


def _error(status: int, message: str) -> SandboxResponse:
    return SandboxResponse(status, {"message": message, "error": status})


def _unauthorized() -> SandboxResponse:
    response = _error(401, "Unauthorized")
    response.headers = {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}
    return response


NOT_FOUND = (404, "Not Found")
SERVER_ERRORS = ((500, "Internal Server Error"), (503, "Service Unavailable"))
# The item field that content faults break: every post and comment needs it to be placed in a day.
FAULTED_FIELD, FAULTED_FIELD_RENAMED = "created_utc", "createdUtc"


class RedditSandbox:
    hosts: ClassVar[tuple[str, ...]] = ("www.reddit.com", "oauth.reddit.com")
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("subreddit", "dataengineering"),
        ("subreddit", "python"),
        ("subreddit", "socialmedia"),
        ("subreddit", "analytics"),
        ("subreddit", "duckdb"),
        ("subreddit", "marketing"),
        ("user", "sandbox_alice"),
        ("user", "sandbox_bob"),
        ("user", "brand_official"),
    )

    # Reddit's documented limits, as class attributes so a test can shrink them.
    requests_per_window: ClassVar[int] = 1000
    window_seconds: ClassVar[int] = 600
    token_lifetime: ClassVar[int] = 3600
    max_tree_depth: ClassVar[int] = 10
    default_comment_limit: ClassVar[int] = 200
    max_comment_limit: ClassVar[int] = 500
    morechildren_max_comments: ClassVar[int] = 200
    morechildren_max_ids: ClassVar[int] = 100
    info_max_ids: ClassVar[int] = 100
    listing_depth: ClassVar[int] = 1000

    def __init__(self, world: World, wall_clock: Callable[[], float] = time.time) -> None:
        self.world = world
        # Token expiry and rate-limit windows run on real time: the world's clock is pinned in
        # tests and ticks hourly, which says nothing about how fast a client calls.
        self.wall_clock = wall_clock
        self._signing_key = hashlib.sha256(f"reddit-sandbox-token|{world.seed}".encode()).digest()
        self._usage: dict[str, tuple[int, int]] = {}  # client id -> (window number, calls)
        self._tokens_issued = 0  # in every token, so each one is distinct and can be revoked
        self._revoked: set[str] = set()  # tokens "expired" by an injected fault
        self._fault_rng = random.Random(f"reddit-faults|{world.seed}")  # which item, which 5xx

    # -- the one place a response is produced -----------------------------------------------

    def handle(self, request: SandboxRequest, fault: str | None = None) -> SandboxResponse:
        """Every response leaves through here; `fault` is an injected fault to shape (see the
        module docstring), reported in `injected_fault` unless declined."""
        if request.host == "www.reddit.com":
            return self._www(request, fault)
        return self._oauth(request, fault)

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if request.host == "www.reddit.com":
            return frozenset({RATE_LIMITED, SERVER_ERROR})  # the token body itself is never tampered with
        kinds = set(GENERIC_FAULTS) | {EXPIRED_TOKEN}
        resource = _resource_of(request)
        if resource is not None:
            kinds |= FIELD_FAULTS
        if resource == "posts" and request.param("after"):
            kinds.add(DUPLICATE_ITEMS)
        return frozenset(kinds)

    def _www(self, request: SandboxRequest, fault: str | None) -> SandboxResponse:
        if _clean_path(request.path) == "/api/v1/access_token" and request.method == "POST":
            if fault in (RATE_LIMITED, SERVER_ERROR):
                return self._injected_error(fault)
            return self._access_token(request)
        return _error(*NOT_FOUND)

    def _oauth(self, request: SandboxRequest, fault: str | None) -> SandboxResponse:
        client_id = self._client_of(request)
        if client_id is None:
            return _unauthorized()
        used, _ = self._usage_now(client_id)
        if used >= self.requests_per_window or _is_generic_user_agent(request.headers.get("user-agent", "")):
            # Over the limit (or a generic User-Agent, whose limit is next to nothing): a real
            # refusal, counted like any call, whatever fault was drawn.
            response = _error(429, "Too Many Requests")
            response.refused_for_overuse = True
            return self._with_limits(response, client_id, charge=True)
        if fault == EXPIRED_TOKEN:
            self._revoked.add(_bearer(request))
            response = _unauthorized()
            response.injected_fault = fault
            return response
        if fault in (RATE_LIMITED, SERVER_ERROR):
            return self._with_limits(self._injected_error(fault), client_id, charge=False)
        response = self._route(request)
        if fault is not None and self._inject(fault, request, response):
            response.injected_fault = fault
        if _params(request).get("raw_json") != "1":
            response.body = _html_escaped(response.body)
        return self._with_limits(response, client_id, charge=response.injected_fault is None)

    def _with_limits(self, response: SandboxResponse, client_id: str, charge: bool) -> SandboxResponse:
        used, reset = self._count_call(client_id) if charge else self._usage_now(client_id)
        limits = {
            "x-ratelimit-used": str(used),
            "x-ratelimit-remaining": f"{max(0, self.requests_per_window - used):.1f}",
            "x-ratelimit-reset": str(reset),
        }
        response.headers = {**limits, **(response.headers or {})}
        return response

    # -- injected faults --------------------------------------------------------------------

    def _injected_error(self, fault: str) -> SandboxResponse:
        status, message = (429, "Too Many Requests") if fault == RATE_LIMITED else self._fault_rng.choice(SERVER_ERRORS)
        response = _error(status, message)
        response.injected_fault = fault
        return response

    def _inject(self, fault: str, request: SandboxRequest, response: SandboxResponse) -> bool:
        """Apply a wire or content fault to an ordinary answer; False if it cannot show on it."""
        if fault in WIRE_FAULTS:
            return fault != TRUNCATED_BODY or response.status == 200  # only a 200 is "cut short"
        if response.status != 200:
            return False
        if fault == DUPLICATE_ITEMS:
            return self._repeat_cursor_post(request, response.body)
        if fault in FIELD_FAULTS:
            items = _faultable_items(response.body)
            if items:
                item = self._fault_rng.choice(items)
                return tamper(item, (FAULTED_FIELD,), fault, FAULTED_FIELD_RENAMED)
        return False

    def _repeat_cursor_post(self, request: SandboxRequest, body: Any) -> bool:
        """The page starts with the `after` post again, as when posts shift between requests.
        A full page gives up its last post and `after` names the new last one: nothing is lost."""
        after = request.param("after") or ""
        children = body["data"]["children"]
        repeated = self._thing_by_fullname(after) if after.startswith("t3_") else None
        if repeated is None or not children:
            return False
        limit = max(1, min(100, _int_param(request.param("limit"), default=25)))
        children.insert(0, repeated)
        if len(children) > limit:
            children.pop()
            body["data"]["after"] = children[-1]["data"]["name"]
        body["data"]["dist"] = len(children)
        return True

    # -- auth and rate limits ---------------------------------------------------------------

    def _access_token(self, request: SandboxRequest) -> SandboxResponse:
        client_id, secret = _basic_credentials(request.headers.get("authorization", ""))
        if not (
            hmac.compare_digest(client_id.encode(), SANDBOX_CLIENT_ID.encode())
            and hmac.compare_digest(secret.encode(), SANDBOX_CLIENT_SECRET.encode())
        ):
            return _error(401, "Unauthorized")
        if request.form().get("grant_type") != "client_credentials":
            # Reddit answers a bad grant with 200 and an OAuth error field.
            return SandboxResponse(200, {"error": "unsupported_grant_type"})
        expires_at = int(self.wall_clock()) + self.token_lifetime
        return SandboxResponse(
            200,
            {
                "access_token": self._sign(f"{client_id}|{expires_at}|{self._next_token_number()}"),
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": "*",
            },
        )

    def _next_token_number(self) -> int:
        self._tokens_issued += 1
        return self._tokens_issued

    def _sign(self, claims: str) -> str:
        payload = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
        signature = hmac.new(self._signing_key, payload.encode(), "sha256").hexdigest()[:32]
        return f"sbx.{payload}.{signature}"

    def _client_of(self, request: SandboxRequest) -> str | None:
        """The client id of a valid, unexpired, unrevoked bearer token, else None."""
        token = _bearer(request)
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "sbx" or token in self._revoked:
            return None
        payload, signature = parts[1], parts[2]
        expected = hmac.new(self._signing_key, payload.encode(), "sha256").hexdigest()[:32]
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
            client_id, expires_at, _ = decoded.rsplit("|", 2)
            if int(expires_at) <= self.wall_clock():
                return None
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return client_id

    def _usage_now(self, client_id: str, count: bool = False) -> tuple[int, int]:
        """The client's calls in the current window (after counting one, with `count`) and the
        seconds until the window resets."""
        now = self.wall_clock()
        window = int(now // self.window_seconds)
        start, used = self._usage.get(client_id, (window, 0))
        used = (used if start == window else 0) + (1 if count else 0)
        if count:
            self._usage[client_id] = (window, used)
        return used, math.ceil(self.window_seconds - now % self.window_seconds)

    def _count_call(self, client_id: str) -> tuple[int, int]:
        """Count one call in the client's current window: (calls used, seconds to reset)."""
        return self._usage_now(client_id, count=True)

    # -- routing ----------------------------------------------------------------------------

    def _route(self, request: SandboxRequest) -> SandboxResponse:
        parts = [p for p in _clean_path(request.path).split("/") if p]
        if parts == ["api", "morechildren"] and request.method in ("GET", "POST"):
            return self._morechildren(_params(request))
        if request.method != "GET":
            return _error(*NOT_FOUND)
        match parts:
            case ["api", "info"]:
                return self._info(request)
            case ["r", name]:
                return self._subreddit_listing(name, "hot", request)
            case ["r", name, "about"]:
                return self._subreddit_about(name)
            case ["r", name, sort] if sort in LISTING_SORTS:
                return self._subreddit_listing(name, sort, request)
            case ["r", name, "comments", post_id, *rest] if len(rest) <= 2:
                return self._comment_page(post_id, rest[1] if len(rest) == 2 else None, request, subreddit=name)
            case ["comments", post_id, *rest] if len(rest) <= 2:
                return self._comment_page(post_id, rest[1] if len(rest) == 2 else None, request)
            case ["user", name, "about"]:
                return self._user_about(name)
            case ["user", name, "submitted"]:
                return self._user_listing(name, request)
        return _error(*NOT_FOUND)

    def _account(self, kind: str, name: str) -> WorldAccount | None:
        account = self.world.account(PLATFORM, name)
        return account if account is not None and account.kind == kind else None

    # -- accounts ---------------------------------------------------------------------------

    def _subreddit_about(self, name: str) -> SandboxResponse:
        account = self._account("subreddit", name)
        if account is None:
            return _error(*NOT_FOUND)
        return SandboxResponse(200, {"kind": "t5", "data": self._subreddit_data(account)})

    def _user_about(self, name: str) -> SandboxResponse:
        account = self._account("user", name)
        if account is None:
            return _error(*NOT_FOUND)
        return SandboxResponse(200, {"kind": "t2", "data": self._user_data(account)})

    def _subreddit_data(self, account: WorldAccount) -> dict[str, Any]:
        name = account.handle
        subscribers = account.followers(self.world.now())
        created = account.created_at.timestamp()
        id36 = subreddit_id36(name)
        description = f"A sandbox community about {name.replace('_', ' ')}."
        return {
            "accounts_active": max(1, subscribers // 500),
            "accounts_active_is_fuzzed": False,
            "active_user_count": max(1, subscribers // 500),
            "advertiser_category": "",
            "all_original_content": False,
            "allow_discovery": True,
            "allow_images": True,
            "allow_videogifs": True,
            "allow_videos": True,
            "banner_background_color": "",
            "banner_background_image": "",
            "banner_img": "",
            "banner_size": None,
            "can_assign_link_flair": False,
            "can_assign_user_flair": False,
            "collapse_deleted_comments": False,
            "comment_score_hide_mins": 0,
            "community_icon": "",
            "created": created,
            "created_utc": created,
            "description": description,
            "description_html": _markdown_html(description),
            "disable_contributor_requests": False,
            "display_name": name,
            "display_name_prefixed": f"r/{name}",
            "emojis_custom_size": None,
            "emojis_enabled": False,
            "free_form_reports": True,
            "has_menu_widget": False,
            "header_img": None,
            "header_size": None,
            "header_title": None,
            "hide_ads": False,
            "icon_img": "",
            "icon_size": [256, 256],
            "id": id36,
            "is_crosspostable_subreddit": True,
            "is_enrolled_in_new_modmail": None,
            "key_color": "",
            "lang": "en",
            "link_flair_enabled": False,
            "link_flair_position": "",
            "mobile_banner_image": "",
            "name": f"t5_{id36}",
            "notification_level": None,
            "original_content_tag_enabled": False,
            "over18": False,
            "primary_color": "",
            "public_description": description,
            "public_description_html": _markdown_html(description),
            "public_traffic": False,
            "quarantine": False,
            "restrict_commenting": False,
            "restrict_posting": False,
            "show_media": True,
            "show_media_preview": True,
            "spoilers_enabled": True,
            "submission_type": "any",
            "submit_link_label": None,
            "submit_text": "",
            "submit_text_html": None,
            "submit_text_label": None,
            "subreddit_type": "public",
            "subscribers": subscribers,
            "suggested_comment_sort": None,
            "title": account.display_name,
            "url": f"/r/{name}/",
            "user_can_flair_in_sr": None,
            "user_flair_background_color": None,
            "user_flair_css_class": None,
            "user_flair_enabled_in_sr": False,
            "user_flair_position": "right",
            "user_flair_richtext": [],
            "user_flair_template_id": None,
            "user_flair_text": None,
            "user_flair_text_color": None,
            "user_flair_type": "text",
            "user_has_favorited": None,
            "user_is_banned": None,
            "user_is_contributor": None,
            "user_is_moderator": None,
            "user_is_muted": None,
            "user_is_subscriber": None,
            "user_sr_flair_enabled": None,
            "user_sr_theme_enabled": True,
            "videostream_links_count": 0,
            "whitelist_status": "all_ads",
            "wiki_enabled": False,
            "wls": 6,
        }

    def _user_data(self, account: WorldAccount) -> dict[str, Any]:
        name = account.handle
        followers = account.followers(self.world.now())
        created = account.created_at.timestamp()
        link_karma = followers * 3 + _digest("link_karma", name) % 500
        comment_karma = followers * 5 + _digest("comment_karma", name) % 900
        return {
            "accept_chats": True,
            "accept_followers": True,
            "accept_pms": True,
            "awardee_karma": 0,
            "awarder_karma": 0,
            "comment_karma": comment_karma,
            "created": created,
            "created_utc": created,
            "has_subscribed": True,
            "has_verified_email": True,
            "hide_from_robots": False,
            "icon_img": "https://www.redditstatic.com/avatars/defaults/v2/avatar_default_1.png",
            "id": user_id36(name),
            "is_blocked": False,
            "is_employee": False,
            "is_friend": False,
            "is_gold": False,
            "is_mod": False,
            "link_karma": link_karma,
            "name": name,
            "pref_show_snoovatar": False,
            "snoovatar_img": "",
            "snoovatar_size": None,
            "subreddit": self._profile_subreddit(account, followers),
            "total_karma": link_karma + comment_karma,
            "verified": True,
        }

    def _profile_subreddit(self, account: WorldAccount, followers: int) -> dict[str, Any]:
        """A user's profile page is a subreddit `u_<name>`; its subscribers are the followers."""
        name = account.handle
        return {
            "default_set": True,
            "user_is_contributor": False,
            "banner_img": "",
            "allowed_media_in_comments": [],
            "user_is_banned": False,
            "free_form_reports": True,
            "community_icon": None,
            "show_media": True,
            "icon_color": "",
            "user_is_muted": None,
            "display_name": f"u_{name}",
            "header_img": None,
            "title": account.display_name,
            "previous_names": [],
            "over_18": False,
            "icon_size": [256, 256],
            "primary_color": "",
            "icon_img": "https://www.redditstatic.com/avatars/defaults/v2/avatar_default_1.png",
            "description": "",
            "submit_link_label": "",
            "header_size": None,
            "restrict_posting": True,
            "restrict_commenting": False,
            "subscribers": followers,
            "submit_text_label": "",
            "is_default_icon": True,
            "link_flair_position": "",
            "display_name_prefixed": f"u/{name}",
            "key_color": "",
            "name": f"t5_{subreddit_id36('u_' + name)}",
            "is_default_banner": True,
            "url": f"/user/{name}/",
            "quarantine": False,
            "banner_size": None,
            "user_is_moderator": False,
            "accept_followers": True,
            "public_description": "",
            "link_flair_enabled": False,
            "disable_contributor_requests": False,
            "subreddit_type": "user",
            "user_is_subscriber": False,
        }

    # -- post listings ----------------------------------------------------------------------

    def _subreddit_listing(self, name: str, sort: str, request: SandboxRequest) -> SandboxResponse:
        account = self._account("subreddit", name)
        if account is None:
            return _error(*NOT_FOUND)
        return self._post_listing(self._ranked_posts(account, sort, request.param("t")), request)

    def _user_listing(self, name: str, request: SandboxRequest) -> SandboxResponse:
        account = self._account("user", name)
        if account is None:
            return _error(*NOT_FOUND)
        sort = request.param("sort") or "new"
        if sort not in USER_LISTING_SORTS:
            sort = "new"
        return self._post_listing(self._ranked_posts(account, sort, request.param("t")), request)

    def _ranked_posts(self, account: WorldAccount, sort: str, period: str | None) -> list[WorldPost]:
        now = self.world.now()
        newest = list(islice(self.world.iter_posts_newest_first(account), self.listing_depth))
        if sort == "new":
            return newest
        if sort == "hot":
            return sorted(newest, key=lambda p: -_hot(p.likes(now), p.published_at))
        if sort == "rising":
            recent = [p for p in newest if now - p.published_at <= timedelta(days=1)]
            return sorted(recent, key=lambda p: -p.likes(now) / max(1.0, (now - p.published_at).total_seconds() / 3600))
        if sort == "controversial":
            return sorted(newest, key=lambda p: (p.likes(now), -p.published_at.timestamp()))
        span = TOP_PERIODS.get(period or "day", TOP_PERIODS["day"])
        in_period = [p for p in newest if span is None or now - p.published_at <= span]
        return sorted(in_period, key=lambda p: (-p.likes(now), -p.published_at.timestamp()))

    def _post_listing(self, posts: list[WorldPost], request: SandboxRequest) -> SandboxResponse:
        page, after, before = _paginate(posts, request, lambda p: f"t3_{to_base36(p.uid)}")
        return SandboxResponse(200, _listing([self._link_thing(p) for p in page], after, before, dist=len(page)))

    # -- /api/info --------------------------------------------------------------------------

    def _info(self, request: SandboxRequest) -> SandboxResponse:
        fullnames = [f for f in (request.param("id") or "").split(",") if f]
        if len(fullnames) > self.info_max_ids:
            return _error(400, "Bad Request")
        things = []
        for fullname in fullnames:
            thing = self._thing_by_fullname(fullname)
            if thing is not None:  # unknown ids are left out, as Reddit does
                things.append(thing)
        return SandboxResponse(200, _listing(things, None, None, dist=len(things), modhash=""))

    def _thing_by_fullname(self, fullname: str) -> dict[str, Any] | None:
        kind, _, id36 = fullname.partition("_")
        if kind == "t3":
            post = self._post(id36)
            return self._link_thing(post) if post else None
        if kind == "t1":
            comment = self._comment(id36)
            if comment is None:
                return None
            thread = _Thread(self.world, comment.post, "confidence")
            return self._comment_thing(comment, thread, depth=None, replies="")
        if kind == "t5":
            for account in self.world.accounts(PLATFORM):
                if account.kind == "subreddit" and subreddit_id36(account.handle) == id36:
                    return {"kind": "t5", "data": self._subreddit_data(account)}
        return None

    def _post(self, id36: str) -> WorldPost | None:
        uid = from_base36(id36)
        return self.world.post_by_uid(PLATFORM, uid) if uid is not None else None

    def _comment(self, id36: str) -> WorldComment | None:
        uid = from_base36(id36)
        return self.world.comment_by_uid(PLATFORM, uid) if uid is not None else None

    # -- posts (t3) -------------------------------------------------------------------------

    def _link_thing(self, post: WorldPost, on_comment_page: bool = False) -> dict[str, Any]:
        data = self._link_data(post)
        if on_comment_page:
            data["num_duplicates"] = 0  # only the comment page's copy of a post carries it
        return {"kind": "t3", "data": data}

    def _link_data(self, post: WorldPost) -> dict[str, Any]:
        now = self.world.now()
        id36 = to_base36(post.uid)
        where = _Where.of(post)
        author = where.author
        score = post.likes(now)
        created = post.published_at.timestamp()
        permalink = f"/r/{where.subreddit}/comments/{id36}/{_slug(post.title)}/"
        kind = content_kind(post)
        media = _MediaRendering(post, id36, kind, permalink, where.subreddit)
        data: dict[str, Any] = {
            "approved_at_utc": None,
            "subreddit": where.subreddit,
            "selftext": media.selftext,
            "author_fullname": f"t2_{user_id36(author)}",
            "saved": False,
            "mod_reason_title": None,
            "gilded": 0,
            "clicked": False,
            "title": post.title,
            "link_flair_richtext": [],
            "subreddit_name_prefixed": where.prefixed,
            "hidden": False,
            "pwls": 6,
            "link_flair_css_class": None,
            "downs": 0,
            "thumbnail_height": media.thumbnail_size,
            "top_awarded_type": None,
            "hide_score": False,
            "name": f"t3_{id36}",
            "quarantine": False,
            "link_flair_text_color": None,
            "upvote_ratio": round(0.75 + (_digest("ratio", post.uid) % 25) / 100, 2),
            "author_flair_background_color": None,
            "subreddit_type": where.subreddit_type,
            "ups": score,
            "total_awards_received": 0,
            "media_embed": {},
            "thumbnail_width": media.thumbnail_size,
            "author_flair_template_id": None,
            "is_original_content": False,
            "user_reports": [],
            "secure_media": media.reddit_video,
            "is_reddit_media_domain": media.on_reddit_media_domain,
            "is_meta": False,
            "category": None,
            "secure_media_embed": {},
            "link_flair_text": None,
            "can_mod_post": False,
            "score": score,
            "approved_by": None,
            "is_created_from_ads_ui": False,
            "author_premium": False,
            "thumbnail": media.thumbnail,
            "edited": False,
            "author_flair_css_class": None,
            "author_flair_richtext": [],
            "gildings": {},
            "content_categories": None,
            "is_self": kind == "text",
            "mod_note": None,
            "created": created,
            "link_flair_type": "text",
            "wls": 6,
            "removed_by_category": None,
            "banned_by": None,
            "author_flair_type": "text",
            "domain": media.domain,
            "allow_live_comments": False,
            "selftext_html": media.selftext_html,
            "likes": None,
            "suggested_sort": None,
            "banned_at_utc": None,
            "view_count": None,
            "archived": False,
            "no_follow": False,
            "is_crosspostable": True,
            "pinned": False,
            "over_18": False,
            "all_awardings": [],
            "awarders": [],
            "media_only": False,
            "can_gild": False,
            "spoiler": False,
            "locked": False,
            "author_flair_text": None,
            "treatment_tags": [],
            "visited": False,
            "removed_by": None,
            "mod_reason_by": None,
            "num_reports": None,
            "distinguished": None,
            "subreddit_id": f"t5_{subreddit_id36(where.subreddit)}",
            "author_is_blocked": False,
            "removal_reason": None,
            "link_flair_background_color": "",
            "id": id36,
            "is_robot_indexable": True,
            "report_reasons": None,
            "author": author,
            "discussion_type": None,
            "num_comments": self.world.comment_count(post),
            "send_replies": True,
            "contest_mode": False,
            "mod_reports": [],
            "author_patreon_flair": False,
            "author_flair_text_color": None,
            "permalink": permalink,
            "stickied": False,
            "url": media.url,
            "subreddit_subscribers": post.account.followers(now) if post.account.kind == "subreddit" else 0,
            "created_utc": created,
            "num_crossposts": 0,
            "media": media.reddit_video,
            "is_video": kind == "video",
        }
        data.update(media.extra_fields())
        return data

    # -- comment trees ----------------------------------------------------------------------

    def _comment_page(
        self, post_id: str, comment_id: str | None, request: SandboxRequest, subreddit: str | None = None
    ) -> SandboxResponse:
        post = self._post(post_id)
        if post is None or (subreddit is not None and subreddit.lower() != _Where.of(post).subreddit.lower()):
            return _error(*NOT_FOUND)
        sort = request.param("sort") or "confidence"
        thread = _Thread(self.world, post, sort if sort in COMMENT_SORTS else "confidence")
        levels = _int_param(request.param("depth"), default=self.max_tree_depth)
        levels = self.max_tree_depth if levels <= 0 else min(levels, self.max_tree_depth)
        limit = _int_param(request.param("limit"), default=self.default_comment_limit)
        limit = max(1, min(limit, self.max_comment_limit))

        anchor = self._comment(request.param("comment") or comment_id or "")
        if anchor is not None and anchor.post.uid == post.uid:
            # A subtree view: the anchor comment is the only root and depths count from it.
            roots, parent_name, base_depth = [anchor], thread.fullname_of_parent(anchor), anchor.depth
        else:
            # Reddit ignores a comment id it cannot find and shows the whole tree.
            roots, parent_name, base_depth = thread.top_level, f"t3_{to_base36(post.uid)}", 0
        renderer = _TreeRenderer(self, thread, levels=levels, budget=limit, base_depth=base_depth)
        comments = renderer.level(roots, parent_name)
        post_listing = _listing([self._link_thing(post, on_comment_page=True)], None, None, dist=1, geo_filter="")
        comment_listing = _listing(comments, None, None, dist=None, geo_filter="")
        return SandboxResponse(200, [post_listing, comment_listing])

    def _morechildren(self, params: dict[str, str]) -> SandboxResponse:
        """Flat pre-order list of the asked-for comments and (unless `limit_children`) their
        replies; `depth` is the absolute number of levels to show, as on the comment page."""
        post = self._post((params.get("link_id") or "").removeprefix("t3_"))
        if post is None:
            return _error(403, "Forbidden")
        ids = [i for i in (params.get("children") or "").split(",") if i]
        if len(ids) > self.morechildren_max_ids:
            return _error(400, "Bad Request")
        sort = params.get("sort") or "confidence"
        thread = _Thread(self.world, post, sort if sort in COMMENT_SORTS else "confidence")
        asked = [c for c in (self._comment(i) for i in ids) if c is not None and c.post.uid == post.uid]
        levels = _int_param(params.get("depth"), default=0)
        only_asked = bool(re.match(r"^[^0Ff]", params.get("limit_children") or "0"))
        flat = _FlatRenderer(self, thread, levels=levels if levels > 0 else None, budget=self.morechildren_max_comments)
        things = flat.render(thread.ordered(asked), only_asked)
        return SandboxResponse(200, {"json": {"errors": [], "data": {"things": things}}})

    def _comment_thing(
        self, comment: WorldComment, thread: "_Thread", depth: int | None, replies: dict[str, Any] | str
    ) -> dict[str, Any]:
        now = self.world.now()
        post = comment.post
        where = _Where.of(post)
        post36 = to_base36(post.uid)
        id36 = to_base36(comment.uid)
        score = comment.likes(now)
        created = comment.published_at.timestamp()
        data: dict[str, Any] = {
            "subreddit_id": f"t5_{subreddit_id36(where.subreddit)}",
            "approved_at_utc": None,
            "author_is_blocked": False,
            "comment_type": None,
            "awarders": [],
            "mod_reason_by": None,
            "banned_by": None,
            "author_flair_type": "text",
            "total_awards_received": 0,
            "subreddit": where.subreddit,
            "author_flair_template_id": None,
            "likes": None,
            "replies": replies,
            "user_reports": [],
            "saved": False,
            "id": id36,
            "banned_at_utc": None,
            "mod_reason_title": None,
            "gilded": 0,
            "archived": False,
            "collapsed_reason_code": None,
            "no_follow": score < 2,
            "author": comment.author,
            "can_mod_post": False,
            "created_utc": created,
            "send_replies": True,
            "parent_id": thread.fullname_of_parent(comment),
            "score": score,
            "author_fullname": f"t2_{user_id36(comment.author)}",
            "approved_by": None,
            "mod_note": None,
            "all_awardings": [],
            "collapsed": False,
            "body": comment.text,
            "edited": False,
            "top_awarded_type": None,
            "author_flair_css_class": None,
            "name": f"t1_{id36}",
            "is_submitter": comment.author == where.author,
            "downs": 0,
            "author_flair_richtext": [],
            "author_patreon_flair": False,
            "body_html": _markdown_html(comment.text, sc_markers=False),
            "removal_reason": None,
            "collapsed_reason": None,
            "distinguished": None,
            "associated_award": None,
            "stickied": False,
            "author_premium": False,
            "can_gild": False,
            "gildings": {},
            "unrepliable_reason": None,
            "author_flair_text_color": None,
            "score_hidden": False,
            "permalink": f"/r/{where.subreddit}/comments/{post36}/{_slug(post.title)}/{id36}/",
            "subreddit_type": where.subreddit_type,
            "locked": False,
            "report_reasons": None,
            "created": created,
            "author_flair_text": None,
            "treatment_tags": [],
            "rte_mode": "markdown",
            "link_id": f"t3_{post36}",
            "subreddit_name_prefixed": where.prefixed,
            "controversiality": 0,
            "collapsed_because_crowd_control": None,
            "author_flair_background_color": None,
            "mod_reports": [],
            "num_reports": None,
            "ups": score,
        }
        if depth is not None:  # trees and /api/morechildren carry depth; /api/info does not
            data["depth"] = depth
        return {"kind": "t1", "data": data}


# -- comment tree rendering -------------------------------------------------------------------


class _Thread:
    """The comments of one post visible now, indexed by parent and sorted for display."""

    def __init__(self, world: World, post: WorldPost, sort: str):
        self.now = world.now()
        self.post = post
        self.sort = sort
        self.comments = world.comments(post)
        self._children: dict[int | None, list[WorldComment]] = defaultdict(list)
        for comment in self.comments:
            self._children[comment.parent_index].append(comment)
        for siblings in self._children.values():
            siblings.sort(key=self._sort_key)
        self._sizes: dict[int, int] = {}

    def _sort_key(self, comment: WorldComment) -> tuple:
        stamp = comment.published_at.timestamp()
        if self.sort == "new":
            return (-stamp,)
        if self.sort == "old":
            return (stamp,)
        if self.sort == "controversial":
            return (comment.likes(self.now), stamp)
        return (-comment.likes(self.now), stamp)  # confidence, top, qa, live, random

    @property
    def top_level(self) -> list[WorldComment]:
        return self._children[None]

    def replies(self, comment: WorldComment) -> list[WorldComment]:
        return self._children.get(comment.index, [])

    def ordered(self, comments: list[WorldComment]) -> list[WorldComment]:
        return sorted(comments, key=self._sort_key)

    def subtree_size(self, comment: WorldComment) -> int:
        if comment.index not in self._sizes:
            self._sizes[comment.index] = 1 + sum(self.subtree_size(r) for r in self.replies(comment))
        return self._sizes[comment.index]

    def fullname_of_parent(self, comment: WorldComment) -> str:
        if comment.parent_index is None:
            return f"t3_{to_base36(self.post.uid)}"
        parent_uid = comment.uid - comment.index + comment.parent_index  # uids of a post are consecutive
        return f"t1_{to_base36(parent_uid)}"


def _load_more(thread: _Thread, hidden: list[WorldComment], parent_name: str, depth: int) -> dict[str, Any]:
    first = to_base36(hidden[0].uid)
    return {
        "kind": "more",
        "data": {
            "count": sum(thread.subtree_size(c) for c in hidden),
            "name": f"t1_{first}",
            "id": first,
            "parent_id": parent_name,
            "depth": depth,
            "children": [to_base36(c.uid) for c in hidden],
        },
    }


def _continue_thread(parent: WorldComment, depth: int) -> dict[str, Any]:
    return {
        "kind": "more",
        "data": {
            "count": 0,
            "name": "t1__",
            "id": "_",
            "parent_id": f"t1_{to_base36(parent.uid)}",
            "depth": depth,
            "children": [],
        },
    }


class _TreeRenderer:
    """Nested rendering for the comment page: depth first, `budget` comments at most, then a
    "load more" stub for the rest of a level; below `levels` a "continue this thread" stub."""

    def __init__(self, sandbox: RedditSandbox, thread: _Thread, levels: int, budget: int, base_depth: int):
        self.sandbox, self.thread, self.levels, self.budget, self.base_depth = sandbox, thread, levels, budget, base_depth

    def level(self, siblings: list[WorldComment], parent_name: str) -> list[dict[str, Any]]:
        things: list[dict[str, Any]] = []
        for position, comment in enumerate(siblings):
            if self.budget <= 0:
                things.append(_load_more(self.thread, siblings[position:], parent_name, self._depth(comment)))
                break
            self.budget -= 1
            things.append(
                self.sandbox._comment_thing(comment, self.thread, self._depth(comment), self._replies(comment))
            )
        return things

    def _replies(self, comment: WorldComment) -> dict[str, Any] | str:
        replies = self.thread.replies(comment)
        if not replies:
            return ""
        if self._depth(comment) + 1 >= self.levels:
            children: list[dict[str, Any]] = [_continue_thread(comment, self._depth(comment) + 1)]
        else:
            children = self.level(replies, f"t1_{to_base36(comment.uid)}")
        return _listing(children, None, None, dist=None, geo_filter="")

    def _depth(self, comment: WorldComment) -> int:
        return comment.depth - self.base_depth


class _FlatRenderer:
    """Flat rendering for /api/morechildren: pre-order, `replies` always "", absolute depths."""

    def __init__(self, sandbox: RedditSandbox, thread: _Thread, levels: int | None, budget: int):
        self.sandbox, self.thread, self.levels, self.budget = sandbox, thread, levels, budget
        self.things: list[dict[str, Any]] = []

    def render(self, asked: list[WorldComment], only_asked: bool) -> list[dict[str, Any]]:
        visible = [c for c in asked if self.levels is None or c.depth < self.levels]
        for position, comment in enumerate(visible):
            if self.budget <= 0:
                self._stub_rest(visible[position:])
                break
            if only_asked:
                self._emit(comment)
            else:
                self._visit(comment)
        return self.things

    def _visit(self, comment: WorldComment) -> None:
        self._emit(comment)
        replies = self.thread.replies(comment)
        if not replies:
            return
        if self.levels is not None and comment.depth + 1 >= self.levels:
            self.things.append(_continue_thread(comment, comment.depth + 1))
            return
        for position, reply in enumerate(replies):
            if self.budget <= 0:
                self.things.append(
                    _load_more(self.thread, replies[position:], f"t1_{to_base36(comment.uid)}", reply.depth)
                )
                return
            self._visit(reply)

    def _emit(self, comment: WorldComment) -> None:
        self.budget -= 1
        self.things.append(self.sandbox._comment_thing(comment, self.thread, comment.depth, ""))

    def _stub_rest(self, rest: list[WorldComment]) -> None:
        by_parent: dict[str, list[WorldComment]] = defaultdict(list)
        for comment in rest:
            by_parent[self.thread.fullname_of_parent(comment)].append(comment)
        for parent_name, hidden in by_parent.items():
            self.things.append(_load_more(self.thread, hidden, parent_name, hidden[0].depth))


# -- post content -----------------------------------------------------------------------------


def content_kind(post: WorldPost) -> str:
    """Mostly text and link posts, some images, galleries and videos."""
    if post.flavor < 0.40:
        return "text"
    if post.flavor < 0.70:
        return "link"
    if post.flavor < 0.82:
        return "image"
    if post.flavor < 0.90:
        return "gallery"
    return "video"


def gallery_size(post: WorldPost) -> int:
    return 2 + _digest("gallery", post.uid) % 5


class _Where:
    """Where a post lives: a subreddit's posts are by synthetic users; a user's posts are on
    their profile, the subreddit `u_<name>`."""

    def __init__(self, subreddit: str, prefixed: str, subreddit_type: str, author: str):
        self.subreddit, self.prefixed, self.subreddit_type, self.author = subreddit, prefixed, subreddit_type, author

    @classmethod
    def of(cls, post: WorldPost) -> "_Where":
        account = post.account
        if account.kind == "user":
            return cls(f"u_{account.handle}", f"u/{account.handle}", "user", account.handle)
        author = f"user_{1 + _digest('author', post.uid) % 50_000}"
        return cls(account.handle, f"r/{account.handle}", "public", author)


_LINK_DOMAINS = ("github.com", "duckdb.org", "medium.com", "dagster.io", "blog.example.com")


class _MediaRendering:
    """The fields that differ by content type, with Reddit's URL conventions per kind."""

    def __init__(self, post: WorldPost, id36: str, kind: str, permalink: str, subreddit: str):
        self.post, self.id36, self.kind, self.permalink, self.subreddit = post, id36, kind, permalink, subreddit
        self.key = _media_key(post.uid)
        self.signature = format(_digest("sig", post.uid), "016x") * 2 + format(_digest("sig2", post.uid), "08x")

    @property
    def selftext(self) -> str:
        return self.post.body if self.kind == "text" else ""

    @property
    def selftext_html(self) -> str | None:
        return _markdown_html(self.selftext) if self.selftext else None

    @property
    def url(self) -> str:
        if self.kind == "text":
            return f"https://www.reddit.com{self.permalink}"
        if self.kind == "link":
            domain = _LINK_DOMAINS[_digest("domain", self.post.uid) % len(_LINK_DOMAINS)]
            return f"https://{domain}/{_slug(self.post.title).replace('_', '-')}"
        if self.kind == "image":
            return f"https://i.redd.it/{self.key}.jpeg"
        if self.kind == "gallery":
            return f"https://www.reddit.com/gallery/{self.id36}"
        return f"https://v.redd.it/{self.key}"

    @property
    def domain(self) -> str:
        if self.kind == "text":
            return f"self.{self.subreddit}"
        if self.kind == "gallery":
            return "reddit.com"
        return self.url.split("/")[2]

    @property
    def on_reddit_media_domain(self) -> bool:
        return self.kind in ("image", "video")

    @property
    def thumbnail(self) -> str:
        if self.kind == "text":
            return "self"
        return f"https://b.thumbs.redditmedia.com/{self.key}.jpg"

    @property
    def thumbnail_size(self) -> int | None:
        return None if self.kind == "text" else 140

    @property
    def reddit_video(self) -> dict[str, Any] | None:
        if self.kind != "video":
            return None
        base = f"https://v.redd.it/{self.key}"
        return {
            "reddit_video": {
                "bitrate_kbps": 2400,
                "fallback_url": f"{base}/CMAF_720.mp4?source=fallback",
                "has_audio": True,
                "height": 720,
                "width": 1280,
                "scrubber_media_url": f"{base}/CMAF_96.mp4",
                "dash_url": f"{base}/DASHPlaylist.mpd?a=1&v=1&f=sd",
                "duration": 10 + _digest("duration", self.post.uid) % 170,
                "hls_url": f"{base}/HLSPlaylist.m3u8?a=1&v=1&f=sd",
                "is_gif": False,
                "transcoding_status": "completed",
            }
        }

    def _preview(self, host: str) -> dict[str, Any]:
        source = f"https://{host}/{self.key}.jpeg?auto=webp&s={self.signature}"
        return {
            "images": [
                {
                    "source": {"url": source, "width": 1280, "height": 720},
                    "resolutions": [
                        {"url": f"https://{host}/{self.key}.jpeg?width=108&crop=smart&auto=webp&s={self.signature}", "width": 108, "height": 60}
                    ],
                    "variants": {},
                    "id": self.key,
                }
            ],
            "enabled": self.kind == "image",
        }

    def extra_fields(self) -> dict[str, Any]:
        """Keys Reddit adds only for some kinds: post_hint and preview, gallery data,
        url_overridden_by_dest for anything that is not a self post."""
        extra: dict[str, Any] = {}
        if self.kind != "text":
            extra["url_overridden_by_dest"] = self.url
        if self.kind == "link":
            extra.update(post_hint="link", preview=self._preview("external-preview.redd.it"))
        elif self.kind == "image":
            extra.update(post_hint="image", preview=self._preview("preview.redd.it"))
        elif self.kind == "video":
            extra.update(post_hint="hosted:video", preview=self._preview("external-preview.redd.it"))
        elif self.kind == "gallery":
            extra.update(self._gallery())
        return extra

    def _gallery(self) -> dict[str, Any]:
        media_ids = [_media_key(self.post.uid, n) for n in range(gallery_size(self.post))]
        metadata = {
            media_id: {
                "status": "valid",
                "e": "Image",
                "m": "image/jpg",
                "p": [{"y": 108, "x": 108, "u": f"https://preview.redd.it/{media_id}.jpg?width=108&crop=smart&auto=webp&s={self.signature}"}],
                "s": {"y": 1080, "x": 1080, "u": f"https://preview.redd.it/{media_id}.jpg?width=1080&format=pjpg&auto=webp&s={self.signature}"},
                "id": media_id,
            }
            for media_id in media_ids
        }
        items = [
            {"caption": "", "media_id": media_id, "is_deleted": False, "id": 900_000_000 + _digest(media_id) % 99_999_999}
            for media_id in media_ids
        ]
        return {"is_gallery": True, "media_metadata": metadata, "gallery_data": {"items": items}}


# -- helpers ----------------------------------------------------------------------------------


def _hot(score: int, published: datetime) -> float:
    order = math.log10(max(abs(score), 1))
    sign = 1 if score > 0 else -1 if score < 0 else 0
    return round(sign * order + (published.timestamp() - REDDIT_EPOCH_FOR_HOT) / 45000, 7)


def _listing(
    children: list[dict[str, Any]],
    after: str | None,
    before: str | None,
    dist: int | None,
    modhash: str | None = None,
    geo_filter: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": after, "dist": dist, "modhash": modhash, "geo_filter": geo_filter, "children": children, "before": before},
    }


def _paginate(items: list, request: SandboxRequest, fullname: Callable[[Any], str]) -> tuple[list, str | None, str | None]:
    """Reddit's cursor pagination: `after`/`before` are fullnames, `limit` is clamped to 1..100
    (default 25). An unknown cursor gives an empty page."""
    limit = max(1, min(100, _int_param(request.param("limit"), default=25)))
    names = [fullname(item) for item in items]
    after, before = request.param("after"), request.param("before")
    cursor = after or before
    if cursor and cursor not in names:
        return [], None, None
    if after:
        start = names.index(after) + 1
        end = start + limit
    elif before:
        end = names.index(before)
        start = max(0, end - limit)
    else:
        start, end = 0, limit
    end = min(end, len(items))
    page = items[start:end]
    next_after = names[end - 1] if page and end < len(items) else None
    next_before = names[start] if page and start > 0 else None
    return page, next_after, next_before


def _int_param(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _params(request: SandboxRequest) -> dict[str, str]:
    params = dict(request.query)
    if request.body:
        params.update(request.form())
    return params


def _resource_of(request: SandboxRequest) -> str | None:
    """"posts" for post listings, "comments" for comment pages and morechildren, else None:
    the answers whose items content faults can hit."""
    match [p for p in _clean_path(request.path).split("/") if p]:
        case ["r", _] | ["r", _, "new" | "hot" | "top" | "rising"] | ["user", _, "submitted"]:
            return "posts"
        case ["comments", *_] | ["r", _, "comments", *_] | ["api", "morechildren"]:
            return "comments"
    return None


def _faultable_items(body: Any) -> list[dict[str, Any]]:
    """The `data` of every post (t3) of a listing, or every comment (t1) of a comment page or
    morechildren answer, however deep: one of them gets a content fault."""
    if isinstance(body, dict) and body.get("kind") == "Listing":
        return [c["data"] for c in body["data"]["children"] if c["kind"] == "t3"]
    if isinstance(body, list):  # comment page: [post listing, comment listing]
        return list(_comments_in(body[1]["data"]["children"]))
    if isinstance(body, dict) and "json" in body:  # morechildren
        return [t["data"] for t in body["json"]["data"]["things"] if t["kind"] == "t1"]
    return []


def _comments_in(things: list[dict[str, Any]]):
    for thing in things:
        if thing["kind"] == "t1":
            yield thing["data"]
            if thing["data"]["replies"]:
                yield from _comments_in(thing["data"]["replies"]["data"]["children"])


def _bearer(request: SandboxRequest) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _clean_path(path: str) -> str:
    path = path.rstrip("/") or "/"
    return path[: -len(".json")] if path.endswith(".json") else path


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return "", ""
    return client_id, secret


def _is_generic_user_agent(user_agent: str) -> bool:
    return not user_agent.strip() or user_agent.startswith(GENERIC_USER_AGENTS)


def _markdown_html(text: str, sc_markers: bool = True) -> str:
    paragraphs = "\n\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in text.split("\n\n") if p)
    inner = f'<div class="md">{paragraphs}\n</div>'
    return f"<!-- SC_OFF -->{inner}<!-- SC_ON -->" if sc_markers else inner


def _html_escaped(value: Any) -> Any:
    """Reddit's legacy JSON: without `raw_json=1` every string has &, < and > escaped."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_html_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _html_escaped(v) for k, v in value.items()}
    return value
