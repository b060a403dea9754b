"""Reading one Reddit source's day: its `about` page; its listing, following `after` up to
`post_limit` posts (with sort=new, until a page is older than the day), keeping the day's posts;
then each kept post's `/comments/{id}`, every "load more" stub through `POST /api/morechildren`
(one call at a time, as Reddit asks) and every "continue this thread" stub through
`/comments/{post}/_/{comment}`, down to `comment_depth`. The refresh reads `/api/info`.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from social_assets.core.errors import ApiError, NotFoundError, PermissionDeniedError
from social_assets.core.rest import QueryCursor, RestClient, UpTo, batches, parsed
from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.reddit.models import Link, Listing, More, MoreChildrenResponse, Thing
from social_assets.platforms.reddit.normalize import iter_tree
from social_assets.platforms.reddit.spec import INFO_BATCH, PLATFORM, TOP_PERIODS, RedditSource

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # Reddit's maximum `limit` for listings
COMMENT_PAGE_LIMIT = 500  # comments per tree request (Reddit's cap without premium)
MORECHILDREN_BATCH = 100  # ids per /api/morechildren call; more gives 400
MAX_TREE_DEPTH = 10  # Reddit ignores a larger `depth` on /comments
COMMENT_SORT = "confidence"  # Reddit's default; all stubs are expanded, so the order is moot
RAW = {"raw_json": "1"}
AFTER = QueryCursor("after", ("data", "after"))


@dataclass
class WalkStats:  # what one walk did, for tests
    posts_read: int = 0
    listing_pages: int = 0
    comment_pages: int = 0
    morechildren_calls: int = 0
    continued_threads: int = 0


class RedditWalk:
    def __init__(self, client: RestClient, source: RedditSource, page_size: int = PAGE_SIZE):
        self.client = client
        self.source = source
        self.page_size = page_size
        self.stats = WalkStats()
        self.kept: list[Link] = []

    def profile(self) -> None:
        source = self.source
        path = f"/r/{source.subreddit}/about" if source.subreddit else f"/user/{source.user}/about"
        self.client.call("GET", path, params=RAW, land_as="profiles")

    def posts(self, window: DayWindow) -> list[PostRef]:
        source = self.source
        # `top` periods count from the server's clock, as it answered the profile.
        path, params = _listing_request(source, window, self.client.answered_at or window.end)
        params["limit"] = str(min(self.page_size, source.post_limit))
        kept: dict[str, Link] = {}
        read: set[str] = set()  # by id: a post repeated across pages (items shift) counts once
        paging = UpTo(AFTER, "limit", self.page_size, source.post_limit, read)
        for body in self.client.pages("GET", path, paging, params=params, land_as="posts"):
            listing = _as_listing(body, path)
            self.stats.listing_pages += 1
            read.update(child.data.get("id", "") for child in listing.children)
            # A post without a date cannot be placed in a day; the normalizer reports it.
            links = [link for t in listing.children if t.kind == "t3" and (link := parsed(Link, t.data)) is not None]
            kept.update((link.id, link) for link in links if link.id not in kept and from_epoch_seconds(link.created_utc) in window)
            if len(read) >= source.post_limit or not listing.children:
                break
            if source.listing_sort == "new" and links and min(link.created_utc for link in links) < window.start.timestamp():
                break  # newest first: every later page is older than the day
        self.stats.posts_read = len(read)
        self.kept = sorted(kept.values(), key=lambda link: link.created_utc)
        return [PostRef(link.id, link.num_comments) for link in self.kept]

    def comments(self, post: PostRef) -> None:
        max_depth = self.source.comment_depth
        thread = _ThreadWalk(post_id=post.post_id, max_depth=max_depth)
        page = self._comment_page(f"/comments/{post.post_id}", max_depth + 1)
        if page is None:
            return
        thread.add_tree(page, depth_offset=0)
        while thread.pending:
            stub, depth = thread.pending.popleft()
            if depth > max_depth:
                continue  # below the configured depth: not asked for
            if stub.is_continue_thread:
                self._continue_thread(stub, depth, thread)
            else:
                self._load_more(stub, thread)

    def _comment_page(self, path: str, levels: int) -> list[Thing] | None:
        params = {"depth": str(min(levels, MAX_TREE_DEPTH)), "limit": str(COMMENT_PAGE_LIMIT), "sort": COMMENT_SORT, **RAW}
        try:
            body = self.client.get(path, params=params, land_as="comments")
        except (NotFoundError, PermissionDeniedError) as exc:
            # Removed or made private since the listing: the other posts still count.
            log.warning("reddit: skipping comments of %s: %s", path, exc)
            return None
        if body is None:
            return None
        self.stats.comment_pages += 1
        if not (isinstance(body, list) and len(body) == 2):
            raise ApiError(PLATFORM, "GET", self.client.url(path), 200, "comment page is not [post, comments]")
        return _as_listing(body[1], path).children

    def _continue_thread(self, stub: More, depth: int, thread: "_ThreadWalk") -> None:
        """The subtree of `stub.parent_id`, whose true depth is `depth - 1` (Reddit numbers it 0)."""
        anchor_depth = depth - 1
        levels = thread.max_depth - anchor_depth + 1  # the anchor itself is one level
        things = self._comment_page(f"/comments/{thread.post_id}/_/{stub.parent_id.removeprefix('t1_')}", levels)
        if things is not None:
            self.stats.continued_threads += 1
            thread.add_tree(things, depth_offset=anchor_depth)

    def _load_more(self, stub: More, thread: "_ThreadWalk") -> None:
        ids = [c for c in stub.children if c not in thread.seen]
        for batch in batches(ids, MORECHILDREN_BATCH):
            # RAW in the form rather than the query, so the landed request records all of it.
            form = {"api_type": "json", "link_id": f"t3_{thread.post_id}", "children": ",".join(batch),
                    "sort": COMMENT_SORT, "limit_children": "false", "depth": str(thread.max_depth + 1), **RAW}
            body = self.client.json("POST", "/api/morechildren", form=form, land_as="comments")
            if body is None:
                continue
            self.stats.morechildren_calls += 1
            response = parsed(MoreChildrenResponse, body)
            if response is None:
                raise ApiError(PLATFORM, "POST", self.client.url("/api/morechildren"), 200, "malformed morechildren response")
            thread.add_flat(response.json_.data.things if response.json_.data else [])


def refresh(client: RestClient, post_ids: Sequence[str]) -> None:
    """Current score and comment count of known posts: /api/info, 100 fullnames per call."""
    for batch in batches([f"t3_{post_id}" for post_id in post_ids], INFO_BATCH):
        client.get("/api/info", params={"id": ",".join(batch), **RAW}, land_as="posts")


class _ThreadWalk:
    """One post's comments while expanding its stubs: depths by fullname, ids seen, stubs to go."""

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
        elif thing.kind == "more" and (stub := parsed(More, thing.data)) is not None:
            if stub.is_continue_thread:
                if stub.parent_id in self._continued:
                    return
                self._continued.add(stub.parent_id)
            self.pending.append((stub, depth))


def _listing_request(source: RedditSource, window: DayWindow, now: datetime) -> tuple[str, dict[str, str]]:
    params = dict(RAW)
    if source.subreddit:
        path = f"/r/{source.subreddit}/{source.listing_sort}"
    else:
        path = f"/user/{source.user}/submitted"
        params["sort"] = source.listing_sort
    if source.listing_sort == "top":  # the shortest period that still reaches back to the start of the day
        params["t"] = next(name for name, span in TOP_PERIODS.items() if span is None or now - span <= window.start)
    return path, params


def _as_listing(body: Any, path: str) -> Listing:
    if (listing := parsed(Listing, body)) is None:
        raise ApiError(PLATFORM, "GET", path, 200, "response is not a Listing")
    return listing
