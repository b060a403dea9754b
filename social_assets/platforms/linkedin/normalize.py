"""LinkedIn REST response bodies -> the cross-platform records.

- posts: a finder page (`elements`), a batch get (`results`; each entry of `errors` rejects its
  URN) or one post; only `PUBLISHED` ones (drafts are neither records nor rejects). Text is
  `commentary`'s "little text" made plain (`plain_text`). A post body has no counts: the walk
  reads `socialMetadata` and the share statistics (`engagement_of`, `statistics_of`) and records
  them beside the batch as `metrics`. ⚠ Decisions: likes = every reaction type (LinkedIn's
  "like" is one of six), else the statistics' `likeCount`; comments = `commentSummary.count`
  (replies included), else `commentCount`; reach = `uniqueImpressionsCount`; no views; the
  statistics' `engagement` rate is left to the analytics. Media URNs give the content type but
  are not resolved (a call each, out of the daily budget): `media_urls` holds only an article.
- comments: a `socialActions/{urn}/comments` page, of the `post` the walk records beside it,
  else the comment's `object` (⚠ maybe the post's `urn:li:activity:`). LinkedIn shows one level
  of replies (`parentComment`): depth 0 or 1. Authors are actor URNs (names need a restricted
  lookup per member).
- profiles: `networkSizes`' `firstDegreeSize` (the followers of the `organization` the walk
  records beside it); and daily follower statistics, whose gains (organic + paid) become past
  follower counts (`observed_at`) counted back from the `followers` read at `counted_at` (the
  start of the API's day): a day starts with its end's count minus its gain. ⚠ Days not
  reported yet count 0; the chain stops at a missing day (older days are rejected, not guessed).

Errors: `{"message", "serviceErrorCode", "status"}` raises `ApiErrorBody`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Callable, TypeVar
from urllib.parse import unquote

from pydantic import ValidationError

from social_assets.core.history import counted_base, derived_snapshot
from social_assets.core.records import (
    ApiErrorBody,
    CommentRecord,
    ContentType,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Rejected,
    Unusable,
    attempt_each,
    reason_of,
)
from social_assets.platforms.linkedin.models import Comment, Post, from_ms

PLATFORM = "linkedin"
PERMALINK = "https://www.linkedin.com/feed/update/{urn}"
METRICS = ("likes", "comments", "shares", "impressions", "reach", "clicks")

R = TypeVar("R")

# "Little text": `@[Name](urn:li:organization:1)` mentions and `{hashtag|\#|word}` hashtags; every other
# reserved character is escaped with a backslash: | { } @ [ ] ( ) < > # \ * _ ~
_MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:[^)]*)\)")
_HASHTAG = re.compile(r"\{hashtag\|\\?#\|((?:\\.|[^}\\])*)\}")
_ESCAPED = re.compile(r"\\([|{}@\[\]()<>#\\*_~])")


def plain_text(little: str) -> str:
    """LinkedIn's little text as plain text: a mention becomes its name, a hashtag `#word`, and
    escaped characters themselves."""
    text = _MENTION.sub(lambda m: m[1], little)
    text = _HASHTAG.sub(lambda m: "#" + m[1], text)
    return _ESCAPED.sub(r"\1", text)


def normalize_posts(body: Any, metrics: str | None = None) -> Normalized[PostRecord]:
    """`metrics`: JSON {post urn: {likes, comments, shares, impressions, reach, clicks}}."""
    items, rejected = _collection(body, "posts", lambda b: "author" in b and "id" in b)
    counts = _metrics(metrics)
    published = [i for i in items if not (isinstance(i, dict) and i.get("lifecycleState") not in (None, "PUBLISHED"))]
    return attempt_each(published, lambda item: _post(item, counts), item_id=_item_id, rejected=rejected)


def normalize_comments(body: Any, post: str | None = None) -> Normalized[CommentRecord]:
    items, rejected = _collection(body, "comments", lambda b: "created" in b and "message" in b)
    return attempt_each(items, lambda item: _comment(item, post), item_id=_item_id, rejected=rejected)


def normalize_profiles(body: Any, organization: str | None = None, followers: str | None = None,
                       counted_at: str | None = None) -> Normalized[ProfileRecord]:
    _raise_error(body)
    if isinstance(body, dict) and isinstance(body.get("elements"), list) and "firstDegreeSize" not in body:
        return _follower_history(body["elements"], organization, followers, counted_at)
    if not isinstance(body, dict) or "firstDegreeSize" not in body:
        raise NotAResponse(f"expected a LinkedIn networkSizes answer {{firstDegreeSize}}, found {_kind(body)}")

    def profile(item: dict) -> ProfileRecord:
        if not organization:
            raise Unusable("the organization is unknown: networkSizes does not name it (the walk records it "
                           "beside the body as `organization`)")
        followers = item["firstDegreeSize"]
        if isinstance(followers, bool) or not isinstance(followers, int):
            raise Unusable(f"firstDegreeSize: expected a count, found {followers!r}")
        return _followers(organization, followers)

    return attempt_each([body], profile, item_id=_item_id)


def _follower_history(elements: list[Any], organization: str | None, followers: str | None,
                      counted_at: str | None) -> Normalized[ProfileRecord]:
    days = [e for e in elements if isinstance(e, dict) and "followerGains" in e]
    if elements and not days:
        raise NotAResponse("expected LinkedIn follower statistics with daily timeIntervals (followerGains), found "
                           "lifetime counts by demographic: no history to derive")
    base = counted_base(followers, counted_at)
    if not organization or base is None:
        reason = ("past follower counts need the organization and the follower count read with it "
                  "(the walk records `organization`, `followers` and `counted_at` beside the body)")
        return Normalized(rejected=[Rejected(item_id=_day_of(d), reason=reason, payload=d) for d in days])
    count, moment = base
    result: Normalized = Normalized()
    by_end = {}
    for day in days:
        try:
            by_end[from_ms(day["timeRange"]["end"])] = day
        except (KeyError, TypeError, ValueError):
            result.rejected.append(Rejected(item_id=_day_of(day), reason="timeRange.end is not epoch milliseconds", payload=day))
    # From the newest reported day back, while the days follow each other.
    moment = max((end for end in by_end if end <= moment), default=moment)
    while moment in by_end:
        day = by_end.pop(moment)
        gains = day["followerGains"] if isinstance(day["followerGains"], dict) else {}
        gain = [gains.get("organicFollowerGain", 0), gains.get("paidFollowerGain", 0)]
        try:
            result.records.append(_followers(organization, count, moment))
            if not all(isinstance(g, int) and not isinstance(g, bool) for g in gain):
                raise Unusable(f"followerGains: expected counts, found {gain}")
            count, moment = count - sum(gain), from_ms(day["timeRange"]["start"])
        except (KeyError, TypeError, ValueError) as exc:  # Unusable and ValidationError are ValueErrors
            reason = str(exc) if isinstance(exc, Unusable) else f"cannot count back through this day: {exc}"
            result.rejected.append(Rejected(item_id=_day_of(day), reason=reason, payload=day))
            return result
    if result.records:  # the start of the oldest day counted
        try:
            result.records.append(_followers(organization, count, moment))
        except ValidationError as exc:
            result.rejected.append(Rejected(item_id=moment.isoformat(), reason=reason_of(exc)))
    result.rejected += [Rejected(item_id=_day_of(d), reason="not contiguous with the days before the count was read",
                                 payload=d) for d in by_end.values()]
    return result


def _followers(organization: str, count: int, observed_at: datetime | None = None) -> ProfileRecord:
    return derived_snapshot(PLATFORM, organization, count, observed_at)


def _day_of(day: Any) -> str | None:
    start = day.get("timeRange", {}).get("start") if isinstance(day, dict) and isinstance(day.get("timeRange"), dict) else None
    try:
        return from_ms(start).date().isoformat()
    except ValueError:
        return None


# -- metrics (read by the walk, recorded beside the post batch) ---------------------------------


def engagement_of(body: Any) -> dict[str, dict[str, int]]:
    """From a `socialMetadata` batch: {post urn: {likes: all reactions, comments}}."""
    found: dict[str, dict[str, int]] = {}
    results = body.get("results") if isinstance(body, dict) else None
    for urn, meta in results.items() if isinstance(results, dict) else ():
        if not isinstance(meta, dict):
            continue
        reactions = meta.get("reactionSummaries")
        counts = [r.get("count") for r in reactions.values() if isinstance(r, dict)] if isinstance(reactions, dict) else None
        summary = meta.get("commentSummary") if isinstance(meta.get("commentSummary"), dict) else {}
        entry = {}
        if counts is not None and all(_is_count(c) for c in counts):
            entry["likes"] = sum(counts)
        if _is_count(summary.get("count")):
            entry["comments"] = summary["count"]
        found[unquote(str(urn))] = entry
    return found


_STATISTICS = {"likes": "likeCount", "comments": "commentCount", "shares": "shareCount",
               "impressions": "impressionCount", "reach": "uniqueImpressionsCount", "clicks": "clickCount"}


def statistics_of(body: Any) -> dict[str, dict[str, int]]:
    """From `organizationalEntityShareStatistics` with `shares`/`ugcPosts`: {post urn: counts}."""
    found: dict[str, dict[str, int]] = {}
    elements = body.get("elements") if isinstance(body, dict) else None
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        urn = element.get("share") or element.get("ugcPost")
        totals = element.get("totalShareStatistics")
        if isinstance(urn, str) and isinstance(totals, dict):
            found[urn] = {name: totals[key] for name, key in _STATISTICS.items() if _is_count(totals.get(key))}
    return found


def merged_metrics(statistics: dict[str, dict[str, int]], engagement: dict[str, dict[str, int]]) -> dict[str, dict]:
    """Per post: the statistics, with `socialMetadata`'s likes and comments over theirs."""
    return {urn: {**statistics.get(urn, {}), **engagement.get(urn, {})} for urn in {*statistics, *engagement}}


