"""The YouTube Data API v3 over the synthetic world: `channels`, `playlistItems`, `videos`,
`commentThreads` and `comments` in the recorded responses' shapes, with the key check, the daily
quota (the client's `LIMITS`), `maxResults` bounds, page tokens and Google error envelopes.

Each catalog account is a channel (id hashed from the handle; uploads playlist "UU" + the same 22
characters, newest first); each world post a video whose id encodes its uid; counts are the
world's at `world.now()`, as strings; some videos hide likes or disable comments (by a hash).
Every world comment of depth >= 1 is a reply in its top-level ancestor's thread; threads carry at
most five replies inline, `comments?parentId=` lists them all, newest first.

Faults: `429_burst` is 403 `rateLimitExceeded` or 429 `RESOURCE_EXHAUSTED` (never `quotaExceeded`,
which only the real quota gives); `5xx` is 500 or 503; field faults hit one item's `publishedAt`.
An API key does not expire.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import Any, Callable, ClassVar, Mapping

from social_assets.platforms.youtube.spec import API_KEY_VARIABLE, COMMENT_ORDERS, LIMITS
from social_assets.sandbox.engine import (
    QUOTA,
    THROTTLED,
    TRANSIENT,
    ErrorAnswer,
    FieldFault,
    InvalidCursor,
    b64,
    decode_uid,
    digest,
    encode_uid,
    int_param,
    share,
    uid_of_token,
    uid_token,
    unb64,
)
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.faults import RATE_LIMITED
from social_assets.sandbox.platforms import youtube_analytics as analytics
from social_assets.sandbox.world import CommentTree, World, WorldAccount, WorldComment, WorldPost

PLATFORM = "youtube"
SANDBOX_API_KEY = "AIzaSy-sandbox-youtube-data-api-v3-key"
CREDENTIALS = {API_KEY_VARIABLE: SANDBOX_API_KEY, **analytics.CREDENTIALS}  # the API key first (`units_used`)
API_PREFIX = "/youtube/v3/"
INLINE_REPLIES = 5  # commentThreads carry at most this many replies; the rest via comments.list

HIDDEN_LIKES_SHARE = 0.10  # videos whose owner hid the like count
COMMENTS_DISABLED_SHARE = 0.08  # videos with comments turned off
HIDDEN_SUBSCRIBER_HANDLES = frozenset({"@brandstudio"})


# -- ids: world uids scrambled reversibly (`encode_uid`), base64url in YouTube's lengths ------

# Top-level comment ids are base64 of a small protobuf: field 10 holding 12 bytes, then two
# constant fields. That gives YouTube's look: 26 characters, "Ug..." ending in "4AaABAg".
_TOP_COMMENT_HEAD = b"\x52\x0c"
_TOP_COMMENT_TAIL = b"\x78\x01\xa0\x01\x02"


def channel_id_for(handle: str) -> str:
    """A channel's id: "UC" + 22 base64url characters hashed from the handle (case-insensitive)."""
    hashed = hashlib.blake2b(handle.lower().encode(), digest_size=16, person=b"yt-channel").digest()
    return "UC" + b64(hashed)


def uploads_playlist_id(channel_id: str) -> str:
    return "UU" + channel_id[2:]


def video_id_for(uid: int) -> str:
    return uid_token(uid, 8, "video")  # 11 characters


def uid_from_video_id(video_id: str) -> int | None:
    return uid_of_token(video_id, 8, "video")


def top_level_comment_id(uid: int) -> str:
    return b64(_TOP_COMMENT_HEAD + encode_uid(uid, 12, "comment") + _TOP_COMMENT_TAIL)


def reply_comment_id(top_level_uid: int, uid: int) -> str:
    """YouTube's reply ids: "<top-level comment id>.<22 characters>"."""
    return f"{top_level_comment_id(top_level_uid)}.{uid_token(uid, 16, 'reply')}"


def uid_from_top_level_id(comment_id: str) -> int | None:
    raw = unb64(comment_id) if len(comment_id) == 26 else None
    uid = decode_uid(raw[2:14], "comment") if raw and len(raw) == 19 else None  # the 12 bytes between head and tail
    return uid if uid is not None and top_level_comment_id(uid) == comment_id else None  # the whole id, re-encoded


def _playlist_item_id(playlist_id: str, video_id: str) -> str:
    # Real ids are base64 of "<playlist id>.<16 hex digits>".
    return base64.b64encode(f"{playlist_id}.{digest(video_id):016X}".encode()).decode()


