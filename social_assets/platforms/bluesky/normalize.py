"""Bluesky XRPC response bodies -> the cross-platform records.

What counts as which resource:
- posts: a feed (`app.bsky.feed.getAuthorFeed`: `feed[]` of `{post, reply?, reason?}`) or a list
  of post views (`getPosts`, `searchPosts`, `getQuotes`: `posts[]`). A **repost** in a feed
  (`reason.$type = …#reasonRepost`) is someone else's post shown in the reposter's feed: it is
  left out, neither a record nor a rejection. Pinned posts and replies are the author's posts.
  likes = likeCount, comments = replyCount (direct replies), shares = repostCount; Bluesky has
  no view counts, so views is None, and an absent count is None, never 0.
- comments: a thread (`getPostThread`: `thread`). Nodes are `#threadViewPost`, `#notFoundPost`
  (deleted) and `#blockedPost` (hidden by a block, without content); `replies[]` nest down and
  `parent` is a nested chain up. Every reply readable in the thread becomes a comment: its
  post_id is the thread's root post (`record.reply.root`), parent_id its parent
  (`record.reply.parent`, None under the root post, a deleted or blocked post's URI if that
  is its parent), depth its distance below the root post (0 = a direct reply), rebuilt from the
  tree. Deleted and blocked nodes carry nothing to record and hide their replies: they are
  skipped. When a thread is read from a reply whose `parent` chain stops before the root post
  (a deleted or blocked ancestor, or `parentHeight`), the depths are unknown: those replies are
  rejected with that reason.
- profiles: `profileViewDetailed` (getProfile) or `profiles[]` (getProfiles).

An XRPC error body (`{"error": "...", "message": "..."}`) raises `ApiErrorBody`.
"""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import ValidationError

from social_assets.core.records import (
    ApiErrorBody,
    CommentRecord,
    ContentType,
    Gone,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Unusable,
    attempt,
    attempt_each,
)
from social_assets.core.timeutil import from_iso
from social_assets.platforms.bluesky.models import PostView, ProfileView
from social_assets.platforms.bluesky.spec import PLATFORM, envelope

THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
NOT_FOUND = "app.bsky.feed.defs#notFoundPost"
BLOCKED = "app.bsky.feed.defs#blockedPost"
REPOST = "app.bsky.feed.defs#reasonRepost"
POST_URL = "https://bsky.app/profile/{actor}/post/{rkey}"

# -- entry points -----------------------------------------------------------------------------


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    _refuse_errors(body, "posts")
    if isinstance(body, dict) and isinstance(body.get("feed"), list):
        items = [item for item in body["feed"] if not _is_repost(item)]
        return attempt_each(items, lambda item: _post(item.get("post") if isinstance(item, dict) else None),
                            item_id=_item_id)
    if isinstance(body, dict) and isinstance(body.get("posts"), list):
        return attempt_each(body["posts"], _post, item_id=_item_id)
    raise NotAResponse(f"expected a Bluesky feed (feed[]) or post list (posts[]), found {_describe(body)}")


def normalize_comments(body: Any) -> Normalized[CommentRecord]:
    _refuse_errors(body, "comments")
    thread = body.get("thread") if isinstance(body, dict) else None
    if not isinstance(thread, dict):
        raise NotAResponse(f"expected a Bluesky thread (getPostThread: thread), found {_describe(body)}")
    if _kind(thread) != THREAD_VIEW:
        return Normalized()  # the post itself is deleted or blocked: no replies to read
    result: Normalized[CommentRecord] = Normalized()
    depth = _anchor_depth(thread)
    # The anchor's ancestors below the root post are replies too (nearest first).
    ancestors = list(_parents(thread))
    for steps, node in enumerate(ancestors, start=1):
        at = None if depth is None else depth - steps
        if _kind(node) == THREAD_VIEW and (at is None or at >= 0):
            _add_comment(result, node, at)
    stack: list[tuple[dict, int | None]] = [(thread, depth)]
    while stack:
        node, at = stack.pop()
        if at is None or at >= 0:
            _add_comment(result, node, at)
        replies = node.get("replies")
        for reply in reversed(replies) if isinstance(replies, list) else ():
            if isinstance(reply, dict) and _kind(reply) == THREAD_VIEW:  # deleted or blocked: nothing below
                stack.append((reply, None if at is None else at + 1))
            elif isinstance(reply, dict) and _kind(reply) == NOT_FOUND and isinstance(reply.get("uri"), str) and reply["uri"]:
                result.gone.append(Gone(resource="comments", item_id=reply["uri"], reason="notFoundPost (deleted)"))
    return result


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    _refuse_errors(body, "profiles")
    if isinstance(body, dict) and isinstance(body.get("profiles"), list):
        return attempt_each(body["profiles"], _profile, item_id=_item_id)
    if isinstance(body, dict) and "did" in body and "handle" in body and "accessJwt" not in body:
        return attempt_each([body], _profile, item_id=_item_id)
    raise NotAResponse(f"expected a Bluesky profile (getProfile) or profiles[] (getProfiles), found {_describe(body)}")


# -- items ------------------------------------------------------------------------------------


def _post(item: Any) -> PostRecord:
    view = _view(item)
    content_type, media = _content(view.embed)
    return PostRecord(
        platform=PLATFORM,
        post_id=view.uri,
        author_id=view.author.did,
        author_username=view.author.handle,
        text=view.record.text,
        content_type=content_type,
        media_urls=media,
        published_at=_time(view),
        likes=view.like_count,
        comments=view.reply_count,
        shares=view.repost_count,
        views=None,  # Bluesky reports no views
        permalink=_permalink(view),
    )


