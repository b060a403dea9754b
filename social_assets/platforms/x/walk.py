"""Reading one X account's day through API v2 (all requests through the source's `RestClient`,
which lands them):

1. profile: `GET /2/users/by/username/{username}?user.fields=public_metrics,...`, landed as
   "profiles"; it also gives the user id the timeline needs. An HTTP 200 holding only
   `errors` (no such user, suspended) fails the source with X's reason;
2. posts: `GET /2/users/{id}/tweets` with `start_time`/`end_time` = the day, `exclude=retweets`,
   100 a page, the fields and expansions that carry `public_metrics`, media and authors,
   following `meta.next_token` (`pagination_token`) until it stops or `post_limit` posts are
   read. Landed as "posts";
3. comments, for each kept post that starts a conversation and has replies:
   `GET /2/tweets/search/recent?query=conversation_id:<id>`, 100 a page (`next_token`), landed
   as "comments". Recent search reaches back 7 days only: a post older than that (by the API's
   clock, its `Date` header) gets no replies, which is logged. A post that is itself a reply
   belongs to another post's conversation, so it has no conversation of its own to search.

The refresh looks up known posts 100 at a time (`GET /2/tweets?ids=`). A spent monthly
post-read cap pauses the platform until it resets, with a message saying so.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterator, Sequence

from social_assets.core.errors import NotFoundError, QuotaExhaustedError
from social_assets.core.http import server_time
from social_assets.core.quota import quota_explained
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import QueryCursor, RestClient, batches, parsed
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.x.models import Tweet
from social_assets.platforms.x.spec import PAGE_SIZE, PLATFORM, XSource

log = logging.getLogger(__name__)

RECENT_SEARCH_DAYS = 7
USER_FIELDS = "public_metrics,created_at,description,profile_image_url,verified"
TWEET_FIELDS = "created_at,author_id,conversation_id,public_metrics,attachments,referenced_tweets,entities,lang,note_tweet"
POST_QUERY = {
    "tweet.fields": TWEET_FIELDS,
    "expansions": "author_id,attachments.media_keys",
    "media.fields": "url,preview_image_url,variants,type",
    "user.fields": "username,name",
}
TIMELINE_CURSOR = QueryCursor("pagination_token", ("meta", "next_token"))
SEARCH_CURSOR = QueryCursor("next_token", ("meta", "next_token"))


class MonthlyCapReached(QuotaExhaustedError):
    """The monthly post-read cap is spent: every X call fails fast until it resets."""

    def __init__(self, error: QuotaExhaustedError):
        when = error.resets_at.isoformat() if error.resets_at else "the cap's reset"
        super().__init__(
            error.platform, error.method, error.endpoint, error.status,
            f"X monthly post-read cap reached ({error.detail}); X is paused until {when}: "
            "nothing is read before then, collect again after the reset",
            resets_at=error.resets_at,
        )


class XWalk:
    def __init__(self, client: RestClient, source: XSource):
        self.client = client
        self.source = source
        self.user_id: str | None = None
        self.server_now: datetime | None = None  # the API's clock: what "the last 7 days" counts from
        self.published: dict[str, datetime] = {}

    def profile(self) -> None:
        path = f"/2/users/by/username/{self.source.user}"
        with quota_explained(MonthlyCapReached):
            response = self.client.call("GET", path, params={"user.fields": USER_FIELDS}, land_as="profiles")
        if response is None:
            return
        self.server_now = server_time(response)
        body = self.client.parse("GET", path, response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            errors = body.get("errors") if isinstance(body, dict) else None
            reason = "; ".join(str(e.get("detail") or e.get("title")) for e in errors or [] if isinstance(e, dict))
            raise NotFoundError(PLATFORM, "GET", self.client.url(path), response.status_code,
                                f"user @{self.source.user} is not available: {reason or 'no data in the answer'}")
        self.user_id = data["id"]

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.user_id is None:
            self.profile()
        params = {
            **POST_QUERY,
            "max_results": str(max(5, min(PAGE_SIZE, self.source.post_limit))),
            "start_time": _iso(window.start),
            "end_time": _iso(window.end),
            "exclude": "retweets",
        }
        kept: dict[str, PostRef] = {}
        read: set[str] = set()  # by id: a post repeated across pages counts once
        with quota_explained(MonthlyCapReached):
            for body in self.client.pages("GET", f"/2/users/{self.user_id}/tweets", TIMELINE_CURSOR, params=params,
                                          land_as="posts"):
                for tweet in _tweets(body):
                    read.add(tweet.id)
                    if tweet.created_at in window and tweet.id not in kept:
                        self.published[tweet.id] = tweet.created_at
                        kept[tweet.id] = PostRef(tweet.id, _replies_to_search(tweet))
                if len(read) >= self.source.post_limit:
                    break
        return list(kept.values())[: self.source.post_limit]

    def comments(self, post: PostRef) -> None:
        published = self.published.get(post.post_id)
        now = self.server_now
        if published is not None and now is not None and now - published >= timedelta(days=RECENT_SEARCH_DAYS):
            log.info("x: replies to %s are not collected: it is older than the %d days recent search covers",
                     post.post_id, RECENT_SEARCH_DAYS)
            return
        params = {
            "query": f"conversation_id:{post.post_id}",
            "max_results": str(PAGE_SIZE),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username",
        }
        if published is not None:
            params["start_time"] = _iso(published)
        with quota_explained(MonthlyCapReached):
            for _ in self.client.pages("GET", "/2/tweets/search/recent", SEARCH_CURSOR, params=params, land_as="comments"):
                pass  # landing is the point


def refresh(client: RestClient, post_ids: Sequence[str]) -> list[Gone]:
    """Current public metrics of known posts: `GET /2/tweets?ids=`, 100 per call. A post the
    lookup answers with a resource-not-found error was deleted: it is reported gone."""
    missing: list[str] = []
    with quota_explained(MonthlyCapReached):
        for batch in batches(post_ids, PAGE_SIZE):
            body = client.get("/2/tweets", params={**POST_QUERY, "ids": ",".join(batch)}, land_as="posts")
            errors = body.get("errors") if isinstance(body, dict) else None
            missing += [
                e["resource_id"] for e in (errors if isinstance(errors, list) else [])
                if isinstance(e, dict) and e.get("resource_type") == "tweet" and e.get("resource_id") in batch
                and str(e.get("type", "")).endswith("/resource-not-found")
            ]
    return gone_posts(missing, "Not Found Error in the X batch lookup (deleted)")


def _tweets(body: Any) -> Iterator[Tweet]:
    data = body.get("data") if isinstance(body, dict) else None
    for tweet in (parsed(Tweet, item) for item in (data if isinstance(data, list) else [])):
        if tweet is not None and tweet.created_at is not None:  # the normalizer reports the others
            yield tweet


def _replies_to_search(tweet: Tweet) -> int | None:
    """The replies worth a conversation search: none for a post in someone else's conversation."""
    if tweet.conversation_id is not None and tweet.conversation_id != tweet.id:
        return 0
    return tweet.public_metrics.reply_count if tweet.public_metrics else None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
