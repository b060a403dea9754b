"""Reddit API response bodies -> the cross-platform records. Posts: a Listing, or a comment page
`[post listing, comment listing]`. Comments: a comment page (`more` stubs skipped), a Listing of
t1, or /api/morechildren. Profiles: a t2, a t5, a Listing of them, or the
/api/user_data_by_account_ids dict keyed by t2 fullname. Error envelopes raise `ApiErrorBody`,
other bodies `NotAResponse`; a bad item, or one of another kind, is rejected alone. Items
Reddit shows as gone are reported in `Normalized.gone`, not as records: the pipeline purges them.

A reply's depth is its parent's + 1 when the parent is in the same body, else its own `depth`
but at least 1: a subtree view (`/comments/{post}/_/{comment}`) numbers depths from its first
comment, which answers another. The pipeline recomputes depths anyway.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from pydantic import ValidationError

from social_assets.core.records import (
    CommentRecord,
    ContentType,
    Gone,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Rejected,
    attempt,
    reason_of,
)
from social_assets.core.timeutil import from_epoch_seconds
from social_assets.platforms.reddit.models import (
    Account,
    Comment,
    Link,
    MoreChildrenResponse,
    Named,
    Subreddit,
    Thing,
)
from social_assets.platforms.reddit.spec import ERRORS

PLATFORM = "reddit"
SITE = "https://www.reddit.com"
DELETED_AUTHOR = "[deleted]"
GONE_TEXTS = ("[deleted]", "[removed]")  # what Reddit shows instead of a gone item's text
KIND_NAMES = {"t1": "comment", "t2": "account", "t3": "post", "t4": "message", "t5": "subreddit", "t6": "award",
              "more": "more-comments stub", "Listing": "Listing"}


# -- posts ------------------------------------------------------------------------------------


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    ERRORS.raise_if_error(PLATFORM, body)
    result: Normalized[PostRecord] = Normalized()
    if _is_comment_page(body):
        things = _parse_listing(body[0], "the post listing of a comment page", result)
    elif _looks_like_listing(body):
        things = _parse_listing(body, "a Listing of posts", result)
    else:
        raise NotAResponse(f"expected a Reddit Listing of posts (t3), found {describe(body)}")
    for thing in things:
        result.add(_item(thing, {"t3"}, "is not a post", lambda t: _post_or_gone(Link.model_validate(t.data))))
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
        permalink=permalink if (permalink := link.permalink).startswith("http") else SITE + permalink,
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
    if link.post_hint == "image" or (link.url and urlsplit(link.url).hostname == "i.redd.it"):
        return "image"
    return "link"


def media_urls(link: Link) -> list[str]:
    """The media a post shows, largest rendition, in display order; `&amp;` unescaped (Reddit
    HTML-escapes URLs unless asked for `raw_json=1`)."""
    kind = content_type(link)
    metadata = link.media_metadata or {}
    if kind == "gallery":
        # Items still processing or failed have no rendition to point at.
        found = (metadata.get(item.media_id) for item in (link.gallery_data.items if link.gallery_data else []))
        urls = [media.s.url for media in found if media is not None and media.status in (None, "valid") and media.s]
    elif kind == "video":
        urls = [_reddit_video_url(link)]
    elif kind == "image":
        urls = [link.url]
    elif kind == "link":
        image = link.preview.images[0] if link.preview and link.preview.images else None
        urls = [image.source.url if image and image.source else None]
    else:
        # Self posts (and polls) can embed images inline; Reddit lists them in media_metadata.
        urls = [item.s.url for item in metadata.values() if item.s]
    return list(dict.fromkeys(html.unescape(url) for url in urls if url))


def _reddit_video_url(link: Link) -> str | None:
    for media in (link.media, link.secure_media):
        if media is not None and media.reddit_video is not None and media.reddit_video.fallback_url:
            return media.reddit_video.fallback_url
    return None


# -- comments ---------------------------------------------------------------------------------


def normalize_comments(body: Any) -> Normalized[CommentRecord]:
    ERRORS.raise_if_error(PLATFORM, body)
    result: Normalized[CommentRecord] = Normalized()
    depths: dict[str, int] = {}  # comment fullname -> depth, for replies that follow it
    if _is_comment_page(body):
        tree = _parse_listing(body[1], "the comment listing of a comment page", result)
        _walk_tree(tree, None, depths, result)
    elif _is_morechildren(body):
        _walk_tree(_morechildren_things(body), None, depths, result)
    elif _looks_like_listing(body):
        _walk_tree(_parse_listing(body, "a Listing of comments", result), None, depths, result)
    else:
        raise NotAResponse(
            "expected a Reddit comment page, a Listing of comments (t1) or an /api/morechildren "
            f"response, found {describe(body)}"
        )
    return result


def _walk_tree(things: list[Thing], parent_depth: int | None, depths: dict[str, int], result: Normalized) -> None:
    """Comments of one level of a comment page, then (depth first) their replies; or of a flat
    list (a Listing of t1, /api/morechildren in pre-order): parents come first, so a reply finds
    its parent's depth in `depths`."""
    for thing in things:
        if thing.kind == "more":
            continue  # a stub: the comments it stands for come from another request
        result.add(_item(thing, {"t1"}, "is not a comment",
                         lambda t: _comment_or_gone(Comment.model_validate(t.data), parent_depth, depths)))
        replies = _field(thing.data, "replies", "data", "children") if thing.kind == "t1" else None
        if isinstance(replies, list):
            # Replies go one level below the comment's recorded depth; a rejected comment has none,
            # but its replies are still good comments, their depth guessed from the nesting.
            guess = 0 if parent_depth is None else parent_depth + 1
            _walk_tree(_things(replies, result), depths.get(f"t1_{thing.data.get('id')}", guess), depths, result)


