"""Reddit API response bodies -> the cross-platform records.

Each `normalize_*` takes one parsed response body and returns `Normalized`: the records it could
build and, for items it could not, a `Rejected` with the item's id and a one-line reason. A body
that is not a response of the asked-for resource raises instead: `ApiErrorBody` for Reddit's
error envelopes, `NotAResponse` for anything else.

Items Reddit shows as gone (`removed_by_category`, or "[deleted]" / "[removed]" text with a
deleted author) are reported in `Normalized.gone`, not as records: the pipeline purges them.

What counts as which resource:
- posts: a Listing (subreddit and user listings, search, /api/info); items of another kind
  (t1 in a user overview, t5 in /api/info) are rejected, not errors. Also the comment page
  `[post listing, comment listing]`, whose first element is the post.
- comments: the comment page (the tree is walked, `more` stubs skipped), a Listing of t1 (user
  comments, a subreddit's comment stream, /api/info), and the /api/morechildren response.
- profiles: a t2 account (`/user/{name}/about`), a t5 subreddit (`/r/{name}/about`), the
  `/api/user_data_by_account_ids` dict keyed by t2 fullname, and a Listing of t2/t5.

Bad data fails its item only: whatever building one item's record raises (a validation error,
a NaN or 1e20 timestamp, a count beyond BIGINT, an empty id...) becomes a `Rejected`; so does a
Listing child that is not a thing at all.

Comment depth: 0 for a top-level comment; a reply's depth is its parent's + 1 when the parent
is in the same body. Otherwise the body's own `depth` field is used, but never below 1 for a
reply: a subtree view (`/comments/{post}/_/{comment}`, a permalink with context) numbers depths
from its first comment, so that comment says 0 although it answers another comment. 1 is then
the least the true depth can be; the pipeline recomputes depths from the parent chain anyway.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from social_assets.core.records import (
    ITEM_ERRORS,
    ApiErrorBody,
    CommentRecord,
    ContentType,
    Gone,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Rejected,
    reason_of,
)
from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.reddit.models import (
    Account,
    Comment,
    ErrorEnvelope,
    Link,
    Listing,
    MoreChildrenResponse,
    PartialAccount,
    Subreddit,
    Thing,
)

PLATFORM = "reddit"
SITE = "https://www.reddit.com"
DELETED_AUTHOR = "[deleted]"
GONE_TEXTS = ("[deleted]", "[removed]")  # what Reddit shows instead of a gone item's text

KIND_NAMES = {
    "t1": "comment",
    "t2": "account",
    "t3": "post",
    "t4": "message",
    "t5": "subreddit",
    "t6": "award",
    "more": "more-comments stub",
    "Listing": "Listing",
}

BuiltT = TypeVar("BuiltT")


# -- posts ------------------------------------------------------------------------------------


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    raise_if_error(body)
    result: Normalized[PostRecord] = Normalized()
    listing = _post_listing(body, result)
    for thing in listing.children:
        if thing.kind != "t3":
            result.rejected.append(_wrong_kind(thing, "is not a post"))
            continue
        _keep(result, _build(thing, result, lambda: _post_or_gone(Link.model_validate(thing.data))))
    return result


def _post_or_gone(link: Link) -> PostRecord | Gone:
    reason = gone_reason(link.author, link.selftext or link.title, link.removed_by_category)
    return Gone(resource="posts", item_id=link.id, reason=reason) if reason else post_record(link)


def gone_reason(author: str | None, text: str, removed_by_category: str | None = None) -> str | None:
    """Why Reddit shows an item as gone, or None: a post with `removed_by_category`, or an item
    whose text is "[deleted]" / "[removed]" with its author deleted."""
    if removed_by_category:
        return f"removed_by_category {removed_by_category}"
    if text.strip() in GONE_TEXTS and author in (None, "", DELETED_AUTHOR):
        return f"{text.strip()} on Reddit"
    return None


def _keep(result: Normalized, built: Any) -> None:
    if isinstance(built, Gone):
        result.gone.append(built)
    elif built is not None:
        result.records.append(built)


def _post_listing(body: Any, result: Normalized) -> Listing:
    if _is_comment_page(body):
        return _parse_listing(body[0], "the post listing of a comment page", result)
    if _looks_like_listing(body):
        return _parse_listing(body, "a Listing of posts", result)
    raise NotAResponse(f"expected a Reddit Listing of posts (t3), found {describe(body)}")


def post_record(link: Link) -> PostRecord:
    return PostRecord(
        platform=PLATFORM,
        post_id=link.id,
        author_id=link.author_fullname,
        author_username=_username(link.author),
        text=f"{link.title}\n\n{link.selftext}" if link.selftext else link.title,
        content_type=content_type(link),
        media_urls=media_urls(link),
        published_at=from_epoch_seconds(link.created_utc),
        likes=link.score,
        comments=link.num_comments,
        # Reddit reports neither; None says "unknown", 0 would claim nobody shared or viewed.
        shares=None,
        views=None,
        permalink=_absolute(link.permalink),
    )


def content_type(link: Link) -> ContentType:
    if link.is_gallery:
        return "gallery"
    if link.is_video or _reddit_video_url(link):
        return "video"
    if link.poll_data:
        return "poll"
    if link.is_self:
        return "text"
    if link.post_hint == "image" or _host(link.url) == "i.redd.it":
        return "image"
    return "link"


def media_urls(link: Link) -> list[str]:
    """The media a post shows, largest rendition, in display order; `&amp;` unescaped (Reddit
    HTML-escapes URLs unless asked for `raw_json=1`)."""
    kind = content_type(link)
    if kind == "gallery":
        urls = _gallery_urls(link)
    elif kind == "video":
        urls = [_reddit_video_url(link)]
    elif kind == "image":
        urls = [link.url]
    elif kind == "link":
        urls = [_preview_url(link)]
    else:
        # Self posts (and polls) can embed images inline; Reddit lists them in media_metadata.
        urls = [item.s.url for item in (link.media_metadata or {}).values() if item.s]
    unique: dict[str, None] = {}
    for url in urls:
        if url:
            unique.setdefault(html.unescape(url), None)
    return list(unique)


def _gallery_urls(link: Link) -> list[str | None]:
    metadata = link.media_metadata or {}
    urls: list[str | None] = []
    for item in link.gallery_data.items if link.gallery_data else []:
        media = metadata.get(item.media_id)
        # Items still processing or failed have no rendition to point at.
        if media is not None and media.status in (None, "valid") and media.s is not None:
            urls.append(media.s.url)
    return urls


def _reddit_video_url(link: Link) -> str | None:
    for media in (link.media, link.secure_media):
        if media is not None and media.reddit_video is not None and media.reddit_video.fallback_url:
            return media.reddit_video.fallback_url
    return None


def _preview_url(link: Link) -> str | None:
    if link.preview and link.preview.images and link.preview.images[0].source:
        return link.preview.images[0].source.url
    return None


# -- comments ---------------------------------------------------------------------------------


def normalize_comments(body: Any) -> Normalized[CommentRecord]:
    raise_if_error(body)
    result: Normalized[CommentRecord] = Normalized()
    depths: dict[str, int] = {}  # comment fullname -> depth, for replies that follow it
    if _is_comment_page(body):
        tree = _parse_listing(body[1], "the comment listing of a comment page", result)
        _walk_tree(tree.children, None, depths, result)
    elif _is_morechildren(body):
        _flat_comments(_morechildren_things(body), depths, result)
    elif _looks_like_listing(body):
        listing = _parse_listing(body, "a Listing of comments", result)
        _flat_comments(listing.children, depths, result)
    else:
        raise NotAResponse(
            "expected a Reddit comment page, a Listing of comments (t1) or an /api/morechildren "
            f"response, found {describe(body)}"
        )
    return result


def _walk_tree(
    things: list[Thing], parent_depth: int | None, depths: dict[str, int], result: Normalized[CommentRecord]
) -> None:
    """Comments of one level of a comment page, then (depth first) their replies."""
    for thing in things:
        if thing.kind == "more":
            continue  # a stub: the comments it stands for come from another request
        if thing.kind != "t1":
            result.rejected.append(_wrong_kind(thing, "is not a comment"))
            continue
        comment = _build(thing, result, lambda: Comment.model_validate(thing.data))
        if comment is None:
            # Its replies are still good comments; their depth follows from the nesting.
            replies = thing.data.get("replies")
            if isinstance(replies, dict) and isinstance(replies.get("data"), dict):
                nested = replies["data"].get("children")
                if isinstance(nested, list):
                    guess = 0 if parent_depth is None else parent_depth + 1
                    _walk_tree(_things(nested, result), guess, depths, result)
            continue
        depth = _comment_depth(comment, parent_depth, depths)
        _keep(result, _build(thing, result, lambda: _comment_or_gone(comment, depth)))
        if comment.replies:
            _walk_tree(comment.replies.children, depth, depths, result)


def _flat_comments(things: list[Thing], depths: dict[str, int], result: Normalized[CommentRecord]) -> None:
    """A flat list (a Listing of t1, or /api/morechildren in pre-order): parents come first,
    so a reply finds its parent's depth in `depths`."""
    for thing in things:
        if thing.kind == "more":
            continue
        if thing.kind != "t1":
            result.rejected.append(_wrong_kind(thing, "is not a comment"))
            continue
        _keep(result, _build(thing, result, lambda: _flat_comment(thing, depths)))


