"""Emulation of the Reddit API over the synthetic world, in the JSON shapes of the recorded
responses (shared/realdata/reddit): the app-only token endpoint on www.reddit.com; on
oauth.reddit.com, with a bearer token, `/r/{sub}/{sort}`, `/user/{name}/submitted`, the `about`
pages, `/api/info`, comment trees `[/r/{sub}]/comments/{post}[/{slug}[/{comment}]]` and
`/api/morechildren`. Ids are base 36 of world uids, so every id resolves again without state.
Quirks kept: a generic library User-Agent is throttled; `replies` is "" on leaves; "load more"
and "continue this thread" (id "_") stubs; trees at most 10 deep, a subtree view numbering
`depth` from its first comment; without `raw_json=1` every string is HTML-escaped. Deleted
items (`World.delete`) leave the listings; /api/info and comment pages show them as Reddit does:
author "[deleted]", text "[deleted]" or "[removed]", a post's `removed_by_category`.

Faults: `field_missing` / `field_renamed` hit a post's or comment's `created_utc` (`createdUtc`);
`duplicate_items` repeats the previous page's last post; the token endpoint only gets
`429_burst` or `5xx`. Not emulated: listings past 1000 posts, `context`.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import defaultdict
from contextlib import suppress
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, ClassVar, NamedTuple

from social_assets.platforms.reddit.spec import LIMITS, SORTS, TOP_PERIODS
from social_assets.sandbox.engine import (
    AUTH,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    FieldFault,
    basic_credentials,
    constant_fields,
    cursor_page,
    digest,
    int_param,
)
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import CommentTree, WorldAccount, WorldComment, WorldPost

PLATFORM = "reddit"
SANDBOX_CLIENT_ID = "sandbox-reddit-client"
SANDBOX_CLIENT_SECRET = "sandbox-reddit-secret"
CREDENTIALS = {"REDDIT_CLIENT_ID": SANDBOX_CLIENT_ID, "REDDIT_CLIENT_SECRET": SANDBOX_CLIENT_SECRET}
TOKEN_HOST = "www.reddit.com"
DELETED = "[deleted]"  # the author Reddit shows for a gone post or comment

USER_LISTING_SORTS = ("new", "hot", "top", "controversial")
COMMENT_SORTS = ("confidence", "top", "new", "controversial", "old", "random", "qa", "live")
REDDIT_EPOCH_FOR_HOT = 1134028003  # the constant of Reddit's open-sourced hot ranking

# Library default user agents Reddit throttles to nothing; a client must name itself.
GENERIC_USER_AGENTS = ("python-httpx/", "python-requests/", "curl/", "python-urllib/", "Go-http-client/")


def to_base36(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits or "0"


def from_base36(text: str) -> int | None:
    with suppress(ValueError):
        return int(text, 36) if text and text.isalnum() else None
    return None


def user_id36(username: str) -> str:
    return to_base36(digest("t2", username.lower()) % 36**10)


def subreddit_id36(name: str) -> str:
    return to_base36(digest("t5", name.lower()) % 36**6)


def _media_key(*parts: object) -> str:
    return to_base36(digest("media", *parts) % 36**13).rjust(13, "0")


def _slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9 ]+", "", title.lower()).split()
    return "_".join(words)[:50].rstrip("_") or "post"


def _error(status: int, message: str, **headers: str) -> ErrorAnswer:
    return ErrorAnswer(status, {"message": message, "error": status}, headers)


NOT_FOUND, FORBIDDEN, BAD_REQUEST = "not_found", "forbidden", "invalid"
FAULTED = FieldFault(("created_utc",), "createdUtc")  # every post and comment needs it to be placed in a day
_AVATAR = "https://www.redditstatic.com/avatars/defaults/v2/avatar_default_1.png"


class RedditEmulation(Emulation):
    platform = PLATFORM
    hosts: ClassVar[tuple[str, ...]] = (TOKEN_HOST, "oauth.reddit.com")
    catalog: ClassVar[tuple[tuple[str, str], ...]] = (
        ("subreddit", "dataengineering"), ("subreddit", "python"), ("subreddit", "socialmedia"),
        ("subreddit", "analytics"), ("subreddit", "duckdb"), ("subreddit", "marketing"),
        ("user", "sandbox_alice"), ("user", "sandbox_bob"), ("user", "brand_official"),
        # For scaling tests: many more sources than the examples above.
        *(("subreddit", f"sandbox_community_{n:02d}") for n in range(1, 32)),
        *(("user", f"sandbox_user_{n:02d}") for n in range(1, 11)),
    )
    credentials = CREDENTIALS
    limits = LIMITS
    remaining_format = "{:.1f}"
    bearer_tokens = True
    errors = {
        THROTTLED: (_error(429, "Too Many Requests"),),
        TRANSIENT: (_error(500, "Internal Server Error"), _error(503, "Service Unavailable")),
        AUTH: (_error(401, "Unauthorized", **{"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}),),
        NOT_FOUND: (_error(404, "Not Found"),),
        FORBIDDEN: (_error(403, "Forbidden"),),
        BAD_REQUEST: (_error(400, "Bad Request"),),
    }
    faulted_fields = {"posts": FAULTED, "comments": FAULTED}
    paged = {"posts": "after"}

    # Reddit's documented limits, as class attributes so a test can shrink them.
    max_tree_depth: ClassVar[int] = 10
    default_comment_limit: ClassVar[int] = 200
    max_comment_limit: ClassVar[int] = 500
    morechildren_max_comments: ClassVar[int] = 200
    morechildren_max_ids: ClassVar[int] = 100
    info_max_ids: ClassVar[int] = 100
    listing_depth: ClassVar[int] = 1000

    def is_token_request(self, request: SandboxRequest) -> bool:
        return request.host == TOKEN_HOST

    def overused(self, request: SandboxRequest, key: str) -> str | None:
        user_agent = request.headers.get("user-agent", "")
        return THROTTLED if not user_agent.strip() or user_agent.startswith(GENERIC_USER_AGENTS) else None

    def resource_of(self, request: SandboxRequest) -> str | None:
        """"posts" for post listings, "comments" for comment pages and morechildren."""
        match _parts(request.path):
            case ["r", _] | ["r", _, "new" | "hot" | "top" | "rising"] | ["user", _, "submitted"]:
                return "posts"
            case ["comments", *_] | ["r", _, "comments", *_] | ["api", "morechildren"]:
                return "comments"
        return None

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        """Every post of a listing, or every comment of a comment page or morechildren answer."""
        if isinstance(body, dict) and body.get("kind") == "Listing":
            return [c["data"] for c in body["data"]["children"] if c["kind"] == "t3"]
        if isinstance(body, list):  # comment page: [post listing, comment listing]
            return list(_comments_in(body[1]["data"]["children"]))
        if isinstance(body, dict) and "json" in body:  # morechildren
            return [t["data"] for t in body["json"]["data"]["things"] if t["kind"] == "t1"]
        return []

    def route(self, request: SandboxRequest) -> SandboxResponse:
        parts = _parts(request.path)
        if request.host == TOKEN_HOST:
            if parts == ["api", "v1", "access_token"] and request.method == "POST":
                return self._access_token(request)
            return self.error(NOT_FOUND)
        response = self._oauth(request, parts)
        if request.params().get("raw_json") != "1":
            response.body = _html_escaped(response.body)
        return response

    def _oauth(self, request: SandboxRequest, parts: list[str]) -> SandboxResponse:
        if parts == ["api", "morechildren"] and request.method in ("GET", "POST"):
            return self._morechildren(request.params())
        if request.method != "GET":
            return self.error(NOT_FOUND)
        match parts:
            case ["api", "info"]:
                return self._info(request)
            case ["r", name]:
                return self._listing(self._account("subreddit", name), "hot", request)
            case ["r", name, "about"]:
                return self._about(self._account("subreddit", name))
            case ["r", name, sort] if sort in SORTS:
                return self._listing(self._account("subreddit", name), sort, request)
            case ["r", _, "comments", post_id, *rest] | ["comments", post_id, *rest] if len(rest) <= 2:
                subreddit = parts[1] if parts[0] == "r" else None
                return self._comment_page(post_id, rest[1] if len(rest) == 2 else None, request, subreddit)
            case ["user", name, "about"]:
                return self._about(self._account("user", name))
            case ["user", name, "submitted"]:
                sort = request.param("sort") or "new"
                return self._listing(self._account("user", name), sort if sort in USER_LISTING_SORTS else "new", request)
        return self.error(NOT_FOUND)

    def _access_token(self, request: SandboxRequest) -> SandboxResponse:
        client_id, secret = basic_credentials(request)
        if not self.accepted.accepts(REDDIT_CLIENT_ID=client_id, REDDIT_CLIENT_SECRET=secret):
            return _error(401, "Unauthorized").response()
        if request.form().get("grant_type") != "client_credentials":
            # Reddit answers a bad grant with 200 and an OAuth error field.
            return SandboxResponse(200, {"error": "unsupported_grant_type"})
        token = self.tokens.issue(client_id, self.token_lifetime)
        return self.ok({"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime, "scope": "*"})

    def _account(self, kind: str, name: str) -> WorldAccount | None:
        account = self.world.account(PLATFORM, name)
        return account if account is not None and account.kind == kind else None

    def _about(self, account: WorldAccount | None) -> SandboxResponse:
        if account is None:
            return self.error(NOT_FOUND)
        if account.kind == "user":
            return self.ok({"kind": "t2", "data": self._user_data(account)})
        return self.ok({"kind": "t5", "data": self._subreddit_data(account)})

    _SUBREDDIT = constant_fields(
        false="accounts_active_is_fuzzed all_original_content can_assign_link_flair can_assign_user_flair "
              "collapse_deleted_comments disable_contributor_requests emojis_enabled has_menu_widget hide_ads "
              "link_flair_enabled original_content_tag_enabled over18 public_traffic quarantine restrict_commenting "
              "restrict_posting user_flair_enabled_in_sr wiki_enabled",
        empty="advertiser_category banner_background_color banner_background_image banner_img community_icon "
              "icon_img key_color link_flair_position mobile_banner_image primary_color submit_text",
        true="allow_discovery allow_images allow_videogifs allow_videos free_form_reports is_crosspostable_subreddit "
             "show_media show_media_preview spoilers_enabled user_sr_theme_enabled",
        null="banner_size emojis_custom_size header_img header_size header_title is_enrolled_in_new_modmail "
             "notification_level submit_link_label submit_text_html submit_text_label suggested_comment_sort "
             "user_can_flair_in_sr user_flair_background_color user_flair_css_class user_flair_template_id "
             "user_flair_text user_flair_text_color user_has_favorited user_is_banned user_is_contributor "
             "user_is_moderator user_is_muted user_is_subscriber user_sr_flair_enabled",
        zero="comment_score_hide_mins videostream_links_count", lists="user_flair_richtext",
        icon_size=(256, 256), lang="en", submission_type="any", subreddit_type="public", user_flair_position="right",
        user_flair_type="text", whitelist_status="all_ads", wls=6,
    )

    def _subreddit_data(self, account: WorldAccount) -> dict[str, Any]:
        name, subscribers, created = account.handle, account.followers(self.world.now()), account.created_at.timestamp()
        id36 = subreddit_id36(name)
        description = f"A sandbox community about {name.replace('_', ' ')}."
        return self._SUBREDDIT | {
            "accounts_active": max(1, subscribers // 500), "active_user_count": max(1, subscribers // 500),
            "created": created, "created_utc": created, "description": description,
            "description_html": _markdown_html(description), "display_name": name, "display_name_prefixed": f"r/{name}",
            "id": id36, "name": f"t5_{id36}", "public_description": description,
            "public_description_html": _markdown_html(description), "subscribers": subscribers,
            "title": account.display_name, "url": f"/r/{name}/",
        }

    _USER = constant_fields(
        true="accept_chats accept_followers accept_pms has_subscribed has_verified_email verified",
        false="hide_from_robots is_blocked is_employee is_friend is_gold is_mod pref_show_snoovatar",
        zero="awardee_karma awarder_karma", empty="snoovatar_img", null="snoovatar_size", icon_img=_AVATAR,
    )
    # A user's profile page is a subreddit `u_<name>`; its subscribers are the followers.
    _PROFILE = constant_fields(
        true="default_set free_form_reports show_media restrict_posting is_default_icon is_default_banner accept_followers",
        false="user_is_contributor user_is_banned over_18 restrict_commenting quarantine user_is_moderator "
              "link_flair_enabled disable_contributor_requests user_is_subscriber",
        empty="banner_img icon_color primary_color description submit_link_label submit_text_label link_flair_position "
              "key_color public_description",
        null="community_icon user_is_muted header_img header_size banner_size",
        lists="allowed_media_in_comments previous_names", icon_size=(256, 256), icon_img=_AVATAR, subreddit_type="user",
    )

    def _user_data(self, account: WorldAccount) -> dict[str, Any]:
        name, followers, created = account.handle, account.followers(self.world.now()), account.created_at.timestamp()
        link_karma = followers * 3 + digest("link_karma", name) % 500
        comment_karma = followers * 5 + digest("comment_karma", name) % 900
        profile = self._PROFILE | {
            "display_name": f"u_{name}", "title": account.display_name, "subscribers": followers,
            "display_name_prefixed": f"u/{name}", "name": f"t5_{subreddit_id36('u_' + name)}", "url": f"/user/{name}/",
        }
        return self._USER | {
            "comment_karma": comment_karma, "created": created, "created_utc": created, "id": user_id36(name),
            "link_karma": link_karma, "name": name, "subreddit": profile, "total_karma": link_karma + comment_karma,
        }

    def _listing(self, account: WorldAccount | None, sort: str, request: SandboxRequest) -> SandboxResponse:
        if account is None:
            return self.error(NOT_FOUND)
        posts = self._ranked_posts(account, sort, request.param("t"))
        limit = max(1, min(100, int_param(request.param("limit"), default=25)))
        page = cursor_page(posts, lambda p: f"t3_{to_base36(p.uid)}", limit, after=request.param("after"),
                           before=request.param("before"), overlap=request.overlap)
        return self.ok(_listing([self._link_thing(p) for p in page.items], page.next, page.previous,
                                dist=len(page.items)), page)

    def _ranked_posts(self, account: WorldAccount, sort: str, period: str | None) -> list[WorldPost]:
        now = self.world.now()
        newest = list(islice(self.world.iter_posts_newest_first(account), self.listing_depth))
        if sort == "new":
            return newest
        if sort == "hot":
            return sorted(newest, key=lambda p: -_hot(p.likes(now), p.published_at))
        if sort == "rising":
            recent = [p for p in newest if now - p.published_at <= timedelta(days=1)]
            return sorted(recent, key=lambda p: -p.likes(now) / max(1.0, (now - p.published_at).total_seconds() / 3600))
        if sort == "controversial":
            return sorted(newest, key=lambda p: (p.likes(now), -p.published_at.timestamp()))
        span = TOP_PERIODS.get(period or "day", TOP_PERIODS["day"])
        in_period = [p for p in newest if span is None or now - p.published_at <= span]
        return sorted(in_period, key=lambda p: (-p.likes(now), -p.published_at.timestamp()))

    def _info(self, request: SandboxRequest) -> SandboxResponse:
        fullnames = [f for f in (request.param("id") or "").split(",") if f]
        if len(fullnames) > self.info_max_ids:
            return self.error(BAD_REQUEST)
        things = [t for t in map(self._thing_by_fullname, fullnames) if t is not None]  # unknown ids: left out
        return self.ok(_listing(things, None, None, dist=len(things), modhash=""))

    def _thing_by_fullname(self, fullname: str) -> dict[str, Any] | None:
        kind, _, id36 = fullname.partition("_")
        if kind == "t3" and (post := self._post(id36)):
            return self._link_thing(post)
        if kind == "t1" and (comment := self._comment(id36)):
            return self._comment_thing(comment, depth=None)
        for account in self.world.accounts(PLATFORM) if kind == "t5" else ():
            if account.kind == "subreddit" and subreddit_id36(account.handle) == id36:
                return {"kind": "t5", "data": self._subreddit_data(account)}
        return None

    def _post(self, id36: str) -> WorldPost | None:
        uid = from_base36(id36)
        # Deleted posts and comments are still shown, as placeholders (`_link_thing`, `_comment_thing`).
        return self.world.post_by_uid(PLATFORM, uid, include_deleted=True) if uid is not None else None

    def _comment(self, id36: str) -> WorldComment | None:
        uid = from_base36(id36)
        return self.world.comment_by_uid(PLATFORM, uid, include_deleted=True) if uid is not None else None

    # Moderation, flair and award fields, the same on every post and comment of the sandbox's world.
    _THING = constant_fields(
        null="approved_at_utc approved_by author_flair_background_color author_flair_css_class author_flair_template_id "
             "author_flair_text author_flair_text_color banned_at_utc banned_by distinguished likes mod_note "
             "mod_reason_by mod_reason_title num_reports removal_reason report_reasons top_awarded_type",
        false="archived author_is_blocked author_patreon_flair author_premium can_gild can_mod_post edited locked saved "
              "stickied",
        zero="downs gilded total_awards_received", dicts="gildings", true="send_replies",
        lists="all_awardings author_flair_richtext awarders mod_reports treatment_tags user_reports",
        author_flair_type="text",
    )
    _LINK = _THING | constant_fields(
        null="category content_categories discussion_type link_flair_css_class link_flair_text link_flair_text_color "
             "removed_by removed_by_category suggested_sort view_count",
        false="allow_live_comments clicked contest_mode hidden hide_score is_created_from_ads_ui is_meta "
              "is_original_content media_only no_follow over_18 pinned quarantine spoiler visited",
        zero="num_crossposts", lists="link_flair_richtext", dicts="media_embed secure_media_embed",
        true="is_crosspostable is_robot_indexable", empty="link_flair_background_color", pwls=6, wls=6,
        link_flair_type="text",
    )

    def _link_thing(self, post: WorldPost, on_comment_page: bool = False) -> dict[str, Any]:
        now, id36, place, kind = self.world.now(), to_base36(post.uid), _Place.of(post), content_kind(post)
        score, created = post.likes(now), post.published_at.timestamp()
        data = self._LINK | _media_fields(post, kind, place) | {
            "subreddit": place.subreddit, "author_fullname": f"t2_{user_id36(place.author)}", "title": post.title,
            "subreddit_name_prefixed": place.prefixed, "name": f"t3_{id36}",
            "upvote_ratio": round(0.75 + (digest("ratio", post.uid) % 25) / 100, 2), "subreddit_type": place.subreddit_type,
            "ups": score, "is_reddit_media_domain": kind in ("image", "video"), "score": score, "is_self": kind == "text",
            "created": created, "subreddit_id": f"t5_{subreddit_id36(place.subreddit)}", "id": id36, "author": place.author,
            "num_comments": self.world.comment_count(post), "permalink": place.permalink,
            "subreddit_subscribers": post.account.followers(now) if post.account.kind == "subreddit" else 0,
            "created_utc": created, "is_video": kind == "video",
        }
        data["selftext_html"] = _markdown_html(data["selftext"]) if data["selftext"] else None
        if on_comment_page:
            data["num_duplicates"] = 0  # only the comment page's copy of a post carries it
        deletion = self.world.deletion(PLATFORM, post.uid)
        if deletion is not None:
            # As Reddit shows a gone post: the title stays, the author and text do not.
            data.pop("author_fullname", None)
            data.update(author=DELETED, selftext=f"[{deletion.how}]", selftext_html=None,
                        removed_by_category="deleted" if deletion.how == "deleted" else "moderator")
        return {"kind": "t3", "data": data}

    def _comment_page(self, post_id: str, comment_id: str | None, request: SandboxRequest,
                      subreddit: str | None = None) -> SandboxResponse:
        post = self._post(post_id)
        if post is None or (subreddit is not None and subreddit.lower() != _Place.of(post).subreddit.lower()):
            return self.error(NOT_FOUND)
        levels = int_param(request.param("depth"), default=self.max_tree_depth)
        levels = self.max_tree_depth if levels <= 0 else min(levels, self.max_tree_depth)
        limit = max(1, min(int_param(request.param("limit"), default=self.default_comment_limit), self.max_comment_limit))
        # A subtree view: the anchor comment is the only root and depths count from it. Reddit
        # ignores a comment id it cannot find and shows the whole tree.
        anchor = self._comment(request.param("comment") or comment_id or "")
        anchor = anchor if anchor is not None and anchor.post.uid == post.uid else None
        thread = _Thread(self, post, request.param("sort"), levels, limit, base_depth=anchor.depth if anchor else 0)
        comments = thread.level([anchor] if anchor else thread.top_level, [])
        post_listing = _listing([self._link_thing(post, on_comment_page=True)], None, None, dist=1, geo_filter="")
        return self.ok([post_listing, _listing(comments, None, None, dist=None, geo_filter="")])

    def _morechildren(self, params: dict[str, str]) -> SandboxResponse:
        """Flat pre-order list of the asked-for comments and (unless `limit_children`) their
        replies; `depth` is the absolute number of levels to show, as on the comment page."""
        post = self._post((params.get("link_id") or "").removeprefix("t3_"))
        if post is None:
            return self.error(FORBIDDEN)
        ids = [i for i in (params.get("children") or "").split(",") if i]
        if len(ids) > self.morechildren_max_ids:
            return self.error(BAD_REQUEST)
        levels = int_param(params.get("depth"), default=0)
        thread = _Thread(self, post, params.get("sort"), levels if levels > 0 else None, self.morechildren_max_comments,
                         flat=True)
        asked = sorted((c for c in map(self._comment, ids) if c is not None and c.post.uid == post.uid
                        and (levels <= 0 or c.depth < levels)), key=thread.sort_key)
        only_asked = bool(re.match(r"^[^0Ff]", params.get("limit_children") or "0"))
        return self.ok({"json": {"errors": [], "data": {"things": thread.level(asked, [], not only_asked)}}})

    _COMMENT = _THING | constant_fields(
        null="associated_award collapsed_because_crowd_control collapsed_reason collapsed_reason_code comment_type "
             "unrepliable_reason",
        false="collapsed score_hidden", zero="controversiality", rte_mode="markdown",
    )

    def _comment_thing(self, comment: WorldComment, depth: int | None) -> dict[str, Any]:
        """A comment with `replies` "" (a comment page sets its replies)."""
        place, id36 = _Place.of(comment.post), to_base36(comment.uid)
        score, created = comment.likes(self.world.now()), comment.published_at.timestamp()
        data = self._COMMENT | {
            "subreddit_id": f"t5_{subreddit_id36(place.subreddit)}", "subreddit": place.subreddit, "replies": "",
            "id": id36, "no_follow": score < 2, "author": comment.author, "created_utc": created,
            "parent_id": _parent_fullname(comment), "score": score,
            "author_fullname": f"t2_{user_id36(comment.author)}", "body": comment.text, "name": f"t1_{id36}",
            "is_submitter": comment.author == place.author, "body_html": _markdown_html(comment.text, sc_markers=False),
            "permalink": f"{place.permalink}{id36}/", "subreddit_type": place.subreddit_type, "created": created,
            "link_id": f"t3_{to_base36(comment.post.uid)}", "subreddit_name_prefixed": place.prefixed, "ups": score,
        }
        if depth is not None:  # trees and /api/morechildren carry depth; /api/info does not
            data["depth"] = depth
        deletion = self.world.deletion(PLATFORM, comment.uid)
        if deletion is not None:  # a placeholder that keeps its place (and replies) in the tree
            data.pop("author_fullname", None)
            data.update(author=DELETED, body=f"[{deletion.how}]", body_html=_markdown_html(f"[{deletion.how}]", sc_markers=False))
        return {"kind": "t1", "data": data}


EMULATION = RedditEmulation


# -- comment tree rendering -------------------------------------------------------------------


class _Thread(CommentTree):
    """One post's comments visible now, siblings sorted for display, rendered depth first:
    `budget` of them at most, then "load more" stubs for the rest of a level; below `levels`
    (None: no limit) a "continue this thread" stub. Nested for the comment page, depths from
    `base_depth`; or `flat` for /api/morechildren: pre-order, `replies` ""."""

    def __init__(self, emulation: RedditEmulation, post: WorldPost, sort: str | None, levels: int | None, budget: int,
                 base_depth: int = 0, flat: bool = False):
        self.emulation, self.levels, self.budget, self.base_depth, self.flat = emulation, levels, budget, base_depth, flat
        self.now, self.sort = emulation.world.now(), sort if sort in COMMENT_SORTS else "confidence"
        super().__init__(emulation.world.comments(post, include_deleted=True), order=self.sort_key)

    def sort_key(self, comment: WorldComment) -> tuple:
        stamp = comment.published_at.timestamp()
        if self.sort == "new":
            return (-stamp,)
        if self.sort == "old":
            return (stamp,)
        if self.sort == "controversial":
            return (comment.likes(self.now), stamp)
        return (-comment.likes(self.now), stamp)  # confidence, top, qa, live, random

    def level(self, siblings: list[WorldComment], out: list[dict[str, Any]], with_replies: bool = True) -> list[dict]:
        """`siblings` in order while the budget lasts, then "load more" stubs (one per parent)
        for the rest; /api/morechildren's asked-for comments are siblings too."""
        for position, comment in enumerate(siblings):
            if self.budget <= 0:
                hidden: dict[str, list[WorldComment]] = defaultdict(list)
                for rest in siblings[position:]:
                    hidden[_parent_fullname(rest)].append(rest)
                out.extend(self._load_more(parent_name, comments) for parent_name, comments in hidden.items())
                break
            self.comment(comment, out, with_replies)
        return out

    def comment(self, comment: WorldComment, out: list[dict[str, Any]], with_replies: bool = True) -> None:
        self.budget -= 1
        thing = self.emulation._comment_thing(comment, self._depth(comment))
        out.append(thing)
        replies = self.replies(comment) if with_replies else []
        if not replies:
            return
        depth = self._depth(comment) + 1
        nested = out if self.flat else []
        if self.levels is not None and depth >= self.levels:
            nested.append(_more(0, "_", f"t1_{to_base36(comment.uid)}", depth, []))  # "continue this thread"
        else:
            self.level(replies, nested)
        if not self.flat:
            thing["data"]["replies"] = _listing(nested, None, None, dist=None, geo_filter="")

    def _load_more(self, parent_name: str, hidden: list[WorldComment]) -> dict[str, Any]:
        return _more(sum(self.subtree_size(c) for c in hidden), to_base36(hidden[0].uid), parent_name,
                     self._depth(hidden[0]), [to_base36(c.uid) for c in hidden])

    def _depth(self, comment: WorldComment) -> int:
        return comment.depth - self.base_depth


