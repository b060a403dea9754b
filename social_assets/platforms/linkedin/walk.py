"""Reading one LinkedIn organization's day through the REST API (every query in Rest.li 2.0
encoding, `spec.restli_query`):

1. profile: `networkSizes/{org}` (the follower count, landed as "profiles" with the organization
   beside it), then `organizationalEntityFollowerStatistics` by DAY over the
   `FOLLOWER_HISTORY_DAYS` before today, landed with that count beside it: its daily gains
   become derived past follower counts (see `normalize`);
2. posts: `posts?q=author` pages, newest first, until a post older than the day or `post_limit`
   (⚠ ordered by creation, judged by publication: a scheduled post published long after its
   creation, behind older ones, is missed). The pages only index the posts (not normalized);
   `measure` then reads per `BATCH_SIZE` posts `socialMetadata` and the share statistics (landed
   for the record) and lands `posts?ids=List(..)` as "posts" with their counts beside it;
3. comments: `socialActions/{post}/comments` pages, and the same path with the URN of each
   comment that says it has replies. Landed as "comments" with the post beside them.

The refresh is `measure` over known posts. ⚠ The pages' `start`/`count` live in the URL's own
query: a params mapping would be re-encoded and lose the `List(...)` syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterator, Sequence
from urllib.parse import unquote

import httpx

from social_assets.core.errors import NotFoundError
from social_assets.core.http import server_day
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import OffsetCount, PageRequest, RestClient, batches
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.linkedin.models import Post, to_ms
from social_assets.platforms.linkedin.normalize import engagement_of, merged_metrics, statistics_of
from social_assets.platforms.linkedin.spec import BATCH_SIZE, PAGE_SIZE, LinkedInSource, encode, restli_query

FOLLOWER_HISTORY_DAYS = 30
OFFSETS = OffsetCount(PAGE_SIZE, ("elements",), total_path=("paging", "total"))


@dataclass(frozen=True)
class RestliOffsets:
    """`OffsetCount` over a URL that carries its whole Rest.li query (see the module docstring)."""

    offsets: OffsetCount = OFFSETS

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        url = httpx.URL(request.url)
        following = self.offsets.next_page(replace(request, params=dict(url.params)), response, body)
        if following is None:
            return None
        start = f"start={following.params['start']}"
        query = "&".join(start if part.startswith("start=") else part for part in url.query.decode().split("&"))
        return PageRequest(str(url.copy_with(query=query.encode())))


def paged(path: str, query: dict[str, Any]) -> str:
    return f"{path}?{restli_query(query)}&start=0&count={PAGE_SIZE}"


class LinkedInWalk:
    def __init__(self, client: RestClient, source: LinkedInSource):
        self.client = client
        self.source = source

    def profile(self) -> None:
        organization = self.source.organization
        response = self.client.call("GET", f"/networkSizes/{encode(organization)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
                                    land_as="profiles", context={"organization": organization})
        if response is None:
            return
        followers = self.client.parse("GET", "/networkSizes", response).get("firstDegreeSize")
        today = server_day(response)
        start = today - timedelta(days=FOLLOWER_HISTORY_DAYS)
        interval = f"(timeRange:(start:{to_ms(start)},end:{to_ms(today)}),timeGranularityType:DAY)"
        query = {"q": "organizationalEntity", "organizationalEntity": organization, "timeIntervals": interval}
        self.client.call("GET", f"/organizationalEntityFollowerStatistics?{restli_query(query)}", land_as="profiles",
                         context={"organization": organization, "followers": str(followers),
                                  "counted_at": today.isoformat()})

    def posts(self, window: DayWindow) -> list[PostRef]:
        query = {"q": "author", "author": self.source.organization, "sortBy": "CREATED"}
        kept: dict[str, datetime] = {}
        for page in self.client.pages("GET", paged("/posts", query), RestliOffsets(), land_as="posts", normalize=False):
            older = False
            for post in _posts(page):
                published = post.publishedAt or post.createdAt
                if published is None or published >= window.end or post.lifecycleState not in (None, "PUBLISHED"):
                    continue
                if published < window.start:
                    older = True  # newest first
                    continue
                kept.setdefault(post.id, published)
            if older or len(kept) >= self.source.post_limit:
                break
        urns = list(kept)[: self.source.post_limit]
        counts, _ = measure(self.client, self.source.organization, urns)
        return [PostRef(urn, counts.get(urn, {}).get("comments")) for urn in urns]

    def comments(self, post: PostRef) -> None:
        for urn, replies in self._comments(post.post_id, post.post_id):
            if self.source.comment_depth >= 1 and replies:
                for _ in self._comments(urn, post.post_id):
                    pass  # replies have no replies of their own on LinkedIn

    def _comments(self, urn: str, post: str) -> Iterator[tuple[str, Any]]:
        """Each comment's URN and count of replies, its page landed."""
        pages = self.client.pages("GET", f"/socialActions/{encode(urn)}/comments?start=0&count={PAGE_SIZE}",
                                  RestliOffsets(), land_as="comments", context={"post": post})
        for page in pages:
            for item in page.get("elements") or [] if isinstance(page, dict) else []:
                if isinstance(item, dict) and isinstance(item.get("commentUrn") or item.get("$URN"), str):
                    summary = item.get("commentsSummary") if isinstance(item.get("commentsSummary"), dict) else {}
                    yield (item.get("commentUrn") or item["$URN"],
                           summary.get("totalFirstLevelComments") or summary.get("aggregatedTotalComments"))


