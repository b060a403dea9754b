"""Emulation of X API v2 over the synthetic world: routes and renderers only (tokens, the
per-endpoint 15-minute windows, the monthly cap, paging and fault shaping are the engine's).

What it answers, on `api.x.com` (and `api.twitter.com`), in the shapes of the recorded v2
responses in shared/realdata/twitter:
- `POST /2/oauth2/token`: the refresh-token grant of user-context OAuth 2.0 (client id and
  secret by HTTP Basic). Each refresh token works once and the answer carries its successor
  (rotation); the configured one is always accepted (as after a new authorization);
- with `Authorization: Bearer <app token or issued user token>` (else 401 problem JSON, with
  no rate-limit headers, as recorded): `GET /2/users/by/username/{username}`,
  `GET /2/users/{id}`, `GET /2/users/{id}/tweets` (`start_time`, `end_time`, `exclude`,
  `max_results` 5-100, `pagination_token`; the 3,200 newest posts), `GET /2/tweets?ids=`
  (up to 100; unknown ids are `errors` beside `data`, or alone), and
  `GET /2/tweets/search/recent` for `conversation_id:<id>` queries (`max_results` 10-100,
  `next_token` or `pagination_token`; only replies of the last 7 days, newest first);
- fields as asked: a post has `id`, `text` and `edit_history_tweet_ids` unless `tweet.fields`
  asks for more; `includes.users` and `includes.media` follow `expansions`; an empty page is
  `{"meta": {"result_count": 0}}`; a wrong path is an HTML 404 page.

How the world maps onto X: each catalog account is a user (numeric id hashed from the
handle); each world post a post whose id encodes its uid, with photos, galleries, videos,
links or long posts (`note_tweet`, `text` cut at 280) by its flavor; each world comment a reply
in the post's conversation, `replied_to` its parent. Ids are reversible, nothing is stored.

Limits: `x-rate-limit-limit/-remaining/-reset` (absolute epoch) on every authenticated answer,
one window per credential and endpoint (300 calls per 15 minutes, the client's `LIMITS`); past
it, 429. The monthly cap is 429 `UsageCapExceeded` (`usage-capped`).

Faults: `429_burst` is 429 problem JSON with the true headers; `5xx` 500 or 503 problem JSON;
`expired_token` (user-context tokens only: an app bearer token does not expire) revokes the
token and answers 401; `duplicate_items` on timeline and search pages with a token;
`field_missing` / `field_renamed` drop or rename (`createdAt`) one post's `created_at`.

Not emulated: different window sizes per endpoint (one size for all), the monthly cap counted
per endpoint rather than per project and in calls rather than posts, full-archive search,
quotes, retweets and replies among an account's own posts, polls, protected or suspended
accounts, `since_id`/`until_id`, and `organic_metrics`/`non_public_metrics`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, ClassVar

from social_assets.core.timeutil import from_iso
from social_assets.platforms.x.spec import LIMITS, endpoint_of
from social_assets.sandbox.engine import (
    AUTH,
    QUOTA,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    FieldFault,
    InvalidCursor,
    PageTokens,
    b64,
    bearer,
    decode_uid,
    digest,
    encode_uid,
    int_param,
)
from social_assets.sandbox.faults import EXPIRED_TOKEN, RATE_LIMITED, SERVER_ERROR
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import CommentTree, World, WorldAccount, WorldComment, WorldPost

PLATFORM = "x"
CREDENTIALS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAA-sandbox-x-app-only-bearer-token",
    "X_CLIENT_ID": "sandbox-x-client-id",
    "X_CLIENT_SECRET": "sandbox-x-client-secret",
    "X_REFRESH_TOKEN": "sandbox-x-refresh-token",
}
TOKEN_PATH = "/2/oauth2/token"
PROBLEMS = "https://api.twitter.com/2/problems/"
TIMELINE_DEPTH = 3200
RECENT_DAYS = 7
NOTE_TWEET_SHARE = 0.07  # posts longer than 280 characters


def _problem(status: int, title: str, detail: str | None = None, kind: str = "about:blank", **extra: Any) -> dict:
    return {"title": title, "detail": detail or title, "type": kind, "status": status, **extra}


class _Invalid(Exception):
    """A request X refuses with 400 invalid-request."""

    def __init__(self, message: str, **parameters: str):
        self.response = SandboxResponse(400, {
            "errors": [{"parameters": {k: [v] for k, v in parameters.items()}, "message": message}],
            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        })


_NOT_FOUND_PAGE = (b"<!DOCTYPE html>\n<html><head><title>X / Error</title></head><body>"
                   b"<h1>Sorry, that page does not exist</h1></body></html>")


# -- ids --------------------------------------------------------------------------------------


def tweet_id(uid: int, reply: bool) -> str:
    """A snowflake-looking decimal id holding a world post (or, for a reply, comment) uid."""
    return str(int.from_bytes(encode_uid(uid * 2 + reply, 8, "x-tweet"), "big"))


def uid_of_tweet(tweet: str) -> tuple[int, bool] | None:
    if not tweet.isdigit() or int(tweet) >= 2**64:
        return None
    value = decode_uid(int(tweet).to_bytes(8, "big"), "x-tweet")
    uid, reply = value >> 1, bool(value & 1)
    return (uid, reply) if tweet_id(uid, reply) == tweet else None


def user_id(username: str) -> str:
    return str(10**17 + digest("x-user", username.lower()) % (9 * 10**17))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _fields(request: SandboxRequest, name: str) -> set[str]:
    return {f for f in (request.param(name) or "").split(",") if f}


def _time(request: SandboxRequest, name: str) -> datetime | None:
    value = request.param(name)
    if not value:
        return None
    try:
        return from_iso(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(f"Invalid '{name}':'{value}'. '{name}' must be a valid RFC 3339 date.", **{name: value}) from None


def _max_results(request: SandboxRequest, low: int, high: int, default: int) -> int:
    value = request.param("max_results")
    number = int_param(value, default)
    if not low <= number <= high:
        raise _Invalid(f"The `max_results` query parameter value [{value}] is not between {low} and {high}",
                       max_results=str(value))
    return number


class XEmulation(Emulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = ("api.x.com", "api.twitter.com")
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("user", "XDevelopers"), ("user", "sandbox_brand"), ("user", "dataeng_daily"), ("user", "duckdb_fans"),
        *(("user", f"sbx_x_user_{n:02d}") for n in range(1, 47)),  # for scaling tests
    )
    credentials = CREDENTIALS
    limits = LIMITS
    token_lifetime = 7200  # X's user access tokens last two hours
    errors = {
        THROTTLED: (ErrorAnswer(429, _problem(429, "Too Many Requests")),),
        TRANSIENT: (ErrorAnswer(503, _problem(503, "Service Unavailable")),
                    ErrorAnswer(500, _problem(500, "Internal Server Error"))),
        QUOTA: (ErrorAnswer(429, _problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
                                          PROBLEMS + "usage-capped", period="Monthly", scope="Product")),),
        AUTH: (ErrorAnswer(401, _problem(401, "Unauthorized")),),
    }
    faulted_fields = {"posts": FieldFault(("created_at",), "createdAt"),
                      "comments": FieldFault(("created_at",), "createdAt")}
    paged = {"posts": "pagination_token", "comments": "next_token"}

    def __init__(self, world: World, configured=None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self._users = {user_id(a.handle): a for a in world.accounts(PLATFORM)}
        self._spent_refresh_tokens: set[str] = set()

    # -- the engine's hooks -----------------------------------------------------------------

    def authenticate(self, request: SandboxRequest) -> str | None | SandboxResponse:
        if request.path == TOKEN_PATH:
            return None  # the token endpoint is not metered
        token = bearer(request)
        subject = "app" if token and self.accepted.accepts(X_BEARER_TOKEN=token) else self.tokens.subject(token)
        if subject is None:
            return self.error(AUTH)
        # X counts each endpoint in its own window.
        return f"{subject} {endpoint_of(request.method, f'https://{request.host}{request.path}')}"

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if request.path == TOKEN_PATH:
            return frozenset({RATE_LIMITED, SERVER_ERROR})
        kinds = super().fault_kinds(request)
        return kinds | {EXPIRED_TOKEN} if self.tokens.subject(bearer(request)) else kinds

    def resource_of(self, request: SandboxRequest) -> str | None:
        parts = request.path.strip("/").split("/")
        if parts in (["2", "tweets"],) or (len(parts) == 4 and parts[:2] == ["2", "users"] and parts[3] == "tweets"):
            return "posts"
        return "comments" if parts == ["2", "tweets", "search", "recent"] else None

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, list) else []

    def route(self, request: SandboxRequest) -> SandboxResponse:
        parts = request.path.strip("/").split("/")
        try:
            if request.method == "POST" and request.path == TOKEN_PATH:
                return self._token(request)
            if request.method == "GET":
                match parts:
                    case ["2", "users", "by", "username", name]:
                        return self._user_answer(self.world.account(PLATFORM, name), name, "username", request)
                    case ["2", "users", uid] if uid.isdigit():
                        return self._user_answer(self._users.get(uid), uid, "id", request)
                    case ["2", "users", uid, "tweets"] if uid.isdigit():
                        return self._timeline(uid, request)
                    case ["2", "tweets"]:
                        return self._lookup(request)
                    case ["2", "tweets", "search", "recent"]:
                        return self._search(request)
        except _Invalid as invalid:
            return invalid.response
        except InvalidCursor as bad:
            return _Invalid(f"The pagination token [{bad}] is invalid").response
        return SandboxResponse(404, _NOT_FOUND_PAGE, {"content-type": "text/html; charset=utf-8"})

    # -- auth -------------------------------------------------------------------------------

    def _token(self, request: SandboxRequest) -> SandboxResponse:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":") if scheme.lower() == "basic" else ("", "", "")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        if not self.accepted.accepts(X_CLIENT_ID=client_id, X_CLIENT_SECRET=secret):
            return SandboxResponse(401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"})
        form = request.form()
        offered = form.get("refresh_token", "")
        seed = self.accepted.accepts(X_CLIENT_ID=client_id, X_REFRESH_TOKEN=offered)
        issued = self.tokens.subject(offered) == f"refresh:{client_id}" and offered not in self._spent_refresh_tokens
        if form.get("grant_type") != "refresh_token" or not (seed or issued):
            return SandboxResponse(400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."})
        if issued:
            self._spent_refresh_tokens.add(offered)  # rotation: a refresh token works once
        return self.ok({
            "token_type": "bearer", "expires_in": self.token_lifetime,
            "access_token": self.tokens.issue(f"user:{client_id}", self.token_lifetime),
            "scope": "tweet.read users.read offline.access",
            "refresh_token": self.tokens.issue(f"refresh:{client_id}", 180 * 86400),
        })

    # -- users ------------------------------------------------------------------------------

    def _user_answer(self, account: WorldAccount | None, asked: str, parameter: str, request: SandboxRequest) -> SandboxResponse:
        if account is None:
            what = "username" if parameter == "username" else "id"
            return self.ok({"errors": [{
                "value": asked, "detail": f"Could not find user with {what}: [{asked}].", "title": "Not Found Error",
                "resource_type": "user", "parameter": parameter, "resource_id": asked, "type": PROBLEMS + "resource-not-found",
            }]})
        return self.ok({"data": self._user(account, _fields(request, "user.fields"))})

    def _user(self, account: WorldAccount, fields: set[str]) -> dict[str, Any]:
        now = self.world.now()
        user: dict[str, Any] = {"id": user_id(account.handle), "name": account.display_name, "username": account.handle}
        if "created_at" in fields:
            user["created_at"] = _iso(account.created_at)
        if "description" in fields:
            user["description"] = f"The {account.display_name} account (sandbox)."
        if "profile_image_url" in fields:
            user["profile_image_url"] = f"https://pbs.twimg.com/profile_images/{user['id']}/avatar_normal.jpg"
        if "verified" in fields:
            user["verified"] = account.number % 3 == 0
        if "public_metrics" in fields:
            days = max(1, (now - account.created_at).days)
            user["public_metrics"] = {
                "followers_count": account.followers(now), "following_count": 50 + digest("following", account.handle) % 900,
                "tweet_count": int(account.posts_per_day * days), "listed_count": account.followers(now) // 500,
                "like_count": int(account.posts_per_day * days * 3),
            }
        return user

    def _commenter(self, username: str) -> dict[str, Any]:
        return {"id": user_id(username), "name": username.replace("_", " ").title(), "username": username}

    # -- posts ------------------------------------------------------------------------------

    def _timeline(self, uid: str, request: SandboxRequest) -> SandboxResponse:
        account = self._users.get(uid)
        if account is None:
            return self.ok({"errors": [{
                "value": uid, "detail": f"Could not find user with id: [{uid}].", "title": "Not Found Error",
                "resource_type": "user", "parameter": "id", "resource_id": uid, "type": PROBLEMS + "resource-not-found",
            }]})
        size = _max_results(request, 5, 100, 10)
        start, end = _time(request, "start_time"), _time(request, "end_time")
        newest = islice(self.world.iter_posts_newest_first(account), TIMELINE_DEPTH)
        posts = []
        for post in newest:
            if end is not None and post.published_at >= end:
                continue
            if start is not None and post.published_at < start:
                break
            posts.append(post)
        tokens = PageTokens(f"timeline|{uid}|{start}|{end}|{request.param('exclude')}")
        page = tokens.page(posts, request.param("pagination_token"), size, request.overlap)
        items = [(self._post(p, request), p.account.handle, p) for p in page.items]
        return self.ok(self._page(items, request, page.next, page.previous), page)

    def _lookup(self, request: SandboxRequest) -> SandboxResponse:
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            raise _Invalid(f"The number of values in the `ids` query parameter list [{len(ids)}] is not between 1 and 100",
                           ids=request.param("ids") or "")
        found, errors = [], []
        for asked in ids:
            item = self._resolve(asked, request)
            if item is None:
                errors.append({"value": asked, "detail": f"Could not find tweet with ids: [{asked}].",
                               "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                               "resource_id": asked, "type": PROBLEMS + "resource-not-found"})
            else:
                found.append(item)
        body = self._page(found, request, None, None, meta=False) if found else {}
        return self.ok({**body, **({"errors": errors} if errors else {})})

    def _resolve(self, asked: str, request: SandboxRequest) -> tuple[dict, str, Any] | None:
        decoded = uid_of_tweet(asked)
        if decoded is None:
            return None
        uid, reply = decoded
        if reply:
            comment = self.world.comment_by_uid(PLATFORM, uid)
            return (self._reply(comment, request), comment.author, None) if comment else None
        post = self.world.post_by_uid(PLATFORM, uid)
        return (self._post(post, request), post.account.handle, post) if post else None

    def _search(self, request: SandboxRequest) -> SandboxResponse:
        query = (request.param("query") or "").strip()
        if not query.startswith("conversation_id:") or not query.removeprefix("conversation_id:").isdigit():
            raise _Invalid("The sandbox answers only `conversation_id:<post id>` queries", query=query)
        size = _max_results(request, 10, 100, 10)
        decoded = uid_of_tweet(query.removeprefix("conversation_id:"))
        post = self.world.post_by_uid(PLATFORM, decoded[0]) if decoded and not decoded[1] else None
        now = self.world.now()
        since = max(filter(None, [now - timedelta(days=RECENT_DAYS), _time(request, "start_time")]))
        replies = [] if post is None else sorted(
            (c for c in self.world.comments(post) if c.published_at >= since), key=lambda c: c.published_at, reverse=True)
        token = request.param("next_token") or request.param("pagination_token")
        page = PageTokens(f"search|{query}|{since}").page(replies, token, size, request.overlap)
        existing = self.world.comments(post, include_deleted=True) if post is not None else []
        items = [(self._reply(c, request, existing), c.author, None) for c in page.items]
        return self.ok(self._page(items, request, page.next, None), page)

    def _page(self, items: list[tuple[dict, str, WorldPost | None]], request: SandboxRequest, next_token: str | None,
              previous_token: str | None, meta: bool = True) -> dict[str, Any]:
        """`data`, `includes` as the expansions ask, and `meta`; no `data` when empty."""
        body: dict[str, Any] = {}
        if items:
            body["data"] = [item for item, _, _ in items]
        expansions = _fields(request, "expansions")
        includes: dict[str, list] = {}
        if "author_id" in expansions and items:
            authors = dict.fromkeys(author for _, author, _ in items)
            includes["users"] = [self._user(self.world.account(PLATFORM, a), _fields(request, "user.fields"))
                                 if self.world.account(PLATFORM, a) else self._commenter(a) for a in authors]
        if "attachments.media_keys" in expansions:
            media = [m for _, _, post in items if post is not None for m in self._media(post)]
            if media:
                includes["media"] = media
        if includes:
            body["includes"] = includes
        if meta:
            ids = [item["id"] for item, _, _ in items]
            body["meta"] = {"result_count": len(ids)}
            if ids:
                body["meta"] |= {"newest_id": ids[0], "oldest_id": ids[-1]}
            if next_token:
                body["meta"]["next_token"] = next_token
            if previous_token:
                body["meta"]["previous_token"] = previous_token
        return body

    def _post(self, post: WorldPost, request: SandboxRequest) -> dict[str, Any]:
        fields, now = _fields(request, "tweet.fields"), self.world.now()
        tid = tweet_id(post.uid, False)
        full = post.title + (f"\n\n{post.body}" if post.body else "")
        long = post.flavor > 1 - NOTE_TWEET_SHARE
        if long:
            while len(full) <= 300:
                full += f" {post.body or post.title}"
        item: dict[str, Any] = {"id": tid, "text": full[:279] + "…" if long else full, "edit_history_tweet_ids": [tid]}
        extra = {
            "created_at": _iso(post.published_at),
            "author_id": user_id(post.account.handle),
            "conversation_id": tid,
            "lang": "en",
            "public_metrics": {
                "retweet_count": post.shares(now), "reply_count": self.world.comment_count(post, now),
                "like_count": post.likes(now), "quote_count": post.shares(now) // 5,
                "bookmark_count": post.likes(now) // 20, "impression_count": post.views(now),
            },
        }
        media = self._media(post)
        if media:
            extra["attachments"] = {"media_keys": [m["media_key"] for m in media]}
        if 0.45 <= post.flavor < 0.55:
            link = f"https://t.co/{b64(digest('link', post.uid).to_bytes(8, 'big'))[:10]}"
            item["text"] += f" {link}"
            extra["entities"] = {"urls": [{"start": len(item["text"]) - len(link), "end": len(item["text"]), "url": link,
                                           "expanded_url": f"https://example.com/{post.uid}", "display_url": "example.com"}]}
        if long:
            extra["note_tweet"] = {"text": full}
        item.update((k, v) for k, v in extra.items() if k in fields)
        return item

    def _media(self, post: WorldPost) -> list[dict[str, Any]]:
        key = b64(digest("media", post.uid).to_bytes(8, "big"))
        if post.flavor < 0.33:
            photos = 1 if post.flavor < 0.25 else 2
            return [{"media_key": f"3_{post.uid}{n}", "type": "photo", "url": f"https://pbs.twimg.com/media/{key}{n}.jpg"}
                    for n in range(photos)]
        if post.flavor < 0.45:
            preview = f"https://pbs.twimg.com/ext_tw_video_thumb/{post.uid}/pu/img/{key}.jpg"
            return [{"media_key": f"7_{post.uid}", "type": "video", "preview_image_url": preview, "variants": [
                {"bit_rate": 832000, "content_type": "video/mp4", "url": f"https://video.twimg.com/ext_tw_video/{key}/640x360.mp4"},
                {"bit_rate": 2176000, "content_type": "video/mp4", "url": f"https://video.twimg.com/ext_tw_video/{key}/1280x720.mp4"},
                {"content_type": "application/x-mpegURL", "url": f"https://video.twimg.com/ext_tw_video/{key}/pl.m3u8"},
            ]}]
        return []

    def _reply(self, comment: WorldComment, request: SandboxRequest, existing: list[WorldComment] | None = None) -> dict[str, Any]:
        """`existing`: the post's comments that exist now, deleted ones too, oldest first (index order)."""
        fields, now = _fields(request, "tweet.fields"), self.world.now()
        post = comment.post
        existing = self.world.comments(post, include_deleted=True) if existing is None else existing
        siblings = _tree(existing)
        parent = existing[comment.parent_index] if comment.parent_index is not None else None
        parent_id = tweet_id(parent.uid, True) if parent else tweet_id(post.uid, False)
        answered = parent.author if parent else post.account.handle
        rid = tweet_id(comment.uid, True)
        item: dict[str, Any] = {"id": rid, "text": f"@{answered} {comment.text}", "edit_history_tweet_ids": [rid]}
        extra = {
            "created_at": _iso(comment.published_at),
            "author_id": user_id(comment.author),
            "conversation_id": tweet_id(post.uid, False),
            "in_reply_to_user_id": user_id(answered),
            "referenced_tweets": [{"type": "replied_to", "id": parent_id}],
            "lang": "en",
            "public_metrics": {"retweet_count": 0, "reply_count": len(siblings.replies(comment)),
                               "like_count": comment.likes(now), "quote_count": 0, "bookmark_count": 0,
                               "impression_count": comment.likes(now) * 20 + 10},
        }
        item.update((k, v) for k, v in extra.items() if k in fields)
        return item


_TREES: dict[tuple[int, int], CommentTree] = {}


def _tree(existing: list[WorldComment]) -> CommentTree:
    """The comments' tree, built once per post and comment count (a search page asks per reply)."""
    key = (existing[0].post.uid, len(existing)) if existing else (0, 0)
    if key not in _TREES:
        if len(_TREES) > 64:
            _TREES.clear()
        _TREES[key] = CommentTree(existing)
    return _TREES[key]


EMULATION = XEmulation
