"""TikTok response bodies -> the cross-platform records.

Every TikTok answer is `{"data": ..., "error": {"code", "message", "log_id"}}`; a code other
than "ok" is the platform's error (`ApiErrorBody`), whatever else the body holds, and so is an
OAuth endpoint's `{"error": "<code>", "error_description"}`. What counts as which resource:
- posts: `data.videos` (Display `video/list` and `video/query`, Research `video/query`). The
  text is `video_description`, else the `title`. Media: the cover URL expires 6 hours after it
  is served, so the stable `embed_link` (else the `share_url`) comes first and the cover second:
  the cover is never the only reference kept. The permalink is the `share_url`. Views, likes,
  comments and shares are TikTok's counts; there is no save count. The author is the
  authorized account (the walk's `username` and `open_id` context), or a Research video's
  `username`;
- comments: `data.comments` of Research `video/comment/list`. Ids are int64 numbers, kept as
  strings. A comment whose `parent_comment_id` is its video (TOP_LEVEL_PARENT, ⚠ as in TikTok's
  examples) or absent is top-level; any other parent makes it a reply (depth 1: TikTok
  threads have two levels). Comments carry no author;
- profiles: `data.user` of Display `user/info`: followers, following, videos and `likes_count`
  (the likes all its videos received: `likes_received`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import BaseModel

from social_assets.core.records import (
    ApiErrorBody,
    CommentRecord,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Unusable,
    attempt_each,
)
from social_assets.platforms.tiktok.models import Comment, User, Video
from social_assets.platforms.tiktok.spec import OK, PLATFORM

M = TypeVar("M", bound=BaseModel)


def normalize_posts(body: Any, username: str | None = None, open_id: str | None = None, **context: str) -> Normalized[PostRecord]:
    videos = _items(body, "videos", "posts")
    return attempt_each(videos, lambda item: _post(item, username, open_id), item_id=_item_id)


def normalize_comments(body: Any, video_id: str | None = None, **context: str) -> Normalized[CommentRecord]:
    comments = _items(body, "comments", "comments")
    return attempt_each(comments, lambda item: _comment(item, video_id), item_id=_item_id)


def normalize_profiles(body: Any, **context: str) -> Normalized[ProfileRecord]:
    data = _data(body, "profiles")
    if "user" not in data:
        raise NotAResponse(f"expected a TikTok user/info response (data.user), found data keys {sorted(data)[:6]}")
    return attempt_each([data["user"]], _profile, item_id=_item_id)


# -- the envelope -----------------------------------------------------------------------------


def _data(body: Any, resource: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise NotAResponse(f"expected a TikTok {resource} response {{data, error}}, found a JSON {type(body).__name__}")
    error = body.get("error")
    if isinstance(error, str):  # the OAuth endpoints' shape
        raise ApiErrorBody(PLATFORM, error, str(body.get("error_description") or error))
    if isinstance(error, dict) and error.get("code") != OK:
        raise ApiErrorBody(PLATFORM, str(error.get("code")), str(error.get("message") or "no message"))
    data = body.get("data")
    if not isinstance(data, dict):
        raise NotAResponse(f"expected a TikTok {resource} response with a data object, found keys {sorted(body)[:6]}")
    return data


def _items(body: Any, key: str, resource: str) -> list[Any]:
    data = _data(body, resource)
    items = data.get(key)
    if not isinstance(items, list):
        raise NotAResponse(f"expected a TikTok {resource} response (data.{key}), found data keys {sorted(data)[:6]}")
    return items


def _item_id(item: Any) -> str | None:
    found = item.get("id", item.get("open_id")) if isinstance(item, dict) else None
    return None if found is None else str(found)


def _model(model: type[M], item: Any, what: str) -> M:
    if not isinstance(item, dict):
        raise Unusable(f"a {what} is a JSON object, found {type(item).__name__}")
    return model.model_validate(item)


def _id(value: str | int | None, what: str) -> str:
    if value is None or isinstance(value, bool):
        raise Unusable(f"{what} missing")
    return str(value)


def _time(seconds: int | None) -> datetime:
    if seconds is None:
        raise Unusable("create_time missing (ask for it in `fields`)")
    return datetime.fromtimestamp(seconds, timezone.utc)


# -- posts ------------------------------------------------------------------------------------


def _post(item: Any, username: str | None, open_id: str | None) -> PostRecord:
    video = _model(Video, item, "video")
    author = video.username or username
    return PostRecord(
        platform=PLATFORM,
        post_id=_id(video.id, "id"),
        author_id=None if video.username else open_id,
        author_username=author,
        text=video.video_description or video.title or "",
        content_type="video",
        # The cover URL expires after 6 hours: the stable player link always comes first.
        media_urls=[url for url in (video.embed_link or video.share_url, video.cover_image_url) if url],
        published_at=_time(video.create_time),
        likes=video.like_count,
        comments=video.comment_count,
        shares=video.share_count,
        views=video.view_count,
        permalink=video.share_url,
        duration_seconds=video.duration,
    )


# -- comments ---------------------------------------------------------------------------------


def _comment(item: Any, video_id: str | None) -> CommentRecord:
    comment = _model(Comment, item, "comment")
    post_id = str(comment.video_id) if comment.video_id is not None else video_id
    if not post_id:
        raise Unusable("video_id missing (ask for it in `fields`)")
    parent = None if comment.parent_comment_id is None else str(comment.parent_comment_id)
    top_level = parent is None or parent == post_id  # TOP_LEVEL_PARENT
    return CommentRecord(
        platform=PLATFORM,
        comment_id=_id(comment.id, "id"),
        post_id=post_id,
        parent_id=None if top_level else parent,
        author_username=None,
        text=comment.text or "",
        published_at=_time(comment.create_time),
        likes=comment.like_count,
        depth=0 if top_level else 1,
    )


# -- profiles ---------------------------------------------------------------------------------


def _profile(item: Any) -> ProfileRecord:
    user = _model(User, item, "user")
    if not user.username:
        raise Unusable("username missing (ask for it in `fields`; it needs the scope user.info.profile)")
    return ProfileRecord(
        platform=PLATFORM,
        account_id=f"@{user.username.lower()}",
        username=user.username,
        followers=user.follower_count,
        following=user.following_count,
        posts_count=user.video_count,
        likes_received=user.likes_count,
    )