def _comment_or_gone(comment: Comment, parent_depth: int | None, depths: dict[str, int]) -> CommentRecord | Gone:
    depth = _comment_depth(comment, parent_depth, depths)
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
        depth = max(comment.depth or 0, 1)  # the parent is not in this body: a reply is at least 1
    depths[f"t1_{comment.id}"] = depth
    return depth


def comment_record(comment: Comment, depth: int) -> CommentRecord:
    return CommentRecord(
        platform=PLATFORM,
        comment_id=comment.id,
        post_id=comment.link_id.removeprefix("t3_"),
        parent_id=None if comment.parent_id.startswith("t3_") else comment.parent_id.removeprefix("t1_"),
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
        data = MoreChildrenResponse.model_validate(body).json_.data
    except ValidationError as exc:
        raise NotAResponse(f"expected an /api/morechildren response, found one that is malformed: {_first_error(exc)}") from None
    return data.things if data else []


# -- profiles ---------------------------------------------------------------------------------


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    ERRORS.raise_if_error(PLATFORM, body)
    result: Normalized[ProfileRecord] = Normalized()
    builders: Mapping[str, Callable[[Any], ProfileRecord]] = {"t2": _account_profile, "t5": _subreddit_profile}
    if _is_thing(body) and body["kind"] in ("t2", "t5"):
        things = [Thing.model_validate(body)]
    elif _looks_like_listing(body):
        things = _parse_listing(body, "a Listing of accounts", result)
    elif _is_account_dict(body):
        things = [Thing(kind="t2", data={"id": fullname, **data}) for fullname, data in body.items()]
        builders = {"t2": _partial_profile}
    else:
        raise NotAResponse(
            "expected a Reddit account (t2), subreddit (t5), a Listing of them or an "
            f"/api/user_data_by_account_ids object, found {describe(body)}"
        )
    for thing in things:
        result.add(_item(thing, builders, "is not an account or subreddit", lambda t: builders[t.kind](t.data)))
    return result


def _account_profile(data: dict[str, Any]) -> ProfileRecord:
    account = Account.model_validate(data)
    return _profile("u", account.name, account.subreddit.subscribers if account.subreddit else None)


def _subreddit_profile(data: dict[str, Any]) -> ProfileRecord:
    subreddit = Subreddit.model_validate(data)
    return _profile("r", subreddit.display_name, subreddit.subscribers)


def _partial_profile(data: dict[str, Any]) -> ProfileRecord:
    return _profile("u", Named.model_validate(data).name, None)


def _profile(prefix: str, name: str, followers: int | None) -> ProfileRecord:
    if not name.strip():
        raise ValueError("name is empty")  # "u/" would name no account
    # Reddit has no "following" count for others and no post count in these responses.
    return ProfileRecord(platform=PLATFORM, account_id=f"{prefix}/{name}", username=name, followers=followers,
                         following=None, posts_count=None)


# -- errors and shapes ------------------------------------------------------------------------


def describe(body: Any) -> str:
    """A few words on what a body is, for the one-line NotAResponse message."""
    if body is None:
        return "null"
    if isinstance(body, list):
        return f"a JSON array of {len(body)} element{'s' if len(body) != 1 else ''}"
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__}"
    if _is_thing(body) and body["kind"] != "Listing":  # every normalizer takes a Listing
        return f"a {body['kind']} {KIND_NAMES.get(body['kind'], 'thing')}"
    keys, more = list(body)[:5], ", ..." if len(body) > 5 else ""
    return f"a JSON object with keys {', '.join(keys)}{more}" if keys else "an empty JSON object"


