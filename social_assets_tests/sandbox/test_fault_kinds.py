"""Each fault kind, forced onto one request, looks like the platform's real failure: status,
envelope and headers; the wire faults in process and over real HTTP alike. Injected faults cost
nothing against the platform's limits."""

from __future__ import annotations

import json
from contextlib import ExitStack

import httpx
import pytest

from social_assets.sandbox.http import SandboxRequest
from social_assets.platforms.reddit.models import Comment, Link
from social_assets.platforms.reddit.normalize import normalize_posts
from social_assets.sandbox.platforms.reddit import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts as normalize_videos
from social_assets.sandbox.platforms.youtube import video_id_for
from social_assets.sandbox.faults import FAULT_KINDS

from .conftest import CHANNEL, UA, UPLOADS, Reddit, YouTube, force, in_process, log_lines, make_sandbox, served


@pytest.fixture
def sandbox(log_path):
    return make_sandbox(log_path)


@pytest.fixture
def reddit(sandbox) -> Reddit:
    return Reddit(in_process(sandbox))


@pytest.fixture
def youtube(sandbox) -> YouTube:
    return YouTube(in_process(sandbox))


def last_logged(log_path) -> dict:
    return log_lines(log_path)[-1]


def used(response: httpx.Response) -> int:
    return int(response.headers["x-ratelimit-used"])


def dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def busy_video(sandbox) -> str:
    """A @socialpulse video with comments on, many threads, and a thread with many replies."""
    youtube = sandbox.platforms["youtube"]
    account = sandbox.world.account("youtube", "@socialpulse")
    for post in sandbox.world.iter_posts_newest_first(account):
        if sandbox.world.comment_count(post) > 100 and not youtube.comments_disabled(post):
            return video_id_for(post.uid)
    raise AssertionError("no busy video")


# -- which faults a request can show ----------------------------------------------------------


def test_each_request_shows_only_faults_it_can(sandbox):
    reddit, youtube = sandbox.platforms["reddit"], sandbox.platforms["youtube"]

    def kinds(emulation, host, path, **query):
        return emulation.fault_kinds(SandboxRequest("GET", host, path, list(query.items()), {}, b""))

    generic = {"429_burst", "5xx", "timeout", "dropped_connection", "truncated_body"}
    fields = {"field_renamed", "field_missing"}
    # The token endpoint: only throttling and server errors, never a tampered token body.
    token = SandboxRequest("POST", "www.reddit.com", "/api/v1/access_token", [], {}, b"grant_type=client_credentials")
    assert reddit.fault_kinds(token) == {"429_burst", "5xx"}
    # Google's token endpoint (YouTube Analytics): server errors only; its throttles are the Data API's 403s.
    google_token = SandboxRequest("POST", "oauth2.googleapis.com", "/token", [], {}, b"grant_type=refresh_token")
    assert youtube.fault_kinds(google_token) == {"5xx"}
    assert kinds(reddit, "oauth.reddit.com", "/r/python/about") == generic | {"expired_token"}
    assert kinds(reddit, "oauth.reddit.com", "/r/python/new") == generic | {"expired_token"} | fields
    assert kinds(reddit, "oauth.reddit.com", "/r/python/new", after="t3_x") == set(FAULT_KINDS)
    assert kinds(reddit, "oauth.reddit.com", "/comments/abc") == generic | {"expired_token"} | fields
    yt = "www.googleapis.com"
    assert kinds(youtube, yt, "/youtube/v3/channels") == generic  # an API key does not expire
    assert kinds(youtube, yt, "/youtube/v3/videos") == generic | fields
    assert kinds(youtube, yt, "/youtube/v3/playlistItems", pageToken="x") == generic | {"duplicate_items"}
    assert kinds(youtube, yt, "/youtube/v3/commentThreads", pageToken="x") == generic | fields | {"duplicate_items"}


# -- 429 bursts and 5xx: the platforms' envelopes, not charged ---------------------------------


def test_reddit_429_is_reddits_answer_with_its_rate_limit_headers(reddit, sandbox, log_path):
    before = reddit.get("/r/python/about")
    force(sandbox, "429_burst")
    refused = reddit.get("/r/python/about")
    assert (refused.status_code, refused.json()) == (429, {"message": "Too Many Requests", "error": 429})
    # The client's true standing: nothing charged, calls remain (a throttle, not the window's end).
    assert used(refused) == used(before) and float(refused.headers["x-ratelimit-remaining"]) > 0
    assert int(refused.headers["x-ratelimit-reset"]) > 0
    assert last_logged(log_path) == {"platform": "reddit", "method": "GET", "path": "/r/python/about",
                                     "status": 429, "refused_for_overuse": False, "injected_fault": "429_burst"}
    assert used(reddit.get("/r/python/about")) == used(before) + 1


