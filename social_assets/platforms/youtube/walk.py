"""Reading one YouTube channel's day with the fewest quota units (1 per list call):

1. `channels` by id -> the profile and the uploads playlist ("profiles");
2. `playlistItems` of the uploads playlist, 50 a page, newest first, until an upload older than the
   day or `post_limit` videos of the day (landed as "posts" with `normalize=False`: an index only;
   `search.list` would cost 100 units a call);
3. `videos` by 50 ids -> the day's videos with their counts ("posts");
4. `commentThreads` of each video with comments, then `comments?parentId=` for threads whose
   replies did not all come inline ("comments"); comments disabled means none.

The refresh is `videos.list` by 50 ids.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Sequence

from pydantic import ValidationError

from social_assets.core.errors import ApiError, NotFoundError, QuotaExhaustedError
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import QueryCursor, RestClient, batches
from social_assets.core.timeutil import utc_now
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.youtube.analytics import land_subscriber_history
from social_assets.platforms.youtube.models import Channel, CommentThread, PlaylistItem, Video
from social_assets.platforms.youtube.spec import (
    DAILY_QUOTA_UNITS,
    LISTING_PAGE_SIZE,
    PLATFORM,
    YouTubeSource,
    next_quota_reset,
)

COMMENT_PAGE_SIZE = 100  # the most commentThreads and comments one call returns
PAGE_TOKEN = QueryCursor("pageToken", ("nextPageToken",))
VIDEO_PARTS = "snippet,statistics,contentDetails"


class QuotaExceededError(QuotaExhaustedError):
    """The project's daily YouTube Data API quota is spent: retrying before the reset only wastes time."""

    def __init__(self, error: QuotaExhaustedError, units_spent: int):
        resets_at = error.resets_at or next_quota_reset(utc_now())
        counted = "" if error.status else " by the shared count of this key's units"
        super().__init__(
            error.platform, error.method, error.endpoint, error.status,
            f"daily YouTube Data API quota exhausted{counted} (quotaExceeded: {DAILY_QUOTA_UNITS:,} units per "
            f"project per day by default, reset at midnight America/Los_Angeles, next at {resets_at.isoformat()}); "
            f"this collector had spent {units_spent} units. Not retried: run again after the reset.",
            resets_at=resets_at,
        )


class ChannelNotFoundError(NotFoundError):  # channels.list answered with no item for the configured id
    pass


@dataclass(frozen=True)
class _Upload:
    video_id: str
    published_at: datetime


