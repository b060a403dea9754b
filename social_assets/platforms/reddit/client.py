"""The Reddit API client: app-only OAuth, rate limits and the collector for one source-day.

Per source and day the collector makes these calls, all on https://oauth.reddit.com with
`raw_json=1` (so URLs and text come unescaped):

1. profile: `GET /r/{sub}/about` or `GET /user/{name}/about`, landed as "profiles";
2. posts: `GET /r/{sub}/{sort}` or `GET /user/{name}/submitted?sort=`, `limit` <= 100, following
   `after` until it is null or `post_limit` posts were read; with sort=new it stops as soon as a
   page reaches posts older than the day. Every page is landed as "posts"; the posts published
   inside the day are kept;
3. comments (if `collect_comments`), for each kept post that has any:
   `GET /comments/{id}?depth=&limit=500&sort=confidence`, then every "load more" stub through
   `POST /api/morechildren` (<= 100 ids a call, one call at a time, as Reddit asks) and every
   "continue this thread" stub through `GET /comments/{post}/_/{comment}`; all landed as
   "comments". Nothing deeper than `comment_depth` is asked for, and no request is sent twice.

The token response is never landed: it holds a credential.

Limits (`LIMITS`): Reddit allows about 1000 calls per client id per 10-minute window and says
how many are used and when the window resets in `X-Ratelimit-*` on every response. Every process
using the same client id paces itself from one shared account of that window, and shares one
token (see `core.limits`).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import ValidationError, model_validator

from social_assets.core.http import (
    ApiError,
    ApiSession,
    AuthError,
    LandedResponse,
    Outcome,
    TransientApiError,
    json_problem,
    server_time,
)
from social_assets.core.limits import (
    LimitPolicy,
    Limiter,
    MemoryStore,
    Permit,
    SharedState,
    TokenCache,
    TokenGrant,
    WindowHeaders,
    WindowLimit,
    shared_state,
)
from social_assets.core.records import Resource
from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.base import DayWindow, SourceConfig
from social_assets.platforms.reddit.models import Link, Listing, More, MoreChildrenResponse, Thing, TokenResponse
from social_assets.platforms.reddit.normalize import iter_tree

log = logging.getLogger(__name__)

PLATFORM = "reddit"
API_BASE = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
CREDENTIAL_VARS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")
USER_AGENT_VAR = "REDDIT_USER_AGENT"
# Reddit asks for `<platform>:<app id>:<version> (by /u/<name>)`; set REDDIT_USER_AGENT for live use.
DEFAULT_USER_AGENT = "python:social_assets:0.1 (sandbox; set REDDIT_USER_AGENT)"

PAGE_SIZE = 100  # Reddit's maximum `limit` for listings
COMMENT_PAGE_LIMIT = 500  # comments per tree request (Reddit's cap without premium)
MORECHILDREN_BATCH = 100  # ids per /api/morechildren call; more gives 400
MAX_TREE_DEPTH = 10  # Reddit ignores a larger `depth` on /comments
COMMENT_SORT = "confidence"  # Reddit's default; all stubs are expanded, so the order is moot
TOP_PERIODS: tuple[tuple[str, timedelta | None], ...] = (
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(weeks=1)),
    ("month", timedelta(days=30)),
    ("year", timedelta(days=365)),
    ("all", None),
)


# -- the source -------------------------------------------------------------------------------


INFO_BATCH = 100  # fullnames per /api/info call, Reddit's maximum


class RedditSource(SourceConfig):
    """One subreddit or one user, e.g. `{subreddit: python}` or `{user: spez, sort: top}`."""

    subreddit: str | None = None
    user: str | None = None
    sort: Literal["new", "hot", "top", "rising"] = "new"

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


# -- auth -------------------------------------------------------------------------------------


class RedditAuth:
    """App-only OAuth (client credentials). Called by `ApiSession` before every request. The
    token is shared (sealed) through the limits store by every process using these credentials
    and renewed shortly before it expires; `refresh=True` (after a 401) replaces the refused one."""

    def __init__(
        self,
        http: httpx.Client,
        client_id: str,
        client_secret: str,
        user_agent: str,
        shared: SharedState | None = None,
    ):
        self._http = http
        self._credentials = (client_id, client_secret)
        self._user_agent = user_agent
        shared = shared or shared_state(http, PLATFORM, client_id, client_secret)
        self.tokens = TokenCache(PLATFORM, shared, secret=client_secret, fetch=self._fetch_token)
        self._token: str | None = None
        self.tokens_fetched = 0  # by this object; other processes may have fetched more

    def __call__(self, refresh: bool) -> dict[str, str]:
        self._token = self.tokens.get(refused=self._token if refresh else None)
        return {"Authorization": f"bearer {self._token}"}

    def _fetch_token(self, refresh_token: str | None) -> TokenGrant:
        try:
            response = self._http.post(
                TOKEN_URL,
                auth=self._credentials,
                data={"grant_type": "client_credentials"},
                headers={"User-Agent": self._user_agent},
            )
        except httpx.TransportError as exc:
            raise TransientApiError(PLATFORM, "POST", TOKEN_URL, None, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in (400, 401, 403):
            raise _credentials_rejected(response.status_code, "the token endpoint rejected the app credentials")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientApiError(PLATFORM, "POST", TOKEN_URL, response.status_code, "token endpoint unavailable")
        token = _parse_token(response)
        self.tokens_fetched += 1
        return TokenGrant(token.access_token, token.expires_in)


def _parse_token(response: httpx.Response) -> TokenResponse:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        # Reddit answers a bad grant with 200 and `{"error": "..."}`.
        raise _credentials_rejected(response.status_code, f"token request refused ({body['error']})")
    try:
        return TokenResponse.model_validate(body)
    except ValidationError:
        raise ApiError(PLATFORM, "POST", TOKEN_URL, response.status_code, "token response has no access_token") from None


def _credentials_rejected(status: int | None, what: str) -> AuthError:
    # Name the variables to fix, never their values.
    return AuthError(PLATFORM, "POST", TOKEN_URL, status, f"{what}; check {' and '.join(CREDENTIAL_VARS)}")


# -- limits -----------------------------------------------------------------------------------


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


# 100 queries a minute per OAuth client id, averaged over a 10-minute window (PLATFORMS.md §1):
# the defaults until the first response's headers tell. A tenth may go at once; the rest are
# spread over the window, as prawcore does.
RATE_LIMIT_HEADERS = WindowHeaders(
    used="x-ratelimit-used", remaining="x-ratelimit-remaining", reset="x-ratelimit-reset", reset_is_epoch=False
)
LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(WindowLimit("calls", limit=1000, window=600, burst_share=0.1, headers=RATE_LIMIT_HEADERS),),
    endpoint=endpoint_of,
)


class RateLimitPacer(Limiter):
    """Reddit's limits on a clock of your choosing, in a store private to this object: for
    pacing a collector on a test clock (`collector.pacer = RateLimitPacer(clock, sleep)`), and
    driven call by call with `before_call` / `after_response`. `make_collector`'s limiter is
    the shared one."""

    def __init__(self, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        super().__init__(LIMITS, SharedState(MemoryStore(), "reddit-pacer"), clock=clock, sleep=sleep)
        self._permit: Permit | None = None

    def before_call(self) -> None:
        self._permit = self.acquire("GET", API_BASE + "/")

    def after_response(self, headers: Mapping[str, str]) -> None:
        response = httpx.Response(200, headers=headers)
        if self._permit is None:  # a call made without before_call still used one (prawcore)
            self.count_unreserved("GET", API_BASE + "/", response)
        else:
            self.settle(self._permit, response, Outcome.OK)
            self._permit = None

    @property
    def slept(self) -> float:
        return self.waited

    @property
    def used(self) -> float:
        return self._window()["used"]

    @property
    def remaining(self) -> float:
        return self._window()["limit"] - self._window()["used"]

    def _window(self) -> dict[str, float]:
        [window] = LIMITS.limits
        return self.snapshot()["limits"].get(window.name) or {"limit": window.limit, "used": 0.0}


# -- the collector ----------------------------------------------------------------------------


@dataclass
class RedditCollection:
    """What one `collect` did: the posts kept for the day and the calls behind them."""

    account_id: str
    posts_read: int = 0
    posts: list[Link] = field(default_factory=list)
    listing_pages: int = 0
    comment_pages: int = 0
    morechildren_calls: int = 0
    continued_threads: int = 0

    @property
    def post_ids(self) -> list[str]:
        return [post.id for post in self.posts]


class RedditCollector:
    def __init__(self, session: ApiSession, user_agent: str = DEFAULT_USER_AGENT, page_size: int = PAGE_SIZE):
        self.session = session
        self.user_agent = user_agent
        self.page_size = page_size
        self._requested: set[tuple] = set()

    @property
    def pacer(self) -> Limiter | None:
        """The limiter pacing this collector's calls (the session's)."""
        return self.session.limiter

    @pacer.setter
    def pacer(self, limiter: Limiter | None) -> None:
        self.session.limiter = limiter

    def collect(self, source: RedditSource, window: DayWindow) -> RedditCollection:
        self._requested = set()
        result = RedditCollection(account_id=source.account_id)
        server_now = self._collect_profile(source)
        self._collect_posts(source, window, server_now, result)
        if source.collect_comments:
            for post in result.posts:
                if post.num_comments == 0:
                    continue  # nothing to fetch; the listing already says so
                self._collect_comments(post, source.comment_depth, result)
        return result

    # -- profile and posts ------------------------------------------------------------------

    def _collect_profile(self, source: RedditSource) -> datetime:
        """Land the account's profile; return the server's clock, which `top` periods count from."""
        path = f"/r/{source.subreddit}/about" if source.subreddit else f"/user/{source.user}/about"
        response = self._call("GET", path, {"raw_json": "1"}, land_as="profiles")
        return server_time(response)

    def _collect_posts(self, source: RedditSource, window: DayWindow, now: datetime, result: RedditCollection) -> None:
        path, params = _listing_request(source, window, now)
        kept: dict[str, Link] = {}
        read: set[str] = set()  # by id: a post repeated across pages (items shift) counts once
        after: str | None = None
        while result.posts_read < source.post_limit:
            page_params = {**params, "limit": str(min(self.page_size, source.post_limit - result.posts_read))}
            if after:
                page_params["after"] = after
            body = self._call_json("GET", path, page_params, land_as="posts")
            if body is None:
                break  # the cursor led back to a page already read
            listing = _as_listing(body, path)
            result.listing_pages += 1
            read.update(child.data.get("id", "") for child in listing.children)
            result.posts_read = len(read)
            links = list(_links(listing))
            for link in links:
                if from_epoch_seconds(link.created_utc) in window:
                    kept.setdefault(link.id, link)
            after = listing.after
            if not after or not listing.children:
                break
            if source.sort == "new" and links and min(link.created_utc for link in links) < window.start.timestamp():
                break  # newest first: every later page is older than the day
        result.posts = sorted(kept.values(), key=lambda link: link.created_utc)

    # -- comments ---------------------------------------------------------------------------

    def _collect_comments(self, post: Link, max_depth: int, result: RedditCollection) -> None:
        thread = _ThreadWalk(post_id=post.id, max_depth=max_depth)
        page = self._comment_page(f"/comments/{post.id}", max_depth + 1, result)
        if page is None:
            return
        thread.add_tree(page, depth_offset=0)
        while thread.pending:
            stub, depth = thread.pending.popleft()
            if depth > max_depth:
                continue  # below the configured depth: not asked for
            if stub.is_continue_thread:
                self._continue_thread(post, stub, depth, thread, result)
            else:
                self._load_more(post, stub, thread, result)

    def _comment_page(self, path: str, levels: int, result: RedditCollection) -> list[Thing] | None:
        params = {
            "depth": str(min(levels, MAX_TREE_DEPTH)),
            "limit": str(COMMENT_PAGE_LIMIT),
            "sort": COMMENT_SORT,
            "raw_json": "1",
        }
        try:
            body = self._call_json("GET", path, params, land_as="comments")
        except ApiError as exc:
            if exc.status in (403, 404):
                # Removed or made private since the listing: the other posts still count.
                log.warning("reddit: skipping comments of %s: %s", path, exc)
                return None
            raise
        if body is None:
            return None
        result.comment_pages += 1
        if not (isinstance(body, list) and len(body) == 2):
            raise ApiError(PLATFORM, "GET", API_BASE + path, 200, "comment page is not [post, comments]")
        return _as_listing(body[1], path).children

    def _continue_thread(
        self, post: Link, stub: More, depth: int, thread: "_ThreadWalk", result: RedditCollection
    ) -> None:
        """The tree was cut below `stub.parent_id`: ask for that comment's subtree. Reddit
        numbers its depths from that comment (0), whose true depth is `depth - 1`."""
        anchor_id = stub.parent_id.removeprefix("t1_")
        anchor_depth = depth - 1
        levels = thread.max_depth - anchor_depth + 1  # the anchor itself is one level
        things = self._comment_page(f"/comments/{post.id}/_/{anchor_id}", levels, result)
        if things is None:
            return
        result.continued_threads += 1
        thread.add_tree(things, depth_offset=anchor_depth)

    def _load_more(self, post: Link, stub: More, thread: "_ThreadWalk", result: RedditCollection) -> None:
        ids = [c for c in stub.children if c not in thread.seen]
        for start in range(0, len(ids), MORECHILDREN_BATCH):
            form = {
                "api_type": "json",
                "link_id": f"t3_{post.id}",
                "children": ",".join(ids[start : start + MORECHILDREN_BATCH]),
                "sort": COMMENT_SORT,
                "limit_children": "false",
                "depth": str(thread.max_depth + 1),
                # In the form rather than the query, so the landed request records all of it.
                "raw_json": "1",
            }
            body = self._call_json("POST", "/api/morechildren", None, land_as="comments", form=form)
            if body is None:
                continue
            result.morechildren_calls += 1
            try:
                response = MoreChildrenResponse.model_validate(body)
            except ValidationError:
                raise ApiError(PLATFORM, "POST", API_BASE + "/api/morechildren", 200, "malformed morechildren response") from None
            if response.json_.errors:
                raise ApiError(PLATFORM, "POST", API_BASE + "/api/morechildren", 200, str(response.json_.errors[0]))
            thread.add_flat(response.json_.data.things if response.json_.data else [])

    # -- requests ---------------------------------------------------------------------------

    def refresh_posts(self, post_ids: list[str]) -> None:
        """Current score and comment count of known posts: /api/info, 100 fullnames per call."""
        fullnames = [f"t3_{post_id}" for post_id in dict.fromkeys(post_ids)]
        for start in range(0, len(fullnames), INFO_BATCH):
            batch = ",".join(fullnames[start : start + INFO_BATCH])
            self._call_json("GET", "/api/info", {"id": batch, "raw_json": "1"}, land_as="posts")

    def _call_json(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        land_as: Resource,
        form: dict[str, str] | None = None,
    ) -> Any:
        response = self._call(method, path, params, land_as, form)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(PLATFORM, method, API_BASE + path, response.status_code, "response is not JSON") from None

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        land_as: Resource,
        form: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        """One landed request (the session paces it); None if this exact request was already
        sent in this collect."""
        key = (method, path, tuple(sorted((params or {}).items())), tuple(sorted((form or {}).items())))
        if key in self._requested:
            log.warning("reddit: not repeating %s %s", method, path)
            return None
        self._requested.add(key)
        return self.session.request(
            method, API_BASE + path, params=params, data=form, headers={"User-Agent": self.user_agent}, land_as=land_as
        )


class _ThreadWalk:
    """What the collector knows of one post's comments while expanding its stubs: absolute
    depths by fullname, the ids seen, and the stubs still to expand (with their depth)."""

    def __init__(self, post_id: str, max_depth: int):
        self.post_id = post_id
        self.max_depth = max_depth
        self.depths: dict[str, int] = {f"t3_{post_id}": -1}
        self.seen: set[str] = set()
        self.pending: deque[tuple[More, int]] = deque()
        self._continued: set[str] = set()

    def add_tree(self, things: list[Thing], depth_offset: int) -> None:
        for thing, depth in iter_tree(things):
            self._add(thing, depth + depth_offset)

    def add_flat(self, things: list[Thing]) -> None:
        for thing in things:
            parent = thing.data.get("parent_id")
            depth = self.depths[parent] + 1 if parent in self.depths else thing.data.get("depth")
            self._add(thing, depth if isinstance(depth, int) else self.max_depth + 1)

    def _add(self, thing: Thing, depth: int) -> None:
        if thing.kind == "t1":
            comment_id = thing.data.get("id")
            if isinstance(comment_id, str):
                self.seen.add(comment_id)
                self.depths[f"t1_{comment_id}"] = depth
        elif thing.kind == "more":
            try:
                stub = More.model_validate(thing.data)
            except ValidationError:
                return
            if stub.is_continue_thread:
                if stub.parent_id in self._continued:
                    return
                self._continued.add(stub.parent_id)
            self.pending.append((stub, depth))


def _listing_request(source: RedditSource, window: DayWindow, now: datetime) -> tuple[str, dict[str, str]]:
    params = {"raw_json": "1"}
    if source.subreddit:
        path = f"/r/{source.subreddit}/{source.sort}"
    else:
        path = f"/user/{source.user}/submitted"
        params["sort"] = source.sort
    if source.sort == "top":
        params["t"] = _top_period(window, now)
    return path, params


def _top_period(window: DayWindow, now: datetime) -> str:
    """The shortest `t` period that still reaches back to the start of the day."""
    for name, span in TOP_PERIODS:
        if span is None or now - span <= window.start:
            return name
    return "all"


def _as_listing(body: Any, path: str) -> Listing:
    try:
        return Listing.model_validate(body)
    except ValidationError:
        raise ApiError(PLATFORM, "GET", API_BASE + path, 200, "response is not a Listing") from None


def _links(listing: Listing) -> Iterator[Link]:
    for thing in listing.children:
        if thing.kind != "t3":
            continue
        try:
            yield Link.model_validate(thing.data)
        except ValidationError:
            continue  # the normalizer reports it; a post without a date cannot be placed in a day


# -- wiring -----------------------------------------------------------------------------------


def make_collector(
    http: httpx.Client,
    credentials: Mapping[str, str],
    sink: Callable[[LandedResponse], None] | None,
) -> RedditCollector:
    client_id = credentials.get("REDDIT_CLIENT_ID")
    client_secret = credentials.get("REDDIT_CLIENT_SECRET")
    if not client_id or not client_secret:
        raise AuthError(PLATFORM, "POST", TOKEN_URL, None, f"{' and '.join(CREDENTIAL_VARS)} must both be set")
    # REDDIT_USER_AGENT is optional and not a credential, so it may come from the environment.
    user_agent = credentials.get(USER_AGENT_VAR) or os.environ.get(USER_AGENT_VAR) or DEFAULT_USER_AGENT
    # Limits and token are shared by everything using this client id at this API.
    shared = shared_state(http, PLATFORM, client_id, client_secret)
    auth = RedditAuth(http, client_id, client_secret, user_agent, shared)
    session = ApiSession(
        platform=PLATFORM, http=http, authenticate=auth, sink=sink, limiter=Limiter(LIMITS, shared), validate=json_problem
    )
    return RedditCollector(session, user_agent=user_agent)