def test_reddit_5xx_is_the_recorded_envelope_with_rate_limit_headers(reddit, sandbox):
    before = reddit.get("/r/python/about")
    seen = set()
    for _ in range(8):
        force(sandbox, "5xx")
        failed = reddit.get("/r/python/about")
        seen.add(failed.status_code)
        message = {500: "Internal Server Error", 503: "Service Unavailable"}[failed.status_code]
        assert failed.json() == {"message": message, "error": failed.status_code}  # as praw__err_500_mod_notes_delete
        assert used(failed) == used(before)
    assert seen == {500, 503}


def test_reddit_token_endpoint_gets_only_throttling_and_server_errors(reddit, sandbox):
    def token_request() -> httpx.Response:
        return reddit.http.post("https://www.reddit.com/api/v1/access_token", auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
                                data={"grant_type": "client_credentials"}, headers={"User-Agent": UA})

    force(sandbox, "429_burst")
    throttled = token_request()
    assert (throttled.status_code, throttled.json()) == (429, {"message": "Too Many Requests", "error": 429})
    force(sandbox, "5xx")
    failed = token_request()
    assert failed.status_code in (500, 503) and failed.json()["error"] == failed.status_code
    assert set(token_request().json()) == {"access_token", "token_type", "expires_in", "scope"}


