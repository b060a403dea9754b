"""Emulation of Bluesky's XRPC API over the synthetic world: routes and renderers only (rate
limits, paging overlap and fault shaping are the engine's).

What it answers, in the shapes of the recorded responses in shared/realdata/bluesky:

- on the public AppView `public.api.bsky.app`, without credentials, and on the entryway
  `bsky.social` with `Authorization: Bearer <accessJwt>` (else 401 `AuthMissing`; an expired or
  revoked token is 400 `ExpiredToken`): `app.bsky.actor.getProfile` / `getProfiles`,
  `app.bsky.feed.getAuthorFeed` (`actor`, `limit` 1-100, `filter`, `cursor`),
  `app.bsky.feed.getPostThread` (`uri`, `depth`, `parentHeight`) and `app.bsky.feed.getPosts`
  (at most 25 repeated `uris`);
- on `bsky.social`: `com.atproto.server.createSession` (the accepted handle and app password;
  10 logins per account per day, `RateLimit-Policy: 10;w=86400`, then 429) and
  `refreshSession` (Bearer refreshJwt; the refresh token rotates). Tokens are JWTs (HS256 here)
  whose `exp` a client can read: access tokens live 2 hours, refresh tokens 90 days.
- `RateLimit-Limit/-Remaining/-Reset/-Policy` on every metered answer: 3000 calls per 300 s
  (the client's `LIMITS`), the reset an epoch second; past it, 429 `RateLimitExceeded`.

How the world maps onto Bluesky: each catalog account is an actor with a `did:plc:` derived from
its handle; its world posts are its posts (`at://<did>/app.bsky.feed.post/<rkey>`, the rkey a
reversible 13-character base32 encoding of the uid); some of its feed items are reposts of
other accounts' posts (`reason: #reasonRepost`, the original author in `post.author`); world
comments are replies by `user-N.bsky.social` actors, and a few reply nodes show as
`#notFoundPost` (deleted) or `#blockedPost` (blocked), hiding their replies. Counts: likeCount,
repostCount, quoteCount, replyCount (direct replies) at the world's now.

Faults: `429_burst` is 429 `RateLimitExceeded` with the true RateLimit-* headers; `5xx` is 500
`InternalServerError` or 502 `UpstreamFailure`; `expired_token` (only on requests carrying a
token) revokes it and answers 400 `ExpiredToken`; `duplicate_items` on author feed pages with a
`cursor` starts the page with the previous page's last item; `field_missing` / `field_renamed`
drop or rename (`created_at`) one post's or reply's `record.createdAt`. The session endpoints get
only 5xx and wire faults (their 429 means the login limit).

Not emulated: labels and moderation, muting, threadgates, `viewer` state of a session, pinned
posts (`includePins`), quote lists, search, followers, handle resolution through DNS, other
PDS hosts (the didDoc names one, unused), reply ordering options and the AppView's cut of very
wide threads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Iterator, Mapping

from social_assets.platforms.bluesky.spec import LIMITS, SESSION_VARIABLES
from social_assets.sandbox.engine import (
    AUTH,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    FieldFault,
    b64,
    bearer,
    decode_uid,
    digest,
    encode_uid,
    int_param,
    unb64,
)
from social_assets.sandbox.faults import DROPPED_CONNECTION, DUPLICATE_ITEMS, EXPIRED_TOKEN, SERVER_ERROR, TIMEOUT, TRUNCATED_BODY
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import CommentTree, World, WorldAccount, WorldComment, WorldPost

PLATFORM = "bluesky"
APPVIEW_HOST = "public.api.bsky.app"
ENTRYWAY_HOST = "bsky.social"
SANDBOX_HANDLE = "sandbox-collector.bsky.social"
SANDBOX_APP_PASSWORD = "sbx7-bsky-app2-pass"
CREDENTIALS = dict(zip(SESSION_VARIABLES, (SANDBOX_HANDLE, SANDBOX_APP_PASSWORD)))
PDS = "https://sandbox.us-east.host.bsky.network"

ACCESS_LIFETIME = 2 * 3600
REFRESH_LIFETIME = 90 * 86400
LOGINS_PER_DAY = 10
MAX_URIS = 25
FEED_FILTERS = ("posts_with_replies", "posts_no_replies", "posts_with_media", "posts_and_author_threads",
                "posts_with_video")
REPOST_SHARE = 0.15  # own posts followed by a repost of another account's post
DELETED_SHARE = 0.02  # replies shown as #notFoundPost
BLOCKED_SHARE = 0.03  # replies shown as #blockedPost
S32 = "234567abcdefghijklmnopqrstuvwxyz"  # the base32 of TIDs and record keys
DEFS = "app.bsky.feed.defs"


def _xrpc_error(status: int, error: str, message: str, **headers: str) -> ErrorAnswer:
    return ErrorAnswer(status, {"error": error, "message": message}, headers)


class _Problem(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.response = _xrpc_error(status, error, message).response()


# -- ids --------------------------------------------------------------------------------------


def did_for(handle: str) -> str:
    raw = hashlib.blake2b(handle.lower().encode(), digest_size=15, person=b"bsky-did").digest()
    return "did:plc:" + base64.b32encode(raw).decode().lower()


def _s32(value: int) -> str:
    return "".join(S32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _uid_of_rkey(rkey: str, label: str) -> int | None:
    if len(rkey) != 13 or any(c not in S32 for c in rkey):
        return None
    value = 0
    for c in rkey:
        value = value * 32 + S32.index(c)
    return decode_uid(value.to_bytes(9, "big")[1:], label) if value < 1 << 64 else None


def _rkey(uid: int, label: str) -> str:
    return _s32(int.from_bytes(encode_uid(uid, 8, label), "big"))


def _cid(uri: str) -> str:
    return "bafyrei" + base64.b32encode(hashlib.sha256(uri.encode()).digest()).decode().lower()[:52]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _share(seed: int, label: str, uid: int) -> float:
    return digest(seed, label, uid) / 2**64


def commenter_handle(comment: WorldComment) -> str:
    return comment.author.replace("_", "-") + ".bsky.social"


# -- session tokens ---------------------------------------------------------------------------


class _Jwts:
    """Access and refresh JWTs (HS256) naming the session's DID; revocable, so an injected
    `expired_token` and the rotation of refresh tokens hold."""

    def __init__(self, secret: str, clock: Callable[[], float]):
        self._key, self._clock, self._revoked = hashlib.sha256(secret.encode()).digest(), clock, set()
        self._issued = 0

    def issue(self, did: str, scope: str, lifetime: int) -> str:
        self._issued += 1
        now = int(self._clock())
        head = b64(json.dumps({"typ": "at+jwt" if scope.endswith("access") else "refresh+jwt", "alg": "HS256"}).encode())
        claims = b64(json.dumps({"scope": scope, "sub": did, "iat": now, "exp": now + lifetime,
                                 "jti": f"sbx{self._issued}", "aud": "did:web:bsky.social"}).encode())
        return f"{head}.{claims}.{self._sign(head, claims)}"

    def subject(self, token: str, scope: str) -> str | None:
        parts = token.split(".")
        if len(parts) != 3 or token in self._revoked or not hmac.compare_digest(parts[2], self._sign(parts[0], parts[1])):
            return None
        try:
            claims = json.loads(unb64(parts[1]) or b"")
        except ValueError:
            return None
        return claims["sub"] if claims.get("scope") == scope and claims.get("exp", 0) > self._clock() else None

    def revoke(self, token: str) -> None:
        self._revoked.add(token)

    def _sign(self, head: str, claims: str) -> str:
        return b64(hmac.new(self._key, f"{head}.{claims}".encode(), "sha256").digest())


# -- feed items -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    post: WorldPost
    at: datetime  # where it sits in the feed
    reposted_by: WorldAccount | None = None


class BlueskyEmulation(Emulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = (APPVIEW_HOST, ENTRYWAY_HOST)
    catalog: ClassVar[tuple[tuple[str, str], ...]] = tuple(
        ("actor", handle) for handle in ("bsky.app", "atproto.com", "dataengineering.bsky.social",
                                         "duckdb.bsky.social", "socialpulse.bsky.social")
    ) + tuple(("actor", f"sandbox-account-{n:02d}.bsky.social") for n in range(1, 46))
    credentials = CREDENTIALS
    limits = LIMITS
    bearer_tokens = True
    errors = {
        THROTTLED: (_xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded"),),
        TRANSIENT: (_xrpc_error(500, "InternalServerError", "Internal Server Error"),
                    _xrpc_error(502, "UpstreamFailure", "Upstream Failure")),
        AUTH: (_xrpc_error(400, "ExpiredToken", "Token has expired"),),
    }
    faulted_fields = {
        "posts": FieldFault(("post", "record", "createdAt"), "created_at"),
        "comments": FieldFault(("post", "record", "createdAt"), "created_at"),
        "lookup": FieldFault(("record", "createdAt"), "created_at"),
    }
    paged = {"posts": "cursor"}

    def __init__(self, world: World, configured: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self.tokens = _Jwts(f"{PLATFORM}-sandbox-jwt|{world.seed}", lambda: self.wall_clock())  # type: ignore[assignment]
        self.accounts = world.accounts(PLATFORM)
        self._by_did = {did_for(a.handle): a for a in self.accounts}
        self.logins: dict[tuple[str, int], int] = {}  # (identifier, day number) -> logins
        self._routes: dict[str, Callable[[SandboxRequest], SandboxResponse]] = {
            "app.bsky.actor.getProfile": self._get_profile,
            "app.bsky.actor.getProfiles": self._get_profiles,
            "app.bsky.feed.getAuthorFeed": self._get_author_feed,
            "app.bsky.feed.getPostThread": self._get_post_thread,
            "app.bsky.feed.getPosts": self._get_posts,
            "com.atproto.server.createSession": self._create_session,
            "com.atproto.server.refreshSession": self._refresh_session,
        }

    # -- the engine's questions -------------------------------------------------------------

    def authenticate(self, request: SandboxRequest) -> str | None | SandboxResponse:
        method = _nsid(request)
        if method.startswith("com.atproto.server."):
            return None  # the session endpoints count logins themselves
        if request.host == APPVIEW_HOST:
            return "public"  # anonymous reads, counted together (per address on the real AppView)
        token = bearer(request)
        if not token:
            return _xrpc_error(401, "AuthMissing", "Authentication Required").response()
        did = self.tokens.subject(token, "com.atproto.access")
        return did if did is not None else self.error(AUTH)

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if _nsid(request).startswith("com.atproto.server."):
            return frozenset({SERVER_ERROR, TIMEOUT, DROPPED_CONNECTION, TRUNCATED_BODY})
        kinds = super().fault_kinds(request)
        return kinds if bearer(request) else kinds - {EXPIRED_TOKEN}

    def resource_of(self, request: SandboxRequest) -> str | None:
        return {"app.bsky.feed.getAuthorFeed": "posts", "app.bsky.feed.getPostThread": "comments",
                "app.bsky.feed.getPosts": "lookup"}.get(_nsid(request))

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return []
        if isinstance(body.get("feed"), list):
            return body["feed"]
        if isinstance(body.get("posts"), list):
            return body["posts"]
        replies: list[dict[str, Any]] = []
        stack = list((body.get("thread") or {}).get("replies") or [])
        while stack:
            node = stack.pop()
            if "post" in node:
                replies.append(node)
                stack.extend(node.get("replies") or [])
        return replies

    def handle(self, request: SandboxRequest, fault: str | None = None) -> SandboxResponse:
        response = super().handle(request, fault)
        headers = response.headers or {}
        if "ratelimit-limit" in headers and "ratelimit-policy" not in headers:
            headers["ratelimit-policy"] = f"{headers['ratelimit-limit']};w={self.meter.windows[0].seconds}"
        return response

    def route(self, request: SandboxRequest) -> SandboxResponse:
        handler = self._routes.get(_nsid(request)) if request.path.startswith("/xrpc/") else None
        if handler is None:
            return _xrpc_error(501, "MethodNotImplemented", "Method Not Implemented").response()
        session_call = _nsid(request).startswith("com.atproto.server.")
        if request.method != ("POST" if session_call else "GET") or (session_call and request.host != ENTRYWAY_HOST):
            return _xrpc_error(400, "InvalidRequest", "Incorrect HTTP method or host").response()
        try:
            return handler(request)
        except _Problem as problem:
            return problem.response

    # -- sessions ---------------------------------------------------------------------------

    def _create_session(self, request: SandboxRequest) -> SandboxResponse:
        try:
            form = json.loads(request.body or b"{}")
        except ValueError:
            raise _Problem(400, "InvalidRequest", "Request body is not JSON") from None
        identifier, password = str(form.get("identifier") or ""), str(form.get("password") or "")
        window = int(self.wall_clock() // 86400)
        used = self.logins.get((identifier.lower(), window), 0) + 1
        self.logins[(identifier.lower(), window)] = used
        headers = {"ratelimit-limit": str(LOGINS_PER_DAY), "ratelimit-remaining": str(max(0, LOGINS_PER_DAY - used)),
                   "ratelimit-reset": str((window + 1) * 86400), "ratelimit-policy": f"{LOGINS_PER_DAY};w=86400"}
        if used > LOGINS_PER_DAY:
            return _xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **headers).response()
        if not self.accepted.accepts(**dict(zip(SESSION_VARIABLES, (identifier, password)))):
            return _xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password", **headers).response()
        response = SandboxResponse(200, self._session(identifier.lower()), headers)
        return response

    def _refresh_session(self, request: SandboxRequest) -> SandboxResponse:
        token = bearer(request)
        did = self.tokens.subject(token, "com.atproto.refresh")
        if did is None:
            raise _Problem(400, "ExpiredToken", "Token has been revoked")
        self.tokens.revoke(token)  # refresh tokens rotate
        return SandboxResponse(200, self._session(self._session_handles.get(did, SANDBOX_HANDLE)))

    @property
    def _session_handles(self) -> dict[str, str]:
        return {did_for(handle): handle for handle in {s[SESSION_VARIABLES[0]].lower() for s in self.accepted.sets}}

    def _session(self, handle: str) -> dict[str, Any]:
        did = did_for(handle)
        return {
            "did": did,
            "didDoc": {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "alsoKnownAs": [f"at://{handle}"],
                       "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": PDS}]},
            "handle": handle, "email": f"{handle}@example.com", "emailConfirmed": True, "emailAuthFactor": False,
            "accessJwt": self.tokens.issue(did, "com.atproto.access", ACCESS_LIFETIME),
            "refreshJwt": self.tokens.issue(did, "com.atproto.refresh", REFRESH_LIFETIME),
            "active": True,
        }

    # -- profiles ---------------------------------------------------------------------------

    def _actor(self, actor: str | None) -> WorldAccount:
        if not actor:
            raise _Problem(400, "InvalidRequest", 'Error: Params must have the property "actor"')
        account = self._by_did.get(actor) if actor.startswith("did:") else self.world.account(PLATFORM, actor)
        if account is None:
            raise _Problem(400, "InvalidRequest", "Profile not found")
        return account

    def _get_profile(self, request: SandboxRequest) -> SandboxResponse:
        return self.ok(self._profile(self._actor(request.param("actor"))))

    def _get_profiles(self, request: SandboxRequest) -> SandboxResponse:
        actors = [v for k, v in request.query if k == "actors"]
        if not actors or len(actors) > MAX_URIS:
            raise _Problem(400, "InvalidRequest", f"Error: actors must have between 1 and {MAX_URIS} items")
        found = [a for a in (self._by_did.get(x) if x.startswith("did:") else self.world.account(PLATFORM, x) for x in actors) if a]
        return self.ok({"profiles": [self._profile(a) for a in found]})

    def _profile(self, account: WorldAccount) -> dict[str, Any]:
        now, did = self.world.now(), did_for(account.handle)
        days = max(1, (now - account.created_at).days)
        return {
            "did": did,
            "handle": account.handle,
            "displayName": account.display_name,
            "description": f"{account.display_name} on Bluesky (sandbox).",
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/{_cid(did + 'avatar')}@jpeg",
            "banner": f"https://cdn.bsky.app/img/banner/plain/{did}/{_cid(did + 'banner')}@jpeg",
            "followsCount": int(50 + _share(self.world.seed, "follows", account.number) * 2000),
            "followersCount": account.followers(now),
            "postsCount": int(account.posts_per_day * days),
            "associated": {"$type": "app.bsky.actor.defs#profileAssociated", "lists": 0, "feedgens": 0,
                           "starterPacks": 0, "labeler": False},
            "indexedAt": _iso(account.created_at),
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
        }

    def _author(self, handle: str, created_at: datetime) -> dict[str, Any]:
        did = did_for(handle)
        return {"did": did, "handle": handle, "displayName": handle.split(".")[0].replace("-", " ").title(),
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/{_cid(did + 'avatar')}@jpeg",
                "associated": {"chat": {"allowIncoming": "following"}}, "viewer": {"muted": False, "blockedBy": False},
                "labels": [], "createdAt": _iso(created_at)}

    # -- posts ------------------------------------------------------------------------------

    def post_uri(self, post: WorldPost) -> str:
        return f"at://{did_for(post.account.handle)}/app.bsky.feed.post/{_rkey(post.uid, 'post')}"

    def comment_uri(self, comment: WorldComment) -> str:
        return f"at://{did_for(commenter_handle(comment))}/app.bsky.feed.post/{_rkey(comment.uid, 'reply')}"

    def resolve(self, uri: str) -> WorldPost | WorldComment | None:
        """The post or reply an at:// URI names (a catalog account's DID: a post; else a reply)."""
        parts = uri.removeprefix("at://").split("/") if uri.startswith("at://") else []
        if len(parts) != 3 or parts[1] != "app.bsky.feed.post":
            return None
        did, rkey = parts[0], parts[2]
        if did in self._by_did:
            uid = _uid_of_rkey(rkey, "post")
            post = self.world.post_by_uid(PLATFORM, uid) if uid is not None else None
            return post if post is not None and self.post_uri(post) == uri else None
        uid = _uid_of_rkey(rkey, "reply")
        comment = self.world.comment_by_uid(PLATFORM, uid) if uid is not None else None
        return comment if comment is not None and self.comment_uri(comment) == uri else None

    def _embed(self, post: WorldPost) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(record embed, hydrated #view) by the post's flavor: images, a link card, a video or none."""
        did, flavor = did_for(post.account.handle), post.flavor
        if flavor < 0.30:
            blobs = [_cid(f"{post.uid}/{i}") for i in range(1 + int(flavor * 13) % 4)]
            return ({"$type": "app.bsky.embed.images", "images": [
                        {"alt": "", "image": {"$type": "blob", "ref": {"$link": b}, "mimeType": "image/jpeg", "size": 200_000}}
                        for b in blobs]},
                    {"$type": "app.bsky.embed.images#view", "images": [
                        {"thumb": f"https://cdn.bsky.app/img/feed_thumbnail/plain/{did}/{b}@jpeg",
                         "fullsize": f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{b}@jpeg", "alt": ""}
                        for b in blobs]})
        if flavor < 0.45:
            link = f"https://example.com/{post.title.lower().replace(' ', '-')}"
            card = {"uri": link, "title": post.title, "description": post.body[:120]}
            return ({"$type": "app.bsky.embed.external", "external": card},
                    {"$type": "app.bsky.embed.external#view", "external": card})
        if flavor < 0.52:
            blob = _cid(f"{post.uid}/video")
            return ({"$type": "app.bsky.embed.video", "video": {"$type": "blob", "ref": {"$link": blob},
                                                                 "mimeType": "video/mp4", "size": 4_000_000}},
                    {"$type": "app.bsky.embed.video#view", "cid": blob,
                     "playlist": f"https://video.bsky.app/watch/{did}/{blob}/playlist.m3u8",
                     "thumbnail": f"https://video.bsky.app/watch/{did}/{blob}/thumbnail.jpg"})
        return None, None

    def _post_view(self, post: WorldPost) -> dict[str, Any]:
        now, uri = self.world.now(), self.post_uri(post)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": _iso(post.published_at), "langs": ["en"],
                                  "text": f"{post.title}. {post.body}"[:300]}
        embed, view = self._embed(post)
        if embed:
            record["embed"] = embed
        tree = CommentTree(self.world.comments(post, now))
        body: dict[str, Any] = {"uri": uri, "cid": _cid(uri), "author": self._author(post.account.handle, post.account.created_at),
                                "record": record}
        if view:
            body["embed"] = view
        shares = post.shares(now)
        return body | {"replyCount": len(tree.top_level), "repostCount": shares, "likeCount": post.likes(now),
                       "quoteCount": shares // 5, "indexedAt": _iso(post.published_at + timedelta(milliseconds=340)),
                       "viewer": {"threadMuted": False, "embeddingDisabled": False}, "labels": []}

    def _reply_view(self, comment: WorldComment, tree: CommentTree) -> dict[str, Any]:
        uri, root = self.comment_uri(comment), self.post_uri(comment.post)
        parent = root if comment.parent_index is None else self.comment_uri(self.world.comments(comment.post, include_deleted=True)[comment.parent_index])
        handle = commenter_handle(comment)
        record = {"$type": "app.bsky.feed.post", "createdAt": _iso(comment.published_at), "langs": ["en"],
                  "reply": {"parent": {"cid": _cid(parent), "uri": parent}, "root": {"cid": _cid(root), "uri": root}},
                  "text": comment.text}
        return {"uri": uri, "cid": _cid(uri), "author": self._author(handle, comment.post.account.created_at),
                "record": record, "replyCount": len(tree.replies(comment)), "repostCount": 0,
                "likeCount": comment.likes(self.world.now()), "quoteCount": 0,
                "indexedAt": _iso(comment.published_at + timedelta(milliseconds=210)),
                "viewer": {"threadMuted": False, "embeddingDisabled": False}, "labels": []}

    # -- author feeds -----------------------------------------------------------------------

    def _items(self, account: WorldAccount, wanted: Callable[[_Item], bool], before: datetime | None) -> Iterator[_Item]:
        """The account's feed, newest first: its posts and, after some, a repost of another's;
        from `before` on (what lies after it is skipped without being rendered)."""
        others = [a for a in self.accounts if a is not account]
        for post in self.world.iter_posts_newest_first(account):
            if before is not None and post.published_at - timedelta(seconds=1) > before:
                continue  # the post and its repost both lie after the cursor
            for item in (_Item(post, post.published_at), self._repost_after(post, others)):
                if item is not None and wanted(item):
                    yield item

    def _repost_after(self, post: WorldPost, others: list[WorldAccount]) -> _Item | None:
        if not others or _share(self.world.seed, "repost", post.uid) >= REPOST_SHARE:
            return None
        at = post.published_at - timedelta(seconds=1)  # just older than the post it follows
        other = others[digest(self.world.seed, "reposted", post.uid) % len(others)]
        for back in range(3):  # every account posts every day: the other's latest post before `at`
            earlier = [p for p in self.world.posts_on(other, at.date() - timedelta(days=back)) if p.published_at < at]
            if earlier:
                return _Item(earlier[-1], at, post.account)
        return None

    def _get_author_feed(self, request: SandboxRequest) -> SandboxResponse:
        account = self._actor(request.param("actor"))
        limit = int_param(request.param("limit"), 50)
        if not 1 <= limit <= 100:
            raise _Problem(400, "InvalidRequest", "Error: limit must be between 1 and 100")
        filter_ = request.param("filter", FEED_FILTERS[0])
        if filter_ not in FEED_FILTERS:
            raise _Problem(400, "InvalidRequest", f"Error: filter must be one of {', '.join(FEED_FILTERS)}")
        cursor = request.param("cursor")
        try:
            before = datetime.fromisoformat(cursor.replace("Z", "+00:00")) if cursor else None
        except ValueError:
            raise _Problem(400, "InvalidRequest", "Malformed cursor") from None

        def wanted(item: _Item) -> bool:
            if filter_ in ("posts_with_media", "posts_with_video"):
                view = (self._embed(item.post)[1] or {}).get("$type", "")
                return item.reposted_by is None and (view.startswith("app.bsky.embed.video") if filter_ == "posts_with_video"
                                                     else bool(view) and not view.startswith("app.bsky.embed.external"))
            return True  # the world's posts are all top-level: the reply filters keep everything

        page: list[_Item] = []
        more = False
        for item in self._items(account, wanted, before):
            if before is not None and (item.at > before or (item.at == before and not request.overlap)):
                continue  # on or after the cursor: an earlier page's (overlap repeats the last one)
            if len(page) == limit:
                more = True
                break
            page.append(item)
        body: dict[str, Any] = {"feed": [self._feed_item(item) for item in page]}
        if more:
            body["cursor"] = _iso(page[-1].at)
        response = self.ok(body)
        if request.overlap and before is not None and page and page[0].at == before:
            response.injected_fault = DUPLICATE_ITEMS
        return response

    def _feed_item(self, item: _Item) -> dict[str, Any]:
        entry: dict[str, Any] = {"post": self._post_view(item.post)}
        if item.reposted_by is not None:
            entry["reason"] = {"$type": f"{DEFS}#reasonRepost",
                               "by": self._author(item.reposted_by.handle, item.reposted_by.created_at),
                               "indexedAt": _iso(item.at)}
        return entry

    def _get_posts(self, request: SandboxRequest) -> SandboxResponse:
        uris = [v for k, v in request.query if k == "uris"]
        if not uris or len(uris) > MAX_URIS:
            raise _Problem(400, "InvalidRequest", f"Error: uris must have between 1 and {MAX_URIS} items")
        found = [self.resolve(uri) for uri in uris]
        return self.ok({"posts": [self._post_view(p) if isinstance(p, WorldPost) else
                                  self._reply_view(p, CommentTree(self.world.comments(p.post)))
                                  for p in found if p is not None]})

    # -- threads ----------------------------------------------------------------------------

    def _get_post_thread(self, request: SandboxRequest) -> SandboxResponse:
        uri = request.param("uri") or ""
        depth = int_param(request.param("depth"), 6)
        height = int_param(request.param("parentHeight"), 80)
        if not 0 <= depth <= 1000 or not 0 <= height <= 1000:
            raise _Problem(400, "InvalidRequest", "Error: depth and parentHeight must be between 0 and 1000")
        anchor = self.resolve(uri)
        if anchor is None or (isinstance(anchor, WorldComment) and self._hidden(anchor)):
            raise _Problem(400, "NotFound", f"Post not found: {uri}")
        post = anchor if isinstance(anchor, WorldPost) else anchor.post
        comments = self.world.comments(post, include_deleted=True)  # deleted replies show as notFoundPost
        tree = CommentTree(comments)
        if isinstance(anchor, WorldPost):
            node = self._node(self._post_view(anchor), tree.top_level, tree, depth)
        else:
            node = self._node(self._reply_view(anchor, tree), tree.replies(anchor), tree, depth)
            child, parent_index, steps = node, anchor.parent_index, 0
            while steps < height:  # the parent chain, nearest first, up to the root post
                if parent_index is None:
                    child["parent"] = self._node(self._post_view(post), [], tree, 0)
                    break
                parent = comments[parent_index]
                hidden = self._hidden(parent)
                child["parent"] = hidden or self._node(self._reply_view(parent, tree), [], tree, 0)
                if hidden:
                    break  # a deleted or blocked post ends the chain
                child, parent_index, steps = child["parent"], parent.parent_index, steps + 1
        return self.ok({"thread": node})

    def _node(self, view: dict[str, Any], replies: list[WorldComment], tree: CommentTree, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {"$type": f"{DEFS}#threadViewPost", "post": view}
        if depth > 0:
            node["replies"] = [self._hidden(r) or self._node(self._reply_view(r, tree), tree.replies(r), tree, depth - 1)
                               for r in replies]
        node["threadContext"] = {}
        return node

    def _hidden(self, comment: WorldComment) -> dict[str, Any] | None:
        """A reply shown as deleted or blocked (its replies are hidden with it), else None."""
        share = _share(self.world.seed, "hidden", comment.uid)
        uri = self.comment_uri(comment)
        if share < DELETED_SHARE or self.world.is_deleted(comment):
            return {"$type": f"{DEFS}#notFoundPost", "uri": uri, "notFound": True}
        if share < DELETED_SHARE + BLOCKED_SHARE:
            return {"$type": f"{DEFS}#blockedPost", "uri": uri, "blocked": True,
                    "author": {"did": did_for(commenter_handle(comment)), "viewer": {"blockedBy": False}}}
        return None


def _nsid(request: SandboxRequest) -> str:
    return request.path.removeprefix("/xrpc/")


EMULATION = BlueskyEmulation