def _parent_fullname(comment: WorldComment) -> str:
    if comment.parent_index is None:
        return f"t3_{to_base36(comment.post.uid)}"
    parent_uid = comment.uid - comment.index + comment.parent_index  # uids of a post are consecutive
    return f"t1_{to_base36(parent_uid)}"


def _more(count: int, first: str, parent_name: str, depth: int, children: list[str]) -> dict[str, Any]:
    return {"kind": "more", "data": {"count": count, "name": f"t1_{first}", "id": first, "parent_id": parent_name,
                                     "depth": depth, "children": children}}


# -- post content -----------------------------------------------------------------------------


def content_kind(post: WorldPost) -> str:
    """Mostly text and link posts, some images, galleries and videos."""
    for limit, kind in ((0.40, "text"), (0.70, "link"), (0.82, "image"), (0.90, "gallery")):
        if post.flavor < limit:
            return kind
    return "video"


def gallery_size(post: WorldPost) -> int:
    return 2 + digest("gallery", post.uid) % 5


class _Place(NamedTuple):
    """Where a post lives: a subreddit's posts are by synthetic users; a user's posts are on
    their profile, the subreddit `u_<name>`."""

    subreddit: str
    prefixed: str
    subreddit_type: str
    author: str
    permalink: str

    @classmethod
    def of(cls, post: WorldPost) -> "_Place":
        handle = post.account.handle
        if post.account.kind == "user":
            subreddit, prefixed, kind, author = f"u_{handle}", f"u/{handle}", "user", handle
        else:
            subreddit, prefixed, kind, author = handle, f"r/{handle}", "public", f"user_{1 + digest('author', post.uid) % 50_000}"
        return cls(subreddit, prefixed, kind, author, f"/r/{subreddit}/comments/{to_base36(post.uid)}/{_slug(post.title)}/")


