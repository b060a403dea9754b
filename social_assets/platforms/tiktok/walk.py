"""Reading one TikTok account's day (every request through the source's `RestClient`, which
lands it; a POST's JSON body is landed beside it in raw.*.request_body):

1. profile: Display `GET /v2/user/info/?fields=...`, landed as "profiles". The account is the
   one whose refresh token the credentials hold; when it is not the source's, the source fails
   with a configuration error (its data would be filed under the wrong account);
2. posts: Display `POST /v2/video/list/?fields=...`, body `{"max_count": 20}`, newest first,
   then the same body with the answer's `cursor` while `has_more` (`BodyCursor`), until a page
   reaches back past the day or `post_limit` videos are read. Landed as "posts", with the
   account's username and open_id as context (a video names no author).
   CURSOR_IS_OPAQUE: the cursor is an epoch in milliseconds, but a first cursor made up from
   the day's end is nowhere documented to be honoured, so none is sent: paging starts at the
   newest video;
3. comments (Research API, when its credentials are set): `POST
   /v2/research/video/comment/list/?fields=...` with `{"video_id": <int64>, "max_count": 100,
   "cursor": 0}`, and each next page the same query with the answer's `cursor` and, when it has
   one, `search_id` (`ResearchCursor`); then, when `comment_depth` allows replies, the same for
   each comment with replies, by `comment_id` (never both ids). Landed as "comments". A spent
   daily quota fails the source with a message saying TikTok comments are paused until 00:00 UTC
   (a day without its comments would look like a quiet one); it is shared by every process.

The refresh (hourly) asks `POST /v2/video/query/` with `{"filters": {"video_ids": [<= 20]}}`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

import httpx

from social_assets.core.errors import AuthError, QuotaExhaustedError
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import BodyCursor, PageRequest, RestClient, batches, missing_ids
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.tiktok.spec import PAGE_SIZE, PLATFORM, RESEARCH, RESEARCH_PAGE_SIZE, TikTokSource

log = logging.getLogger(__name__)

USER_INFO = "/v2/user/info/"
VIDEO_LIST = "/v2/video/list/"
VIDEO_QUERY = "/v2/video/query/"
COMMENT_LIST = "/v2/research/video/comment/list/"
USER_FIELDS = ("open_id,union_id,avatar_url,display_name,bio_description,profile_deep_link,is_verified,username,"
               "follower_count,following_count,likes_count,video_count")
VIDEO_FIELDS = ("id,create_time,title,video_description,duration,cover_image_url,share_url,embed_link,"
                "like_count,comment_count,share_count,view_count")
COMMENT_FIELDS = "id,video_id,text,like_count,reply_count,parent_comment_id,create_time"
VIDEO_CURSOR = BodyCursor("cursor", ("data", "cursor"), ("data", "has_more"))


@dataclass(frozen=True)
class ResearchCursor:
    """Research API pages: the identical query again with the answer's `cursor` and, when the
    answer carries one, its `search_id`, while `has_more` is true."""

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        following = VIDEO_CURSOR.next_page(request, response, body)
        data = body.get("data") if isinstance(body, dict) else None
        search_id = data.get("search_id") if isinstance(data, dict) else None
        if following is not None and isinstance(search_id, str) and search_id:
            following = replace(following, json={**following.json, "search_id": search_id})
        return following


RESEARCH_CURSOR = ResearchCursor()


class ResearchQuotaSpent(QuotaExhaustedError):
    """The Research API's daily quota is spent: TikTok comments pause until 00:00 UTC."""

    def __init__(self, error: QuotaExhaustedError):
        when = error.resets_at.astimezone(timezone.utc).isoformat() if error.resets_at else "00:00 UTC"
        super().__init__(
            error.platform, error.method, error.endpoint, error.status,
            f"TikTok Research API daily quota spent ({error.detail}); TikTok comments are paused until {when}: "
            "collect the day again after the reset",
            resets_at=error.resets_at,
        )


