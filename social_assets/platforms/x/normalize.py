"""X API v2 response bodies -> the cross-platform records.

Every v2 read answers `{data, includes, errors, meta}`: `data` is one object or a list,
`includes` holds the expanded objects (`users`, `media`) that `data` refers to by id, and
`errors` lists what could not be given. What counts as which resource:
- posts: any list of posts (a user's timeline, lookups by id, searches). `note_tweet.text`
  wins over the cut `text`; `includes.media` gives the media URLs and `includes.users` the
  author's username. Retweets are the original author's posts, not the timeline owner's: they
  are rejected (the walk asks for none). shares = retweets + quotes, views = impressions;
- comments: the replies of a conversation search (`conversation_id:<post id>`). A reply's post
  is its `conversation_id`; its parent is the post it `replied_to`, None when that is the post
  itself; its depth is counted up the parent links within the response (a parent outside the
  response counts as one level; the pipeline recounts across pages). The conversation's root
  post, when a search returns it, is not a comment and is skipped;
- profiles: users (`/2/users/by/username/...`, `/2/users?ids=`), from `public_metrics`.

Errors: an HTTP 200 whose `errors` name requested items (ids, a username, a user id) gives
each of them a `Rejected` with X's reason; errors about expansions (`referenced_tweets.id`,
`section: includes`) concern no item of ours and are ignored, the `data` beside them kept.
Problem JSON (`{"title", "detail", "type", "status"}`) and `{"errors": [{"code", "message"}]}`
raise `ApiErrorBody`; an HTML page (X's answer to a wrong path) too.

X API v1.1 bodies (bare lists, `statuses`, `screen_name` users) are not v2 responses: they
are refused as such (`NotAResponse`, exit 2 of the normalize command).
"""

from __future__ import annotations

from typing import Any

from social_assets.core.records import (
    ApiErrorBody,
    CommentRecord,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Rejected,
    Unusable,
    attempt_each,
)
from social_assets.platforms.x.models import Media, Tweet, User

PLATFORM = "x"
PERMALINK = "https://x.com/{username}/status/{id}"
ANONYMOUS_PERMALINK = "https://x.com/i/web/status/{id}"
# `errors[].parameter` values that name the items asked for; others concern expansions.
ITEM_PARAMETERS = frozenset({"id", "ids", "username", "usernames", "tweet_id", "user_id"})


def normalize_posts(body: Any, **context: str) -> Normalized[PostRecord]:
    items, includes, rejected = _response(body, "posts")
    users = _by_id(includes.get("users"), "id")
    media = _by_id(includes.get("media"), "media_key")
    return attempt_each(items, lambda item: _post(item, users, media), item_id=_item_id, rejected=rejected)


def normalize_comments(body: Any, **context: str) -> Normalized[CommentRecord]:
    items, includes, rejected = _response(body, "comments")
    users = _by_id(includes.get("users"), "id")
    parents = {i["id"]: _parent(i) for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}
    replies = [i for i in items if not (isinstance(i, dict) and i.get("id") and i.get("id") == i.get("conversation_id"))]
    return attempt_each(replies, lambda item: _comment(item, users, parents), item_id=_item_id,
                        rejected=rejected)


def normalize_profiles(body: Any, **context: str) -> Normalized[ProfileRecord]:
    items, _, rejected = _response(body, "profiles")
    return attempt_each(items, _profile, item_id=_item_id, rejected=rejected)


# -- the envelope -----------------------------------------------------------------------------


def _response(body: Any, resource: str) -> tuple[list[Any], dict[str, Any], list[Rejected]]:
    """`data` as a list, `includes`, and the rejections of the requested items X names in
    `errors`; raises for error envelopes and bodies that are not v2 responses."""
    if isinstance(body, str) and body.lstrip().startswith("<"):
        raise ApiErrorBody(PLATFORM, None, "an HTML page instead of JSON (X's answer to a wrong path)")
    if isinstance(body, list):
        raise NotAResponse(f"expected an X API v2 {resource} response {{data, includes, meta}}, found a JSON array "
                           "(an X API v1.1 answer?)")
    if not isinstance(body, dict):
        raise NotAResponse(f"expected an X API v2 {resource} response, found a JSON {type(body).__name__}")
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    if "data" not in body and (isinstance(body.get("title"), str) or any(isinstance(e, dict) and "code" in e for e in errors)):
        raise _api_error(body, errors)
    if not ({"data", "errors", "meta"} & set(body)):
        raise NotAResponse(f"expected an X API v2 {resource} response, found an object with keys "
                           f"{sorted(body)[:6]} (no data, errors or meta; an X API v1.1 answer?)")
    data = body.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    rejected = [_unavailable(e) for e in errors if isinstance(e, dict) and _names_an_item(e)]
    return items, includes, rejected


def _api_error(body: dict[str, Any], errors: list[Any]) -> ApiErrorBody:
    if isinstance(body.get("title"), str):
        detail = body.get("detail") or ""
        message = f"{body['title']}: {detail}" if detail and detail != body["title"] else body["title"]
        kind = str(body.get("type") or "")
        if kind and kind != "about:blank":
            message += f" ({kind.rsplit('/', 1)[-1]})"
        return ApiErrorBody(PLATFORM, body.get("status"), message)
    first = errors[0]
    return ApiErrorBody(PLATFORM, first.get("code"), str(first.get("message") or "error"))