def test_youtube_throttling_is_rate_limit_exceeded_never_quota_exceeded(youtube, sandbox, log_path):
    seen = set()
    for _ in range(8):
        force(sandbox, "429_burst")
        response = youtube.get("channels", part="id", id=CHANNEL)
        error = response.json()["error"]
        seen.add(response.status_code)
        assert error["code"] == response.status_code
        assert error["errors"] == [{"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}]
        if response.status_code == 429:
            assert error["status"] == "RESOURCE_EXHAUSTED"
    assert seen == {403, 429}
    assert sandbox.platforms["youtube"].units_used() == 0  # injected: no quota spent
    assert {e["refused_for_overuse"] for e in log_lines(log_path)} == {False}


def test_youtube_5xx_is_backend_error(youtube, sandbox):
    seen = set()
    for _ in range(8):
        force(sandbox, "5xx")
        response = youtube.get("channels", part="id", id=CHANNEL)
        seen.add(response.status_code)
        error = response.json()["error"]
        assert error["code"] == response.status_code and error["errors"][0]["reason"] == "backendError"
    assert seen == {500, 503}
    assert sandbox.platforms["youtube"].units_used() == 0


# -- expired token ----------------------------------------------------------------------------


def test_expired_token_is_a_401_that_only_a_new_token_cures(reddit, sandbox, log_path):
    assert reddit.get("/r/python/about").status_code == 200
    force(sandbox, "expired_token")
    expired = reddit.get("/r/python/about")
    assert (expired.status_code, expired.json()) == (401, {"message": "Unauthorized", "error": 401})
    assert expired.headers["www-authenticate"] == 'Bearer realm="reddit", error="invalid_token"'
    assert "x-ratelimit-used" not in expired.headers  # as for any rejected token
    again = reddit.get("/r/python/about")  # a retry with the same token: really expired now
    assert again.status_code == 401
    reddit.token = reddit.new_token()
    assert reddit.get("/r/python/about").status_code == 200
    assert [(e["status"], e["injected_fault"]) for e in log_lines(log_path)[-4:]] == [
        (401, "expired_token"), (401, None), (200, None), (200, None)
    ]


# -- timeouts, dropped connections, truncated bodies: in process and over HTTP ----------------


TRANSPORTS = ["in_process", "served"]


def client_for(transport: str, sandbox, stack):
    return in_process(sandbox) if transport == "in_process" else stack.enter_context(served(sandbox))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_timeout_raises_read_timeout(transport, sandbox, log_path):
    with ExitStack() as stack:
        youtube = YouTube(client_for(transport, sandbox, stack))
        force(sandbox, "timeout")
        with pytest.raises(httpx.ReadTimeout):
            youtube.get("channels", part="id", id=CHANNEL)
        assert youtube.get("channels", part="id", id=CHANNEL).status_code == 200
    assert [(e["status"], e["injected_fault"]) for e in log_lines(log_path)] == [(None, "timeout"), (200, None)]
    assert sandbox.platforms["youtube"].units_used() == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_dropped_connection_raises_remote_protocol_error(transport, sandbox, log_path):
    with ExitStack() as stack:
        reddit = Reddit(client_for(transport, sandbox, stack))
        force(sandbox, "dropped_connection")
        with pytest.raises(httpx.RemoteProtocolError):
            reddit.get("/r/python/new", limit="5")
        assert reddit.get("/r/python/new", limit="5").status_code == 200
    assert [(e["status"], e["injected_fault"]) for e in log_lines(log_path)[-2:]] == [
        (None, "dropped_connection"), (200, None)
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("platform", ["reddit", "youtube"])
def test_truncated_body_is_a_200_with_json_cut_short(transport, platform, sandbox, log_path):
    clean_sandbox = make_sandbox()
    with ExitStack() as stack:
        if platform == "reddit":
            clean = Reddit(in_process(clean_sandbox)).get("/r/python/new", limit="10")
            reddit = Reddit(client_for(transport, sandbox, stack))
            force(sandbox, "truncated_body")
            cut = reddit.get("/r/python/new", limit="10")
            assert used(cut) == 0  # not charged
        else:
            clean = YouTube(in_process(clean_sandbox)).get("playlistItems", part="snippet", playlistId=UPLOADS)
            force(sandbox, "truncated_body")
            cut = YouTube(client_for(transport, sandbox, stack)).get("playlistItems", part="snippet", playlistId=UPLOADS)
            assert sandbox.platforms["youtube"].units_used() == 0
    assert cut.status_code == 200 and cut.headers["content-type"].startswith("application/json")
    assert 0 < len(cut.content) < len(clean.content) and clean.content.startswith(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert last_logged(log_path)["injected_fault"] == "truncated_body"


def test_a_truncated_body_is_only_ever_a_200(reddit, sandbox, log_path):
    force(sandbox, "truncated_body")
    missing = reddit.get("/r/nosuchsub/about")  # declined: the 404 comes whole, and is charged
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found", "error": 404}
    assert used(missing) == 1 and last_logged(log_path)["injected_fault"] is None


# -- duplicate items across pages -------------------------------------------------------------


def test_reddit_duplicate_repeats_the_previous_pages_last_post_and_loses_none(reddit, sandbox, log_path):
    clean = [c["data"]["id"] for c in reddit.get("/r/python/new", limit="100").json()["data"]["children"]]
    first = reddit.get("/r/python/new", limit="25").json()["data"]
    force(sandbox, "duplicate_items")
    second = reddit.get("/r/python/new", limit="25", after=first["after"]).json()["data"]
    third = reddit.get("/r/python/new", limit="25", after=second["after"]).json()["data"]
    ids = [[c["data"]["id"] for c in page["children"]] for page in (first, second, third)]
    assert ids[1][0] == ids[0][-1]  # the repeated post
    assert len(ids[1]) == second["dist"] == 25  # never more than `limit`
    assert second["after"] == f"t3_{ids[1][-1]}"
    assert dedupe(ids[0] + ids[1] + ids[2]) == clean[:74]  # nothing skipped
    assert [e["injected_fault"] for e in log_lines(log_path)[-2:]] == ["duplicate_items", None]


@pytest.mark.parametrize("resource", ["playlistItems", "commentThreads", "comments"])
def test_youtube_duplicate_starts_a_page_one_item_early_and_loses_none(resource, youtube, sandbox, log_path):
    if resource == "playlistItems":
        params = {"part": "snippet", "playlistId": UPLOADS}
    else:
        threads = youtube.get("commentThreads", part="snippet", videoId=busy_video(sandbox), maxResults="100").json()
        if resource == "commentThreads":
            params = {"part": "snippet", "videoId": threads["items"][0]["snippet"]["videoId"]}
        else:
            most_replies = max(threads["items"], key=lambda t: t["snippet"]["totalReplyCount"])
            assert most_replies["snippet"]["totalReplyCount"] >= 9
            params = {"part": "snippet", "parentId": most_replies["id"]}
    clean = [item["id"] for item in youtube.get(resource, **params, maxResults="20").json()["items"]]
    first = youtube.get(resource, **params, maxResults="3").json()
    force(sandbox, "duplicate_items")
    second = youtube.get(resource, **params, maxResults="3", pageToken=first["nextPageToken"]).json()
    third = youtube.get(resource, **params, maxResults="3", pageToken=second["nextPageToken"]).json()
    ids = [[item["id"] for item in page["items"]] for page in (first, second, third)]
    assert ids[1][0] == ids[0][-1] and len(ids[1]) == 3
    assert dedupe(ids[0] + ids[1] + ids[2]) == clean[:8]
    assert log_lines(log_path)[-2]["injected_fault"] == "duplicate_items"


# -- a field renamed or missing ---------------------------------------------------------------


@pytest.mark.parametrize("fault", ["field_missing", "field_renamed"])
def test_reddit_one_post_loses_or_renames_created_utc(fault, reddit, sandbox):
    clean = reddit.get("/r/python/new", limit="25").json()
    force(sandbox, fault)
    body = reddit.get("/r/python/new", limit="25").json()
    posts = [c["data"] for c in body["data"]["children"]]
    broken = [p for p in posts if "created_utc" not in p]
    assert len(broken) == 1
    clean_post = next(c["data"] for c in clean["data"]["children"] if c["data"]["id"] == broken[0]["id"])
    if fault == "field_renamed":
        assert broken[0]["createdUtc"] == clean_post["created_utc"]
    else:
        assert "createdUtc" not in broken[0]
    invalid = []
    for post in posts:
        try:
            Link.model_validate(post)
        except ValueError:
            invalid.append(post["id"])
    assert invalid == [broken[0]["id"]]  # what a collector can detect, by id
    assert [r.item_id for r in normalize_posts(body).rejected] == [f"t3_{broken[0]['id']}"]


@pytest.mark.parametrize("fault", ["field_missing", "field_renamed"])
def test_reddit_one_comment_of_a_tree_loses_or_renames_created_utc(fault, reddit, sandbox):
    post = reddit.get("/r/python/hot", limit="50").json()["data"]["children"]
    busiest = max(post, key=lambda c: c["data"]["num_comments"])["data"]["id"]
    force(sandbox, fault)
    page = reddit.get(f"/comments/{busiest}", limit="50").json()

    def comments(things):
        for thing in things:
            if thing["kind"] == "t1":
                yield thing["data"]
                if thing["data"]["replies"]:
                    yield from comments(thing["data"]["replies"]["data"]["children"])

    found = list(comments(page[1]["data"]["children"]))
    broken = [c for c in found if "created_utc" not in c]
    assert len(found) > 5 and len(broken) == 1
    with pytest.raises(ValueError):
        Comment.model_validate(broken[0])
    assert ("createdUtc" in broken[0]) == (fault == "field_renamed")


@pytest.mark.parametrize("fault", ["field_missing", "field_renamed"])
@pytest.mark.parametrize("resource", ["videos", "commentThreads", "comments"])
def test_youtube_one_item_loses_or_renames_published_at(resource, fault, youtube, sandbox):
    video = busy_video(sandbox)
    threads = youtube.get("commentThreads", part="snippet", videoId=video, maxResults="100").json()
    if resource == "videos":
        uploads = youtube.get("playlistItems", part="contentDetails", playlistId=UPLOADS, maxResults="10").json()
        params = {"part": "snippet,statistics", "id": ",".join(i["contentDetails"]["videoId"] for i in uploads["items"])}
    elif resource == "commentThreads":
        params = {"part": "snippet", "videoId": video, "maxResults": "20"}
    else:
        params = {"part": "snippet", "parentId": max(threads["items"], key=lambda t: t["snippet"]["totalReplyCount"])["id"]}
    force(sandbox, fault)
    body = youtube.get(resource, **params).json()

    def snippet(item):
        return item["snippet"]["topLevelComment"]["snippet"] if resource == "commentThreads" else item["snippet"]

    broken = [item for item in body["items"] if "publishedAt" not in snippet(item)]
    assert len(body["items"]) > 3 and len(broken) == 1
    assert ("publishTime" in snippet(broken[0])) == (fault == "field_renamed")
    if resource == "videos":
        rejected = normalize_videos(body).rejected
    else:
        rejected = normalize_comments(body, video_id=video).rejected
    assert [r.item_id for r in rejected] == [broken[0]["id"]]


def test_served_answers_carry_one_date_the_worlds(sandbox):
    # BaseHTTPRequestHandler.send_response adds its own Date (real time); two Date headers made
    # clients stamp served collections with the wall clock instead of the sandbox's.
    with served(sandbox) as http:
        response = YouTube(http).get("channels", part="id", id=CHANNEL)
    assert response.headers.get_list("date") == ["Fri, 20 Nov 2026 03:00:00 GMT"]
