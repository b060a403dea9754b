"""The Reddit sandbox: the same JSON shapes as the recorded API, auth, rate limits, listings,
comment trees with their stubs, and agreement with the world it renders."""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from social_assets.sandbox.http import SandboxRequest
from social_assets.platforms.reddit.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.sandbox.platforms.reddit import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    RedditEmulation,
    content_kind,
    gallery_size,
    to_base36,
)
from social_assets.sandbox.world import SandboxClock, World

REALDATA = Path(__file__).resolve().parents[4] / "shared" / "realdata" / "reddit"
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
UA = "python:social_assets_tests:0.1 (by /u/tester)"
# Keys only a moderator of the subreddit sees (the 2025 recording was made by one).
MODERATOR_ONLY_COMMENT_KEYS = {"approved", "ignore_reports", "removed", "spam"}


def recorded(name: str) -> Any:
    return json.loads((REALDATA / f"praw__{name}.json").read_text())["body"]


class WallClock:
    """Real time stands still in these tests unless a test moves it."""

    def __init__(self, now: float = 1_800_000_100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Api:
    """Calls the sandbox like the HTTP layer would, JSON round trip included."""

    def __init__(self, sandbox: RedditEmulation):
        self.sandbox = sandbox
        self.token = self.fetch_token().body["access_token"]

    def fetch_token(self, client_id=SANDBOX_CLIENT_ID, secret=SANDBOX_CLIENT_SECRET, grant="client_credentials"):
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return self.send("POST", "www.reddit.com", "/api/v1/access_token", headers={"authorization": f"Basic {basic}"},
                         body=urlencode({"grant_type": grant}).encode())

    def get(self, path: str, token: str | None = "default", user_agent: str = UA, **query: Any):
        token = self.token if token == "default" else token
        headers = {"user-agent": user_agent, **({"authorization": f"bearer {token}"} if token else {})}
        return self.send("GET", "oauth.reddit.com", path, query={"raw_json": "1", **query}, headers=headers)

    def post(self, path: str, form: dict[str, str]):
        headers = {"user-agent": UA, "authorization": f"bearer {self.token}"}
        return self.send("POST", "oauth.reddit.com", path, headers=headers, body=urlencode({"raw_json": "1", **form}).encode())

    def send(self, method, host, path, query=None, headers=None, body=b""):
        request = SandboxRequest(
            method=method, host=host, path=path,
            query=[(k, str(v)) for k, v in (query or {}).items()],
            headers=headers or {}, body=body,
        )
        response = self.sandbox.handle(request)
        response.body = json.loads(json.dumps(response.body))
        response.headers = response.headers or {}
        return response


@pytest.fixture
def world() -> World:
    return World({"reddit": list(RedditEmulation.catalog)}, clock=SandboxClock(NOW))


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def sandbox(world, wall) -> RedditEmulation:
    return RedditEmulation(world, wall_clock=wall)


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox)


def first_post_of_kind(world: World, handle: str, kind: str):
    for post in world.iter_posts_newest_first(world.account("reddit", handle)):
        if content_kind(post) == kind:
            return post
    raise AssertionError(f"no {kind} post")


def busiest_post(world: World, handle: str = "python"):
    posts = world.posts(world.account("reddit", handle), since=NOW - timedelta(days=10))
    return max(posts, key=lambda p: (world.comment_count(p), p.uid))


def same_types(real: dict, mine: dict, keys) -> list[str]:
    return [k for k in keys if real[k] is not None and mine[k] is not None and type(real[k]) is not type(mine[k])]


# -- auth -------------------------------------------------------------------------------------