def _post(item: Any, counts: dict[str, dict]) -> PostRecord:
    post = _model(Post, item)
    published = post.publishedAt or post.createdAt
    if published is None:
        raise Unusable("neither publishedAt nor createdAt")
    metrics = counts.get(post.id, {})
    article = post.content.article if post.content else None
    return PostRecord(
        platform=PLATFORM, post_id=post.id, author_id=post.author, author_username=None,
        text=plain_text(post.commentary), content_type=_content_type(post),
        media_urls=[article.source] if article and article.source else [], published_at=published, views=None,
        permalink=PERMALINK.format(urn=post.id), **{name: metrics.get(name) for name in METRICS},
    )


def _content_type(post: Post) -> ContentType:
    content = post.content
    if content is None:
        return "text"
    if content.multiImage is not None:
        return "gallery"
    if content.media is not None:
        kind = content.media.id.split(":")[2] if content.media.id.count(":") >= 3 else ""
        return {"image": "image", "video": "video"}.get(kind, "other")
    if content.poll is not None:
        return "poll"
    return "link" if content.article is not None else "other"


def _comment(item: Any, post: str | None) -> CommentRecord:
    comment = _model(Comment, item)
    subject = post or comment.object
    if not subject:
        raise Unusable("no post: the comment has no `object` and the walk recorded none")
    likes = comment.likesSummary.totalLikes if comment.likesSummary else None
    return CommentRecord(
        platform=PLATFORM, comment_id=comment.urn, post_id=subject, parent_id=comment.parentComment,
        author_username=comment.actor, text=comment.message.text, published_at=comment.created.time,
        likes=likes, depth=1 if comment.parentComment else 0,
    )


