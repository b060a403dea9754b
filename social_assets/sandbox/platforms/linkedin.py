"""Emulation of LinkedIn's Community Management REST API (organization pages) over the synthetic
world, in the shapes of the documentation (no recordings exist: PLATFORMS.md §7).

Every `/rest` call needs `LinkedIn-Version: YYYYMM` (else 400, or 426 for a malformed one),
`X-Restli-Protocol-Version: 2.0.0` (else 400) and a bearer token: the configured member access
token, or one the token endpoint issued (`grant_type=refresh_token`, client id and secret in the
form; the refresh token is not rotated and lives 365 days from its first authorization).

Routes (under `/rest`): `networkSizes/{org}`; `organizationalEntityFollowerStatistics` (daily
`followerGains` for `timeIntervals`, else lifetime counts by seniority); `posts` (by author,
newest first, `paging` without `total`; a batch `ids=List(..)`; one by URN); `socialMetadata`;
`organizationalEntityShareStatistics`; `socialActions/{post or comment URN}/comments` (a
comment's replies: LinkedIn shows one level, so the world's deeper replies are filed under
their top-level comment). Posts are `urn:li:share:` (videos `urn:li:ugcPost:`) with ids
reversibly encoded from the world's uids; comments name their post's `urn:li:activity:` (the
same number). Unknown and deleted URNs answer 404 `{"message", "status"}` (in a batch, as an
`errors` entry with that status).

Limits: the client's `LIMITS` daily budget per credential; past it, LinkedIn's bare 429, as for
`429_burst`. Field faults hit a looked-up post's `author` or a comment's `created`. Not emulated:
member names, media download URLs, edits, reshares, sponsored content, follower
demographics, writes.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Mapping

from social_assets.platforms.linkedin.models import from_ms, to_ms
from social_assets.platforms.linkedin.spec import (
    ACCESS_TOKEN_DAYS,
    ACCESS_TOKEN_VARIABLE,
    LIMITS,
    REFRESH_TOKEN_DAYS,
)
from social_assets.sandbox.engine import (
    AUTH,
    QUOTA,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    FieldFault,
    Page,
    bearer,
    decode_uid,
    digest,
    encode_uid,
    int_param,
    offset_page,
)
from social_assets.sandbox.faults import EXPIRED_TOKEN, RATE_LIMITED, SERVER_ERROR
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import CommentTree, World, WorldAccount, WorldComment, WorldPost

PLATFORM = "linkedin"
CREDENTIALS = {
    "LINKEDIN_CLIENT_ID": "sandboxlinkedinclient",
    "LINKEDIN_CLIENT_SECRET": "sandbox-linkedin-client-secret",
    "LINKEDIN_REFRESH_TOKEN": "AQX-sandbox-linkedin-refresh-token",
    ACCESS_TOKEN_VARIABLE: "AQV-sandbox-linkedin-member-access-token",
}
TOKEN_PATH = "/oauth/v2/accessToken"
# The world's first authorization of the built-in refresh token: its 365 days count from here.
AUTHORIZED_AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
PAGE_MAX = 100
REACTIONS = ("LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT")
_VERSION = re.compile(r"^20\d{4}(\.\d{2})?$")
_NUMBER = re.compile(r"^urn:li:(share|ugcPost|activity):(\d+)$")
_COMMENT = re.compile(r"^urn:li:comment:\(urn:li:activity:(\d+),(\d+)\)$")


def _error(status: int, message: str, service_code: int | None = None, code: str | None = None) -> dict[str, Any]:
    extra = {"serviceErrorCode": service_code, "code": code}
    return {"message": message, **{k: v for k, v in extra.items() if v is not None}, "status": status}


def _bad_request(message: str) -> SandboxResponse:
    return SandboxResponse(400, _error(400, message, code="ILLEGAL_ARGUMENT"))


_THROTTLE = ErrorAnswer(429, _error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."))
_EXPIRED = ErrorAnswer(401, _error(401, "The token used in the request has expired", 65601, "EXPIRED_ACCESS_TOKEN"))
_INVALID_TOKEN = ErrorAnswer(401, _error(401, "Invalid access token", 65600, "INVALID_ACCESS_TOKEN"))


def post_number(post: WorldPost) -> int:
    return int.from_bytes(encode_uid(post.uid, 8, "linkedin-post"), "big")


def post_urn(post: WorldPost) -> str:
    kind = "ugcPost" if 0.2 <= post.flavor < 0.27 else "share"  # videos are ugcPosts
    return f"urn:li:{kind}:{post_number(post)}"


def activity_urn(post: WorldPost) -> str:
    return f"urn:li:activity:{post_number(post)}"


def comment_urn(comment: WorldComment) -> str:
    number = int.from_bytes(encode_uid(comment.uid, 8, "linkedin-comment"), "big")
    return f"urn:li:comment:({activity_urn(comment.post)},{number})"


def person_urn(name: str) -> str:
    return f"urn:li:person:{digest(name, 'person') % 36**10:010x}"


def organization_urn(account: WorldAccount) -> str:
    return f"urn:li:organization:{account.handle}"


def _elements(elements: list[dict[str, Any]]) -> SandboxResponse:
    """A one-page answer of a `q=` finder."""
    return Emulation.ok({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})


def _bounds(request: SandboxRequest) -> tuple[int, int | None]:
    """A page's `start` and `count`; count None when either is out of bounds."""
    start, count = int_param(request.param("start"), 0), int_param(request.param("count"), 10)
    return start, (count if 1 <= count <= PAGE_MAX and start >= 0 else None)