_LINK_DOMAINS = ("github.com", "duckdb.org", "medium.com", "dagster.io", "blog.example.com")
_PREVIEWS = {"link": ("link", "external-preview.redd.it"), "image": ("image", "preview.redd.it"),
             "video": ("hosted:video", "external-preview.redd.it")}  # kind -> post_hint, preview host


def _media_fields(post: WorldPost, kind: str, place: _Place) -> dict[str, Any]:
    """The fields that differ by content type, with Reddit's URL conventions per kind; only posts
    that are not self posts have `url_overridden_by_dest`, and `post_hint` and `preview` or the
    gallery's data."""
    key, uid = _media_key(post.uid), post.uid
    signature = format(digest("sig", uid), "016x") * 2 + format(digest("sig2", uid), "08x")
    url = {
        "text": f"https://www.reddit.com{place.permalink}",
        "link": f"https://{_LINK_DOMAINS[digest('domain', uid) % len(_LINK_DOMAINS)]}/{_slug(post.title).replace('_', '-')}",
        "image": f"https://i.redd.it/{key}.jpeg",
        "gallery": f"https://www.reddit.com/gallery/{to_base36(uid)}",
        "video": f"https://v.redd.it/{key}",
    }[kind]
    video = _reddit_video(key, uid) if kind == "video" else None
    fields = {
        "selftext": post.body if kind == "text" else "", "url": url, "media": video, "secure_media": video,
        "domain": {"text": f"self.{place.subreddit}", "gallery": "reddit.com"}.get(kind) or url.split("/")[2],
        "thumbnail": "self" if kind == "text" else f"https://b.thumbs.redditmedia.com/{key}.jpg",
        "thumbnail_height": None if kind == "text" else 140, "thumbnail_width": None if kind == "text" else 140,
    }
    if kind == "gallery":
        fields |= {"url_overridden_by_dest": url, **_gallery(post, signature)}
    elif kind != "text":
        hint, host = _PREVIEWS[kind]
        image = f"https://{host}/{key}.jpeg"
        preview = {
            "source": {"url": f"{image}?auto=webp&s={signature}", "width": 1280, "height": 720},
            "resolutions": [{"url": f"{image}?width=108&crop=smart&auto=webp&s={signature}", "width": 108, "height": 60}],
            "variants": {}, "id": key,
        }
        fields |= {"url_overridden_by_dest": url, "post_hint": hint, "preview": {"images": [preview], "enabled": kind == "image"}}
    return fields