def _etag(content: Any) -> str:
    hashed = hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=21).digest()
    return b64(hashed)[:27]


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def _three_significant_figures(count: int) -> int:
    """YouTube rounds public subscriber counts down to three significant figures."""
    step = 10 ** max(0, len(str(count)) - 3)
    return count // step * step


# -- errors -------------------------------------------------------------------------------


def _envelope(status: int, reason: str, message: str, domain: str = "youtube.api", state: str | None = None,
              **extra: str) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "errors": [{"message": message, "domain": domain,
                                                                             "reason": reason, **extra}]}
    return {"error": error | ({"status": state} if state else {})}


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api", **extra: str) -> SandboxResponse:
    return SandboxResponse(status, _envelope(status, reason, message, domain, **extra))


class _ApiProblem(Exception):
    """Raised anywhere while answering: a Google error envelope, naming the `parameter` at fault."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube.api", parameter: str = ""):
        super().__init__(message)
        where = {"location": parameter, "locationType": "parameter"} if parameter else {}
        self.response = google_error(status, reason, message, domain, **where)


def _missing_filter(expected: str) -> _ApiProblem:
    return _ApiProblem(400, "missingRequiredParameter", f"No filter selected. Expected one of: {expected}")


# The legacy envelope of the recorded 400 keyInvalid answer (errors first, no status).
_KEY_INVALID = {"error": {"errors": [{"domain": "usageLimits", "reason": "keyInvalid", "message": "Bad Request"}],
                          "code": 400, "message": "Bad Request"}}
_QUOTA_MESSAGE = ('The request cannot be completed because you have exceeded your '
                  '<a href="/youtube/v3/getting-started#quota">quota</a>.')


# -- request parsing ----------------------------------------------------------------------


def _listing(request: SandboxRequest, allowed: str, low: int = 0, high: int = 50, default: int = 5) -> tuple[set[str], int]:
    """A list call's `part` (some of `allowed`) and page size (`maxResults` in [low, high], else `default`)."""
    value = request.param("part")
    if not value:
        raise _ApiProblem(400, "required", "Required parameter: part", "global", "part")
    parts = set(_ids(value))
    unknown = sorted(parts - set(allowed.split()))
    if unknown:
        raise _ApiProblem(400, "unknownPart", f"'{unknown[0]}'", "youtube.part", "part")
    size = request.param("maxResults")
    number = default if size is None else int_param(size, low - 1)  # not a number: out of range
    if not low <= number <= high:
        raise _ApiProblem(400, "invalidParameter", f"Invalid value '{size}'. Values must be within the range: "
                          f"[{low}, {high}]", "global", "maxResults")
    return parts, number


def _choice(request: SandboxRequest, name: str, allowed: tuple[str, ...]) -> str:
    value = request.param(name, allowed[0])
    if value not in allowed:
        raise _ApiProblem(400, "invalidParameter", f"Invalid string value: '{value}'. Allowed values: "
                          f"[{', '.join(allowed)}]", "global", name)
    return value


def _ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _list_response(kind: str, items: list[dict], page_info: dict[str, int], next_token: str | None = None,
                   prev_token: str | None = None) -> dict[str, Any]:
    tokens = {"nextPageToken": next_token, "prevPageToken": prev_token}
    return {"kind": kind, "etag": _etag(items), **{k: v for k, v in tokens.items() if v}, "pageInfo": page_info,
            "items": items}


def _resource(kind: str, id_: str, parts: set[str], **renderers: Callable[[], Any]) -> dict[str, Any]:
    """A resource with the asked-for parts (each rendered only then) and its etag."""
    content = {"id": id_} | {name: render() for name, render in renderers.items() if name in parts}
    return {"kind": kind, "etag": _etag({"kind": kind, **content}), **content}


# -- the world, seen the YouTube way ------------------------------------------------------


@dataclass(frozen=True)
class _Thread:
    top: WorldComment
    replies: tuple[WorldComment, ...]  # every descendant in the world's tree, newest first


def _threads(world: World, post: WorldPost) -> list[_Thread]:
    """The post's comments as YouTube threads, oldest thread first."""
    tree = CommentTree(world.comments(post))
    return [_Thread(top, tuple(sorted(tree.descendants(top), key=lambda r: r.published_at, reverse=True)))
            for top in tree.top_level]