def restli_list(value: str | None) -> list[str] | None:
    """`List(a,b)` -> [a, b] (items may hold parentheses and commas of their own)."""
    if not value or not value.startswith("List(") or not value.endswith(")"):
        return None
    items, depth, current = [], 0, ""
    for char in value[5:-1]:
        if char == "," and depth == 0:
            items, current = [*items, current], ""
        else:
            depth += {"(": 1, ")": -1}.get(char, 0)
            current += char
    return [*items, current] if current else items


class LinkedInEmulation(Emulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = ("api.linkedin.com", "www.linkedin.com")
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("organization", "2414183"), ("organization", "1035"), ("organization", "3650502"),
        *(("organization", str(90_000_000 + n)) for n in range(1, 48)),  # for scaling tests
    )
    credentials = CREDENTIALS
    limits = LIMITS
    bearer_tokens = True
    token_lifetime = ACCESS_TOKEN_DAYS * 86400
    errors = {
        THROTTLED: (_THROTTLE,),
        QUOTA: (_THROTTLE,),  # the same bare 429: LinkedIn's daily limits look like any throttle
        TRANSIENT: (ErrorAnswer(500, _error(500, "Internal Server Error")),
                    ErrorAnswer(504, _error(504, "Gateway Timeout"))),
        AUTH: (_EXPIRED,),
    }
    faulted_fields = {"posts": FieldFault(("author",), "owner"), "comments": FieldFault(("created",), "createdAt")}
    paged = {"listing": "start", "comments": "start"}

    def __init__(self, world: World, configured: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self._organizations = {a.handle: a for a in world.accounts(PLATFORM)}

    # -- engine hooks -------------------------------------------------------------------------

    def authenticate(self, request: SandboxRequest) -> str | None | SandboxResponse:
        if request.path == TOKEN_PATH:
            return None  # the token endpoint is not metered
        token = bearer(request)
        if token and self.accepted.accepts(**{ACCESS_TOKEN_VARIABLE: token}):
            return "member"
        subject = self.tokens.subject(token) if token else None
        return f"member:{subject}" if subject else _INVALID_TOKEN.response()

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if request.path == TOKEN_PATH:
            return frozenset({RATE_LIMITED, SERVER_ERROR})
        kinds = super().fault_kinds(request)
        return kinds if self.tokens.subject(bearer(request)) else kinds - {EXPIRED_TOKEN}

    def resource_of(self, request: SandboxRequest) -> str | None:
        if request.path == "/rest/posts":
            return "listing" if request.param("q") == "author" else "posts"
        return "comments" if request.path.startswith("/rest/socialActions/") else None

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return []
        if isinstance(body.get("results"), dict):
            return list(body["results"].values())
        return body.get("elements") or []

    def route(self, request: SandboxRequest) -> SandboxResponse:
        if request.host == "www.linkedin.com":
            if request.method == "POST" and request.path == TOKEN_PATH:
                return self._token(request)
            return SandboxResponse(404, _error(404, "Not Found"))
        refused = self._headers_refused(request)
        if refused is not None:
            return refused
        parts = request.path.strip("/").split("/")
        if request.method == "GET":
            match parts:
                case ["rest", "networkSizes", urn]:
                    return self._network_size(urn, request)
                case ["rest", "organizationalEntityFollowerStatistics"]:
                    return self._follower_statistics(request)
                case ["rest", "posts"]:
                    return self._posts(request)
                case ["rest", "posts", urn]:
                    post = self._post(urn)
                    return self.ok(self._post_json(post)) if post else self._not_found(urn)
                case ["rest", "socialMetadata"]:
                    return self._batch(request, self._social_metadata)
                case ["rest", "organizationalEntityShareStatistics"]:
                    return self._share_statistics(request)
                case ["rest", "socialActions", urn, "comments"]:
                    return self._comments(urn, request)
        return SandboxResponse(404, _error(404, f"No virtual resource found for {request.path}"))

    @staticmethod
    def _headers_refused(request: SandboxRequest) -> SandboxResponse | None:
        version = request.headers.get("linkedin-version")
        if not version:
            return SandboxResponse(400, _error(400, "A version must be present. Please specify a version by adding "
                                                    "the LinkedIn-Version header.", code="VERSION_MISSING"))
        if not _VERSION.match(version):
            return SandboxResponse(426, _error(426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION"))
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return _bad_request("Rest.li protocol 2.0.0 is required (X-Restli-Protocol-Version)")
        return None

    # -- auth ---------------------------------------------------------------------------------

    def _token(self, request: SandboxRequest) -> SandboxResponse:
        form = request.form()
        client_id, secret, refresh = (form.get(k, "") for k in ("client_id", "client_secret", "refresh_token"))
        if not self.accepted.accepts(LINKEDIN_CLIENT_ID=client_id, LINKEDIN_CLIENT_SECRET=secret):
            return SandboxResponse(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("grant_type") != "refresh_token" or not self.accepted.accepts(
                LINKEDIN_CLIENT_ID=client_id, LINKEDIN_REFRESH_TOKEN=refresh):
            return SandboxResponse(400, {"error": "invalid_request",
                                         "error_description": "The provided authorization grant is invalid or expired"})
        left = int((AUTHORIZED_AT + timedelta(days=REFRESH_TOKEN_DAYS) - self.world.now()).total_seconds())
        if left <= 0:
            return SandboxResponse(400, {"error": "invalid_request", "error_description": "The refresh token has expired"})
        return self.ok({"access_token": self.tokens.issue(client_id, self.token_lifetime),
                        "expires_in": self.token_lifetime, "refresh_token": refresh,
                        "refresh_token_expires_in": left, "scope": "r_organization_social,rw_organization_admin"})

    # -- organizations ------------------------------------------------------------------------

    def _organization(self, urn: str | None) -> WorldAccount | None:
        prefix = "urn:li:organization:"
        return self._organizations.get(urn[len(prefix):]) if urn and urn.startswith(prefix) else None

    def _network_size(self, urn: str, request: SandboxRequest) -> SandboxResponse:
        account = self._organization(urn)
        if account is None or request.param("edgeType") not in ("COMPANY_FOLLOWED_BY_MEMBER", "CompanyFollowedByMember"):
            return self._not_found(urn)
        return self.ok({"firstDegreeSize": account.followers(self.world.now())})

    def _follower_statistics(self, request: SandboxRequest) -> SandboxResponse:
        account = self._organization(request.param("organizationalEntity"))
        if request.param("q") != "organizationalEntity" or account is None:
            return _bad_request("Invalid organizationalEntity")
        urn, now = organization_urn(account), self.world.now()
        interval = re.match(r"^\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:DAY\)$",
                            request.param("timeIntervals") or "")
        if not request.param("timeIntervals"):
            bucket = {"seniority": "urn:li:seniority:3",
                      "followerCounts": {"organicFollowerCount": account.followers(now), "paidFollowerCount": 0}}
            by = ("Function", "Industry", "Region", "GeoCountry")
            return _elements([{"followerCountsBySeniority": [bucket], **{f"followerCountsBy{b}": [] for b in by},
                               "organizationalEntity": urn}])
        if interval is None:
            return _bad_request("Invalid timeIntervals")
        start, end = (from_ms(int(v)) for v in interval.groups())
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        elements, day = [], start
        while day + timedelta(days=1) <= min(end, today):  # only whole days that are over
            gain = account.followers(day + timedelta(days=1)) - account.followers(day)
            elements.append({"timeRange": {"start": to_ms(day), "end": to_ms(day + timedelta(days=1))},
                             "followerGains": {"organicFollowerGain": gain, "paidFollowerGain": 0},
                             "organizationalEntity": urn})
            day += timedelta(days=1)
        return _elements(elements)

    # -- posts --------------------------------------------------------------------------------

    def _post(self, urn: str) -> WorldPost | None:
        match = _NUMBER.match(urn)
        if match is None or int(match[2]) >= 2**64:
            return None
        post = self.world.post_by_uid(PLATFORM, decode_uid(int(match[2]).to_bytes(8, "big"), "linkedin-post"))
        return post if post is not None and (match[1] == "activity" or post_urn(post) == urn) else None

    def _posts(self, request: SandboxRequest) -> SandboxResponse:
        ids = restli_list(request.param("ids"))
        if ids is not None:
            return self._batch(request, lambda urn: self._post_json(post) if (post := self._post(urn)) else None)
        account = self._organization(request.param("author"))
        if request.param("q") != "author" or account is None:
            return _bad_request("Invalid author")
        start, count = _bounds(request)
        if count is None:
            return _bad_request(f"count must be between 1 and {PAGE_MAX}")
        newest = list(itertools.islice(self.world.iter_posts_newest_first(account), start + count + 1))
        page, first, overlapped = offset_page(newest, start, count, request.overlap)
        body = {"paging": self._paging(request, first, count, len(newest) > start + count, total=None),
                "elements": [self._post_json(p) for p in page]}
        return self.ok(body, Page(page, overlapped=overlapped))

    def _post_json(self, post: WorldPost) -> dict[str, Any]:
        published = to_ms(post.published_at)
        body: dict[str, Any] = {
            "isReshareDisabledByAuthor": False, "createdAt": published - 1000 * (digest(post.uid, "draft") % 600),
            "lifecycleState": "PUBLISHED", "lastModifiedAt": published, "visibility": "PUBLIC",
            "publishedAt": published, "author": organization_urn(post.account), "id": post_urn(post),
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "commentary": self._little_text(post), "lifecycleStateInfo": {"isEditedByAuthor": False},
        }
        content = self._content(post)
        if content:
            body["content"] = content
        return body

    @staticmethod
    def _little_text(post: WorldPost) -> str:
        """The post's words in little text: a hashtag, escaped reserved characters, sometimes a mention."""
        tag = post.title.split()[0].lower()
        text = f"{post.title} (via the sandbox) \\#{len(post.body)} {{hashtag|\\#|{tag}}}".replace("(", "\\(").replace(")", "\\)")
        if post.flavor > 0.8:
            text += " with @[Sandbox Partner](urn:li:organization:1035)"
        return f"{text}\n\n{post.body}".strip()

    def _content(self, post: WorldPost) -> dict[str, Any] | None:
        f, number = post.flavor, post_number(post)
        if f < 0.2:
            return {"media": {"id": f"urn:li:image:C4D{number:x}", "altText": post.title}}
        if f < 0.27:
            return {"media": {"id": f"urn:li:video:C5D{number:x}", "title": post.title}}
        if f < 0.32:
            options = post.title.split()[:3] or ["yes", "no"]
            return {"poll": {"question": post.title, "options": [{"text": o} for o in options],
                             "settings": {"duration": "THREE_DAYS", "voteSelectionType": "SINGLE_VOTE"}}}
        if f < 0.45:
            return {"article": {"source": f"https://blog.example.com/{post.day.isoformat()}/{number}",
                                "title": post.title, "description": post.body[:120]}}
        if f < 0.5:
            return {"multiImage": {"images": [{"id": f"urn:li:image:C4E{number:x}{n}", "altText": ""} for n in range(3)]}}
        return None

    # -- engagement ---------------------------------------------------------------------------

    def _reactions(self, post: WorldPost) -> dict[str, int]:
        total, counts = post.likes(self.world.now()), {}
        for kind in REACTIONS[1:]:
            counts[kind] = total * (digest(post.uid, kind) % 12) // 100
        counts["LIKE"] = total - sum(counts.values())
        return {k: v for k, v in counts.items() if v}

    def _social_metadata(self, urn: str) -> dict[str, Any] | None:
        post = self._post(urn)
        if post is None:
            return None
        comments = self.world.comments(post)
        return {"reactionSummaries": {k: {"reactionType": k, "count": v} for k, v in self._reactions(post).items()},
                "commentsState": "OPEN",
                "commentSummary": {"count": len(comments), "topLevelCount": sum(c.depth == 0 for c in comments)},
                "entity": urn}

    def _share_statistics(self, request: SandboxRequest) -> SandboxResponse:
        account = self._organization(request.param("organizationalEntity"))
        if request.param("q") != "organizationalEntity" or account is None:
            return _bad_request("Invalid organizationalEntity")
        now, elements = self.world.now(), []
        for name, key in (("shares", "share"), ("ugcPosts", "ugcPost")):
            for urn in restli_list(request.param(name)) or []:
                post = self._post(urn)
                if post is None or post.account != account:
                    continue
                likes, comments = post.likes(now), self.world.comment_count(post)
                impressions, shares = post.views(now), post.shares(now)
                clicks = impressions * (5 + digest(post.uid, "clicks") % 20) // 1000
                engagement = (likes + comments + shares + clicks) / impressions if impressions else 0.0
                elements.append({"totalShareStatistics": {
                    "uniqueImpressionsCount": impressions * 7 // 10, "shareCount": shares, "engagement": engagement,
                    "clickCount": clicks, "likeCount": likes, "impressionCount": impressions, "commentCount": comments,
                }, key: urn, "organizationalEntity": organization_urn(account)})
        return _elements(elements)

    # -- comments -----------------------------------------------------------------------------

    def _comments(self, urn: str, request: SandboxRequest) -> SandboxResponse:
        post = self._post(urn)
        parent: WorldComment | None = None
        if post is None:
            parent = self._comment(urn)
            if parent is None or parent.depth != 0:
                return self._not_found(urn)
            post = parent.post
        tree = CommentTree(self.world.comments(post))
        if parent is None:
            items = tree.top_level
        else:
            items = sorted(tree.descendants(parent), key=lambda c: c.published_at)  # flattened to one level
        start, count = _bounds(request)
        if count is None:
            return _bad_request(f"count must be between 1 and {PAGE_MAX}")
        page, first, overlapped = offset_page(items, start, count, request.overlap)
        # A reply is filed under the top-level comment asked about (`parent`).
        body = {"paging": self._paging(request, first, count, start + count < len(items), total=len(items)),
                "elements": [self._comment_json(c, tree, parent) for c in page]}
        return self.ok(body, Page(page, overlapped=overlapped))

    def _comment(self, urn: str) -> WorldComment | None:
        match = _COMMENT.match(urn)
        if match is None or int(match[2]) >= 2**64:
            return None
        uid = decode_uid(int(match[2]).to_bytes(8, "big"), "linkedin-comment")
        comment = self.world.comment_by_uid(PLATFORM, uid)
        return comment if comment is not None and comment_urn(comment) == urn else None

    def _comment_json(self, comment: WorldComment, tree: CommentTree, parent: WorldComment | None) -> dict[str, Any]:
        urn, actor, now = comment_urn(comment), person_urn(comment.author), self.world.now()
        replies = len(tree.descendants(comment)) if parent is None else 0
        stamp = {"actor": actor, "time": to_ms(comment.published_at)}
        body: dict[str, Any] = {
            "actor": actor, "commentUrn": urn, "created": stamp, "id": urn.rsplit(",", 1)[1].rstrip(")"),
            "lastModified": stamp, "message": {"attributes": [], "text": comment.text},
            "object": activity_urn(comment.post),
            "likesSummary": {"selectedLikes": [], "aggregatedTotalLikes": comment.likes(now),
                             "likedByCurrentUser": False, "totalLikes": comment.likes(now)},
            "commentsSummary": {"selectedComments": [], "aggregatedTotalComments": replies,
                                "totalFirstLevelComments": replies},
            "$URN": urn,
        }
        if parent is not None:
            body["parentComment"] = comment_urn(parent)
        return body

    # -- plumbing -----------------------------------------------------------------------------

    def _batch(self, request: SandboxRequest, render) -> SandboxResponse:
        ids = restli_list(request.param("ids"))
        if not ids:
            return _bad_request("ids must be a List(...)")
        results, statuses, errors = {}, {}, {}
        for urn in dict.fromkeys(ids):
            found = render(urn)
            if found is None:
                statuses[urn], errors[urn] = 404, _error(404, f"Not found: {urn}")
            else:
                statuses[urn], results[urn] = 200, found
        return self.ok({"results": results, "statuses": statuses, "errors": errors})

    @staticmethod
    def _paging(request: SandboxRequest, start: int, count: int, more: bool, total: int | None) -> dict[str, Any]:
        links = []
        if more:
            kept = "&".join(f"{k}={v}" for k, v in request.query if k not in ("start", "count"))
            links.append({"type": "application/json", "rel": "next",
                          "href": f"{request.path}?{kept}&start={start + count}&count={count}"})
        return {"start": start, "count": count, "links": links, **({} if total is None else {"total": total})}

    @staticmethod
    def _not_found(urn: str) -> SandboxResponse:
        return SandboxResponse(404, _error(404, f"Not enough permissions to access or not found: {urn}"))


EMULATION = LinkedInEmulation
