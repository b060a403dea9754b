"""Emulation of the Instagram API with Instagram Login (`graph.instagram.com/<version>`) over the
synthetic world: routes and renderers; tokens, usage headers, errors and paging are
`graph_common`'s.

Tokens are per account, as on Instagram: `sandbox-instagram-token-<username>` acts for that
catalog account, and the built-in token (and a value configured for `INSTAGRAM_ACCESS_TOKEN`) for
the first, `sandbox_studio`. `GET /refresh_access_token?grant_type=ig_refresh_token` issues a
new 60-day token for the same account.

Routes (`GET`, any `vNN` version): `/me` and `/{ig-user-id}` (profile fields; expanded
`insights.metric(follower_count).period(day).since().until()` gives each day's new followers,
ending at 07:00 UTC, for the last 30 days, and is refused with code 10 for accounts under 100
followers), `/{ig-user-id}/media` (newest first, `limit` <= 100, `after` cursors; fields
`children{...}` and `insights.metric(...)` expanded), `/{media-id}`, `/{media-id}/comments`
(top-level comments oldest first, `replies{...}` expanded with its first 10 replies and a
`paging.next` to `/{comment-id}/replies` for the rest), `/{comment-id}/replies` and
`/?ids=` (up to 50 media).

How the world maps: each world post is a media (a carousel of 2 to 4 images, a reel or an
image by its flavor); each world comment at depth 0 a top-level comment, and every comment
below it one of its replies (Instagram has one level). Media insights lag by `INSIGHTS_LAG`: a
newer media has none (`data: []`, never 0). Usage is 600 calls an hour per token.

Faults: throttles (codes 4, 17, 613, 80002), 1/2 transient errors, 190 expired tokens,
`duplicate_items` on media and comment pages with a cursor, `field_missing`/`field_renamed` of
a media's or comment's `timestamp`.

Not emulated: the Instagram API with Facebook Login (graph.facebook.com, Page tokens),
business discovery, stories, tags, hashtags, mentions, account insights other than
follower_count, album children's own insights, hidden comments, ad surfaces (`total_*` counts),
media edits, and any write.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.instagram.spec import TOKEN_VARIABLE
from social_assets.sandbox.engine import FieldFault, Page, PageTokens, bearer, decode_uid, digest, encode_uid
from social_assets.sandbox.faults import RATE_LIMITED, SERVER_ERROR
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.platforms.graph_common import (
    GraphEmulation,
    fields_of,
    graph_error,
    graph_errors,
    insights_asked,
    top_fields,
)
from social_assets.sandbox.world import World, WorldAccount, WorldComment, WorldPost

PLATFORM = "instagram"
TOKEN_PREFIX = "sandbox-instagram-token-"
CREDENTIALS = {TOKEN_VARIABLE: f"{TOKEN_PREFIX}sandbox_studio"}
INSIGHTS_LAG = timedelta(hours=2)
NESTED_REPLIES = 10
_VERSION = re.compile(r"^v\d+(\.\d+)?$")
_CDN = "https://scontent.cdninstagram.com/v/t51.29350-15"


def user_id_for(account: WorldAccount) -> str:
    return str(17841400000000000 + digest("ig-user", account.handle) % 10**11)


def media_id_for(post: WorldPost) -> str:
    return "18" + str(int.from_bytes(encode_uid(post.uid, 7, "ig-media"), "big")).zfill(17)


def comment_id_for(comment: WorldComment) -> str:
    return "17" + str(int.from_bytes(encode_uid(comment.uid, 8, "ig-comment"), "big")).zfill(20)


def _uid(object_id: str, prefix: str, size: int, label: str) -> int | None:
    digits = object_id[2:]
    if not object_id.startswith(prefix) or not digits.isdigit() or int(digits) >= 256**size:
        return None
    return decode_uid(int(digits).to_bytes(size, "big"), label)


def _time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class InstagramEmulation(GraphEmulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = ("graph.instagram.com",)
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("account", "sandbox_studio"), ("account", "dataeng.daily"), ("account", "duckdb_fans"),
        *(("account", f"sbx_ig_user_{n:02d}") for n in range(1, 48)),
    )
    credentials = CREDENTIALS
    business_type = "instagram"
    errors = graph_errors([(4, "(#4) Application request limit reached"), (17, "(#17) User request limit reached"),
                           (613, "(#613) Calls to this api have exceeded the rate limit."),
                           (80002, "(#80002) There have been too many calls to this Instagram account.")])
    faulted_fields = {"media": FieldFault(("timestamp",), "created_time"),
                      "comments": FieldFault(("timestamp",), "created_time")}
    paged = {"media": "after", "comments": "after"}

    def __init__(self, world: World, configured=None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self._by_handle = {a.handle: a for a in world.accounts(PLATFORM)}
        self._by_id = {user_id_for(a): a for a in world.accounts(PLATFORM)}

    # -- tokens -------------------------------------------------------------------------------

    def token_subject(self, token: str) -> str | None:
        if self.accepted.accepts(**{TOKEN_VARIABLE: token}):
            return self.world.accounts(PLATFORM)[0].handle
        if token.startswith(TOKEN_PREFIX) and token[len(TOKEN_PREFIX):] in self._by_handle:
            return token[len(TOKEN_PREFIX):]
        return self.tokens.subject(token)

    def authenticate(self, request: SandboxRequest) -> str | None | SandboxResponse:
        return None if request.path == "/refresh_access_token" else super().authenticate(request)

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if request.path == "/refresh_access_token":
            return frozenset({RATE_LIMITED, SERVER_ERROR})
        return super().fault_kinds(request)

    # -- routes -------------------------------------------------------------------------------

    def resource_of(self, request: SandboxRequest) -> str | None:
        parts = self._parts(request)
        if len(parts) == 2 and parts[1] == "media":
            return "media"
        return "comments" if len(parts) == 2 and parts[1] in ("comments", "replies") else None

    def route(self, request: SandboxRequest) -> SandboxResponse:
        if request.method != "GET":
            return self.invalid("(#100) Unsupported request method")
        if request.path == "/refresh_access_token":
            return self._refresh(request)
        me = self._me(request)
        parts = ["me" if p == "me" else p for p in self._parts(request)]
        match parts:
            case []:
                return self.lookup(request, lambda i: self._media_by_id(i, request))
            case ["me"]:
                return self._profile(me, request)
            case [object_id] if object_id in self._by_id:
                return self._profile(self._by_id[object_id], request)
            case [object_id]:
                rendered = self._media_by_id(object_id, request)
                return self.ok(rendered) if rendered else self.unknown(object_id)
            case [owner, "media"] if owner in ("me", *self._by_id):
                account = me if owner == "me" else self._by_id[owner]
                return self.page(request, self.world.iter_posts_newest_first(account),
                                 lambda p: self._media(p, request), f"ig-media|{account.handle}")
            case [media, "comments"]:
                post = self._post(media)
                if post is None:
                    return self.unknown(media)
                return self.page(request, _thread_tops(self.world.comments(post)),
                                 lambda c: self._comment(c, request), f"ig-comments|{media}")
            case [comment, "replies"]:
                top = self._comment_by_id(comment)
                if top is None:
                    return self.unknown(comment)
                return self.page(request, _replies(self.world.comments(top.post), top),
                                 lambda c: self._comment(c, request, reply=True), f"ig-replies|{comment}")
        return self.unknown("/".join(parts))

    def _parts(self, request: SandboxRequest) -> list[str]:
        parts = [p for p in request.path.split("/") if p]
        return parts[1:] if parts and _VERSION.match(parts[0]) else parts

    def _me(self, request: SandboxRequest) -> WorldAccount:
        handle = self.token_subject(bearer(request) or request.param("access_token") or "")
        return self._by_handle.get(handle or "", self.world.accounts(PLATFORM)[0])

    # -- tokens -------------------------------------------------------------------------------

    def _refresh(self, request: SandboxRequest) -> SandboxResponse:
        token = request.param("access_token") or ""
        subject = self.token_subject(token)
        if request.param("grant_type") != "ig_refresh_token" or subject is None:
            return graph_error(400, 190, "Error validating access token: Session has expired.", subcode=463).response()
        return self.ok({"access_token": self.tokens.issue(subject, self.token_lifetime), "token_type": "bearer",
                        "expires_in": self.token_lifetime})

    # -- renderers ----------------------------------------------------------------------------

    def _profile(self, account: WorldAccount, request: SandboxRequest) -> SandboxResponse:
        now = self.world.now()
        fields = fields_of(request)
        followers = account.followers(now)
        body: dict[str, Any] = {
            "id": user_id_for(account), "username": account.handle, "name": account.display_name,
            "followers_count": followers, "follows_count": 40 + digest("ig-follows", account.handle) % 900,
            "media_count": int(account.posts_per_day * max(1, (now - account.created_at).days)),
        }
        body = {k: v for k, v in body.items() if k == "id" or k in top_fields(fields)} if fields else {"id": body["id"]}
        asked = insights_asked(fields)
        if asked:
            if followers < 100:
                return graph_error(400, 10, "(#10) Not enough followers for this metric", kind="OAuthException").response()
            body["insights"] = {"data": [self._follower_count(account, asked[1])]}
        return self.ok(body)

    def _follower_count(self, account: WorldAccount, modifiers: dict[str, str]) -> dict:
        now = self.world.now()
        until = min(now, from_epoch_seconds(float(modifiers.get("until") or now.timestamp())))
        since = max(from_epoch_seconds(float(modifiers.get("since") or (now - timedelta(days=2)).timestamp())),
                    now - timedelta(days=30))
        values = []
        end = since.replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(days=1)
        while end <= until:
            gained = account.followers(end) - account.followers(end - timedelta(days=1))
            values.append({"value": max(0, gained), "end_time": _time(end)})
            end += timedelta(days=1)
        user = user_id_for(account)
        return {"name": "follower_count", "period": "day", "values": values, "title": "Follower Count",
                "description": "Total number of new followers each day within the specified range",
                "id": f"{user}/insights/follower_count/day"}

    def _post(self, media_id: str) -> WorldPost | None:
        uid = _uid(media_id, "18", 7, "ig-media")
        post = self.world.post_by_uid(PLATFORM, uid) if uid is not None else None
        return post if post is not None and media_id_for(post) == media_id else None

    def _comment_by_id(self, comment_id: str) -> WorldComment | None:
        uid = _uid(comment_id, "17", 8, "ig-comment")
        comment = self.world.comment_by_uid(PLATFORM, uid) if uid is not None else None
        return comment if comment is not None and comment_id_for(comment) == comment_id else None

    def _media_by_id(self, media_id: str, request: SandboxRequest) -> dict | None:
        post = self._post(media_id)
        return self._media(post, request) if post else None

    def _media(self, post: WorldPost, request: SandboxRequest) -> dict:
        now, fields = self.world.now(), fields_of(request)
        wanted = top_fields(fields) or {"id"}
        media_id = media_id_for(post)
        kind = "CAROUSEL_ALBUM" if post.flavor < 0.2 else "VIDEO" if post.flavor < 0.45 else "IMAGE"
        image = f"{_CDN}/{media_id}_n.jpg?_nc_cat=1&oe=6A000000"
        item: dict[str, Any] = {
            "id": media_id, "caption": f"{post.title}. {post.body}".strip(), "media_type": kind,
            "media_product_type": "REELS" if kind == "VIDEO" else "FEED",
            "media_url": f"{_CDN}/{media_id}_n.mp4" if kind == "VIDEO" else image,
            "permalink": f"https://www.instagram.com/p/{media_id[-11:]}/", "timestamp": _time(post.published_at),
            "username": post.account.handle, "like_count": post.likes(now), "comments_count": self.world.comment_count(post),
        }
        if kind == "VIDEO":
            item["thumbnail_url"] = image
        if kind == "CAROUSEL_ALBUM":
            item["children"] = {"data": [{"media_type": "IMAGE", "media_url": f"{_CDN}/{media_id}_{n}_n.jpg", "id": f"{media_id}{n}"}
                                         for n in range(2 + post.uid % 3)]}
        item = {k: v for k, v in item.items() if k == "id" or k in wanted}
        asked = insights_asked(fields)
        if asked:
            item["insights"] = {"data": self._media_insights(post, asked[0])}
        return item

    def _media_insights(self, post: WorldPost, metrics: list[str]) -> list[dict]:
        seen_at = self.world.now() - INSIGHTS_LAG
        if seen_at <= post.published_at:
            return []  # not computed yet: no data, never 0
        views = post.views(seen_at)
        values = {"reach": int(views * 0.62), "saved": int(post.likes(seen_at) * 0.04), "shares": post.shares(seen_at),
                  "views": views}
        media_id = media_id_for(post)
        return [{"name": m, "period": "lifetime", "values": [{"value": values[m]}], "title": m.title(),
                 "description": f"The {m} of the media", "id": f"{media_id}/insights/{m}/lifetime"}
                for m in metrics if m in values]

    def _comment(self, comment: WorldComment, request: SandboxRequest, reply: bool = False) -> dict:
        now = self.world.now()
        fields = fields_of(request)
        item: dict[str, Any] = {"id": comment_id_for(comment), "text": comment.text, "timestamp": _time(comment.published_at),
                                "username": comment.author, "like_count": comment.likes(now)}
        if reply:
            item["parent_id"] = comment_id_for(_top_of(self.world.comments(comment.post), comment))
        if "replies" in top_fields(fields) and not reply:
            replies = _replies(self.world.comments(comment.post), comment)
            rendered = [{"id": comment_id_for(r), "text": r.text, "timestamp": _time(r.published_at), "username": r.author,
                         "like_count": r.likes(now), "parent_id": item["id"]} for r in replies[:NESTED_REPLIES]]
            item["replies"] = {"data": rendered}
            if len(replies) > NESTED_REPLIES:
                tokens = PageTokens(f"ig-replies|{item['id']}")
                page = Page(replies[:NESTED_REPLIES], next="more", start=0)
                nested = SandboxRequest("GET", request.host, f"/{item['id']}/replies",
                                        [("fields", "id,text,timestamp,username,like_count,parent_id"), ("limit", "25")],
                                        request.headers, b"")
                item["replies"].update(self.paging(nested, tokens, page, path=f"/{_version(request)}/{item['id']}/replies"))
        return item


def _version(request: SandboxRequest) -> str:
    first = [p for p in request.path.split("/") if p][:1]
    return first[0] if first and _VERSION.match(first[0]) else "v24.0"


def _thread_tops(comments: list[WorldComment]) -> list[WorldComment]:
    return [c for c in comments if c.parent_index is None]


def _top_of(comments: list[WorldComment], comment: WorldComment) -> WorldComment:
    while comment.parent_index is not None:
        comment = comments[comment.parent_index]
    return comment


def _replies(comments: list[WorldComment], top: WorldComment) -> list[WorldComment]:
    """Every comment under `top`, oldest first: Instagram attaches replies to replies to the top."""
    return [c for c in comments if c.parent_index is not None and _top_of(comments, c).index == top.index]


EMULATION = InstagramEmulation