@lru_cache(maxsize=256)  # a served sandbox adds an entry per channel and world hour
def _channel_totals(world: World, account: WorldAccount, now: datetime) -> tuple[int, int]:
    """(videos, views) over the channel's whole history at `now`."""
    posts = world.posts(account)
    return len(posts), sum(p.views(now) for p in posts)


def channel_title(account: WorldAccount) -> str:
    return account.display_name.lstrip("@")


def _channel_thumbnails(channel_id: str) -> dict[str, Any]:
    base = f"https://yt3.ggpht.com/ytc/{channel_id[2:]}"
    return {name: {"url": f"{base}=s{px}-c-k-c0x00ffffff-no-rj", "width": px, "height": px}
            for name, px in (("default", 88), ("medium", 240), ("high", 800))}


# -- the emulation ------------------------------------------------------------------------


class YouTubeEmulation(analytics.AnalyticsRoutes):
    """The YouTube Data API v3 over the synthetic world (see the module docstring); YouTube
    Analytics and Google's token endpoint are its base's (youtube_analytics.py)."""

    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = ("www.googleapis.com", "youtube.googleapis.com", *analytics.HOSTS)
    catalog: ClassVar[tuple[tuple[str, str], ...]] = tuple(
        ("channel", handle) for handle in ("@dagsterio", "@duckdblabs", "@datatalksclub", "@socialpulse", "@brandstudio")
    ) + tuple(("channel", f"@sandbox_channel_{n:02d}") for n in range(1, 46))  # for scaling tests
    credentials = CREDENTIALS
    limits = LIMITS
    errors = {
        THROTTLED: (ErrorAnswer(403, _envelope(403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits")),
                    ErrorAnswer(429, _envelope(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits",
                                               "RESOURCE_EXHAUSTED"))),
        TRANSIENT: (ErrorAnswer(500, _envelope(500, "backendError", "Backend Error", "global")),
                    ErrorAnswer(503, _envelope(503, "backendError", "The service is currently unavailable.", "global",
                                               "UNAVAILABLE"))),
        QUOTA: (ErrorAnswer(403, _envelope(403, "quotaExceeded", _QUOTA_MESSAGE, "youtube.quota")),),
    }
    faulted_fields = {
        "videos": FieldFault(("snippet", "publishedAt"), "publishTime"),
        "commentThreads": FieldFault(("snippet", "topLevelComment", "snippet", "publishedAt"), "publishTime"),
        "comments": FieldFault(("snippet", "publishedAt"), "publishTime"),
    }
    paged = {"playlistItems": "pageToken", "commentThreads": "pageToken", "comments": "pageToken"}

    def __init__(self, world: World, configured: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self._channels = {channel_id_for(a.handle): a for a in world.accounts(PLATFORM)}
        self._routes: dict[str, Callable[[SandboxRequest], SandboxResponse]] = {
            "channels": self._list_channels, "playlistItems": self._list_playlist_items, "videos": self._list_videos,
            "commentThreads": self._list_comment_threads, "comments": self._list_comments}

    def is_token_request(self, request: SandboxRequest) -> bool:
        return request.host == analytics.TOKEN_HOST

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        # ⚠ Decision: Google's token endpoint is faulted with server errors only. YouTube's
        # throttle answers (403 rateLimitExceeded) are the Data API's, and a 4xx from a token
        # endpoint is a refused grant (core/limits/tokens.py), not a throttle.
        kinds = super().fault_kinds(request)
        return kinds - {RATE_LIMITED} if self.is_token_request(request) else kinds

    def authenticate(self, request: SandboxRequest) -> str | SandboxResponse | None:
        if request.host in analytics.HOSTS:
            return self.analytics_authenticate(request)
        key = request.param("key")
        if not key:
            return google_error(403, "forbidden", "The request is missing a valid API key.", "global")
        if not self.accepted.accepts(**{API_KEY_VARIABLE: key}):
            return SandboxResponse(400, json.loads(json.dumps(_KEY_INVALID)))
        return key

    def resource_of(self, request: SandboxRequest) -> str | None:
        return request.path.removeprefix(API_PREFIX) if request.path.startswith(API_PREFIX) else None

    def route(self, request: SandboxRequest) -> SandboxResponse:
        if request.host in analytics.HOSTS:
            return self.analytics_route(request)
        handler = self._routes.get(self.resource_of(request) or "")
        if handler is None or request.method != "GET":
            return google_error(404, "notFound", "Not Found", "global")
        try:
            return handler(request)
        except _ApiProblem as problem:
            return problem.response
        except InvalidCursor:
            return _ApiProblem(400, "invalidPageToken", "The request specifies an invalid page token.",
                               parameter="pageToken").response

    def _video(self, video_id: str) -> WorldPost | None:
        uid = uid_from_video_id(video_id)
        return self.world.post_by_uid(PLATFORM, uid) if uid is not None else None

    def likes_hidden(self, post: WorldPost) -> bool:
        return share(self.world.seed, "hidden-likes", post.uid) < HIDDEN_LIKES_SHARE

    def comments_disabled(self, post: WorldPost) -> bool:
        return share(self.world.seed, "comments-disabled", post.uid) < COMMENTS_DISABLED_SHARE

    def _list_channels(self, request: SandboxRequest) -> SandboxResponse:
        parts, size = _listing(request, "id snippet statistics contentDetails status")
        if request.param("id") is not None:
            accounts = [self._channels[i] for i in _ids(request.param("id")) if i in self._channels]  # unknown: no item
        elif request.param("forHandle") is not None:
            account = self.world.account(PLATFORM, "@" + request.param("forHandle", "").lstrip("@"))
            accounts = [account] if account else []
        else:
            raise _missing_filter("forHandle, id (the sandbox serves no other filter).")
        items = [self._channel_resource(a, parts) for a in accounts]
        return self.ok(_list_response("youtube#channelListResponse", items,
                                      {"totalResults": len(items), "resultsPerPage": size}))

    def _channel_resource(self, account: WorldAccount, parts: set[str]) -> dict[str, Any]:
        channel_id, title = channel_id_for(account.handle), channel_title(account)
        description = f"The official {title} channel."
        return _resource(
            "youtube#channel", channel_id, parts,
            snippet=lambda: {
                "title": title, "description": description, "customUrl": account.handle.lower(),
                "publishedAt": _rfc3339(account.created_at), "thumbnails": _channel_thumbnails(channel_id),
                "localized": {"title": title, "description": description}, "country": "US"},
            contentDetails=lambda: {"relatedPlaylists": {"likes": "", "uploads": uploads_playlist_id(channel_id)}},
            statistics=lambda: self._channel_statistics(account),
            status=lambda: {"privacyStatus": "public", "isLinked": True, "longUploadsStatus": "longUploadsUnspecified"})

    def _channel_statistics(self, account: WorldAccount) -> dict[str, Any]:
        videos, views = _channel_totals(self.world, account, self.world.now())
        hidden = account.handle.lower() in HIDDEN_SUBSCRIBER_HANDLES  # then left out, not shown as zero
        subscribers = {} if hidden else {"subscriberCount": str(_three_significant_figures(account.followers(self.world.now())))}
        return {"viewCount": str(views), **subscribers, "hiddenSubscriberCount": hidden, "videoCount": str(videos)}

    def _list_playlist_items(self, request: SandboxRequest) -> SandboxResponse:
        parts, size = _listing(request, "id snippet contentDetails status")
        playlist_id = request.param("playlistId")
        if not playlist_id:
            raise _missing_filter("playlistId, id")
        account = self._channels.get("UC" + playlist_id[2:]) if playlist_id.startswith("UU") else None
        if account is None:
            raise _ApiProblem(404, "playlistNotFound", "The playlist identified with the request's <code>playlistId</code> "
                              "parameter cannot be found.", parameter="playlistId")
        # Lazily from the newest upload: only this page and one look-ahead are rendered.
        page = self.token_page(request, f"playlistItems|{playlist_id}", self.world.iter_posts_newest_first(account), size)
        items = [self._playlist_item(playlist_id, post, page.start + i, parts) for i, post in enumerate(page.items)]
        total, _ = _channel_totals(self.world, account, self.world.now())
        return self.ok(_list_response("youtube#playlistItemListResponse", items,
                                      {"totalResults": total, "resultsPerPage": size}, page.next, page.previous), page)

    def _playlist_item(self, playlist_id: str, post: WorldPost, position: int, parts: set[str]) -> dict[str, Any]:
        video_id, channel_id = video_id_for(post.uid), channel_id_for(post.account.handle)
        return _resource(
            "youtube#playlistItem", _playlist_item_id(playlist_id, video_id), parts,
            snippet=lambda: self._video_snippet(post) | {
                "playlistId": playlist_id, "position": position, "resourceId": {"kind": "youtube#video", "videoId": video_id},
                "videoOwnerChannelTitle": channel_title(post.account), "videoOwnerChannelId": channel_id},
            contentDetails=lambda: {"videoId": video_id, "videoPublishedAt": _rfc3339(post.published_at)},
            status=lambda: {"privacyStatus": "public"})

    def _list_videos(self, request: SandboxRequest) -> SandboxResponse:
        parts, size = _listing(request, "id snippet statistics contentDetails status")
        if request.param("id") is None:
            raise _missing_filter("id (the sandbox serves no chart or myRating).")
        wanted = _ids(request.param("id"))
        if len(wanted) > 50:
            raise _ApiProblem(400, "invalidParameter", "The request specifies more than 50 video ids.", "global", "id")
        # Unknown ids have no item.
        items = [self._video_resource(post, parts) for post in map(self._video, wanted) if post is not None]
        return self.ok(_list_response("youtube#videoListResponse", items,
                                      {"totalResults": len(items), "resultsPerPage": len(items) or size}))

    def _video_resource(self, post: WorldPost, parts: set[str]) -> dict[str, Any]:
        seconds = 30 + int(share(self.world.seed, "duration", post.uid) * 2400)
        return _resource(
            "youtube#video", video_id_for(post.uid), parts,
            snippet=lambda: self._video_snippet(post) | {
                "tags": post.title.lower().split()[:5], "categoryId": "28", "liveBroadcastContent": "none",
                "localized": {"title": post.title, "description": post.body}, "defaultAudioLanguage": "en"},
            contentDetails=lambda: {
                "duration": _iso_duration(seconds), "dimension": "2d", "definition": "hd", "caption": "false",
                "licensedContent": False, "contentRating": {}, "projection": "rectangular"},
            status=lambda: {"uploadStatus": "processed", "privacyStatus": "public", "license": "youtube",
                            "embeddable": True, "publicStatsViewable": True, "madeForKids": False},
            statistics=lambda: self._video_statistics(post))

    def _video_snippet(self, post: WorldPost) -> dict[str, Any]:
        """What the snippets of a video and of its uploads-playlist item share."""
        return {"publishedAt": _rfc3339(post.published_at), "channelId": channel_id_for(post.account.handle),
                "title": post.title, "description": post.body, "thumbnails": self._video_thumbnails(post),
                "channelTitle": channel_title(post.account)}

    def _video_statistics(self, post: WorldPost) -> dict[str, str]:
        now = self.world.now()
        likes = {} if self.likes_hidden(post) else {"likeCount": str(post.likes(now))}
        comments = {} if self.comments_disabled(post) else {"commentCount": str(self.world.comment_count(post, now))}
        return {"viewCount": str(post.views(now)), **likes, "favoriteCount": "0", **comments}

    def _video_thumbnails(self, post: WorldPost) -> dict[str, Any]:
        base = f"https://i.ytimg.com/vi/{video_id_for(post.uid)}"
        sizes = [("default", "default", 120, 90), ("medium", "mqdefault", 320, 180),
                 ("high", "hqdefault", 480, 360), ("standard", "sddefault", 640, 480)]
        if share(self.world.seed, "maxres", post.uid) < 0.7:  # older or low-res uploads have no maxres
            sizes.append(("maxres", "maxresdefault", 1280, 720))
        return {name: {"url": f"{base}/{file}.jpg", "width": w, "height": h} for name, file, w, h in sizes}

    def _list_comment_threads(self, request: SandboxRequest) -> SandboxResponse:
        parts, size = _listing(request, "id snippet replies", 1, 100, 20)
        order = _choice(request, "order", COMMENT_ORDERS)
        text_format = _choice(request, "textFormat", ("html", "plainText"))
        video_id = request.param("videoId")
        if not video_id:
            raise _missing_filter("videoId (the sandbox serves no other filter).")
        post = self._commentable_video(video_id)
        threads = _threads(self.world, post)
        if order == "time":
            threads.sort(key=lambda t: t.top.published_at, reverse=True)
        else:  # relevance: an engagement ranking, newest first among equals
            now = self.world.now()
            threads.sort(key=lambda t: (t.top.likes(now) + 2 * len(t.replies), t.top.published_at), reverse=True)
        page = self.token_page(request, f"commentThreads|{video_id}|{order}", threads, size)
        items = [self._thread_resource(post, thread, parts, text_format) for thread in page.items]
        # YouTube's totalResults here is the size of this page, not of the whole list.
        return self.ok(_list_response("youtube#commentThreadListResponse", items,
                                      {"totalResults": len(items), "resultsPerPage": size}, page.next), page)

    def _commentable_video(self, video_id: str) -> WorldPost:
        post = self._video(video_id)
        where = ("The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">"
                 "videoId</a></code> parameter ")
        if post is None:
            raise _ApiProblem(404, "videoNotFound", where + "could not be found.", parameter="videoId")
        if self.comments_disabled(post):
            raise _ApiProblem(403, "commentsDisabled", where + "has disabled comments.", parameter="videoId")
        return post

    def _thread_resource(self, post: WorldPost, thread: _Thread, parts: set[str], text_format: str) -> dict[str, Any]:
        return _resource(
            "youtube#commentThread", top_level_comment_id(thread.top.uid), parts - (set() if thread.replies else {"replies"}),
            snippet=lambda: {
                "channelId": channel_id_for(post.account.handle), "videoId": video_id_for(post.uid),
                "topLevelComment": self._comment_resource(thread.top, None, text_format, with_video=True),
                "canReply": True, "totalReplyCount": len(thread.replies), "isPublic": True},
            replies=lambda: {"comments": [self._comment_resource(reply, thread.top, text_format, with_video=True)
                                          for reply in thread.replies[:INLINE_REPLIES]]})

    def _comment_resource(self, comment: WorldComment, top: WorldComment | None, text_format: str,
                          with_video: bool) -> dict[str, Any]:
        """One comment; `top` is its thread's top-level comment when it is a reply. Thread comments
        carry `videoId`; replies listed by comments.list do not (as recorded)."""
        post = comment.post
        author = "@" + comment.author  # display names are @handles on today's YouTube
        author_channel = channel_id_for(author)
        published = _rfc3339(comment.published_at)
        snippet = {
            "channelId": channel_id_for(post.account.handle), "authorDisplayName": author,
            "authorProfileImageUrl": f"https://yt3.ggpht.com/ytc/{author_channel[2:]}=s48-c-k-c0x00ffffff-no-rj",
            "authorChannelUrl": f"http://www.youtube.com/{author}", "authorChannelId": {"value": author_channel},
            **({"videoId": video_id_for(post.uid)} if with_video else {}),
            "textDisplay": html.escape(comment.text).replace("\n", "<br>") if text_format == "html" else comment.text,
            "textOriginal": comment.text, **({"parentId": top_level_comment_id(top.uid)} if top is not None else {}),
            "canRate": True, "viewerRating": "none", "likeCount": comment.likes(self.world.now()),
            "publishedAt": published, "updatedAt": published}
        comment_id = top_level_comment_id(comment.uid) if top is None else reply_comment_id(top.uid, comment.uid)
        return _resource("youtube#comment", comment_id, {"snippet"}, snippet=lambda: snippet)

    def _list_comments(self, request: SandboxRequest) -> SandboxResponse:
        _, size = _listing(request, "id snippet", 1, 100, 20)
        text_format = _choice(request, "textFormat", ("html", "plainText"))
        parent_id = request.param("parentId")
        if not parent_id:
            raise _missing_filter("parentId (the sandbox serves no other filter).")
        thread = self._thread_of(parent_id)
        page = self.token_page(request, f"comments|{parent_id}", thread.replies, size)
        items = [self._comment_resource(reply, thread.top, text_format, with_video=False) for reply in page.items]
        # The recorded comments.list answer has no totalResults.
        return self.ok(_list_response("youtube#commentListResponse", items, {"resultsPerPage": size}, page.next), page)

    def _thread_of(self, top_level_id: str) -> _Thread:
        uid = uid_from_top_level_id(top_level_id)
        top = self.world.comment_by_uid(PLATFORM, uid) if uid is not None else None
        if top is None or top.parent_index is not None or self.comments_disabled(top.post):
            raise _ApiProblem(404, "commentNotFound", "The comment identified by the parentId parameter could not be "
                              "found.", parameter="parentId")
        return next(t for t in _threads(self.world, top.post) if t.top.index == top.index)


EMULATION = YouTubeEmulation