def _reddit_video(key: str, uid: int) -> dict[str, Any]:
    base = f"https://v.redd.it/{key}"
    return {"reddit_video": {
        "bitrate_kbps": 2400, "fallback_url": f"{base}/CMAF_720.mp4?source=fallback", "has_audio": True,
        "height": 720, "width": 1280, "scrubber_media_url": f"{base}/CMAF_96.mp4",
        "dash_url": f"{base}/DASHPlaylist.mpd?a=1&v=1&f=sd", "duration": 10 + digest("duration", uid) % 170,
        "hls_url": f"{base}/HLSPlaylist.m3u8?a=1&v=1&f=sd", "is_gif": False, "transcoding_status": "completed",
    }}


def _gallery(post: WorldPost, signature: str) -> dict[str, Any]:
    media_ids = [_media_key(post.uid, n) for n in range(gallery_size(post))]
    image = "https://preview.redd.it/{}.jpg?width={}&{}auto=webp&s=" + signature
    metadata = {
        media_id: {
            "status": "valid", "e": "Image", "m": "image/jpg",
            "p": [{"y": 108, "x": 108, "u": image.format(media_id, 108, "crop=smart&")}],
            "s": {"y": 1080, "x": 1080, "u": image.format(media_id, 1080, "format=pjpg&")}, "id": media_id,
        }
        for media_id in media_ids
    }
    items = [{"caption": "", "media_id": media_id, "is_deleted": False, "id": 900_000_000 + digest(media_id) % 99_999_999}
             for media_id in media_ids]
    return {"is_gallery": True, "media_metadata": metadata, "gallery_data": {"items": items}}