def _flat_comment(thing: Thing, depths: dict[str, int]) -> CommentRecord | Gone:
    comment = Comment.model_validate(thing.data)
    return _comment_or_gone(comment, _comment_depth(comment, None, depths))


def _comment_or_gone(comment: Comment, depth: int) -> CommentRecord | Gone:
    reason = gone_reason(comment.author, comment.body)
    return Gone(resource="comments", item_id=comment.id, reason=reason) if reason else comment_record(comment, depth)


def _comment_depth(comment: Comment, parent_depth: int | None, depths: dict[str, int]) -> int:
    if comment.parent_id.startswith("t3_"):
        depth = 0
    elif parent_depth is not None:
        depth = parent_depth + 1
    elif comment.parent_id in depths:
        depth = depths[comment.parent_id] + 1
    else:
        # A reply whose parent is not in this body: trust its own depth, but a reply is at least 1.
        depth = max(comment.depth or 0, 1)
    depths[f"t1_{comment.id}"] = depth
    return depth


def comment_record(comment: Comment, depth: int) -> CommentRecord:
    return CommentRecord(
        platform=PLATFORM,
        comment_id=comment.id,
        post_id=_strip_prefix(comment.link_id, "t3_"),
        parent_id=None if comment.parent_id.startswith("t3_") else _strip_prefix(comment.parent_id, "t1_"),
        author_username=_username(comment.author),
        text=comment.body,
        published_at=from_epoch_seconds(comment.created_utc),
        likes=comment.score,
        depth=depth,
    )


