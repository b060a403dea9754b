"""YouTube Data API v3 response bodies -> the cross-platform records.

- posts: `videoListResponse`, and the lists that name videos (playlist items, search results,
  upload activities); items that are not videos are rejected, not errors;
- comments: `commentThreadListResponse`, one `commentThread`, `commentListResponse`; top-level
  comments (depth 0) and their replies (depth 1, `parentId` = the top-level comment);
- profiles: `channelListResponse`.
Google's error envelope (as `spec.envelope` reads it) raises `ApiErrorBody`, other bodies
`NotAResponse`; a bad item is rejected alone.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from social_assets.core.records import (
    CommentRecord,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Rejected,
    Unusable,
    attempt,
)
from social_assets.platforms.youtube.models import (
    Activity,
    Channel,
    Comment,
    CommentThread,
    PlaylistItem,
    PublishedSnippet,
    SearchResult,
    Video,
    VideoStatistics,
    best_thumbnail,
)
from social_assets.platforms.youtube.spec import ERRORS, PLATFORM

WATCH_URL = "https://www.youtube.com/watch?v={video_id}"

# Titles YouTube puts on playlist entries whose video is gone or private (with no thumbnails).
_PLACEHOLDER_TITLES = frozenset({"Private video", "Deleted video"})

Convert = Callable[[dict[str, Any]], Iterable[Any]]  # one item -> its records (and rejected replies)


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    return _normalize(body, "posts", _POST_CONVERTERS)


def normalize_comments(body: Any, *, video_id: str | None = None) -> Normalized[CommentRecord]:
    """`video_id`: the video a `comments.list(parentId=...)` page was read for, if known. Those
    replies carry no `videoId` (see the recorded `comments_by_parent_p1`): without it they are
    rejected."""
    listed = partial(_comments_from_listing, video_id_hint=video_id)
    return _normalize(body, "comments", {"youtube#commentThreadListResponse": _comments_from_thread,
                                         "youtube#commentThread": _comments_from_thread,
                                         "youtube#commentListResponse": listed, "youtube#comment": listed})


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    return _normalize(body, "profiles", {"youtube#channelListResponse": _profile_from_channel,
                                         "youtube#channel": _profile_from_channel})


def _normalize(body: Any, resource: str, converters: dict[str, Convert]) -> Normalized:
    """Each item of a list response (`*ListResponse`), or the single resource, through the
    converter of the body's `kind`; raises for error envelopes and other shapes."""
    ERRORS.raise_if_error(PLATFORM, body)
    kind = body.get("kind") if isinstance(body, dict) else None
    if kind not in tuple(converters):  # a tuple: an unhashable `kind` is just not one of them
        found = ("an object without kind" if kind is None else repr(kind)) if isinstance(body, dict) else (
            "a JSON array" if isinstance(body, list) else f"a JSON {type(body).__name__}")
        raise NotAResponse(f"expected a YouTube {resource} response ({' or '.join(converters)}), found {found}")
    items = body.get("items", []) if kind.endswith("ListResponse") else [body]
    if not isinstance(items, list):  # only `items` is read: a malformed `pageInfo` or `etag` costs no item
        raise NotAResponse(f"malformed YouTube {kind}: items is a JSON {type(items).__name__}, not an array")
    result: Normalized = Normalized()
    for item in items:
        for outcome in _guarded(item, converters[kind]):
            result.add(outcome)
    return result


def _guarded(item: Any, convert: Convert) -> list[Any]:
    """One item's records, or its `Rejected` naming the item when anything about it is wrong."""
    if not isinstance(item, dict):
        return [Rejected(item_id=None, reason=f"item is a JSON {type(item).__name__}, not an object", payload=item)]
    outcome = attempt(lambda: list(convert(item)), item_id=_item_id(item), payload=item)
    return [outcome] if isinstance(outcome, Rejected) else outcome


def _item_id(item: dict[str, Any]) -> str | None:
    ident = item.get("id")
    if isinstance(ident, dict):  # search results: {"kind": ..., "videoId": ...}
        ident = next((ident[k] for k in ("videoId", "channelId", "playlistId") if isinstance(ident.get(k), str)), None)
    return ident if isinstance(ident, str) else None


# -- posts ------------------------------------------------------------------------------------


def _post(video_id: str, snippet: PublishedSnippet, stats: VideoStatistics = VideoStatistics()) -> PostRecord:
    """Counts come from videos.list only; hidden likes or disabled comments leave them None."""
    best = best_thumbnail(snippet.thumbnails)
    return PostRecord(
        platform=PLATFORM,
        post_id=video_id,
        author_id=snippet.channel_id,
        author_username=snippet.channel_title,
        text=f"{snippet.title}\n\n{snippet.description}" if snippet.description else snippet.title,
        content_type="video",
        media_urls=[best] if best else [],
        published_at=snippet.published_at,
        likes=stats.like_count,
        comments=stats.comment_count,
        shares=None,  # the Data API has no share count (only Analytics does)
        views=stats.view_count,
        permalink=WATCH_URL.format(video_id=video_id),
    )


def _post_from_video(item: dict[str, Any]) -> list[PostRecord]:
    video = Video.model_validate(item)
    if video.kind != "youtube#video":
        raise Unusable(f"{video.kind} is not a video")
    if video.snippet is None:
        raise Unusable("video has no snippet (request part=snippet)")
    return [_post(video.id, video.snippet, video.statistics or VideoStatistics())]


