"""The YouTube Data API v3 client: one channel, one day, the fewest quota units.

YouTube's limit is a daily quota (10,000 units per project by default; every list call costs 1
unit per page, failed calls included), so the collector plans its calls around units:

1. `channels?part=snippet,statistics,contentDetails&id=UC...` (1 unit) -> the profile, and the
   channel's uploads playlist id. Landed as "profiles".
2. `playlistItems?playlistId=UU...&maxResults=50` pages, newest upload first, until an upload
   older than the day appears or `post_limit` videos of the day are found. Landed as "posts"
   with `normalize=False`: this only indexes which videos to fetch. (`search.list` would do the
   same for 100 units a call, so it is never used.)
3. `videos?part=snippet,statistics,contentDetails&id=<up to 50 ids>` (1 unit per 50 videos) ->
   the day's videos with their counts. Landed as "posts".
4. With `collect_comments`: `commentThreads?videoId=...&maxResults=100` pages per video that
   has comments (a video whose commentCount is "0" is skipped) and, when `comment_depth >= 1`,
   `comments?parentId=...&maxResults=100` pages for threads whose replies did not all come
   inline. Landed as "comments". A video with comments disabled simply has none.

The API key travels as the `key` query parameter; `ApiSession` keeps it out of recorded
parameters and this module keeps it out of error messages.

Limits (`LIMITS`): the daily units are counted in the limiter's shared store, per key, by every
process using the key; once they are spent (by that count or by a `quotaExceeded` answer) every
call fails fast with `QuotaExceededError` until midnight Pacific. `rateLimitExceeded` answers
are retried with backoff. Conditional requests (ETag / If-None-Match) are not used: a list call
costs its unit whether or not it answers 304, and within a run no request is sent twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Callable, Literal

from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError, field_validator

from social_assets.core.http import ApiError, ApiSession, AuthError, LandedResponse, QuotaExhaustedError, json_problem
from social_assets.core.limits import DailyQuota, Limiter, LimitPolicy, shared_state
from social_assets.core.records import Resource
from social_assets.core.timeutil import utc_now
from social_assets.platforms.base import DayWindow, SourceConfig
from social_assets.platforms.youtube.models import Channel, CommentThread, PlaylistItem, Video

BASE_URL = "https://www.googleapis.com/youtube/v3"
API_KEY_VARIABLE = "YOUTUBE_API_KEY"
CHANNEL_ID_PATTERN = re.compile(r"^UC[0-9A-Za-z_-]{22}$")
LISTING_PAGE_SIZE = 50  # the most playlistItems and videos (by id) one call returns
COMMENT_PAGE_SIZE = 100  # the most commentThreads and comments one call returns
DAILY_QUOTA_UNITS = 10_000
QUOTA_TIME_ZONE = ZoneInfo("America/Los_Angeles")  # the quota resets at midnight Pacific

# Reasons in Google's error envelope that mean "the key is wrong", not "try again".
AUTH_REASONS = frozenset(
    {"keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked", "API_KEY_INVALID"}
)
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
# Short-term throttling (PLATFORMS.md §2): retried with backoff, unlike the daily quota.
THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# Units per call where not 1 (determine_quota_cost). The collector uses only 1-unit lists.
METHOD_UNITS = {"search": 100, "captions": 50}
# A video or thread that cannot have comments (disabled, or deleted since we listed it).
NO_COMMENT_REASONS = frozenset({"commentsDisabled", "videoNotFound", "commentNotFound"})


class YouTubeSource(SourceConfig):
    """A channel to collect, by channel id (`UC` + 22 characters; handles are not stable ids)."""

    channel: str
    sort: Literal["time", "relevance"] = "time"  # the commentThreads `order`

    @field_validator("channel")
    @classmethod
    def _must_be_channel_id(cls, value: str) -> str:
        if not CHANNEL_ID_PATTERN.match(value):
            hint = " (that is a handle; use the channel id it resolves to)" if value.startswith("@") else ""
            raise ValueError(
                f"channel {value!r} is not a YouTube channel id: expected 'UC' followed by 22 "
                f"characters of A-Z, a-z, 0-9, '_' or '-'{hint}"
            )
        return value

    @property
    def account_id(self) -> str:
        return self.channel


class QuotaExceededError(QuotaExhaustedError):
    """The project's daily YouTube Data API quota is spent: retrying before the reset only wastes time."""

    def __init__(self, error: ApiError, units_spent: int):
        resets_at = getattr(error, "resets_at", None) or next_quota_reset(utc_now())
        counted = "" if error.status else " by the shared count of this key's units"
        super().__init__(
            error.platform, error.method, error.endpoint, error.status,
            f"daily YouTube Data API quota exhausted{counted} (quotaExceeded: {DAILY_QUOTA_UNITS:,} units per "
            f"project per day by default, reset at midnight America/Los_Angeles, next at {resets_at.isoformat()}); "
            f"this collector had spent {units_spent} units. Not retried: run again after the reset.",
            resets_at=resets_at,
        )