def _collection(body: Any, resource: str, looks_like_one: Callable[[dict], bool]) -> tuple[list[Any], list[Rejected]]:
    """The items of a finder page, a batch get, or one object; batch `errors` as rejects. A
    collection of other objects (counts, statistics) is not a response of `resource`."""
    _raise_error(body)
    items, rejected = None, []
    if isinstance(body, dict) and isinstance(body.get("elements"), list):
        items = body["elements"]
    elif isinstance(body, dict) and isinstance(body.get("results"), dict):
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
        rejected = [Rejected(item_id=unquote(str(key)), reason=_error_text(error), payload=error)
                    for key, error in errors.items()]
        items = list(body["results"].values())
    elif isinstance(body, dict) and looks_like_one(body):
        items = [body]
    if items is None:
        raise NotAResponse(f"expected a LinkedIn {resource} answer (elements, a batch's results, or one item), "
                           f"found {_kind(body)}")
    if items and not any(isinstance(i, dict) and looks_like_one(i) for i in items):
        raise NotAResponse(f"expected LinkedIn {resource}, found {_other(items[0])}")
    return items, rejected


def _other(item: Any) -> str:
    for key, what in (("reactionSummaries", "socialMetadata counts"), ("totalShareStatistics", "share statistics")):
        if isinstance(item, dict) and key in item:
            return f"{what} (the walk records them beside the posts they count)"
    return f"a collection of other objects ({_kind(item)})"


def _metrics(metrics: str | None) -> dict[str, dict]:
    if not metrics:
        return {}
    try:
        parsed = json.loads(metrics)
    except ValueError:
        raise NotAResponse("the `metrics` recorded beside the posts are not JSON") from None
    return {k: v for k, v in parsed.items() if isinstance(v, dict)} if isinstance(parsed, dict) else {}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _raise_error(body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("message"), str) and "status" in body:
        raise ApiErrorBody(PLATFORM, body.get("status"), _error_text(body))


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    code = error.get("serviceErrorCode")
    return f"{error.get('message') or 'error'}" + (f" (serviceErrorCode {code})" if code is not None else "")


def _item_id(item: Any) -> str | None:
    found = item.get("commentUrn") or item.get("id") if isinstance(item, dict) else None
    return None if found is None else str(found)


def _model(model: type[R], item: Any) -> R:
    if not isinstance(item, dict):
        raise Unusable(f"expected a JSON object, found {_kind(item)}")
    return model.model_validate(item)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(map(str, value))[:6])
    return "a JSON array" if isinstance(value, list) else f"a JSON {type(value).__name__}"
