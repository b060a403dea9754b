"""Emulation of the Facebook Graph API for Pages (`graph.facebook.com/<version>`) over the synthetic
world: routes and renderers; tokens, usage headers, errors and paging are `graph_common`'s.

Post insights: `insights.metric(post_total_media_view_unique)` expanded into a post (its reach),
computed `INSIGHTS_LAG` late (none before); other metrics are not answered.

Routes (`GET`, any `vNN` version): `/{page-id or username}` (Page fields: id, name, username,
link, followers_count, fan_count), `/{page-id}/posts` and `/feed` (newest first, `since`/`until`
unix times, `limit` <= 100, `after` cursors; `attachments{...}`, `shares` (absent when 0, as
Graph does), `reactions.summary(...)` and `comments.summary(...)` expanded), `/{post-id}`,
`/{post-id}/comments` (top-level comments in `order` chronological or reverse, `summary=true`
adds `summary.total_count`), `/{comment-id}/comments` (its replies: every comment below it, as
Facebook shows two levels) and `/?ids=` (up to 50 posts). Unknown objects answer 400 code 100,
subcode 33.

How the world maps: each catalog account is a Page (numeric id hashed from its username); each
world post a post `{page-id}_{n}` whose attachment is a photo, an album, a video, a link or none
by its flavor; each world comment at depth 0 a comment `{n}_{m}`, every comment below it a reply
to it. Reactions are the post's likes. Usage is 600 calls an hour per token, reported in
`X-App-Usage` and `X-Business-Use-Case-Usage` (type `pages`).

Faults: throttles (codes 4, 17, 32, 613, 80001), 1/2 transient errors, 190 expired tokens,
`duplicate_items` on posts and comments pages with a cursor, `field_missing`/`field_renamed` of
a post's or comment's `created_time`.

Not emulated: one token per Page (the sandbox token reads every Page), Page insights and post
insights other than the one above,
visitor posts and tagged posts (`/feed` answers the Page's own posts), comment ids withheld
from tokens that cannot moderate the Page, reaction types, `filter=stream` order, comment
ranking, videos, live videos, events, and any write.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.facebook.spec import TOKEN_VARIABLE
from social_assets.sandbox.engine import FieldFault, decode_uid, digest, encode_uid
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.platforms.graph_common import GraphEmulation, fields_of, graph_errors, insights_asked, top_fields
from social_assets.sandbox.world import World, WorldAccount, WorldComment, WorldPost

PLATFORM = "facebook"
CREDENTIALS = {TOKEN_VARIABLE: "EAAsandboxFacebookPageToken0123456789"}
_VERSION = re.compile(r"^v\d+(\.\d+)?$")
_CDN = "https://scontent.xx.fbcdn.net/v/t39.30808-6"
INSIGHTS_LAG = timedelta(hours=2)


def page_id_for(account: WorldAccount) -> str:
    return str(100000000000000 + digest("fb-page", account.handle) % 900000000000000)


def post_id_for(post: WorldPost) -> str:
    return f"{page_id_for(post.account)}_{int.from_bytes(encode_uid(post.uid, 7, 'fb-post'), 'big')}"


def comment_id_for(comment: WorldComment) -> str:
    post_part = post_id_for(comment.post).split("_")[1]
    return f"{post_part}_{int.from_bytes(encode_uid(comment.uid, 8, 'fb-comment'), 'big')}"


def _time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _decoded(digits: str, size: int, label: str) -> int | None:
    if not digits.isdigit() or int(digits) >= 256**size:
        return None
    return decode_uid(int(digits).to_bytes(size, "big"), label)


class FacebookEmulation(GraphEmulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = ("graph.facebook.com",)
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("page", "sandboxcafe"), ("page", "duckdblabs"), ("page", "dataengweekly"),
        *(("page", f"sbx.fb.page{n:02d}") for n in range(1, 48)),
    )
    credentials = CREDENTIALS
    business_type = "pages"
    errors = graph_errors([(4, "(#4) Application request limit reached"), (17, "(#17) User request limit reached"),
                           (32, "(#32) Page request limit reached"),
                           (613, "(#613) Calls to this api have exceeded the rate limit."),
                           (80001, "(#80001) There have been too many calls to this Page account.")])
    faulted_fields = {"posts": FieldFault(("created_time",), "created"),
                      "comments": FieldFault(("created_time",), "created")}
    paged = {"posts": "after", "comments": "after"}

    def __init__(self, world: World, configured=None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        accounts = world.accounts(PLATFORM)
        self._pages = {**{a.handle.lower(): a for a in accounts}, **{page_id_for(a): a for a in accounts}}

    def token_subject(self, token: str) -> str | None:
        return "page-token" if self.accepted.accepts(**{TOKEN_VARIABLE: token}) else self.tokens.subject(token)

    # -- routes -------------------------------------------------------------------------------

    def resource_of(self, request: SandboxRequest) -> str | None:
        parts = self._parts(request)
        if len(parts) == 2 and parts[1] in ("posts", "feed"):
            return "posts"
        return "comments" if len(parts) == 2 and parts[1] == "comments" else None

    def route(self, request: SandboxRequest) -> SandboxResponse:
        if request.method != "GET":
            return self.invalid("(#100) Unsupported request method")
        match self._parts(request):
            case []:
                return self.lookup(request, lambda i: self._post_by_id(i, request))
            case [page] if page.lower() in self._pages:
                return self.ok(self._page(self._pages[page.lower()], request))
            case [post_id]:
                rendered = self._post_by_id(post_id, request)
                return self.ok(rendered) if rendered else self.unknown(post_id)
            case [page, "posts" | "feed"] if page.lower() in self._pages:
                return self._posts(self._pages[page.lower()], request)
            case [object_id, "comments"]:
                return self._comments(object_id, request)
            case parts:
                return self.unknown("/".join(parts))

    def _parts(self, request: SandboxRequest) -> list[str]:
        parts = [p for p in request.path.split("/") if p]
        return parts[1:] if parts and _VERSION.match(parts[0]) else parts

    # -- pages and posts ------------------------------------------------------------------------

    def _page(self, account: WorldAccount, request: SandboxRequest) -> dict:
        followers = account.followers(self.world.now())
        page = {"id": page_id_for(account), "name": account.display_name, "username": account.handle,
                "link": f"https://www.facebook.com/{account.handle}", "followers_count": followers,
                "fan_count": int(followers * 0.93)}
        wanted = top_fields(fields_of(request)) or {"id", "name"}
        return {k: v for k, v in page.items() if k == "id" or k in wanted}

    def _posts(self, account: WorldAccount, request: SandboxRequest) -> SandboxResponse:
        until = _unix(request.param("until"))
        since = _unix(request.param("since"))
        posts = (p for p in self.world.iter_posts_newest_first(account)
                 if (until is None or p.published_at < until))
        if since is not None:
            posts = _until_older(posts, since)
        return self.page(request, posts, lambda p: self._post(p, request), f"fb-posts|{account.handle}|{since}|{until}")

    def _post_of(self, post_id: str) -> WorldPost | None:
        page, _, part = post_id.partition("_")
        uid = _decoded(part, 7, "fb-post") if page in self._pages else None
        post = self.world.post_by_uid(PLATFORM, uid) if uid is not None else None
        return post if post is not None and post_id_for(post) == post_id else None

    def _post_by_id(self, post_id: str, request: SandboxRequest) -> dict | None:
        post = self._post_of(post_id)
        return self._post(post, request) if post else None

    def _post(self, post: WorldPost, request: SandboxRequest) -> dict:
        now = self.world.now()
        wanted = top_fields(fields_of(request)) or {"id", "message", "created_time"}
        post_id = post_id_for(post)
        page = post.account
        item: dict[str, Any] = {
            "id": post_id, "message": f"{post.title}. {post.body}".strip(), "created_time": _time(post.published_at),
            "permalink_url": f"https://www.facebook.com/{page.handle}/posts/{post_id.split('_')[1]}",
            "from": {"name": page.display_name, "id": page_id_for(page)},
            "reactions": {"data": [], "summary": {"total_count": post.likes(now), "viewer_reaction": "NONE"}},
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": self.world.comment_count(post),
                                                 "can_comment": True}},
        }
        attachment = self._attachment(post)
        if attachment:
            item["attachments"] = {"data": [attachment]}
            item["full_picture"] = attachment.get("media", {}).get("image", {}).get("src") or \
                attachment["subattachments"]["data"][0]["media"]["image"]["src"]
        if post.shares(now):
            item["shares"] = {"count": post.shares(now)}  # Graph leaves `shares` out at 0
        item = {k: v for k, v in item.items() if k == "id" or k in wanted}
        asked = insights_asked(fields_of(request))
        if asked:
            seen_at = now - INSIGHTS_LAG  # computed late, as Graph's are: none yet for a new post
            reach = int(post.views(seen_at) * 0.6) if seen_at > post.published_at else None
            item["insights"] = {"data": [
                {"name": m, "period": "lifetime", "values": [{"value": reach}], "title": "Post views (unique)",
                 "description": "Unique accounts the post was shown to", "id": f"{post_id}/insights/{m}/lifetime"}
                for m in asked[0] if m == "post_total_media_view_unique" and reach is not None]}
        return item

    def _attachment(self, post: WorldPost) -> dict | None:
        post_id = post_id_for(post)
        url = f"https://www.facebook.com/{post.account.handle}/posts/{post_id.split('_')[1]}"
        image = lambda n: {"image": {"height": 720, "src": f"{_CDN}/{post_id}_{n}_n.jpg", "width": 720}}  # noqa: E731
        if post.flavor < 0.25:
            return None  # a text post
        if post.flavor < 0.5:
            return {"media": image(0), "media_type": "photo", "type": "photo", "url": url}
        if post.flavor < 0.65:
            subs = [{"media": image(n), "type": "photo", "url": f"{url}?photo={n}"} for n in range(2 + post.uid % 3)]
            return {"media_type": "album", "type": "album", "url": url, "subattachments": {"data": subs}}
        if post.flavor < 0.85:
            return {"media": image(0), "media_type": "video", "type": "video_inline", "url": url}
        return {"media": image(0), "media_type": "link", "type": "share", "url": f"https://example.com/{post.uid}"}

    # -- comments -------------------------------------------------------------------------------

    def _comments(self, object_id: str, request: SandboxRequest) -> SandboxResponse:
        post = self._post_of(object_id)
        top = None if post else self._comment_of(object_id)
        if post is None and top is None:
            return self.unknown(object_id)
        existing = self.world.comments(post or top.post)
        if post is not None:
            items = [c for c in existing if c.parent_index is None]
        else:
            items = [c for c in existing if c.parent_index is not None and _top_of(existing, c).index == top.index]
        if request.param("order") == "reverse_chronological":
            items.reverse()
        response = self.page(request, items, lambda c: self._comment(c, existing, request), f"fb-comments|{object_id}")
        if request.param("summary") in ("true", "1") and response.status == 200:
            response.body["summary"] = {"order": request.param("order") or "chronological", "total_count": len(items),
                                        "can_comment": True}
        return response

    def _comment_of(self, comment_id: str) -> WorldComment | None:
        _, _, part = comment_id.partition("_")
        uid = _decoded(part, 8, "fb-comment")
        comment = self.world.comment_by_uid(PLATFORM, uid) if uid is not None else None
        return comment if comment is not None and comment_id_for(comment) == comment_id else None

    def _comment(self, comment: WorldComment, existing: list[WorldComment], request: SandboxRequest) -> dict:
        wanted = top_fields(fields_of(request)) or {"id", "message", "created_time"}
        top = _top_of(existing, comment)
        item: dict[str, Any] = {
            "id": comment_id_for(comment), "message": comment.text, "created_time": _time(comment.published_at),
            "from": {"name": comment.author.replace("_", " ").title(), "id": str(digest("fb-user", comment.author) % 10**15)},
            "like_count": comment.likes(self.world.now()),
            "comment_count": 0 if comment.parent_index is not None else
            sum(1 for c in existing if c.parent_index is not None and _top_of(existing, c).index == comment.index),
        }
        if comment.parent_index is not None:
            item["parent"] = {"id": comment_id_for(top)}
        return {k: v for k, v in item.items() if k == "id" or k in wanted}


def _top_of(comments: list[WorldComment], comment: WorldComment) -> WorldComment:
    while comment.parent_index is not None:
        comment = comments[comment.parent_index]
    return comment


def _unix(value: str | None) -> datetime | None:
    return from_epoch_seconds(float(value)) if value and value.isdigit() else None


def _until_older(posts, since: datetime):
    for post in posts:
        if post.published_at < since:
            return
        yield post


EMULATION = FacebookEmulation