class TikTokWalk:
    def __init__(self, client: RestClient, source: TikTokSource):
        self.client = client
        self.source = source
        self.context: dict[str, str] | None = None  # the account's username and open_id

    def profile(self) -> None:
        body = self.client.get(USER_INFO, params={"fields": USER_FIELDS}, land_as="profiles")
        if body is None:
            return  # asked already by this client
        user = (body.get("data") or {}).get("user") if isinstance(body, dict) else None
        user = user if isinstance(user, dict) else {}
        username = str(user.get("username") or "")
        if username.lower() != self.source.account.lower():
            raise AuthError(PLATFORM, "GET", self.client.url(USER_INFO), 200,
                            f"the credentials of tiktok source {self.source.account_id} authorize "
                            f"{'@' + username if username else 'an account without a username'}, not this one; "
                            f"{self.client.session.credential_hint}")
        self.context = {"username": username, "open_id": str(user.get("open_id") or "")}

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.context is None:
            self.profile()
        kept: dict[str, PostRef] = {}
        read: set[str] = set()
        pages = self.client.pages("POST", VIDEO_LIST, VIDEO_CURSOR, params={"fields": VIDEO_FIELDS},
                                  json_body={"max_count": PAGE_SIZE}, land_as="posts", context=self.context)
        for body in pages:
            times = []
            for video_id, created, comments in _videos(body):
                read.add(video_id)
                times.append(created)
                if created in window and video_id not in kept:
                    kept[video_id] = PostRef(video_id, comments)
            if len(read) >= self.source.post_limit or (times and min(times) < window.start):
                break  # newest first: the rest is older than the day
        return list(kept.values())[: self.source.post_limit]

    def comments(self, post: PostRef) -> None:
        if not post.post_id.isdigit():
            log.warning("tiktok: video id %r is not an int64: its comments cannot be asked for", post.post_id)
            return
        research = self.client.companion(RESEARCH)
        context = {"video_id": post.post_id}
        with _quota_explained():
            threads = []
            for body in _research_pages(research, {"video_id": int(post.post_id)}, context):
                threads += [comment_id for comment_id, replies in _comments(body) if replies]
            if self.source.comment_depth < 1:
                return
            for comment_id in dict.fromkeys(threads):
                for _ in _research_pages(research, {"comment_id": int(comment_id)}, context):
                    pass  # landing is the point


def refresh(client: RestClient, post_ids: Sequence[str]) -> list[Gone]:
    """Current metrics of known videos: `POST /v2/video/query/`, 20 ids a call. The query
    answers only the videos that exist: one it leaves out was deleted and is reported gone.
    ⚠ The docs do not say how a deleted id is answered; leaving it out is what the Research
    API's "fewer than max_count (deleted items)" suggests."""
    missing: list[str] = []
    for batch in batches(post_ids, PAGE_SIZE):
        body = client.json("POST", VIDEO_QUERY, params={"fields": VIDEO_FIELDS},
                           json_body={"filters": {"video_ids": batch}}, land_as="posts")
        missing += missing_ids(batch, body, ("data", "videos"))
    return gone_posts(missing, "missing from video/query (deleted)")


def _research_pages(research: RestClient, query: dict[str, int], context: dict[str, str]) -> Iterator[Any]:
    body = {**query, "max_count": RESEARCH_PAGE_SIZE, "cursor": 0}
    return research.pages("POST", COMMENT_LIST, RESEARCH_CURSOR, params={"fields": COMMENT_FIELDS}, json_body=body,
                          land_as="comments", context=context)


@contextmanager
def _quota_explained() -> Iterator[None]:
    try:
        yield
    except ResearchQuotaSpent:
        raise
    except QuotaExhaustedError as error:
        raise ResearchQuotaSpent(error) from error


def _list(body: Any, key: str) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    items = data.get(key) if isinstance(data, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _videos(body: Any) -> Iterator[tuple[str, datetime, int | None]]:
    """(id, published, comment count) of the page's readable videos; the normalizer reports the rest."""
    for video in _list(body, "videos"):
        created, comments = video.get("create_time"), video.get("comment_count")
        if isinstance(video.get("id"), (str, int)) and type(created) is int and 0 <= created < 2**40:
            yield str(video["id"]), datetime.fromtimestamp(created, timezone.utc), comments if type(comments) is int else None


def _comments(body: Any) -> Iterator[tuple[str, int]]:
    """(id, reply count) of the page's comments that have an int64 id."""
    for comment in _list(body, "comments"):
        replies = comment.get("reply_count")
        if type(comment.get("id")) is int or str(comment.get("id", "")).isdigit():
            yield str(comment["id"]), replies if type(replies) is int else 0
