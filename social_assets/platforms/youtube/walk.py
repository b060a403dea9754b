"""Reading one YouTube channel's day with the fewest quota units (1 per list call):

1. `channels` by id -> the profile and the uploads playlist ("profiles");
2. `playlistItems` of the uploads playlist, 50 a page, newest first, until an upload older than
   the day or `post_limit` videos of the day ("posts" with `normalize=False`, an index only:
   `search.list` would cost 100 units a call);
3. `videos` by 50 ids -> the day's videos with their counts ("posts"); also the refresh;
4. `commentThreads` of each video with comments, then `comments?parentId=` for threads whose
   replies did not all come inline ("comments"); comments disabled means none.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any, Iterator, Sequence

from social_assets.core.errors import ApiError, NotFoundError, QuotaExhaustedError
from social_assets.core.quota import quota_explained
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import QueryCursor, RestClient, batches, missing_ids, parsed
from social_assets.core.timeutil import utc_now
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.youtube.analytics import land_subscriber_history
from social_assets.platforms.youtube.models import Channel, CommentThread, PlaylistItem, Video
from social_assets.platforms.youtube.spec import DAILY_QUOTA, LISTING_PAGE_SIZE, PLATFORM, QUOTA_TIME_ZONE, YouTubeSource

COMMENT_PAGE_SIZE = 100  # the most commentThreads and comments one call returns
PAGE_TOKEN = QueryCursor("pageToken", ("nextPageToken",))
VIDEO_PARTS = "snippet,statistics,contentDetails"


class QuotaExceededError(QuotaExhaustedError):
    """The project's daily YouTube Data API quota is spent: retrying before the reset only wastes time."""

    def __init__(self, error: QuotaExhaustedError, units_spent: int):
        resets_at = error.resets_at or datetime.fromtimestamp(DAILY_QUOTA.next_reset(utc_now().timestamp()), QUOTA_TIME_ZONE)
        counted = "" if error.status else " by the shared count of this key's units"
        super().__init__(
            error.platform, error.method, error.endpoint, error.status,
            f"daily YouTube Data API quota exhausted{counted} (quotaExceeded: {DAILY_QUOTA.limit:,} units per "
            f"project per day by default, reset at midnight America/Los_Angeles, next at {resets_at.isoformat()}); "
            f"this collector had spent {units_spent} units. Not retried: run again after the reset.",
            resets_at=resets_at,
        )


class ChannelNotFoundError(NotFoundError):  # channels.list answered with no item for the configured id
    pass


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
        channel_id, params = self.source.channel, {"part": VIDEO_PARTS, "id": self.source.channel}
        with self._quota_explained():
            body = self.client.get("/channels", params=params, land_as="profiles")
        if not isinstance(body, dict):  # None: asked twice in a walk, which would burn quota
            raise ApiError(PLATFORM, "GET", self.client.url("/channels"), 200,
                           f"expected a JSON object, got {type(body).__name__}")
        for channel in filter(None, (parsed(Channel, item) for item in body.get("items") or [])):
            if channel.id == channel_id and channel.uploads_playlist:
                self.uploads_playlist = channel.uploads_playlist
                land_subscriber_history(self.client, channel)  # where the channel authorized it
                return
        raise ChannelNotFoundError(
            PLATFORM, "GET", self.client.url("/channels"), 404,
            f"channel {channel_id} does not exist or has no uploads playlist (channels.list returned no such item)",
        )

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.uploads_playlist is None:
            self.profile()
        refs: list[PostRef] = []
        with self._quota_explained():
            for _, body in _video_pages(self.client, self._uploads_in_window(window)):
                items = body.get("items") if isinstance(body, dict) else None
                videos = [item for item in items or [] if isinstance(item, dict) and "id" in item]
                refs += [PostRef(video["id"], _comment_count(video)) for video in videos]
        return refs

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

    def _uploads_in_window(self, window: DayWindow) -> list[str]:
        """The ids of the playlist's uploads published in the window, newest first, at most `post_limit`."""
        params = {"part": "contentDetails,snippet", "playlistId": self.uploads_playlist, "maxResults": str(LISTING_PAGE_SIZE)}
        found: list[str] = []
        seen: set[str] = set()  # an item repeated across pages (items shift) counts once
        for page in self._pages("playlistItems", params, land_as="posts", normalize=False):
            uploads = list(filter(None, map(_upload_of, page.get("items") or [])))
            for video_id, published_at in uploads:
                if video_id not in seen and published_at in window:
                    found.append(video_id)
                    if len(found) >= self.source.post_limit:
                        return found
                seen.add(video_id)
            # Newest first: an older upload means the day is behind us. Its page was read to the
            # end in case of slightly out-of-order items (premieres); no further page is.
            if any(published_at < window.start for _, published_at in uploads):
                break
        return found

    def _replies_of(self, thread_id: str, video_id: str) -> None:
        params = {"part": "snippet", "parentId": thread_id, "maxResults": str(COMMENT_PAGE_SIZE), "textFormat": "plainText"}
        with suppress(NotFoundError):  # the thread went away
            # Replies pages do not say which video they belong to: record it beside the body.
            for _ in self._pages("comments", params, land_as="comments", context={"video_id": video_id}):
                pass  # landing is the point

    def _pages(self, resource: str, params: dict[str, str], **kwargs: Any):
        with self._quota_explained():
            yield from self.client.pages("GET", f"/{resource}", PAGE_TOKEN, params=params, **kwargs)

    def _quota_explained(self):
        return quota_explained(QuotaExceededError, lambda error: QuotaExceededError(error, self.units_spent))


def _video_pages(client: RestClient, video_ids: Sequence[str]) -> Iterator[tuple[list[str], Any]]:
    """videos.list by 50 ids (one unit per call), landed as "posts": each batch of ids with its body."""
    for batch in batches(video_ids, LISTING_PAGE_SIZE):
        yield batch, client.get("/videos", params={"part": VIDEO_PARTS, "id": ",".join(batch)}, land_as="posts")


def refresh(client: RestClient, video_ids: Sequence[str]) -> list[Gone]:
    """Current statistics of known videos. A video the list leaves out was deleted or made
    private: it is reported gone."""
    missing = [i for batch, body in _video_pages(client, video_ids) for i in missing_ids(batch, body, ("items",))]
    return gone_posts(missing, "missing from videos.list (deleted or private)")


def _upload_of(item: Any) -> tuple[str, datetime] | None:
    """(video id, publication time) of an uploads-playlist item, or None for private/deleted/odd items."""
    if (entry := parsed(PlaylistItem, item)) is None:
        return None
    details, snippet = entry.content_details, entry.snippet
    video_id = (details and details.video_id) or (snippet and snippet.resource_id and snippet.resource_id.video_id)
    # Private and deleted videos have no videoPublishedAt; videos.list would not return them.
    published_at = details.video_published_at if details else (snippet and snippet.published_at)
    if not video_id or published_at is None:
        return None
    return video_id, published_at


def _comment_count(video: dict[str, Any]) -> int | None:
    statistics = (found := parsed(Video, video)) and found.statistics
    return statistics.comment_count if statistics else None  # None (hidden, disabled, unreadable) still asks


def _thread_missing_replies(item: Any) -> str | None:
    """The thread's id if it has more replies than came inline, else None."""
    thread = parsed(CommentThread, item)
    inline = len(thread.inline_replies) if thread else 0
    return thread.id if thread and thread.total_reply_count > inline else None
