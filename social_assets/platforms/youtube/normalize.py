"""YouTube Data API v3 response bodies -> the cross-platform records.

Each `normalize_*` takes one parsed response body and returns `Normalized`: the records it could
build and, for items it could not, a `Rejected` with the item's id and a one-line reason. A body
that is not a response of the asked-for resource raises instead: `ApiErrorBody` for Google's
error envelope, `NotAResponse` for anything else (wrong kind, not a JSON object).

What counts as which resource:
- posts: `videoListResponse` (the normal case) and listings that name videos: playlist items,
  search results and upload activities. Items that are not videos (playlists, channels,
  subscriptions, non-upload activities) are rejected, not errors.
- comments: `commentThreadListResponse`, one `commentThread`, and `commentListResponse`.
  YouTube comments are two levels deep: top-level comments (depth 0) and replies to them
  (depth 1, `parentId` = the top-level comment).
- profiles: `channelListResponse`.

Replies from `comments.list(parentId=...)` do not carry their `videoId` (see the recorded
`comments_by_parent_p1`; the comment resource documents no videoId either). The body alone
cannot say which video they belong to, so such replies are rejected ("reply carries no
videoId") unless the caller passes the video it asked about as `video_id=`: the collector knows
it, since it only asks for replies of threads it read from one video.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from social_assets.core.records import (
    ITEM_ERRORS,
    ApiErrorBody,
    CommentRecord,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Rejected,
    reason_of,
)
from social_assets.platforms.youtube.models import (
    Activity,
    Channel,
    Comment,
    CommentThread,
    ErrorEnvelope,
    PlaylistItem,
    PublishedSnippet,
    SearchResult,
    Thumbnails,
    Video,
)

PLATFORM = "youtube"
WATCH_URL = "https://www.youtube.com/watch?v={video_id}"

# Titles YouTube puts on playlist entries whose video is gone or private (with no thumbnails).
_PLACEHOLDER_TITLES = frozenset({"Private video", "Deleted video"})

RecordT = TypeVar("RecordT", PostRecord, CommentRecord, ProfileRecord)


class _Reject(Exception):
    """Raised by an item converter: the item is valid JSON but not a record we can build."""


# -- entry points -------------------------------------------------------------------------


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    kind = _response_kind(body, "posts", tuple(_POST_CONVERTERS) + ("youtube#video",))
    if kind == "youtube#video":  # a single video resource outside its list envelope
        return _normalize_items([body], _post_from_video)
    return _normalize_items(_list_items(body), _POST_CONVERTERS[kind])


def normalize_comments(body: Any, *, video_id: str | None = None) -> Normalized[CommentRecord]:
    """`video_id`: the video a `comments.list(parentId=...)` page was read for, if known."""
    kind = _response_kind(body, "comments", _COMMENT_KINDS)
    if kind == "youtube#commentThread":
        return _normalize_items([body], _comments_from_thread)
    if kind == "youtube#commentThreadListResponse":
        return _normalize_items(_list_items(body), _comments_from_thread)
    if kind == "youtube#comment":
        return _normalize_items([body], lambda item: _comments_from_listing(item, video_id))
    return _normalize_items(_list_items(body), lambda item: _comments_from_listing(item, video_id))


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    kind = _response_kind(body, "profiles", ("youtube#channelListResponse", "youtube#channel"))
    items = [body] if kind == "youtube#channel" else _list_items(body)
    return _normalize_items(items, _profile_from_channel)


# -- envelope checks ----------------------------------------------------------------------


def _response_kind(body: Any, resource: str, expected: tuple[str, ...]) -> str:
    """The body's `kind` if it is one of `expected`; raise for errors and other shapes."""
    if isinstance(body, dict) and "error" in body:
        raise _api_error(body)
    if not isinstance(body, dict):
        found = "a JSON array" if isinstance(body, list) else f"a JSON {type(body).__name__}"
        raise NotAResponse(f"expected a YouTube {resource} response ({_kinds(expected)}), found {found}")
    kind = body.get("kind")
    if kind not in expected:
        found = repr(kind) if kind is not None else "an object without kind"
        raise NotAResponse(f"expected a YouTube {resource} response ({_kinds(expected)}), found {found}")
    return kind


def _kinds(kinds: tuple[str, ...]) -> str:
    return " or ".join(kinds)


def _api_error(body: dict[str, Any]) -> ApiErrorBody:
    error = body["error"]
    if not isinstance(error, dict):  # OAuth endpoints answer {"error": "invalid_grant", ...}
        return ApiErrorBody(PLATFORM, None, str(body.get("error_description") or error))
    try:
        parsed = ErrorEnvelope.model_validate(body).error
    except ValidationError:
        return ApiErrorBody(PLATFORM, error.get("code"), str(error.get("message", "malformed error")))
    reasons = ", ".join(parsed.reasons)
    message = f"{parsed.message} ({reasons})" if reasons else parsed.message
    return ApiErrorBody(PLATFORM, parsed.code, message)