def _add_comment(result: Normalized, node: dict, depth: int | None) -> None:
    post = node.get("post")
    uri = post.get("uri") if isinstance(post, dict) else None

    def comment() -> CommentRecord:
        if depth is None:
            raise Unusable("its parent chain stops (a deleted or blocked post, or parentHeight) before the root post: depth unknown")
        view = _view(post)
        reply = view.record.reply
        if reply is None:
            raise Unusable("a reply without record.reply (root and parent)")
        return CommentRecord(
            platform=PLATFORM,
            comment_id=view.uri,
            post_id=reply.root.uri,
            parent_id=None if reply.parent.uri == reply.root.uri else reply.parent.uri,
            author_username=view.author.handle,
            text=view.record.text,
            published_at=_time(view),
            likes=view.like_count,
            depth=depth,
        )

    result.add(attempt(comment, item_id=uri if isinstance(uri, str) else None, payload=post))


def _profile(item: Any) -> ProfileRecord:
    try:
        view = ProfileView.model_validate(item)
    except ValidationError as exc:
        raise Unusable(f"malformed profile: {_first_problem(exc)}") from None
    return ProfileRecord(
        platform=PLATFORM, account_id=view.did, username=view.handle,
        followers=view.followers_count, following=view.follows_count, posts_count=view.posts_count,
    )


# -- helpers ----------------------------------------------------------------------------------


def _view(item: Any) -> PostView:
    try:
        return PostView.model_validate(item)
    except ValidationError as exc:
        raise Unusable(f"malformed post view: {_first_problem(exc)}") from None


def _time(view: PostView):
    try:
        return from_iso(view.record.created_at)
    except ValueError:
        raise Unusable(f"record.createdAt {view.record.created_at!r} is not a timestamp") from None


def _content(embed: dict[str, Any] | None) -> tuple[ContentType, list[str]]:
    """The content type and media URLs of a post's hydrated embed (`…#view`)."""
    kind = str((embed or {}).get("$type") or "")
    if not embed:
        return "text", []
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        media = embed.get("media")
        return _content(media) if isinstance(media, dict) else ("text", [])
    if kind.startswith("app.bsky.embed.images"):
        urls = [i["fullsize"] for i in embed.get("images") or [] if isinstance(i, dict) and isinstance(i.get("fullsize"), str)]
        return ("gallery" if len(urls) > 1 else "image"), urls
    if kind.startswith("app.bsky.embed.video"):
        playlist = embed.get("playlist")
        return "video", [playlist] if isinstance(playlist, str) else []
    if kind.startswith("app.bsky.embed.external"):
        uri = (embed.get("external") or {}).get("uri") if isinstance(embed.get("external"), dict) else None
        return "link", [uri] if isinstance(uri, str) else []
    if kind.startswith("app.bsky.embed.record"):
        return "text", []  # a quote of another post: the post itself is text
    return "other", []


def _permalink(view: PostView) -> str | None:
    parts = view.uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post":
        return None
    handle = view.author.handle
    return POST_URL.format(actor=handle if handle and handle != "handle.invalid" else view.author.did, rkey=parts[2])


def _kind(node: dict) -> str:
    kind = node.get("$type")
    if isinstance(kind, str):
        return kind
    if node.get("blocked") is True:
        return BLOCKED
    if node.get("notFound") is True:
        return NOT_FOUND
    return THREAD_VIEW if isinstance(node.get("post"), dict) else ""


def _parents(node: dict) -> Iterable[dict]:
    parent = node.get("parent")
    while isinstance(parent, dict):
        yield parent
        parent = parent.get("parent") if _kind(parent) == THREAD_VIEW else None


def _node_uri(node: dict) -> str | None:
    if _kind(node) == THREAD_VIEW:
        post = node.get("post")
        return post.get("uri") if isinstance(post, dict) else None
    return node.get("uri")


def _anchor_depth(thread: dict) -> int | None:
    """The depth of the thread's anchor node: -1 for the root post, else its replies' count of
    steps below the root post, or None when the parent chain stops short of the root."""
    try:
        reply = _view(thread.get("post")).record.reply
    except Unusable:
        return None
    if reply is None:
        return -1
    for steps, ancestor in enumerate(_parents(thread), start=1):
        if _node_uri(ancestor) == reply.root.uri:
            return steps - 1
    return None


def _is_repost(item: Any) -> bool:
    reason = item.get("reason") if isinstance(item, dict) else None
    return isinstance(reason, dict) and reason.get("$type") == REPOST


def _refuse_errors(body: Any, resource: str) -> None:
    error = envelope(body)
    if error is not None:
        raise ApiErrorBody(PLATFORM, error.code, error.message or error.code or "error")


def _item_id(item: Any) -> str | None:
    uri = item.get("uri") or item.get("did") if isinstance(item, dict) else None
    if uri is None and isinstance(item, dict) and isinstance(item.get("post"), dict):
        uri = item["post"].get("uri")
    return uri if isinstance(uri, str) else None


def _describe(body: Any) -> str:
    if isinstance(body, dict):
        return "an object with keys " + ", ".join(sorted(map(str, body))[:8]) if body else "an empty object"
    return "a JSON array" if isinstance(body, list) else f"a JSON {type(body).__name__}"


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "item"
    return f"{where}: {error['msg']}"