def iter_tree(things: list[Thing], parent_depth: int | None = None) -> Iterator[tuple[Thing, int]]:
    """Every thing of a comment tree with its depth relative to the tree's first level (0),
    depth first. Used by the collector to find `more` stubs; invalid items are yielded too."""
    for thing in things:
        depth = 0 if parent_depth is None else parent_depth + 1
        yield thing, depth
        replies = thing.data.get("replies") if thing.kind == "t1" else None
        if isinstance(replies, dict) and _looks_like_listing(replies):
            children = replies["data"].get("children") or []
            yield from iter_tree([Thing.model_validate(t) for t in children if _is_thing(t)], depth)


def _morechildren_things(body: dict[str, Any]) -> list[Thing]:
    try:
        response = MoreChildrenResponse.model_validate(body)
    except ValidationError as exc:
        raise NotAResponse(f"expected an /api/morechildren response, found one that is malformed: {_first_error(exc)}") from None
    data = response.json_.data
    return data.things if data else []


# -- profiles ---------------------------------------------------------------------------------


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    raise_if_error(body)
    result: Normalized[ProfileRecord] = Normalized()
    if _is_thing(body) and body["kind"] in ("t2", "t5"):
        things = [Thing.model_validate(body)]
    elif _looks_like_listing(body):
        things = _parse_listing(body, "a Listing of accounts", result).children
    elif _is_account_dict(body):
        for fullname, data in body.items():
            thing = Thing(kind="t2", data={"id": fullname, **data})
            record = _build(thing, result, lambda: _profile_of_partial(PartialAccount.model_validate(thing.data)))
            if record is not None:
                result.records.append(record)
        return result
    else:
        raise NotAResponse(
            "expected a Reddit account (t2), subreddit (t5), a Listing of them or an "
            f"/api/user_data_by_account_ids object, found {describe(body)}"
        )
    for thing in things:
        if thing.kind not in ("t2", "t5"):
            result.rejected.append(_wrong_kind(thing, "is not an account or subreddit"))
            continue
        build = _profile_of_account if thing.kind == "t2" else _profile_of_subreddit
        record = _build(thing, result, lambda: build(thing.data))
        if record is not None:
            result.records.append(record)
    return result