def test_token_endpoint_issues_bearer_tokens_for_the_sandbox_credentials_only(api):
    good = api.fetch_token()
    assert good.status == 200
    assert set(good.body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (good.body["token_type"], good.body["expires_in"]) == ("bearer", 3600)
    bad = api.fetch_token(secret="wrong")
    assert (bad.status, bad.body) == (401, {"message": "Unauthorized", "error": 401})
    assert api.fetch_token(client_id="someone-else").status == 401
    grant = api.fetch_token(grant="password")
    assert (grant.status, grant.body) == (200, {"error": "unsupported_grant_type"})


def test_oauth_host_wants_a_valid_unexpired_bearer(api, wall):
    assert api.get("/r/python/about").status == 200
    for token in (None, "garbage", api.token[:-1] + ("0" if api.token[-1] != "0" else "1")):
        response = api.get("/r/python/about", token=token)
        assert (response.status, response.body) == (401, {"message": "Unauthorized", "error": 401})
        assert "x-ratelimit-used" not in response.headers
    wall.now += 3600
    assert api.get("/r/python/about").status == 401  # expired after expires_in
    assert api.get("/r/python/about", token=api.fetch_token().body["access_token"]).status == 200


# -- rate limits ------------------------------------------------------------------------------


def test_rate_limit_headers_count_calls_per_window(api, sandbox, wall):
    wall.now = 1_800_000_000.0 + 100  # 100 s into a 600 s window
    first = api.get("/r/python/about")
    second = api.get("/r/nope/about")  # errors count too
    assert first.headers["x-ratelimit-used"] == "1" and first.headers["x-ratelimit-remaining"] == "999.0"
    assert first.headers["x-ratelimit-reset"] == "500"
    assert second.status == 404 and second.headers["x-ratelimit-used"] == "2"


def test_exceeding_the_window_gives_429_until_the_next_window(api, sandbox, wall):
    sandbox.requests_per_window = 3
    statuses = [api.get("/r/python/about").status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    blocked = api.get("/r/python/about")
    assert blocked.body == {"message": "Too Many Requests", "error": 429}
    assert blocked.headers["x-ratelimit-remaining"] == "0.0"
    wall.now += 600
    assert api.get("/r/python/about").status == 200


def test_generic_library_user_agents_are_throttled(api):
    assert api.get("/r/python/about", user_agent="python-httpx/0.28.1").status == 429
    assert api.get("/r/python/about", user_agent="").status == 429


# -- shapes against the recorded API ----------------------------------------------------------


@pytest.mark.parametrize(("kind", "real_id"), [("image", "1skii2f"), ("video", "1skl1i1"), ("gallery", "1skad0l"), ("link", "1skbgql"), ("text", None)])
def test_posts_have_the_2026_keys_and_types(api, world, kind, real_id):
    real_posts = {c["data"]["id"]: c["data"] for c in recorded("r_popular_hot_2026")["data"]["children"]}
    if real_id is None:  # no self post in the recording: a link post without its link-only keys
        real = {k: v for k, v in real_posts["1skbgql"].items() if k not in ("post_hint", "preview", "url_overridden_by_dest")}
    else:
        real = real_posts[real_id]
    post = first_post_of_kind(world, "python", kind)
    [thing] = api.get("/api/info", id=f"t3_{to_base36(post.uid)}").body["data"]["children"]
    mine = thing["data"]
    assert thing["kind"] == "t3"
    assert set(mine) == set(real) - {"link_flair_template_id"}
    assert same_types(real, mine, set(real) & set(mine)) == []
    for field, expected in {"created_utc": float, "score": int, "num_comments": int, "upvote_ratio": float,
                            "author_fullname": str, "edited": bool, "is_video": bool, "permalink": str}.items():
        assert type(mine[field]) is expected, field


def test_listing_envelope_matches_the_recording(api):
    real = recorded("r_popular_hot_2026")
    mine = api.get("/r/python/new", limit=5).body
    assert mine["kind"] == real["kind"] == "Listing"
    assert set(mine["data"]) == set(real["data"])
    assert mine["data"]["dist"] == 5 and mine["data"]["after"].startswith("t3_") and mine["data"]["before"] is None


def test_comments_have_the_2025_keys_and_types(api, world):
    real = recorded("comments_2025_context_tree")
    post = busiest_post(world)
    page = api.get(f"/comments/{to_base36(post.uid)}").body
    assert isinstance(page, list) and len(page) == 2
    assert set(page[0]["data"]) == set(real[0]["data"]) and set(page[1]["data"]) == set(real[1]["data"])
    assert "num_duplicates" in page[0]["data"]["children"][0]["data"]  # the comment page's copy of the post
    real_comment = real[1]["data"]["children"][0]["data"]
    mine = page[1]["data"]["children"][0]["data"]
    assert set(mine) == set(real_comment) - MODERATOR_ONLY_COMMENT_KEYS
    assert same_types(real_comment, mine, set(mine) - {"replies"}) == []
    assert type(mine["depth"]) is int and type(mine["created_utc"]) is float and type(mine["score"]) is int


def test_profiles_have_the_recorded_keys_and_types(api):
    real_user = recorded("user_about_2025")
    user = api.get("/user/sandbox_alice/about").body
    assert user["kind"] == "t2" and set(user["data"]) == set(real_user["data"])
    assert set(user["data"]["subreddit"]) == set(real_user["data"]["subreddit"])
    assert same_types(real_user["data"], user["data"], set(user["data"])) == []
    real_sub = recorded("subreddit_about_announcements")
    sub = api.get("/r/duckdb/about").body
    assert sub["kind"] == "t5" and set(sub["data"]) == set(real_sub["data"])
    assert same_types(real_sub["data"], sub["data"], set(sub["data"])) == []


def test_about_counts_come_from_the_world(api, world):
    alice = world.account("reddit", "sandbox_alice")
    [profile] = normalize_profiles(api.get("/user/sandbox_alice/about").body).records
    assert (profile.account_id, profile.followers) == ("u/sandbox_alice", alice.followers(NOW))
    [sub] = normalize_profiles(api.get("/r/DuckDB/about").body).records  # names are case-insensitive
    assert (sub.account_id, sub.followers) == ("r/duckdb", world.account("reddit", "duckdb").followers(NOW))


def test_unknown_things_are_404(api, world):
    not_found = {"message": "Not Found", "error": 404}
    for path in ("/r/nosuchsub/new", "/r/nosuchsub/about", "/user/nobody_here/about", "/user/nobody_here/submitted",
                 "/r/sandbox_alice/about", "/user/python/about", "/comments/zzzzzzzz", "/comments/not-an-id", "/api/v2/what"):
        response = api.get(path)
        assert (response.status, response.body) == (404, not_found), path


# -- posts and listings -----------------------------------------------------------------------


def test_posts_render_the_world_at_its_now(api, world):
    account = world.account("reddit", "python")
    page = api.get("/r/python/new", limit=100).body
    expected = list(world.iter_posts_newest_first(account))[:100]
    assert [c["data"]["id"] for c in page["data"]["children"]] == [to_base36(p.uid) for p in expected]
    records = normalize_posts(page).records
    assert [r.post_id for r in records] == [to_base36(p.uid) for p in expected]
    for record, post in zip(records, expected):
        assert record.published_at == post.published_at
        assert record.likes == post.likes(NOW) and record.comments == world.comment_count(post)
        assert record.views is None and record.shares is None
        kind = content_kind(post)
        assert record.content_type == kind
        assert record.text == (f"{post.title}\n\n{post.body}" if kind == "text" and post.body else post.title)
        if kind == "gallery":
            assert len(record.media_urls) == gallery_size(post)
        elif kind in ("image", "video", "link"):
            assert len(record.media_urls) == 1
    assert {r.content_type for r in records} >= {"text", "link", "image"}


def test_user_posts_live_on_the_profile(api, world):
    bob = world.account("reddit", "sandbox_bob")
    page = api.get("/user/sandbox_bob/submitted", sort="new", limit=10).body
    data = page["data"]["children"][0]["data"]
    assert data["author"] == "sandbox_bob" and data["subreddit"] == "u_sandbox_bob" and data["subreddit_type"] == "user"
    assert data["id"] == to_base36(next(world.iter_posts_newest_first(bob)).uid)


def test_listing_limits_and_cursors(api, world):
    ids = [to_base36(p.uid) for p in list(world.iter_posts_newest_first(world.account("reddit", "python")))[:300]]
    assert len(api.get("/r/python/new").body["data"]["children"]) == 25
    assert len(api.get("/r/python/new", limit=500).body["data"]["children"]) == 100
    assert len(api.get("/r/python/new", limit=0).body["data"]["children"]) == 1
    seen: list[str] = []
    after = None
    for _ in range(3):
        data = api.get("/r/python/new", limit=100, **({"after": after} if after else {})).body["data"]
        seen += [c["data"]["id"] for c in data["children"]]
        after = data["after"]
    assert seen == ids
    back = api.get("/r/python/new", limit=10, before=f"t3_{ids[50]}").body["data"]
    assert [c["data"]["id"] for c in back["children"]] == ids[40:50]
    assert back["before"] == f"t3_{ids[40]}" and back["after"] == f"t3_{ids[49]}"
    assert api.get("/r/python/new", after="t3_zzzzzz").body["data"]["children"] == []


def test_a_listing_ends_with_after_null(api):
    # Listings stop 1000 posts deep, as Reddit's do.
    data = api.get("/r/python/new", limit=100).body["data"]
    pages = 1
    while data["after"]:
        data = api.get("/r/python/new", limit=100, after=data["after"]).body["data"]
        pages += 1
    assert pages == 10 and data["dist"] == 100


def test_sorts_rank_differently(api, world):
    def ids(sort, **query):
        return [c["data"]["id"] for c in api.get(f"/r/python/{sort}", limit=100, **query).body["data"]["children"]]

    scores = {c["data"]["id"]: c["data"]["score"] for c in api.get("/r/python/new", limit=100).body["data"]["children"]}
    top_week = ids("top", t="week")
    assert top_week and all(scores[a] >= scores[b] for a, b in zip(top_week, top_week[1:]))
    recent = {to_base36(p.uid) for p in world.posts(world.account("reddit", "python"), since=NOW - timedelta(days=1))}
    assert set(ids("top", t="day")) == recent == set(ids("rising"))
    hot = [c["data"] for c in api.get("/r/python/hot", limit=100).body["data"]["children"]]
    # Reddit's hot rank: log10 of the score plus the age bonus, highest first.
    rank = [math.log10(max(p["score"], 1)) * (p["score"] > 0) + (p["created_utc"] - 1134028003) / 45000 for p in hot]
    assert rank == sorted(rank, reverse=True) and [p["id"] for p in hot] != ids("new")
    assert api.get("/r/python").body["data"]["children"][0]["data"]["id"] == hot[0]["id"]


def test_api_info_returns_things_in_request_order(api, world):
    post = busiest_post(world)
    comment = world.comments(post)[3]
    ids = [f"t1_{to_base36(comment.uid)}", f"t3_{to_base36(post.uid)}", "t3_zzzzzzzz"]
    children = api.get("/api/info", id=",".join(ids)).body["data"]["children"]
    assert [(c["kind"], c["data"]["name"]) for c in children] == [("t1", ids[0]), ("t3", ids[1])]
    assert "depth" not in children[0]["data"] and children[0]["data"]["replies"] == ""
    too_many = ",".join(f"t3_{to_base36(post.uid)}" for _ in range(101))
    assert api.get("/api/info", id=too_many).status == 400


def test_raw_json_controls_html_escaping(api, world):
    post = first_post_of_kind(world, "python", "text")
    path = f"/comments/{to_base36(post.uid)}"
    escaped = api.send("GET", "oauth.reddit.com", path, headers={"user-agent": UA, "authorization": f"bearer {api.token}"}).body
    raw = api.get(path).body
    assert raw[0]["data"]["children"][0]["data"]["selftext_html"].startswith("<!-- SC_OFF -->")
    assert escaped[0]["data"]["children"][0]["data"]["selftext_html"].startswith("&lt;!-- SC_OFF --&gt;")


# -- comment trees ----------------------------------------------------------------------------


def walk(things, level=0):
    for thing in things:
        yield thing, level
        replies = thing["data"].get("replies")
        if thing["kind"] == "t1" and replies:
            yield from walk(replies["data"]["children"], level + 1)


def test_full_tree_is_the_world_tree(api, world):
    post = busiest_post(world)
    page = api.get(f"/comments/{to_base36(post.uid)}").body
    things = list(walk(page[1]["data"]["children"]))
    assert all(kind == "t1" for kind in (t["kind"] for t, _ in things))  # small enough: no stubs
    assert all(t["data"]["depth"] == level for t, level in things)
    leaves = [t for t, _ in things if not t["data"]["replies"]]
    assert leaves and all(t["data"]["replies"] == "" for t in leaves)
    records = {r.comment_id: r for r in normalize_comments(page).records}
    expected = {to_base36(c.uid): c for c in world.comments(post)}
    assert set(records) == set(expected)
    for comment_id, comment in expected.items():
        record = records[comment_id]
        assert record.depth == comment.depth and record.text == comment.text and record.likes == comment.likes(NOW)
        parent = None if comment.parent_index is None else to_base36(world.comments(post)[comment.parent_index].uid)
        assert record.parent_id == parent and record.author_username == comment.author
    assert page[0]["data"]["children"][0]["data"]["num_comments"] == len(expected)


def test_depth_cut_leaves_continue_this_thread_stubs(api, world):
    post = busiest_post(world)
    page = api.get(f"/comments/{to_base36(post.uid)}", depth=2).body
    things = list(walk(page[1]["data"]["children"]))
    assert max(level for t, level in things if t["kind"] == "t1") == 1
    stubs = [t["data"] for t, _ in things if t["kind"] == "more"]
    with_grandchildren = {to_base36(c.uid) for c in world.comments(post) if c.depth == 1 and any(d.parent_index == c.index for d in world.comments(post))}
    assert {s["parent_id"][3:] for s in stubs} == with_grandchildren
    assert all(s == {"count": 0, "name": "t1__", "id": "_", "parent_id": s["parent_id"], "depth": 2, "children": []} for s in stubs)


def test_depth_is_capped_at_ten(api, world, sandbox):
    sandbox.max_tree_depth = 2
    post = busiest_post(world)
    capped = api.get(f"/comments/{to_base36(post.uid)}", depth=50).body
    assert max(level for t, level in walk(capped[1]["data"]["children"]) if t["kind"] == "t1") == 1


def test_limit_leaves_load_more_stubs_with_children_and_count(api, world):
    post = busiest_post(world)
    page = api.get(f"/comments/{to_base36(post.uid)}", limit=10).body
    things = list(walk(page[1]["data"]["children"]))
    assert sum(t["kind"] == "t1" for t, _ in things) == 10
    stubs = [t["data"] for t, _ in things if t["kind"] == "more"]
    assert stubs and all(s["id"] == s["children"][0] and s["name"] == f"t1_{s['id']}" for s in stubs)
    # Shown comments plus the comments each stub stands for make up the whole tree.
    assert 10 + sum(s["count"] for s in stubs) == world.comment_count(post)
    top_stub = page[1]["data"]["children"][-1]["data"]
    assert top_stub["parent_id"] == f"t3_{to_base36(post.uid)}" and top_stub["depth"] == 0


def test_comment_sort_orders_siblings(api, world):
    post = busiest_post(world)
    by_new = [c["data"]["created_utc"] for c in api.get(f"/comments/{to_base36(post.uid)}", sort="new").body[1]["data"]["children"]]
    by_old = [c["data"]["created_utc"] for c in api.get(f"/comments/{to_base36(post.uid)}", sort="old").body[1]["data"]["children"]]
    top = [c["data"]["score"] for c in api.get(f"/comments/{to_base36(post.uid)}", sort="top").body[1]["data"]["children"]]
    assert by_new == sorted(by_new, reverse=True) and by_old == sorted(by_old) and top == sorted(top, reverse=True)


def test_subtree_view_numbers_depth_from_its_comment(api, world):
    post = busiest_post(world)
    anchor = max(world.comments(post), key=lambda c: (c.depth, c.index))
    anchor = next(c for c in world.comments(post) if c.index == anchor.parent_index)  # one with a reply
    page = api.get(f"/comments/{to_base36(post.uid)}/_/{to_base36(anchor.uid)}").body
    [root] = page[1]["data"]["children"]
    assert root["data"]["id"] == to_base36(anchor.uid) and root["data"]["depth"] == 0
    parent = world.comments(post)[anchor.parent_index]
    assert root["data"]["parent_id"] == f"t1_{to_base36(parent.uid)}"
    assert root["data"]["replies"]["data"]["children"][0]["data"]["depth"] == 1
    # The `comment` parameter does the same; an unknown comment gives the whole tree.
    assert api.get(f"/comments/{to_base36(post.uid)}", comment=to_base36(anchor.uid)).body == page
    whole = api.get(f"/comments/{to_base36(post.uid)}/_/zzzzzzzzzz").body
    assert len(whole[1]["data"]["children"]) > 1


def test_morechildren_returns_flat_things_with_parent_links(api, world, sandbox):
    post = busiest_post(world)
    link_id = f"t3_{to_base36(post.uid)}"
    tops = [c for c in world.comments(post) if c.parent_index is None][:5]
    response = api.post("/api/morechildren", {"api_type": "json", "link_id": link_id, "children": ",".join(to_base36(c.uid) for c in tops),
                                              "limit_children": "false", "sort": "confidence"})
    real = recorded("morechildren_cu5pg2h")
    assert set(response.body) == set(real) and set(response.body["json"]) == set(real["json"])
    things = response.body["json"]["data"]["things"]
    assert all(t["data"]["replies"] == "" for t in things if t["kind"] == "t1")
    records = normalize_comments(response.body).records
    subtree = {to_base36(c.uid) for c in world.comments(post) if _under(world, post, c, {t.index for t in tops})}
    assert {r.comment_id for r in records} == subtree
    depth_of = {to_base36(c.uid): c.depth for c in world.comments(post)}
    assert all(t["data"]["depth"] == depth_of[t["data"]["id"]] for t in things if t["kind"] == "t1")

    only = api.post("/api/morechildren", {"link_id": link_id, "children": to_base36(tops[0].uid), "limit_children": "true"})
    assert [t["data"]["id"] for t in only.body["json"]["data"]["things"]] == [to_base36(tops[0].uid)]
    shallow = api.post("/api/morechildren", {"link_id": link_id, "children": ",".join(to_base36(c.uid) for c in tops), "depth": "1"})
    assert {t["data"]["depth"] for t in shallow.body["json"]["data"]["things"] if t["kind"] == "t1"} == {0}

    sandbox.morechildren_max_comments = 3
    capped = api.post("/api/morechildren", {"link_id": link_id, "children": ",".join(to_base36(c.uid) for c in tops)}).body
    kinds = [t["kind"] for t in capped["json"]["data"]["things"]]
    assert kinds.count("t1") == 3 and "more" in kinds

    assert api.post("/api/morechildren", {"link_id": "t3_zzzzzzzz", "children": "a"}).status == 403
    assert api.post("/api/morechildren", {"link_id": link_id, "children": ",".join(["a"] * 101)}).status == 400


def _under(world: World, post, comment, roots: set[int]) -> bool:
    by_index = {c.index: c for c in world.comments(post)}
    while comment is not None:
        if comment.index in roots:
            return True
        comment = by_index.get(comment.parent_index) if comment.parent_index is not None else None
    return False
