"""Emulation of Mastodon's public REST API over the synthetic world, on several instances.

Instances (`INSTANCES`): mastodon.social and fosstodon.org (Mastodon 4.5 and 4.4, with the
batch `GET /api/v1/statuses?id[]=`) and mas.to (4.2, without it: 404). Each catalog account
lives on one instance as `user@instance`; an instance answers only for its own accounts (no
federation). Each instance counts its own window of `X-RateLimit-Limit` calls per 5 minutes
per token (or, without a token, per address), reported with the reset as an ISO 8601
timestamp; past it, 429 `{"error": "Too many requests"}`.

Routes (all `GET`, under `/api/v1`): `accounts/lookup?acct=`, `accounts/:id`,
`accounts/:id/statuses` (`limit` <= 40, `max_id`/`since_id`/`min_id`, `Link` header with
`rel="next"` only after a full page and `rel="prev"`; a page past the end is `[]` with no Link),
`statuses/:id`, `statuses/:id/context` (descendants depth first; without a token at most 60 of
them and 20 levels deep, as Mastodon limits logged-out readers), and `statuses?id[]=` (at most
20 ids, else 422). Unknown ids answer 404 `{"error": "Record not found"}`. A token that is not
accepted answers 401 `{"error": "The access token is invalid"}`; without one, statuses carry
no viewer fields (`favourited`, `reblogged`, `muted`, `bookmarked`, `filtered`).

Ids are Mastodon-like snowflakes and reversible: an account's is its creation time in ms << 16
| its catalog number; a post's its publication time in ms (plus its index of the day) << 16 |
its account's number; a reply's its post's ms << 20 | account number << 12 | its index.
`replies_count` counts direct replies, as Mastodon's does.

Faults: `429_burst` is the 429 above with the true window headers; `5xx` a JSON 500 or nginx's
HTML 503; `duplicate_items` (statuses pages with `max_id`) starts the page with the previous
page's last status; `field_missing` / `field_renamed` drop or rename (`published`) one status's
`created_at` in a statuses page or a context. Tokens do not expire (no `expired_token`).

Not emulated: federation (remote accounts cannot be looked up), reblogs and quotes (the world's
accounts never boost), pinned statuses, edits, media uploads and every write, trends and
timelines, instance metadata (`/api/v2/instance`).
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, Mapping

from social_assets.platforms.mastodon.spec import LIMITS, TOKEN_VARIABLE
from social_assets.sandbox.engine import (
    AUTH,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    FieldFault,
    Meter,
    Page,
    bearer,
    digest,
    int_param,
)
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import EPOCH, CommentTree, World, WorldAccount, WorldComment, WorldPost

PLATFORM = "mastodon"
SANDBOX_TOKEN = "sandbox-mastodon-access-token-0123456789"
CREDENTIALS = {TOKEN_VARIABLE: SANDBOX_TOKEN}  # accepted; anonymous reads need none


@dataclass
class Instance:
    version: str
    calls_per_window: int = 300

    @property
    def batch_lookup(self) -> bool:
        major, minor = (int(p) for p in self.version.split(".")[:2])
        return (major, minor) >= (4, 3)


INSTANCES = {
    "mastodon.social": Instance("4.5.2"),
    "fosstodon.org": Instance("4.4.8"),
    "mas.to": Instance("4.2.20"),
}
_EXAMPLES = ("Gargron@mastodon.social", "dagster@fosstodon.org", "duckdb@fosstodon.org", "datatalks@mas.to")
_HOSTS = tuple(INSTANCES)

PAGE_DEFAULT, PAGE_MAX = 20, 40
BATCH_MAX = 20
ANONYMOUS_DESCENDANTS, ANONYMOUS_DEPTH, CONTEXT_LIMIT = 60, 20, 4096
_POST_SHIFT, _REPLY_SHIFT = 16, 20
_NOT_FOUND = {"error": "Record not found"}
_INVALID_TOKEN = ErrorAnswer(401, {"error": "The access token is invalid"},
                             {"www-authenticate": 'Bearer realm="Doorkeeper", error="invalid_token", '
                                                  'error_description="The access token is invalid"'})
_NGINX_503 = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
              b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
              b"</body>\r\n</html>\r\n")
_ROUTES = [
    (re.compile(r"^/api/v1/accounts/lookup$"), "lookup"),
    (re.compile(r"^/api/v1/accounts/(\d+)$"), "account"),
    (re.compile(r"^/api/v1/accounts/(\d+)/statuses$"), "statuses"),
    (re.compile(r"^/api/v1/statuses$"), "batch"),
    (re.compile(r"^/api/v1/statuses/(\d+)$"), "status"),
    (re.compile(r"^/api/v1/statuses/(\d+)/context$"), "context"),
]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def account_id_for(account: WorldAccount) -> str:
    return str((_ms(account.created_at) << _POST_SHIFT) | account.number)


def post_id_for(post: WorldPost) -> str:
    return str((_post_ms(post) << _POST_SHIFT) | post.account.number)


def _post_ms(post: WorldPost) -> int:
    # Whole seconds plus the day's index: unique per account even for posts of the same second.
    return int(post.published_at.timestamp()) * 1000 + post.index


def reply_id_for(comment: WorldComment) -> str:
    post = comment.post
    return str((_post_ms(post) << _REPLY_SHIFT) | (post.account.number << 12) | comment.index)


# -- the emulation ----------------------------------------------------------------------------


class MastodonEmulation(Emulation):
    """Mastodon's public API on each of `INSTANCES` (see the module docstring)."""

    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = _HOSTS
    catalog: ClassVar[tuple[tuple[str, str], ...]] = tuple(("account", handle) for handle in _EXAMPLES) + tuple(
        ("account", f"sandbox_account_{n:02d}@{_HOSTS[n % len(_HOSTS)]}") for n in range(1, 47)
    )
    credentials = CREDENTIALS
    limits = LIMITS
    errors = {
        THROTTLED: (ErrorAnswer(429, {"error": "Too many requests"}),),
        TRANSIENT: (ErrorAnswer(500, {"error": "We're sorry, but something went wrong on our end."}),
                    ErrorAnswer(503, _NGINX_503, {"content-type": "text/html"})),
        AUTH: (_INVALID_TOKEN,),
    }
    faulted_fields = {"statuses": FieldFault(("created_at",), "published"),
                      "context": FieldFault(("created_at",), "published")}
    paged = {"statuses": "max_id"}

    def __init__(self, world: World, configured: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        # Every instance keeps its own windows (`self.meter` is the answering instance's).
        self.meters: dict[str, Meter] = {}
        for host, instance in INSTANCES.items():
            self.meters[host] = Meter(self.limits)
            self.meters[host].windows[0].limit = instance.calls_per_window
        self._accounts = {a.handle.lower(): a for a in world.accounts(PLATFORM)}
        assert len(self._accounts) < 256, "reply ids hold the account number in 8 bits"
        self._handlers: dict[str, Callable[..., SandboxResponse]] = {
            "lookup": self._lookup, "account": self._account, "statuses": self._statuses, "batch": self._batch,
            "status": self._status, "context": self._context,
        }

    # -- engine hooks -------------------------------------------------------------------------

    def handle(self, request: SandboxRequest, fault: str | None = None) -> SandboxResponse:
        self.meter = self.meters[request.host]  # one request at a time (the router's lock)
        return super().handle(request, fault)

    def authenticate(self, request: SandboxRequest) -> str | SandboxResponse:
        if "authorization" not in request.headers:
            return "anonymous"  # per address: every client of this machine shares it
        token = bearer(request)
        return f"token:{token}" if token and self.accepted.accepts(**{TOKEN_VARIABLE: token}) else _INVALID_TOKEN.response()

    def resource_of(self, request: SandboxRequest) -> str | None:
        route = _route(request.path)
        return route[0] if route and route[0] in ("statuses", "context") else None

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        if isinstance(body, list):
            return body
        return body.get("descendants") or [] if isinstance(body, dict) else []

    def route(self, request: SandboxRequest) -> SandboxResponse:
        route = _route(request.path)
        if route is None or request.method != "GET":
            return SandboxResponse(404, dict(_NOT_FOUND))
        name, args = route
        return self._handlers[name](request, *args)

    # -- accounts -----------------------------------------------------------------------------

    def _lookup(self, request: SandboxRequest) -> SandboxResponse:
        acct = (request.param("acct") or "").lstrip("@")
        user, _, host = acct.partition("@")
        account = self._accounts.get(f"{user}@{host or request.host}".lower())
        if account is None or _host_of(account) != request.host:
            return SandboxResponse(404, dict(_NOT_FOUND))
        return self.ok(self._account_json(account, request.host))

    def _account(self, request: SandboxRequest, account_id: str) -> SandboxResponse:
        account = self._local_account(request.host, account_id)
        return self.ok(self._account_json(account, request.host)) if account else SandboxResponse(404, dict(_NOT_FOUND))

    def _local_account(self, host: str, account_id: str) -> WorldAccount | None:
        account = self.world.account_by_number(PLATFORM, int(account_id) & 0xFFFF)
        if account is None or account_id_for(account) != account_id or _host_of(account) != host:
            return None
        return account

    def _account_json(self, account: WorldAccount, host: str) -> dict[str, Any]:
        now = self.world.now()
        user = _user_of(account)
        numbers = "/".join(f"{int(account_id_for(account)):018d}"[i:i + 3] for i in range(0, 18, 3))
        avatar = f"https://{host}/system/accounts/avatars/{numbers}/original/{digest(account.handle) % 16**16:016x}.png"
        header = f"https://{host}/system/accounts/headers/{numbers}/original/{digest(account.handle, 'h') % 16**16:016x}.jpg"
        days = max(1, (now.date() - max(account.created_at.date(), EPOCH)).days)
        latest = self.world.posts(account, since=now - timedelta(days=2))
        body: dict[str, Any] = {
            "id": account_id_for(account), "username": user, "acct": user, "display_name": account.display_name,
            "locked": False, "bot": False, "discoverable": True, "indexable": True, "group": False,
            "created_at": _iso(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
            "note": f"<p>{html.escape(account.display_name)} on {host}.</p>",
            "url": f"https://{host}/@{user}", "uri": f"https://{host}/users/{user}",
            "avatar": avatar, "avatar_static": avatar, "avatar_description": "",
            "header": header, "header_static": header, "header_description": "",
            "followers_count": account.followers(now),
            "following_count": 20 + digest(account.handle, "following") % 900,
            "statuses_count": int(account.posts_per_day * days),
            "last_status_at": (latest[0].published_at if latest else now).date().isoformat(),
            "hide_collections": False, "show_media": True, "show_media_replies": True, "show_featured": True,
            "noindex": False, "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
            "emojis": [], "roles": [],
            "fields": [{"name": "Website", "value": f'<a href="https://example.com/{user}" rel="nofollow noopener" '
                        f'target="_blank">example.com/{user}</a>', "verified_at": None}],
        }
        return body

    def _replier_json(self, comment: WorldComment, host: str) -> dict[str, Any]:
        """A reply's author: an account of some instance, seen from `host` (remote ones have
        `acct` user@domain and no local-only fields)."""
        home = _HOSTS[digest(comment.author, "home") % len(_HOSTS)]
        number = digest(comment.author, "id")
        created = datetime(2018, 1, 1, tzinfo=timezone.utc) + timedelta(days=number % 2500)
        avatar = f"https://{home}/avatars/original/missing.png"
        body: dict[str, Any] = {
            "id": str((_ms(created) << _POST_SHIFT) | (number & 0xFFFF)), "username": comment.author,
            "acct": comment.author if home == host else f"{comment.author}@{home}",
            "display_name": comment.author.replace("_", " ").title(), "locked": False, "bot": False,
            "discoverable": None, "indexable": False, "group": False, "created_at": _iso(created), "note": "",
            "url": f"https://{home}/@{comment.author}", "uri": f"https://{home}/users/{comment.author}",
            "avatar": avatar, "avatar_static": avatar, "avatar_description": "", "header": avatar,
            "header_static": avatar, "header_description": "", "followers_count": number % 3000,
            "following_count": number % 700, "statuses_count": 1 + number % 20000,
            "last_status_at": comment.published_at.date().isoformat(), "hide_collections": False, "show_media": True,
            "show_media_replies": True, "show_featured": True,
        }
        if home == host:
            body |= {"noindex": False, "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"}}
        body |= {"emojis": [], "fields": []}
        if home == host:
            body["roles"] = []
        return body

    # -- statuses -----------------------------------------------------------------------------

    def _statuses(self, request: SandboxRequest, account_id: str) -> SandboxResponse:
        account = self._local_account(request.host, account_id)
        if account is None:
            return SandboxResponse(404, dict(_NOT_FOUND))
        limit = min(abs(int_param(request.param("limit"), PAGE_DEFAULT)) or PAGE_DEFAULT, PAGE_MAX)
        if request.param("pinned") in ("true", "1") or request.param("only_media") in ("true", "1"):
            posts: list[WorldPost] = []  # nothing pinned; media-only listings not emulated
        else:
            posts = self._page(account, limit, request)
        overlapped = bool(posts) and request.overlap > 0 and post_id_for(posts[0]) == request.param("max_id")
        viewer = self._viewer(request)
        body = [self._status_json(post, request.host, viewer) for post in posts]
        response = self.ok(body, Page(posts, overlapped=overlapped))
        links = []
        if len(posts) == limit:  # Mastodon links a next page after every full one
            links.append(f'<{self._link(request, account_id, "max_id", post_id_for(posts[-1]))}>; rel="next"')
        if posts:
            links.append(f'<{self._link(request, account_id, "min_id", post_id_for(posts[0]))}>; rel="prev"')
        if links:
            response.headers = {"link": ", ".join(links)}
        return response

    def _page(self, account: WorldAccount, limit: int, request: SandboxRequest) -> list[WorldPost]:
        """Newest first below `max_id` (from it, with `overlap`: a repeated status, the page
        still `limit` long), above `since_id`; or the
        `limit` statuses just above `min_id`."""
        now = self.world.now()
        max_id, since_id, min_id = (int_param(request.param(n), 0) for n in ("max_id", "since_id", "min_id"))
        if min_id:
            newer = []
            day = _moment_of(min_id).date()
            while day <= now.date() and len(newer) < limit:
                newer += [p for p in self.world.posts_on(account, day)
                          if p.published_at <= now and int(post_id_for(p)) > min_id and not self.world.is_deleted(p)]
                day += timedelta(days=1)
            return list(reversed(newer[:limit]))
        ceiling = max_id + (1 if request.overlap else 0) if max_id else None
        day = min(now.date(), _moment_of(max_id).date()) if max_id else now.date()
        first = max(account.created_at.date(), EPOCH)
        found: list[WorldPost] = []
        while day >= first and len(found) < limit:
            for post in reversed(self.world.posts_on(account, day)):
                number = int(post_id_for(post))
                if post.published_at > now or (ceiling and number >= ceiling) or self.world.is_deleted(post):
                    continue
                if since_id and number <= since_id:
                    return found
                found.append(post)
            day -= timedelta(days=1)
        return found[:limit]

    @staticmethod
    def _link(request: SandboxRequest, account_id: str, name: str, value: str) -> str:
        kept = [(k, v) for k, v in request.query if k not in ("max_id", "min_id", "since_id")]
        query = "&".join(f"{k}={v}" for k, v in [*kept, (name, value)])
        return f"https://{request.host}/api/v1/accounts/{account_id}/statuses?{query}"

    def _status(self, request: SandboxRequest, status_id: str) -> SandboxResponse:
        found = self._find(request.host, status_id)
        if found is None:
            return SandboxResponse(404, {"error": "Not Found"})  # statuses/:id says it this way
        return self.ok(self._any_json(found, request.host, self._viewer(request)))

    def _batch(self, request: SandboxRequest) -> SandboxResponse:
        if not INSTANCES[request.host].batch_lookup:
            return SandboxResponse(404, {"error": "Not Found"})  # no such route before 4.3
        ids = list(dict.fromkeys(v for k, v in request.query if k == "id[]"))
        if len(ids) > BATCH_MAX:
            return SandboxResponse(422, {"error": "Validation failed"})
        viewer = self._viewer(request)
        found = [self._find(request.host, i) for i in ids if i.isdigit()]
        return self.ok([self._any_json(s, request.host, viewer) for s in found if s is not None])

    def _context(self, request: SandboxRequest, status_id: str) -> SandboxResponse:
        found = self._find(request.host, status_id)
        if found is None:
            return SandboxResponse(404, {"error": "Not Found"})
        post = found if isinstance(found, WorldPost) else found.post
        thread = _Thread(self.world.comments(post))
        tree, by_index = thread.tree, thread.by_index
        viewer = self._viewer(request)
        ancestors: list[Any] = []
        if isinstance(found, WorldComment):
            chain, parent = [], found.parent_index
            while parent is not None:
                chain.append(by_index[parent])
                parent = by_index[parent].parent_index
            ancestors = [self._status_json(post, request.host, viewer)]
            ancestors += [self._reply_json(c, request.host, viewer, thread) for c in reversed(chain)]
            below = tree.descendants(found)
            base_depth = found.depth + 1
        else:
            below = [d for top in tree.top_level for d in (top, *tree.descendants(top))]
            base_depth = 0
        if viewer:
            below = below[:CONTEXT_LIMIT]
        else:  # logged-out readers get a shallow, short thread
            below = [c for c in below if c.depth - base_depth < ANONYMOUS_DEPTH][:ANONYMOUS_DESCENDANTS]
        descendants = [self._reply_json(c, request.host, viewer, thread) for c in below]
        return self.ok({"ancestors": ancestors, "descendants": descendants})

    def _find(self, host: str, status_id: str) -> WorldPost | WorldComment | None:
        number = int(status_id)
        if (number >> _REPLY_SHIFT) >= 10**12:  # a reply: its post's ms sits above 20 bits
            post = self._post(host, ((number >> _REPLY_SHIFT) << _POST_SHIFT) | ((number >> 12) & 0xFF))
            comments = self.world.comments(post, include_deleted=True) if post else []
            index = number & 0xFFF
            found = comments[index] if index < len(comments) and reply_id_for(comments[index]) == status_id else None
            return None if found is None or self.world.is_deleted(found) else found
        return self._post(host, number)

    def _post(self, host: str, number: int) -> WorldPost | None:
        account = self.world.account_by_number(PLATFORM, number & 0xFFFF)
        if account is None or _host_of(account) != host:
            return None
        key = number >> _POST_SHIFT
        # Keys rise with the day's index, and a scaled day's 1000th and later posts carry theirs
        # past their second (never past their day): search.
        posts = self.world.posts_on(account, datetime.fromtimestamp(key // 1000, timezone.utc).date())
        at = bisect_left(posts, key, key=_post_ms)
        post = posts[at] if at < len(posts) else None
        if post is None or post_id_for(post) != str(number) or post.published_at > self.world.now():
            return None
        return None if self.world.is_deleted(post) else post

    @staticmethod
    def _viewer(request: SandboxRequest) -> bool:
        return "authorization" in request.headers  # authenticate() let only accepted tokens through

    # -- rendering ----------------------------------------------------------------------------

    def _status_json(self, post: WorldPost, host: str, viewer: bool) -> dict[str, Any]:
        now = self.world.now()
        account = post.account
        status_id = post_id_for(post)
        user = _user_of(account)
        tags = post.title.lower().split()[:2]
        content = f"<p>{html.escape(post.title)}</p>"
        if post.body:
            content += f"<p>{html.escape(post.body)}</p>"
        card = None
        if 0.32 <= post.flavor < 0.45:  # a link with its preview card
            url = f"https://blog.example.com/{post.day.isoformat()}/{'-'.join(tags)}-{post.index}"
            shown = url.removeprefix("https://")
            content += (f'<p><a href="{url}" target="_blank" rel="nofollow noopener" translate="no">'
                        f'<span class="invisible">https://</span><span class="ellipsis">{shown[:30]}</span>'
                        f'<span class="invisible">{shown[30:]}</span></a></p>')
            card = {"url": url, "title": post.title, "description": post.body[:120], "type": "link",
                    "author_name": "", "author_url": "", "provider_name": "", "provider_url": "", "html": "",
                    "width": 400, "height": 210, "image": None, "embed_url": "", "blurhash": None}
        content += "<p>" + " ".join(
            f'<a href="https://{host}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a>' for t in tags
        ) + "</p>"
        body = self._common(status_id, post.published_at, None, None, f"https://{host}/@{user}/{status_id}",
                            f"https://{host}/users/{user}/statuses/{status_id}", content,
                            direct_replies=len(CommentTree(self.world.comments(post)).top_level),
                            reblogs=post.shares(now), favourites=post.likes(now), viewer=viewer)
        body["account"] = self._account_json(account, host)
        body["media_attachments"] = self._media(post, host)
        body["mentions"] = []
        body["tags"] = [{"name": t, "url": f"https://{host}/tags/{t}"} for t in tags]
        body |= {"emojis": [], "tagged_collections": [], "quote": None, "card": card, "poll": self._poll(post)}
        body["quote_approval"] = {"automatic": ["public"], "manual": [], "current_user": "automatic" if viewer else "denied"}
        return body

    def _any_json(self, found: WorldPost | WorldComment, host: str, viewer: bool) -> dict[str, Any]:
        if isinstance(found, WorldPost):
            return self._status_json(found, host, viewer)
        return self._reply_json(found, host, viewer, _Thread(self.world.comments(found.post)))

    def _reply_json(self, comment: WorldComment, host: str, viewer: bool, thread: "_Thread") -> dict[str, Any]:
        post = comment.post
        parent = thread.by_index.get(comment.parent_index) if comment.parent_index is not None else None
        in_reply_to = reply_id_for(parent) if parent else post_id_for(post)
        replied_account = self._replier_json(parent, host)["id"] if parent else account_id_for(post.account)
        author = self._replier_json(comment, host)
        status_id = reply_id_for(comment)
        body = self._common(status_id, comment.published_at, in_reply_to, replied_account,
                            f"{author['url']}/{status_id}", f"{author['uri']}/statuses/{status_id}",
                            f"<p>{html.escape(comment.text)}</p>", direct_replies=len(thread.tree.replies(comment)),
                            reblogs=0, favourites=comment.likes(self.world.now()), viewer=viewer)
        body["account"] = author
        body |= {"media_attachments": [], "mentions": [], "tags": [], "emojis": [], "tagged_collections": [],
                 "quote": None, "card": None, "poll": None,
                 "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "denied"}}
        return body

    @staticmethod
    def _common(status_id: str, created: datetime, in_reply_to: str | None, in_reply_to_account: str | None,
                url: str, uri: str, content: str, direct_replies: int, reblogs: int, favourites: int,
                viewer: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": status_id, "created_at": _iso(created), "in_reply_to_id": in_reply_to,
            "in_reply_to_account_id": in_reply_to_account, "sensitive": False, "spoiler_text": "",
            "visibility": "public", "language": "en", "uri": uri, "url": url, "replies_count": direct_replies,
            "reblogs_count": reblogs, "favourites_count": favourites, "quotes_count": 0, "edited_at": None,
        }
        if viewer:  # what the reader did with it: only for a logged-in reader
            body |= {"favourited": False, "reblogged": False, "muted": False, "bookmarked": False}
        body |= {"content": content}
        if viewer:
            body["filtered"] = []
        body["reblog"] = None
        return body

    def _media(self, post: WorldPost, host: str) -> list[dict[str, Any]]:
        if post.flavor >= 0.27:
            return []
        kind = "image" if post.flavor < 0.2 else "video"
        count = 1 + digest(post.uid, "media") % 3 if kind == "image" else 1
        media = []
        for n in range(count):
            media_id = str(int(post_id_for(post)) + n + 1)
            path = "/".join(f"{int(media_id):018d}"[i:i + 3] for i in range(0, 18, 3))
            ext = "png" if kind == "image" else "mp4"
            media.append({
                "id": media_id, "type": kind,
                "url": f"https://files.{host}/media_attachments/files/{path}/original/{digest(media_id) % 16**16:016x}.{ext}",
                "preview_url": f"https://files.{host}/media_attachments/files/{path}/small/{digest(media_id) % 16**16:016x}.png",
                "remote_url": None, "preview_remote_url": None, "text_url": None,
                "meta": {"original": {"width": 1280, "height": 720, "size": "1280x720", "aspect": 1.7777777777777777},
                         "small": {"width": 640, "height": 360, "size": "640x360", "aspect": 1.7777777777777777}},
                "description": post.title, "blurhash": "UMAm0W4;kTRj0M-:Rjt7%LM|kDoJjZofo0Rk",
            })
        return media

    def _poll(self, post: WorldPost) -> dict[str, Any] | None:
        if not 0.27 <= post.flavor < 0.32:
            return None
        votes = post.likes(self.world.now())
        options = post.title.split()[:3] or ["yes", "no"]
        expires = post.published_at + timedelta(days=1)
        return {"id": str(digest(post.uid, "poll") % 10**6), "expires_at": _iso(expires),
                "expired": expires <= self.world.now(), "multiple": False, "votes_count": votes, "voters_count": votes,
                "options": [{"title": o, "votes_count": votes // len(options)} for o in options], "emojis": []}


class _Thread:
    """One post's replies: by parent (`tree`) and by index."""

    def __init__(self, comments: list[WorldComment]):
        self.tree = CommentTree(comments)
        self.by_index = {c.index: c for c in comments}


def _route(path: str) -> tuple[str, tuple[str, ...]] | None:
    for pattern, name in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match.groups()
    return None


def _user_of(account: WorldAccount) -> str:
    return account.handle.split("@")[0]


def _host_of(account: WorldAccount) -> str:
    return account.handle.split("@")[1].lower()


def _moment_of(status_id: int) -> datetime:
    return datetime.fromtimestamp((status_id >> _POST_SHIFT) / 1000, timezone.utc)


EMULATION = MastodonEmulation