def measure(client: RestClient, organization: str, urns: Sequence[str]) -> tuple[dict[str, dict], list[str]]:
    """Counts of these posts (see the module docstring), landing the posts with them; returns
    the counts by URN, and the posts the batch lookup answers 404 for."""
    found: dict[str, dict] = {}
    missing: list[str] = []
    for batch in batches(urns, BATCH_SIZE):
        engagement = engagement_of(client.get(f"/socialMetadata?{restli_query({'ids': batch})}", land_as="posts",
                                              normalize=False))
        query: dict[str, Any] = {"q": "organizationalEntity", "organizationalEntity": organization}
        for name, kind in (("shares", "urn:li:share:"), ("ugcPosts", "urn:li:ugcPost:")):
            if any(u.startswith(kind) for u in batch):
                query[name] = [u for u in batch if u.startswith(kind)]
        statistics = statistics_of(client.get(f"/organizationalEntityShareStatistics?{restli_query(query)}",
                                              land_as="posts", normalize=False))
        counts = merged_metrics(statistics, engagement)
        response = client.call("GET", f"/posts?{restli_query({'ids': batch})}", land_as="posts",
                               context={"metrics": json.dumps(counts, sort_keys=True)})
        body = client.parse("GET", "/posts", response) if response is not None else None
        # A Rest.li batch GET files an id it cannot answer under `errors` with its status.
        errors = body.get("errors") if isinstance(body, dict) and isinstance(body.get("errors"), dict) else {}
        missing += [urn for urn in batch if any(unquote(key) == urn and isinstance(error, dict) and error.get("status") == 404
                                                for key, error in errors.items())]
        found.update(counts)
    return found, missing


def refresh(client: RestClient, post_ids: Sequence[str]) -> list[Gone]:
    """Current counts of known posts of one organization. The share statistics need the
    organization, which the refresh is not told: one post's author gives it (one call). A post
    that answers 404, alone or in the batch lookup, was deleted: it is reported gone. ⚠ That
    LinkedIn answers a deleted post so is not documented (404 is its answer for an unknown URN)."""
    missing: list[str] = []
    for urn in dict.fromkeys(post_ids):
        try:
            author = client.get(f"/posts/{encode(urn)}", land_as="posts", normalize=False).get("author")
        except NotFoundError:
            missing.append(urn)
            continue
        if isinstance(author, str):
            missing += measure(client, author, [u for u in post_ids if u not in missing])[1]
        break
    return gone_posts(missing, "404 from the LinkedIn post lookup (deleted)")



def _posts(page: Any) -> Iterator[Post]:
    for item in page.get("elements") or [] if isinstance(page, dict) else []:
        try:
            yield Post.model_validate(item)
        except ValueError:
            continue  # the normalizer reports it when the post is looked up