def _list_items(body: dict[str, Any]) -> list[Any]:
    """The items of a list response. Only `items` is read: a malformed `pageInfo` or `etag`
    (paging metadata the collector reads) costs no item."""
    items = body.get("items", [])
    if not isinstance(items, list):
        raise NotAResponse(f"malformed YouTube {body.get('kind')}: items is a JSON {type(items).__name__}, not an array")
    return items


# -- per-item plumbing --------------------------------------------------------------------


def _normalize_items(
    items: Iterable[Any], convert: Callable[[Any], RecordT | Iterable[RecordT | Rejected]]
) -> Normalized[RecordT]:
    result: Normalized = Normalized()
    for item in items:
        for outcome in _guarded(item, convert):
            (result.rejected if isinstance(outcome, Rejected) else result.records).append(outcome)
    return result


def _guarded(item: Any, convert: Callable[[Any], Any]) -> Iterator[Any]:
    """Run one item's converter; whatever goes wrong becomes a `Rejected` naming the item: a
    malformed field, a record that breaks the record contract (empty id, negative count, a
    timestamp before YouTube existed...), or any error the item's data provokes."""
    if not isinstance(item, dict):
        yield Rejected(item_id=None, reason=f"item is a JSON {type(item).__name__}, not an object", payload=item)
        return
    try:
        produced = convert(item)
        # Converters return one record, or yield several (a thread and its replies).
        outcomes = [produced] if isinstance(produced, BaseModel) else list(produced)
    except _Reject as exc:
        yield Rejected(item_id=_item_id(item), reason=str(exc), payload=item)
        return
    except ValidationError as exc:
        kind = item.get("kind") if isinstance(item.get("kind"), str) else "item"
        yield Rejected(item_id=_item_id(item), reason=f"invalid {kind}: {_first_problem(exc)}", payload=item)
        return
    except ITEM_ERRORS as exc:
        yield Rejected(item_id=_item_id(item), reason=reason_of(exc), payload=item)
        return
    yield from outcomes


def _item_id(item: dict[str, Any]) -> str | None:
    ident = item.get("id")
    if isinstance(ident, str):
        return ident
    if isinstance(ident, dict):  # search results: {"kind": ..., "videoId": ...}
        for key in ("videoId", "channelId", "playlistId"):
            if isinstance(ident.get(key), str):
                return ident[key]
    return None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"{where}: {problem['msg']}"


# -- posts --------------------------------------------------------------------------------


def _post_of(video_id: str, snippet: PublishedSnippet, **counts: int | None) -> PostRecord:
    """A post from a snippet taken as the platform wrote it."""
    return _post(
        video_id=video_id,
        channel_id=snippet.channel_id,
        channel_title=snippet.channel_title,
        title=snippet.title,
        description=snippet.description,
        thumbnails=snippet.thumbnails,
        published_at=snippet.published_at,
        **counts,
    )


def _post(
    *,
    video_id: str,
    channel_id: str | None,
    channel_title: str | None,
    title: str,
    description: str,
    thumbnails: Thumbnails,
    published_at: datetime,
    likes: int | None = None,
    comments: int | None = None,
    views: int | None = None,
) -> PostRecord:
    best = thumbnails.best_url()
    return PostRecord(
        platform=PLATFORM,
        post_id=video_id,
        author_id=channel_id,
        author_username=channel_title,
        text=f"{title}\n\n{description}" if description else title,
        content_type="video",
        media_urls=[best] if best else [],
        published_at=published_at,
        likes=likes,
        comments=comments,
        shares=None,  # the Data API has no share count (only Analytics does)
        views=views,
        permalink=WATCH_URL.format(video_id=video_id),
    )


def _post_from_video(item: dict[str, Any]) -> PostRecord:
    video = Video.model_validate(item)
    if video.kind != "youtube#video":
        raise _Reject(f"{video.kind} is not a video")
    if video.snippet is None:
        raise _Reject("video has no snippet (request part=snippet)")
    stats = video.statistics
    return _post_of(
        video.id,
        video.snippet,
        # Absent counts stay None: hidden likes and disabled comments are not zeros.
        likes=stats.like_count if stats else None,
        comments=stats.comment_count if stats else None,
        views=stats.view_count if stats else None,
    )


def _post_from_playlist_item(item: dict[str, Any]) -> PostRecord:
    entry = PlaylistItem.model_validate(item)
    snippet, details = entry.snippet, entry.content_details
    if snippet is None:
        raise _Reject("playlist item has no snippet (request part=snippet)")
    if snippet.resource_id is not None and snippet.resource_id.kind != "youtube#video":
        raise _Reject(f"{snippet.resource_id.kind} is not a video")
    video_id = (details and details.video_id) or (snippet.resource_id and snippet.resource_id.video_id)
    if not video_id:
        raise _Reject("playlist item names no video")
    video_published = details.video_published_at if details else None
    if snippet.title in _PLACEHOLDER_TITLES and video_published is None and snippet.thumbnails.best_url() is None:
        raise _Reject(f"video {video_id} is private or deleted")
    published_at = video_published or snippet.published_at
    if published_at is None:
        raise _Reject("playlist item has no publication time")
    return _post(
        video_id=video_id,
        # In other people's playlists the video's owner differs from the playlist's.
        channel_id=snippet.video_owner_channel_id or snippet.channel_id,
        channel_title=snippet.video_owner_channel_title or snippet.channel_title,
        title=snippet.title,
        description=snippet.description,
        thumbnails=snippet.thumbnails,
        published_at=published_at,
    )