# -- helpers ----------------------------------------------------------------------------------


def _hot(score: int, published: datetime) -> float:
    order = math.log10(max(abs(score), 1))
    sign = 1 if score > 0 else -1 if score < 0 else 0
    return round(sign * order + (published.timestamp() - REDDIT_EPOCH_FOR_HOT) / 45000, 7)


def _listing(children: list[dict[str, Any]], after: str | None, before: str | None, dist: int | None,
             modhash: str | None = None, geo_filter: str | None = None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "dist": dist, "modhash": modhash, "geo_filter": geo_filter,
                                        "children": children, "before": before}}


def _comments_in(things: list[dict[str, Any]]):
    for thing in things:
        if thing["kind"] == "t1":
            yield thing["data"]
            if thing["data"]["replies"]:
                yield from _comments_in(thing["data"]["replies"]["data"]["children"])


def _parts(path: str) -> list[str]:
    return [p for p in path.rstrip("/").removesuffix(".json").split("/") if p]


def _markdown_html(text: str, sc_markers: bool = True) -> str:
    paragraphs = "\n\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in text.split("\n\n") if p)
    inner = f'<div class="md">{paragraphs}\n</div>'
    return f"<!-- SC_OFF -->{inner}<!-- SC_ON -->" if sc_markers else inner


def _html_escaped(value: Any) -> Any:
    """Reddit's legacy JSON: without `raw_json=1` every string has &, < and > escaped. JSON has
    these characters only inside strings, so escaping the whole document escapes just those."""
    return json.loads(html.escape(json.dumps(value), quote=False))