def _is_thing(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("kind"), str) and isinstance(value.get("data"), dict)


def _looks_like_listing(value: Any) -> bool:
    return _is_thing(value) and value["kind"] == "Listing"


def _is_comment_page(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_looks_like_listing(v) for v in value)


def _is_morechildren(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("json"), dict)


def _is_account_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        key.startswith("t2_") and isinstance(item, dict) for key, item in value.items())


def _field(value: Any, *path: str) -> Any:
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _parse_listing(listing: dict[str, Any], what: str, result: Normalized) -> list[Thing]:
    """The children of a Listing (`_looks_like_listing`); a child that is not a thing is rejected alone."""
    children = listing["data"].get("children")
    if not isinstance(children, list):
        found = describe(children) if "children" in listing["data"] else "missing"
        raise NotAResponse(f"expected {what}, found a malformed Listing: its children are {found}")
    return _things(children, result)


def _things(children: list[Any], result: Normalized) -> list[Thing]:
    things = []
    for child in children:
        if _is_thing(child):
            things.append(Thing.model_validate(child))
        else:
            ident = _field(child, "data", "name")
            result.rejected.append(Rejected(item_id=ident if isinstance(ident, str) else None, payload=child,
                                            reason="listing child is not a Reddit thing ({kind, data})"))
    return things


def _item(thing: Thing, kinds: Any, wrong_kind: str, build: Callable[[Thing], Any]) -> Any:
    """`build(thing)`, or the thing's `Rejected` when it is not of `kinds` or its data breaks it."""
    raw, item_id = {"kind": thing.kind, "data": thing.data}, _thing_id(thing)  # as Reddit sent it
    if thing.kind not in kinds:
        return Rejected(item_id=item_id, reason=f"{thing.kind} ({KIND_NAMES.get(thing.kind, 'thing')}) {wrong_kind}",
                        payload=raw)
    return attempt(lambda: build(thing), item_id=item_id, payload=raw, explain=lambda exc: f"{thing.kind} " + (
        _first_error(exc) if isinstance(exc, ValidationError) else reason_of(exc)))


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    return f"has no '{field}'" if error["type"] == "missing" else f"field '{field}': {error['msg']}"


def _thing_id(thing: Thing) -> str | None:
    name, id_ = thing.data.get("name"), thing.data.get("id")
    if isinstance(name, str) and name and name != "t1__":
        return name
    return str(id_) if isinstance(id_, (str, int)) else None


def _username(author: str | None) -> str | None:
    return None if author in (None, "", DELETED_AUTHOR) else author