def _profile_of_account(data: dict[str, Any]) -> ProfileRecord:
    account = Account.model_validate(data)
    followers = account.subreddit.subscribers if account.subreddit else None
    return _profile("u", account.name, followers)


def _profile_of_subreddit(data: dict[str, Any]) -> ProfileRecord:
    subreddit = Subreddit.model_validate(data)
    return _profile("r", subreddit.display_name, subreddit.subscribers)


def _profile_of_partial(partial: PartialAccount) -> ProfileRecord:
    return _profile("u", partial.name, None)


def _profile(prefix: str, name: str, followers: int | None) -> ProfileRecord:
    if not name.strip():
        raise ValueError("name is empty")  # "u/" would name no account
    # Reddit has no "following" count for others and no post count in these responses.
    return ProfileRecord(
        platform=PLATFORM, account_id=f"{prefix}/{name}", username=name, followers=followers,
        following=None, posts_count=None,
    )


# -- errors and shapes ------------------------------------------------------------------------


def raise_if_error(body: Any) -> None:
    """Raise `ApiErrorBody` when `body` is one of Reddit's error envelopes."""
    if not isinstance(body, dict):
        return
    if _is_morechildren(body):
        errors = body["json"].get("errors")
        if isinstance(errors, list) and errors:
            code, message = _write_error(errors[0])
            raise ApiErrorBody(PLATFORM, code, message)
        return
    if "kind" in body or "data" in body:
        return
    if "error" in body or ("reason" in body and "explanation" in body):
        try:
            envelope = ErrorEnvelope.model_validate(body)
        except ValidationError:
            raise _malformed_error(body) from None
        status = envelope.error if envelope.error is not None else _status_from_phrase(envelope.message)
        raise ApiErrorBody(PLATFORM, status, _error_message(envelope, status))


def _error_message(envelope: ErrorEnvelope, status: int | str | None) -> str:
    if envelope.reason:
        detail = f"{envelope.reason}: {envelope.explanation}" if envelope.explanation else envelope.reason
        return detail
    if envelope.message:
        return envelope.message
    if isinstance(status, str) and status:
        return status  # the token endpoint's `{"error": "invalid_grant"}`
    if isinstance(status, int):
        try:
            return HTTPStatus(status).phrase  # `{"error": 403}` comes without a message
        except ValueError:
            pass
    return "no message"


def _malformed_error(body: dict[str, Any]) -> ApiErrorBody:
    """An error envelope whose fields have unexpected types (`{"error": {"code": 404}}`,
    `{"error": 403, "message": 5}`): still an error, with what can be read of it."""
    error = body.get("error")
    status = error.get("code") if isinstance(error, dict) else error
    if isinstance(status, bool) or not isinstance(status, (int, str)):
        status = None
    keys = ", ".join(str(key) for key in list(body)[:5])
    return ApiErrorBody(PLATFORM, status, f"malformed error envelope (keys: {keys})")


def _status_from_phrase(phrase: str | None) -> int | None:
    for status in HTTPStatus:
        if status.phrase == phrase:
            return status.value
    return None


def _write_error(error: Any) -> tuple[str | None, str]:
    # Write endpoints list errors as [code, message, field].
    if isinstance(error, list) and error:
        code = str(error[0])
        message = str(error[1]) if len(error) > 1 else code
        return code, message
    return None, str(error)


