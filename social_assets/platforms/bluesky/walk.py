"""Reading one Bluesky actor's day (all requests through the source's `RestClient`, which lands them):

1. profile: `app.bsky.actor.getProfile?actor=`, landed as "profiles";
2. posts: `app.bsky.feed.getAuthorFeed?actor=&filter=posts_no_replies&limit=`, following the
   opaque `cursor` (absent on the last page) until `post_limit` items were read or a page
   reaches items older than the day (the feed is newest first). Every page is landed as
   "posts"; the author's own posts published inside the day are kept (reposts are not theirs);
3. comments, for each kept post with replies: `app.bsky.feed.getPostThread?uri=&depth=&parentHeight=0`,
   one call per post with `depth` = `comment_depth` + 1 reply levels, landed as "comments".

The refresh reads current counts through `app.bsky.feed.getPosts`, 25 URIs a call.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from social_assets.core.errors import ApiError, NotFoundError, PermissionDeniedError
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import QueryCursor, RestClient, batches, missing_ids
from social_assets.core.timeutil import from_iso
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.bluesky.normalize import REPOST
from social_assets.platforms.bluesky.spec import GET_POSTS_BATCH, PLATFORM, BlueskySource

log = logging.getLogger(__name__)

GET_PROFILE = "/xrpc/app.bsky.actor.getProfile"
AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
POST_THREAD = "/xrpc/app.bsky.feed.getPostThread"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
PAGE_SIZE = 100  # getAuthorFeed's maximum `limit`
MAX_THREAD_DEPTH = 1000  # getPostThread's maximum `depth`
CURSOR = QueryCursor("cursor", ("cursor",))


class BlueskyWalk:
    def __init__(self, client: RestClient, source: BlueskySource, page_size: int = PAGE_SIZE):
        self.client = client
        self.source = source
        self.page_size = page_size

    def profile(self) -> None:
        self.client.call("GET", GET_PROFILE, params={"actor": self.source.actor}, land_as="profiles")

    def posts(self, window: DayWindow) -> list[PostRef]:
        source = self.source
        params = {"actor": source.actor, "filter": "posts_no_replies", "limit": str(min(self.page_size, source.post_limit))}
        kept: dict[str, PostRef] = {}
        read = 0
        for body in self.client.pages("GET", AUTHOR_FEED, CURSOR, params=params, land_as="posts"):
            feed = body.get("feed") if isinstance(body, dict) else None
            if not isinstance(feed, list):
                raise ApiError(PLATFORM, "GET", self.client.url(AUTHOR_FEED), 200, "response has no feed[]")
            read += len(feed)
            oldest = None
            for item in feed:
                moment, ref = _placed(item)
                if moment is None:
                    continue  # the normalizer reports an item it cannot place
                oldest = moment if oldest is None else min(oldest, moment)
                if ref is not None and moment in window:
                    kept.setdefault(ref.post_id, ref)
            if not feed or read >= source.post_limit or (oldest is not None and oldest < window.start):
                break  # newest first: every later page is older than the day
        return list(kept.values())

    def comments(self, post: PostRef) -> None:
        params = {"uri": post.post_id, "depth": str(min(self.source.comment_depth + 1, MAX_THREAD_DEPTH)), "parentHeight": "0"}
        try:
            self.client.call("GET", POST_THREAD, params=params, land_as="comments")
        except (NotFoundError, PermissionDeniedError) as exc:
            # Deleted or blocked since the feed was read: the other posts still count.
            log.warning("bluesky: skipping the thread of %s: %s", post.post_id, exc)


def _placed(item: Any) -> tuple[Any, PostRef | None]:
    """Where a feed item sits in the feed (a repost at its repost time, a post at its creation)
    and, for the author's own posts, its reference."""
    if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
        return None, None
    post, reason = item["post"], item.get("reason")
    try:
        if isinstance(reason, dict) and reason.get("$type") == REPOST:
            return from_iso(str(reason.get("indexedAt"))), None
        moment = from_iso(str((post.get("record") or {}).get("createdAt")))
    except ValueError:
        return None, None
    replies = post.get("replyCount")
    return moment, PostRef(str(post.get("uri")), replies if isinstance(replies, int) else None)


def refresh(client: RestClient, post_ids: Sequence[str]) -> list[Gone]:
    """Current counts of known posts: getPosts, 25 URIs per call (a repeated `uris` parameter).
    getPosts leaves out posts that were deleted: those are reported gone."""
    missing: list[str] = []
    for batch in batches(post_ids, GET_POSTS_BATCH):
        body = client.get(GET_POSTS, params={"uris": tuple(batch)}, land_as="posts")
        missing += missing_ids(batch, body, ("posts",), id_key="uri")
    return gone_posts(missing, "missing from getPosts (deleted)")