def _post_from_search_result(item: dict[str, Any]) -> PostRecord:
    result = SearchResult.model_validate(item)
    if result.id.kind != "youtube#video" or not result.id.video_id:
        raise _Reject(f"{result.id.kind} is not a video")
    if result.snippet is None:
        raise _Reject("search result has no snippet (request part=snippet)")
    snippet = result.snippet
    return _post(
        video_id=result.id.video_id,
        channel_id=snippet.channel_id,
        channel_title=html.unescape(snippet.channel_title) if snippet.channel_title else None,
        # search.list is the one endpoint that HTML-escapes its text.
        title=html.unescape(snippet.title),
        description=html.unescape(snippet.description),
        thumbnails=snippet.thumbnails,
        published_at=snippet.published_at,
    )


def _post_from_activity(item: dict[str, Any]) -> PostRecord:
    activity = Activity.model_validate(item)
    if activity.snippet is None:
        raise _Reject("activity has no snippet (request part=snippet)")
    if activity.snippet.type != "upload":
        raise _Reject(f"activity of type {activity.snippet.type!r} is not an upload")
    upload = activity.content_details.upload if activity.content_details else None
    if upload is None:
        raise _Reject("upload activity carries no contentDetails.upload.videoId (request part=contentDetails)")
    return _post_of(upload.video_id, activity.snippet)


def _not_a_video(item: dict[str, Any]) -> PostRecord:
    raise _Reject(f"{item.get('kind') or 'item'} is not a video")


_POST_CONVERTERS: dict[str, Callable[[dict[str, Any]], PostRecord]] = {
    "youtube#videoListResponse": _post_from_video,
    "youtube#playlistItemListResponse": _post_from_playlist_item,
    "youtube#searchListResponse": _post_from_search_result,
    "youtube#activityListResponse": _post_from_activity,
    "youtube#playlistListResponse": _not_a_video,
    "youtube#subscriptionListResponse": _not_a_video,
}


# -- comments -----------------------------------------------------------------------------

_COMMENT_KINDS = (
    "youtube#commentThreadListResponse",
    "youtube#commentThread",
    "youtube#commentListResponse",
    "youtube#comment",
)


def _comment_record(comment: Comment, *, post_id: str, parent_id: str | None, depth: int) -> CommentRecord:
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
        depth=depth,
    )


def _comments_from_thread(item: dict[str, Any]) -> Iterator[CommentRecord | Rejected]:
    thread = CommentThread.model_validate(item)
    top = thread.snippet.top_level_comment
    video_id = thread.snippet.video_id or top.snippet.video_id
    if not video_id:
        raise _Reject("thread carries no videoId (not a video's comment)")
    yield _comment_record(top, post_id=video_id, parent_id=None, depth=0)
    for raw_reply in thread.replies.comments if thread.replies else []:
        yield from _guarded(raw_reply, lambda reply: _thread_reply(reply, video_id, top.id))


def _thread_reply(item: dict[str, Any], video_id: str, top_level_id: str) -> CommentRecord:
    reply = Comment.model_validate(item)
    return _comment_record(
        reply,
        post_id=reply.snippet.video_id or video_id,
        # Every YouTube reply answers the thread's top-level comment.
        parent_id=reply.snippet.parent_id or top_level_id,
        depth=1,
    )


def _comments_from_listing(item: dict[str, Any], video_id_hint: str | None) -> CommentRecord:
    comment = Comment.model_validate(item)
    video_id = comment.snippet.video_id or video_id_hint
    is_reply = comment.snippet.parent_id is not None
    if not video_id:
        raise _Reject("reply carries no videoId" if is_reply else "comment carries no videoId")
    if is_reply:
        return _comment_record(comment, post_id=video_id, parent_id=comment.snippet.parent_id, depth=1)
    return _comment_record(comment, post_id=video_id, parent_id=None, depth=0)


# -- profiles -----------------------------------------------------------------------------


def _profile_from_channel(item: dict[str, Any]) -> ProfileRecord:
    channel = Channel.model_validate(item)
    if channel.kind != "youtube#channel":
        raise _Reject(f"{channel.kind} is not a channel")
    snippet, stats = channel.snippet, channel.statistics
    hidden = stats is None or stats.hidden_subscriber_count
    return ProfileRecord(
        platform=PLATFORM,
        account_id=channel.id,
        username=(snippet.custom_url or snippet.title) if snippet else None,
        followers=None if hidden else stats.subscriber_count,
        following=None,  # channels.list does not say how many channels one subscribes to
        posts_count=stats.video_count if stats else None,
    )