def describe(body: Any) -> str:
    """A few words on what a body is, for the one-line NotAResponse message."""
    if body is None:
        return "null"
    if isinstance(body, list):
        return f"a JSON array of {len(body)} element{'s' if len(body) != 1 else ''}"
    if isinstance(body, dict):
        if _is_thing(body):
            kind = body["kind"]
            if kind == "Listing":
                kinds = _listing_kinds(body)
                return f"a Listing of {', '.join(kinds)}" if kinds else "an empty Listing"
            return f"a {kind} {KIND_NAMES.get(kind, 'thing')}"
        keys = list(body)[:5]
        more = ", ..." if len(body) > 5 else ""
        return f"a JSON object with keys {', '.join(keys)}{more}" if keys else "an empty JSON object"
    return f"a JSON {type(body).__name__}"


def _listing_kinds(body: dict[str, Any]) -> list[str]:
    children = body["data"].get("children") if isinstance(body.get("data"), dict) else None
    if not isinstance(children, list):
        return []
    kinds: dict[str, None] = {}
    for child in children:
        if isinstance(child, dict):
            kind = str(child.get("kind"))
            kinds.setdefault(f"{kind} ({KIND_NAMES.get(kind, 'thing')})", None)
    return list(kinds)


def _is_thing(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("kind"), str) and isinstance(value.get("data"), dict)


def _looks_like_listing(value: Any) -> bool:
    return _is_thing(value) and value["kind"] == "Listing"


def _is_comment_page(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_looks_like_listing(v) for v in value)


def _is_morechildren(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("json"), dict)


def _is_account_dict(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(key.startswith("t2_") and isinstance(item, dict) for key, item in value.items())
    )


def _parse_listing(body: Any, what: str, result: Normalized) -> Listing:
    """The Listing, its children kept raw; a child that is not a thing is rejected alone.
    Paging fields (`after`, `before`, `dist`) are the collector's business: a malformed one
    costs no item here."""
    data = body.get("data") if isinstance(body, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if isinstance(children, list):
        body = {"kind": body.get("kind"), "data": {"children": _things(children, result)}}
    try:
        return Listing.model_validate(body)
    except ValidationError as exc:
        raise NotAResponse(f"expected {what}, found a malformed Listing: {_first_error(exc)}") from None


def _things(children: list[Any], result: Normalized) -> list[Thing]:
    things = []
    for child in children:
        if _is_thing(child):
            things.append(Thing.model_validate(child))
        else:
            ident = child.get("data", {}).get("name") if isinstance(child, dict) and isinstance(child.get("data"), dict) else None
            result.rejected.append(Rejected(
                item_id=ident if isinstance(ident, str) else None,
                reason="listing child is not a Reddit thing ({kind, data})", payload=child,
            ))
    return things


def _build(thing: Thing, result: Normalized, build: Callable[[], BuiltT]) -> BuiltT | None:
    """`build()` for one item; what its data breaks rejects the item (into `result`) only."""
    try:
        return build()
    except ValidationError as exc:
        reason = f"{thing.kind} {_first_error(exc)}"
    except ITEM_ERRORS as exc:
        reason = f"{thing.kind} {reason_of(exc)}"
    result.rejected.append(Rejected(item_id=_thing_id(thing), reason=reason, payload=_raw(thing)))
    return None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "missing":
        return f"has no '{field}'"
    return f"field '{field}': {error['msg']}"


def _wrong_kind(thing: Thing, reason: str) -> Rejected:
    name = KIND_NAMES.get(thing.kind, "thing")
    return Rejected(item_id=_thing_id(thing), reason=f"{thing.kind} ({name}) {reason}", payload=_raw(thing))


def _raw(thing: Thing) -> dict[str, Any]:
    """The thing as Reddit sent it, for the dead letters."""
    return {"kind": thing.kind, "data": thing.data}


def _thing_id(thing: Thing) -> str | None:
    name, id_ = thing.data.get("name"), thing.data.get("id")
    if isinstance(name, str) and name and name != "t1__":
        return name
    return str(id_) if isinstance(id_, (str, int)) else None


def _username(author: str | None) -> str | None:
    return None if author in (None, "", DELETED_AUTHOR) else author


def _absolute(permalink: str) -> str:
    return permalink if permalink.startswith("http") else SITE + permalink


def _strip_prefix(value: str, prefix: str) -> str:
    return value[len(prefix):] if value.startswith(prefix) else value


def _host(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None