def _names_an_item(error: dict[str, Any]) -> bool:
    return error.get("section") != "includes" and error.get("parameter") in ITEM_PARAMETERS


def _unavailable(error: dict[str, Any]) -> Rejected:
    item = error.get("resource_id") or error.get("value")
    reason = ": ".join(str(p) for p in (error.get("title"), error.get("detail")) if p) or "unavailable"
    return Rejected(item_id=str(item) if item is not None else None, reason=reason, payload=error)


def _by_id(objects: Any, key: str) -> dict[str, dict[str, Any]]:
    return {o[key]: o for o in objects or [] if isinstance(o, dict) and isinstance(o.get(key), str)}


def _item_id(item: Any) -> str | None:
    found = item.get("id") if isinstance(item, dict) else None
    return None if found is None else str(found)


def _tweet(item: Any) -> Tweet:
    if not isinstance(item, dict):
        raise Unusable(f"a post is a JSON object, found {type(item).__name__}")
    tweet = Tweet.model_validate(item)
    if tweet.created_at is None:
        raise Unusable("created_at missing (ask for tweet.fields=created_at)")
    return tweet


# -- posts ------------------------------------------------------------------------------------


def _post(item: Any, users: dict[str, dict], media: dict[str, dict]) -> PostRecord:
    tweet = _tweet(item)
    retweeted = tweet.reference("retweeted")
    if retweeted:
        raise Unusable(f"a retweet of {retweeted}: the original author's post, not this account's")
    username = users.get(tweet.author_id or "", {}).get("username")
    keys = tweet.attachments.media_keys if tweet.attachments else []
    found = [Media.model_validate(media[k]) for k in keys if k in media]
    metrics = tweet.public_metrics
    return PostRecord(
        platform=PLATFORM,
        post_id=tweet.id,
        author_id=tweet.author_id,
        author_username=username,
        text=tweet.note_tweet.text if tweet.note_tweet else tweet.text,
        content_type=_content_type(tweet, found),
        media_urls=[url for url in (m.best_url() for m in found) if url],
        published_at=tweet.created_at,
        likes=metrics.like_count if metrics else None,
        comments=metrics.reply_count if metrics else None,
        shares=_sum(metrics.retweet_count, metrics.quote_count) if metrics else None,
        views=metrics.impression_count if metrics else None,
        permalink=(PERMALINK.format(username=username, id=tweet.id) if username else ANONYMOUS_PERMALINK.format(id=tweet.id)),
    )


def _content_type(tweet: Tweet, media: list[Media]) -> str:
    if tweet.attachments and tweet.attachments.poll_ids:
        return "poll"
    if any(m.type in ("video", "animated_gif") for m in media):
        return "video"
    if media:
        return "gallery" if len(media) > 1 else "image"
    if tweet.attachments and tweet.attachments.media_keys:
        return "other"  # media the response did not expand
    return "link" if (tweet.entities or {}).get("urls") else "text"


def _sum(*counts: int | None) -> int | None:
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


# -- comments ---------------------------------------------------------------------------------


def _parent(item: dict[str, Any]) -> str | None:
    for ref in item.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return ref.get("id")
    return None


def _comment(item: Any, users: dict[str, dict], parents: dict[str, str | None]) -> CommentRecord:
    tweet = _tweet(item)
    root = tweet.conversation_id
    if not root:
        raise Unusable("conversation_id missing (ask for tweet.fields=conversation_id)")
    parent = tweet.reference("replied_to")
    if parent is None:
        raise Unusable("no replied_to reference: not a reply (ask for tweet.fields=referenced_tweets)")
    return CommentRecord(
        platform=PLATFORM,
        comment_id=tweet.id,
        post_id=root,
        parent_id=None if parent == root else parent,
        author_username=users.get(tweet.author_id or "", {}).get("username"),
        text=tweet.note_tweet.text if tweet.note_tweet else tweet.text,
        published_at=tweet.created_at,
        likes=tweet.public_metrics.like_count if tweet.public_metrics else None,
        depth=_depth(tweet.id, root, parents),
    )


def _depth(reply: str, root: str, parents: dict[str, str | None]) -> int:
    """Levels between the reply and the post: 0 answers the post itself."""
    depth, parent, seen = 0, parents.get(reply), {reply}
    while parent is not None and parent != root and parent not in seen:
        depth += 1
        seen.add(parent)
        if parent not in parents:
            break  # outside this response: counted as one level
        parent = parents[parent]
    return depth


# -- profiles ---------------------------------------------------------------------------------


def _profile(item: Any) -> ProfileRecord:
    if not isinstance(item, dict):
        raise Unusable(f"a user is a JSON object, found {type(item).__name__}")
    user = User.model_validate(item)
    metrics = user.public_metrics
    return ProfileRecord(
        platform=PLATFORM,
        account_id=f"@{user.username}",
        username=user.username,
        followers=metrics.followers_count if metrics else None,
        following=metrics.following_count if metrics else None,
        posts_count=metrics.tweet_count if metrics else None,
    )