class YouTubeWalk:
    def __init__(self, client: RestClient, source: YouTubeSource):
        self.client = client
        self.source = source
        self.uploads_playlist: str | None = None

    @property
    def units_spent(self) -> int:
        """Quota units this walk's calls were charged (a call refused for quota is not)."""
        return self.client.session.stats.units

    def profile(self) -> None:
        channel_id = self.source.channel
        body = self._list("channels", {"part": VIDEO_PARTS, "id": channel_id}, land_as="profiles")
        for item in body.get("items") or []:
            try:
                channel = Channel.model_validate(item)
            except ValidationError:
                continue
            uploads = channel.content_details.related_playlists.uploads if channel.content_details else None
            if channel.id == channel_id and uploads:
                self.uploads_playlist = uploads
                land_subscriber_history(self.client, channel)  # where the channel authorized it
                return
        raise ChannelNotFoundError(
            PLATFORM, "GET", self.client.url("/channels"), 404,
            f"channel {channel_id} does not exist or has no uploads playlist (channels.list returned no such item)",
        )

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.uploads_playlist is None:
            self.profile()
        uploads = self._uploads_in_window(window)
        return [PostRef(video["id"], _comment_count(video)) for video in self._videos([u.video_id for u in uploads])]

    def comments(self, post: PostRef) -> None:
        with_replies = self.source.comment_depth >= 1
        params = {"part": "snippet,replies" if with_replies else "snippet", "videoId": post.post_id,
                  "maxResults": str(COMMENT_PAGE_SIZE), "order": self.source.sort or "time", "textFormat": "plainText"}
        incomplete: list[str] = []
        try:
            for page in self._pages("commentThreads", params, land_as="comments"):
                incomplete += [t for t in map(_thread_missing_replies, page.get("items") or []) if t]
        except NotFoundError:
            return  # comments disabled (or the video went away): no comments, not a failure
        if with_replies:
            for thread_id in incomplete:
                self._replies_of(thread_id, post.post_id)

    def _uploads_in_window(self, window: DayWindow) -> list[_Upload]:
        """The playlist's uploads published in the window, newest first, at most `post_limit`."""
        params = {"part": "contentDetails,snippet", "playlistId": self.uploads_playlist, "maxResults": str(LISTING_PAGE_SIZE)}
        found: list[_Upload] = []
        seen: set[str] = set()  # an item repeated across pages (items shift) counts once
        for page in self._pages("playlistItems", params, land_as="posts", normalize=False):
            reached_older = False
            for upload in filter(None, map(_upload_of, page.get("items") or [])):
                if upload.video_id in seen or upload.published_at >= window.end:
                    seen.add(upload.video_id)
                    continue
                seen.add(upload.video_id)
                if upload.published_at < window.start:
                    # Newest first, so the day is behind us; finish the page in case of
                    # slightly out-of-order items (premieres), then stop paging.
                    reached_older = True
                    continue
                found.append(upload)
                if len(found) >= self.source.post_limit:
                    return found
            if reached_older:
                break
        return found

    def _videos(self, video_ids: list[str]) -> list[dict[str, Any]]:
        with self._quota_explained():
            return videos(self.client, video_ids)

    def _replies_of(self, thread_id: str, video_id: str) -> None:
        params = {"part": "snippet", "parentId": thread_id, "maxResults": str(COMMENT_PAGE_SIZE), "textFormat": "plainText"}
        try:
            # Replies pages do not say which video they belong to: record it beside the body.
            for _ in self._pages("comments", params, land_as="comments", context={"video_id": video_id}):
                pass  # landing is the point
        except NotFoundError:
            pass

    def _pages(self, resource: str, params: dict[str, str], **kwargs: Any):
        with self._quota_explained():
            yield from self.client.pages("GET", f"/{resource}", PAGE_TOKEN, params=params, **kwargs)

    def _list(self, resource: str, params: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        """One list call (1 quota unit per HTTP request, retries included), landed."""
        with self._quota_explained():
            body = self.client.get(f"/{resource}", params=params, **kwargs)
        if body is None:  # a logic error here would burn quota on repeats
            raise RuntimeError(f"youtube walk would send {resource} {params} twice")
        if not isinstance(body, dict):
            raise ApiError(PLATFORM, "GET", self.client.url(f"/{resource}"), 200,
                           f"expected a JSON object, got {type(body).__name__}")
        return body

    @contextmanager
    def _quota_explained(self) -> Iterator[None]:
        try:
            yield
        except QuotaExceededError:
            raise
        except QuotaExhaustedError as error:
            raise QuotaExceededError(error, self.units_spent) from error


def videos(client: RestClient, video_ids: Sequence[str]) -> list[dict[str, Any]]:
    """videos.list by 50 ids (one unit per call), landed as "posts"."""
    found: list[dict[str, Any]] = []
    for batch in batches(video_ids, LISTING_PAGE_SIZE):
        body = client.get("/videos", params={"part": VIDEO_PARTS, "id": ",".join(batch)}, land_as="posts")
        items = body.get("items") if isinstance(body, dict) else None
        found.extend(item for item in items or [] if isinstance(item, dict) and "id" in item)
    return found


def refresh(client: RestClient, video_ids: Sequence[str]) -> list[Gone]:
    """Current statistics of known videos: videos.list, 50 ids (one unit) per call. A video the
    list leaves out was deleted or made private: it is reported gone."""
    missing: list[str] = []
    for batch in batches(video_ids, LISTING_PAGE_SIZE):
        body = client.get("/videos", params={"part": VIDEO_PARTS, "id": ",".join(batch)}, land_as="posts")
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            returned = {item.get("id") for item in body["items"] if isinstance(item, dict)}
            missing += [video_id for video_id in batch if video_id not in returned]
    return gone_posts(missing, "missing from videos.list (deleted or private)")


def _upload_of(item: Any) -> _Upload | None:
    """The video an uploads-playlist item points at, or None for private/deleted/odd items."""
    try:
        entry = PlaylistItem.model_validate(item)
    except ValidationError:
        return None
    details, snippet = entry.content_details, entry.snippet
    video_id = (details and details.video_id) or (snippet and snippet.resource_id and snippet.resource_id.video_id)
    # Private and deleted videos have no videoPublishedAt; videos.list would not return them.
    published_at = details.video_published_at if details else (snippet and snippet.published_at)
    if not video_id or published_at is None:
        return None
    return _Upload(video_id, published_at)


def _comment_count(video: dict[str, Any]) -> int | None:
    try:
        statistics = Video.model_validate(video).statistics
    except ValidationError:
        return None  # None (hidden or disabled) still asks
    return statistics.comment_count if statistics else None


def _thread_missing_replies(item: Any) -> str | None:
    """The thread's id if it has more replies than came inline, else None."""
    try:
        thread = CommentThread.model_validate(item)
    except ValidationError:
        return None
    inline = len(thread.replies.comments) if thread.replies else 0
    return thread.id if thread.snippet.total_reply_count > inline else None