def _post_from_playlist_item(item: dict[str, Any]) -> list[PostRecord]:
    entry = PlaylistItem.model_validate(item)
    snippet, details = entry.snippet, entry.content_details
    if snippet is None:
        raise Unusable("playlist item has no snippet (request part=snippet)")
    if snippet.resource_id is not None and snippet.resource_id.kind != "youtube#video":
        raise Unusable(f"{snippet.resource_id.kind} is not a video")
    video_id = (details and details.video_id) or (snippet.resource_id and snippet.resource_id.video_id)
    if not video_id:
        raise Unusable("playlist item names no video")
    video_published = details.video_published_at if details else None
    if snippet.title in _PLACEHOLDER_TITLES and video_published is None and best_thumbnail(snippet.thumbnails) is None:
        raise Unusable(f"video {video_id} is private or deleted")
    published_at = video_published or snippet.published_at
    if published_at is None:
        raise Unusable("playlist item has no publication time")
    # In other people's playlists the video's owner differs from the playlist's.
    return [_post(video_id, snippet.model_copy(update={
        "published_at": published_at, "channel_id": snippet.video_owner_channel_id or snippet.channel_id,
        "channel_title": snippet.video_owner_channel_title or snippet.channel_title}))]


def _post_from_search_result(item: dict[str, Any]) -> list[PostRecord]:
    result = SearchResult.model_validate(item)
    if result.id.kind != "youtube#video" or not result.id.video_id:
        raise Unusable(f"{result.id.kind} is not a video")
    if (snippet := result.snippet) is None:
        raise Unusable("search result has no snippet (request part=snippet)")
    # search.list is the one endpoint that HTML-escapes its text.
    channel_title = html.unescape(snippet.channel_title) if snippet.channel_title else None
    return [_post(result.id.video_id, snippet.model_copy(update={
        "channel_title": channel_title, "title": html.unescape(snippet.title),
        "description": html.unescape(snippet.description)}))]


def _post_from_activity(item: dict[str, Any]) -> list[PostRecord]:
    activity = Activity.model_validate(item)
    if activity.snippet is None:
        raise Unusable("activity has no snippet (request part=snippet)")
    if activity.type != "upload":
        raise Unusable(f"activity of type {activity.type!r} is not an upload")
    if activity.upload_video_id is None:
        raise Unusable("upload activity carries no contentDetails.upload.videoId (request part=contentDetails)")
    return [_post(activity.upload_video_id, activity.snippet)]


def _not_a_video(item: dict[str, Any]) -> list[PostRecord]:
    raise Unusable(f"{item.get('kind') or 'item'} is not a video")


_POST_CONVERTERS: dict[str, Convert] = {
    "youtube#videoListResponse": _post_from_video,
    "youtube#playlistItemListResponse": _post_from_playlist_item,
    "youtube#searchListResponse": _post_from_search_result,
    "youtube#activityListResponse": _post_from_activity,
    "youtube#playlistListResponse": _not_a_video,
    "youtube#subscriptionListResponse": _not_a_video,
    "youtube#video": _post_from_video,  # a single video outside its list envelope
}


# -- comments ---------------------------------------------------------------------------------


def _comment_record(comment: Comment, post_id: str, parent_id: str | None) -> CommentRecord:
    snippet = comment.snippet
    return CommentRecord(
        platform=PLATFORM,
        comment_id=comment.id,
        post_id=post_id,
        parent_id=parent_id,
        author_username=snippet.author_display_name,
        # textOriginal is the text as typed; textDisplay may be HTML (textFormat=html).
        text=snippet.text_original or snippet.text_display or "",
        published_at=snippet.published_at,
        likes=snippet.like_count,
        depth=0 if parent_id is None else 1,
    )


def _comments_from_thread(item: dict[str, Any]) -> Iterator[CommentRecord | Rejected]:
    thread = CommentThread.model_validate(item)
    top = thread.top_level_comment
    video_id = thread.video_id or top.snippet.video_id
    if not video_id:
        raise Unusable("thread carries no videoId (not a video's comment)")
    yield _comment_record(top, video_id, None)
    for raw_reply in thread.inline_replies:
        # Every YouTube reply answers the thread's top-level comment.
        yield from _guarded(raw_reply, partial(_comments_from_listing, video_id_hint=video_id, parent_id_hint=top.id))


def _comments_from_listing(item: dict[str, Any], video_id_hint: str | None,
                           parent_id_hint: str | None = None) -> list[CommentRecord]:
    """A comment of a `comments.list` page, or a reply inline in a thread (`parent_id_hint`)."""
    comment = Comment.model_validate(item)
    video_id = comment.snippet.video_id or video_id_hint
    if not video_id:
        raise Unusable(f"{'reply' if comment.snippet.parent_id is not None else 'comment'} carries no videoId")
    return [_comment_record(comment, video_id, comment.snippet.parent_id or parent_id_hint)]


# -- profiles ---------------------------------------------------------------------------------


def _profile_from_channel(item: dict[str, Any]) -> list[ProfileRecord]:
    channel = Channel.model_validate(item)
    if channel.kind != "youtube#channel":
        raise Unusable(f"{channel.kind} is not a channel")
    stats = channel.statistics
    hidden = stats is None or stats.hidden_subscriber_count
    return [ProfileRecord(
        platform=PLATFORM,
        account_id=channel.id,
        username=channel.custom_url or channel.title,
        followers=None if hidden else stats.subscriber_count,
        following=None,  # channels.list does not say how many channels one subscribes to
        posts_count=stats.video_count if stats else None,
    )]