class ChannelNotFoundError(ApiError):
    """channels.list answered with no item for the configured id."""


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight in America/Los_Angeles, as an aware datetime."""
    pacific_day = now.astimezone(QUOTA_TIME_ZONE).date()
    return datetime.combine(pacific_day + timedelta(days=1), time.min, QUOTA_TIME_ZONE)


def google_reasons(error: ApiError) -> frozenset[str]:
    """The `errors[].reason` values of a failed call.

    `ApiSession` reports Google envelopes as "<message> (<reason>, <reason>)" in `detail`
    (see `core.http.error_detail`); the reasons are read back from there.
    """
    match = re.search(r"\(([^()]*)\)\s*$", error.detail or "")
    return frozenset(r.strip() for r in match.group(1).split(",")) if match else frozenset()


def response_reasons(response: httpx.Response) -> frozenset[str]:
    """The `error.errors[].reason` values of a Google error envelope."""
    try:
        body = response.json()
    except ValueError:
        return frozenset()
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    return frozenset(e["reason"] for e in errors or [] if isinstance(e, dict) and isinstance(e.get("reason"), str))


def _endpoint(method: str, url: str) -> str:
    return f"{method} {httpx.URL(url).path.rsplit('/', 1)[-1]}"  # "GET videos"


LIMITS = LimitPolicy(
    platform="youtube",
    limits=(DailyQuota("units", DAILY_QUOTA_UNITS, QUOTA_TIME_ZONE),),
    cost=lambda endpoint: METHOD_UNITS.get(endpoint.split(" ", 1)[-1], 1),
    endpoint=_endpoint,
    throttled=lambda r: r.status_code in (403, 429) and bool(response_reasons(r) & THROTTLE_REASONS),
    quota_exhausted=lambda r: r.status_code == 403 and bool(response_reasons(r) & QUOTA_REASONS),
)


@dataclass(frozen=True)
class _Upload:
    video_id: str
    published_at: datetime


class YouTubeCollector:
    """Collects one channel's videos, comments and profile for a day (see the module docstring)."""

    def __init__(self, session: ApiSession, api_key: str):
        self.session = session
        self._api_key = api_key
        self._sent: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    @property
    def units_spent(self) -> int:
        """Quota units this collector's calls were charged, across every collect() (the limiter
        counts them; a call refused for quota is not charged)."""
        return self.session.stats.units

    def collect(self, source: YouTubeSource, window: DayWindow) -> None:
        self._sent.clear()
        uploads_playlist = self._uploads_playlist(source.channel)
        uploads = self._uploads_in_window(uploads_playlist, window, source.post_limit)
        videos = self._videos([upload.video_id for upload in uploads])
        if source.collect_comments:
            for video in videos:
                if _comment_count(video) != 0:  # None (hidden or disabled) still asks
                    self._comments_of(video["id"], source)

    # -- the calls ------------------------------------------------------------------------

    def _uploads_playlist(self, channel_id: str) -> str:
        body = self._list(
            "channels", {"part": "snippet,statistics,contentDetails", "id": channel_id}, land_as="profiles"
        )
        for item in body.get("items") or []:
            try:
                channel = Channel.model_validate(item)
            except ValidationError:
                continue
            uploads = channel.content_details.related_playlists.uploads if channel.content_details else None
            if channel.id == channel_id and uploads:
                return uploads
        raise ChannelNotFoundError(
            "youtube", "GET", f"{BASE_URL}/channels", 404,
            f"channel {channel_id} does not exist or has no uploads playlist (channels.list returned no such item)",
        )

    def _uploads_in_window(self, playlist_id: str, window: DayWindow, limit: int) -> list[_Upload]:
        """The playlist's uploads published in the window, newest first, at most `limit`."""
        params = {"part": "contentDetails,snippet", "playlistId": playlist_id, "maxResults": str(LISTING_PAGE_SIZE)}
        found: list[_Upload] = []
        seen: set[str] = set()  # an item repeated across pages (items shift) counts once
        for page in self._pages("playlistItems", params, land_as="posts", normalize=False):
            reached_older = False
            for upload in filter(None, map(_upload_of, page.get("items") or [])):
                if upload.video_id in seen:
                    continue
                seen.add(upload.video_id)
                if upload.published_at >= window.end:
                    continue
                if upload.published_at < window.start:
                    # Newest first, so the day is behind us; finish the page in case of
                    # slightly out-of-order items (premieres), then stop paging.
                    reached_older = True
                    continue
                found.append(upload)
                if len(found) >= limit:
                    return found
            if reached_older:
                break
        return found

    def _videos(self, video_ids: list[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(video_ids))
        videos: list[dict[str, Any]] = []
        for start in range(0, len(unique), LISTING_PAGE_SIZE):
            batch = unique[start : start + LISTING_PAGE_SIZE]
            body = self._list(
                "videos", {"part": "snippet,statistics,contentDetails", "id": ",".join(batch)}, land_as="posts"
            )
            videos.extend(item for item in body.get("items") or [] if isinstance(item, dict) and "id" in item)
        return videos

    def refresh_posts(self, video_ids: list[str]) -> None:
        """Current statistics of known videos: videos.list, 50 ids (one unit) per call."""
        self._videos(video_ids)

    def _comments_of(self, video_id: str, source: YouTubeSource) -> None:
        with_replies = source.comment_depth >= 1
        params = {
            "part": "snippet,replies" if with_replies else "snippet",
            "videoId": video_id,
            "maxResults": str(COMMENT_PAGE_SIZE),
            "order": source.sort,
            "textFormat": "plainText",
        }
        incomplete_threads: list[str] = []
        try:
            for page in self._pages("commentThreads", params, land_as="comments"):
                incomplete_threads += [t for t in map(_thread_missing_replies, page.get("items") or []) if t]
        except ApiError as error:
            if not google_reasons(error) & NO_COMMENT_REASONS:
                raise
            return  # comments disabled (or the video went away): no comments, not a failure
        if with_replies:
            for thread_id in incomplete_threads:
                self._replies_of(thread_id, video_id)

    def _replies_of(self, thread_id: str, video_id: str) -> None:
        params = {"part": "snippet", "parentId": thread_id, "maxResults": str(COMMENT_PAGE_SIZE), "textFormat": "plainText"}
        try:
            # Replies pages do not say which video they belong to: record it beside the body.
            for _ in self._pages("comments", params, land_as="comments", context={"video_id": video_id}):
                pass  # landing is the point; the sink has the pages
        except ApiError as error:
            if not google_reasons(error) & NO_COMMENT_REASONS:
                raise

    # -- plumbing -------------------------------------------------------------------------

    def _pages(self, resource: str, params: dict[str, str], *, land_as: Resource,
               normalize: bool = True, context: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a list call, following nextPageToken (stopping if a token repeats)."""
        tokens: set[str] = set()
        token: str | None = None
        while True:
            page = self._list(resource, {**params, **({"pageToken": token} if token else {})},
                              land_as=land_as, normalize=normalize, context=context)
            yield page
            token = page.get("nextPageToken")
            if not token or token in tokens:
                return
            tokens.add(token)

    def _list(self, resource: str, params: dict[str, str], *, land_as: Resource,
              normalize: bool = True, context: Mapping[str, str] | None = None) -> dict[str, Any]:
        """One list call (1 quota unit per HTTP request, retries included), landed in the sink."""
        request_key = (resource, tuple(sorted(params.items())))
        if request_key in self._sent:  # a logic error here would burn quota on repeats
            raise RuntimeError(f"youtube collector would send {resource} {params} twice")
        self._sent.add(request_key)
        try:
            response = self.session.get(
                f"{BASE_URL}/{resource}", params={**params, "key": self._api_key},
                land_as=land_as, normalize=normalize, context=context,
            )
        except ApiError as error:
            raise self._explained(error) from error
        body = response.json()
        if not isinstance(body, dict):
            raise ApiError("youtube", "GET", f"{BASE_URL}/{resource}", response.status_code,
                           f"expected a JSON object, got {type(body).__name__}")
        return body

    def _explained(self, error: ApiError) -> ApiError:
        """Turn Google's reasons into our error types, with the key scrubbed from the text."""
        reasons = google_reasons(error)
        if isinstance(error, QuotaExhaustedError) or reasons & QUOTA_REASONS:
            return QuotaExceededError(error, self.units_spent)
        if error.status in (400, 401, 403) and (reasons & AUTH_REASONS or "API key" in error.detail):
            return AuthError(
                error.platform, error.method, error.endpoint, error.status,
                f"the API key in {API_KEY_VARIABLE} was rejected ({', '.join(sorted(reasons)) or 'unauthorized'}): "
                f"set {API_KEY_VARIABLE} to a valid key of a project with the YouTube Data API v3 enabled",
            )
        if self._api_key and self._api_key in str(error):
            return type(error)(error.platform, error.method, error.endpoint, error.status,
                               error.detail.replace(self._api_key, "<redacted>"))
        return error


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
        return None
    return statistics.comment_count if statistics else None


def _thread_missing_replies(item: Any) -> str | None:
    """The thread's id if it has more replies than came inline, else None."""
    try:
        thread = CommentThread.model_validate(item)
    except ValidationError:
        return None
    inline = len(thread.replies.comments) if thread.replies else 0
    return thread.id if thread.snippet.total_reply_count > inline else None


def make_collector(
    http: httpx.Client,
    credentials: Mapping[str, str],
    sink: Callable[[LandedResponse], None] | None = None,
) -> YouTubeCollector:
    api_key = credentials.get(API_KEY_VARIABLE)
    if not api_key:
        raise AuthError("youtube", "GET", BASE_URL, None, f"{API_KEY_VARIABLE} is not set")
    # The key is a query parameter, not a header: nothing to add per request or to refresh.
    # Its daily units are counted with everything else using the key at this API.
    limiter = Limiter(LIMITS, shared_state(http, "youtube", api_key))
    session = ApiSession(platform="youtube", http=http, sink=sink, limiter=limiter, validate=json_problem)
    return YouTubeCollector(session, api_key)
