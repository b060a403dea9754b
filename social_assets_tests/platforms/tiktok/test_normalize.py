"""TikTok's documented shapes through the normalizers, its error table, and the named decisions
on what the documentation leaves open (see `platforms/tiktok/spec.py` and `normalize.py`)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_assets.core.errors import ErrorKind
from social_assets.core.limits import SlidingWindow
from social_assets.core.limits.kinds import Admit, Wait
from social_assets.core.records import ApiErrorBody, NotAResponse
from social_assets.platforms.tiktok.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.tiktok.spec import ERRORS, RESEARCH_DAILY_RECORDS, RESEARCH_DAILY_REQUESTS, RESEARCH_PAGE_SIZE
from social_assets.sources import SourcesConfigError, load_sources

DOCUMENTED = Path(__file__).parent / "documented"


def documented(name: str) -> dict:
    return json.loads((DOCUMENTED / f"{name}.json").read_text())


def test_every_documented_file_is_marked_as_documentation_not_a_recording():
    for path in DOCUMENTED.glob("*.json"):
        document = json.loads(path.read_text())
        assert set(document) == {"source", "endpoint", "status", "body", "notes"}, path.name
        assert document["source"].startswith("documentation: https://developers.tiktok.com/"), path.name


def test_a_video_page_gives_posts_whose_cover_url_is_never_the_only_media():
    result = normalize_posts(documented("video_list")["body"], username="example_user", open_id="-000abc")
    assert result.rejected == []
    first = result.records[0]
    assert (first.post_id, first.published_at) == ("7080217258529732882", datetime(2022, 3, 30, 20, 26, 40, tzinfo=timezone.utc))
    assert (first.views, first.likes, first.comments, first.shares, first.saves) == (5210, 120, 14, 3, None)
    assert first.duration_seconds == 15
    assert first.text == "Spring in the park. #nature" and first.content_type == "video"
    assert first.permalink == "https://www.tiktok.com/@example_user/video/7080217258529732882"
    # The cover expires after 6 hours: the stable player link comes first, the cover second.
    assert first.media_urls[0] == "https://www.tiktok.com/player/v1/7080217258529732882"
    assert "x-expires=" in first.media_urls[1] and len(first.media_urls) == 2
    assert (first.author_username, first.author_id) == ("example_user", "-000abc")


def test_a_video_without_a_player_link_keeps_its_share_url_beside_the_cover():
    body = copy.deepcopy(documented("video_query")["body"])
    del body["data"]["videos"][0]["embed_link"]
    (post,) = normalize_posts(body).records
    assert post.media_urls[0] == post.permalink and post.media_urls[1].startswith("https://p16-sign")


def test_bad_videos_are_rejected_one_by_one():
    body = copy.deepcopy(documented("video_list")["body"])
    body["data"]["videos"][0].pop("create_time")
    body["data"]["videos"].append("not a video")
    result = normalize_posts(body)
    assert [r.post_id for r in result.records] == ["7077642457847991554"]
    assert [(r.item_id, r.reason) for r in result.rejected] == [
        ("7080217258529732882", "create_time missing (ask for it in `fields`)"),
        (None, "a video is a JSON object, found str"),
    ]


def test_comments_and_replies_keep_int64_ids_exactly_as_strings_with_two_levels():
    top = normalize_comments(documented("research_comment_list")["body"])
    replies = normalize_comments(documented("research_comment_replies")["body"])
    assert [(c.comment_id, c.parent_id, c.depth) for c in top.records] == [
        ("7109178180292126422", None, 0), ("7109185042560731910", None, 0)]  # TOP_LEVEL_PARENT: the video
    assert [(c.comment_id, c.post_id, c.parent_id, c.depth) for c in replies.records] == [
        ("7109190000000000001", "7080217258529732882", "7109178180292126422", 1),
        ("7109190000000000002", "7080217258529732882", "7109178180292126422", 1)]
    assert top.records[0].likes == 10 and top.records[0].author_username is None


def test_a_comment_without_its_video_id_takes_the_video_of_the_request():
    body = copy.deepcopy(documented("research_comment_list")["body"])
    for comment in body["data"]["comments"]:
        del comment["video_id"], comment["parent_comment_id"]
    assert {c.post_id for c in normalize_comments(body, video_id="42").records} == {"42"}
    assert normalize_comments(body).rejected[0].reason == "video_id missing (ask for it in `fields`)"


def test_a_profile_has_followers_following_and_videos():
    (profile,) = normalize_profiles(documented("user_info")["body"]).records
    assert (profile.account_id, profile.followers, profile.following, profile.posts_count) == ("@example_user", 1520, 86, 57)
    assert profile.likes_received == 40123
    body = copy.deepcopy(documented("user_info")["body"])
    del body["data"]["user"]["username"]
    assert "user.info.profile" in normalize_profiles(body).rejected[0].reason


@pytest.mark.parametrize("name", [
    "err_401_access_token_invalid", "err_401_scope_not_authorized", "err_400_invalid_params",
    "err_429_rate_limit_exceeded", "err_429_daily_quota_limit_exceeded", "err_200_internal_error"])
def test_every_error_envelope_is_the_platform_s_error_whatever_the_status(name):
    body = documented(name)["body"]
    for normalize in (normalize_posts, normalize_comments, normalize_profiles):
        with pytest.raises(ApiErrorBody) as raised:
            normalize(body)
        assert raised.value.status == body["error"]["code"]


def test_an_oauth_error_and_a_body_of_another_resource_are_refused():
    with pytest.raises(ApiErrorBody, match="invalid_grant"):
        normalize_posts({"error": "invalid_grant", "error_description": "Refresh token is invalid", "log_id": "x"})
    with pytest.raises(NotAResponse, match="data.videos"):
        normalize_posts(documented("user_info")["body"])
    with pytest.raises(NotAResponse, match="data.user"):
        normalize_profiles(documented("video_list")["body"])


# -- the error table --------------------------------------------------------------------------


@pytest.mark.parametrize("status, code, kind", [
    (200, "ok", None),
    (401, "access_token_invalid", ErrorKind.AUTH),
    (401, "scope_not_authorized", ErrorKind.PERMISSION),
    (401, "scope_permission_missed", ErrorKind.PERMISSION),
    (400, "invalid_params", ErrorKind.INVALID),
    (429, "rate_limit_exceeded", ErrorKind.THROTTLED),
    (429, "daily_quota_limit_exceeded", ErrorKind.QUOTA),
    (500, "internal_error", ErrorKind.TRANSIENT),
    # Success is error.code == "ok" whatever the status: a documented code on a 200 is its error.
    (200, "rate_limit_exceeded", ErrorKind.THROTTLED),
    (200, "access_token_invalid", ErrorKind.AUTH),
    (200, "internal_error", ErrorKind.TRANSIENT),
    # UNKNOWN_CODE_ON_2XX: not a success, not retried.
    (200, "some_new_code", ErrorKind.INVALID),
    # OK_NEEDS_2XX: "ok" on an error status is judged by the status.
    (503, "ok", ErrorKind.TRANSIENT),
    (404, "ok", ErrorKind.NOT_FOUND),
])
def test_every_tiktok_code_maps_through_the_error_table(status, code, kind):
    body = {"data": {}, "error": {"code": code, "message": "m", "log_id": "l"}}
    assert ERRORS.classify(status, body)[0] is kind


def test_a_200_without_an_error_object_is_judged_by_its_status():
    assert ERRORS.classify(200, {"data": {"videos": []}})[0] is None


# -- limits -----------------------------------------------------------------------------------


def test_research_quota_in_requests_keeps_the_records_quota_too():
    # RESEARCH_QUOTA_IN_REQUESTS: at most 100 records a request.
    assert RESEARCH_DAILY_REQUESTS * RESEARCH_PAGE_SIZE <= RESEARCH_DAILY_RECORDS


def test_the_sliding_window_never_lets_more_than_its_limit_into_any_span():
    window = SlidingWindow("w", limit=5, window=60)
    state, admitted = None, []
    # Calls at the end of one minute and the start of the next: a fixed window would let 10 through.
    for moment in [1_050.0, 1_051.0, 1_052.0, 1_053.0, 1_054.0, 1_061.0, 1_062.0, 1_111.5, 1_112.0]:
        state, decision = window.reserve(state, moment, 1)
        if isinstance(decision, Admit):
            admitted.append(moment)
        else:
            assert isinstance(decision, Wait) and decision.until == 1_111.0  # second 1050 leaves the window
    assert admitted == [1_050.0, 1_051.0, 1_052.0, 1_053.0, 1_054.0, 1_111.5, 1_112.0]
    for start in admitted:
        assert sum(start <= t < start + 60 for t in admitted) <= 5
    assert window.headroom(state, 1_112.0)[0] == 0 and window.blocked_until(state, 1_112.0) == 1_113.0


# -- sources ----------------------------------------------------------------------------------


def test_without_research_credentials_comments_are_off_and_turning_them_on_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIAL_API_MODE", "live")
    for name in ("SOCIAL_API_MODE_TIKTOK", "TIKTOK_RESEARCH_CLIENT_KEY", "TIKTOK_RESEARCH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "sources.yaml"
    path.write_text("tiktok:\n  sources:\n    - account: dagster_tok\n")
    (source,) = load_sources(path)["tiktok"]
    assert source.collect_comments is False and source.account_id == "@dagster_tok"
    path.write_text("tiktok:\n  sources:\n    - account: dagster_tok\n      collect_comments: true\n")
    with pytest.raises(SourcesConfigError) as refused:
        load_sources(path)
    assert str(refused.value) == (
        f"{path}: tiktok.sources[0] (account='dagster_tok', collect_comments=True): collect_comments: TikTok gives "
        "comments only through its Research API (the Display API has none); set TIKTOK_RESEARCH_CLIENT_KEY and "
        "TIKTOK_RESEARCH_CLIENT_SECRET (Research API client credentials) to collect them")
    monkeypatch.setenv("TIKTOK_RESEARCH_CLIENT_KEY", "key")
    monkeypatch.setenv("TIKTOK_RESEARCH_CLIENT_SECRET", "secret")
    assert load_sources(path)["tiktok"][0].collect_comments is True
    monkeypatch.setenv("SOCIAL_API_MODE", "sandbox")  # the sandbox issues its own
    monkeypatch.delenv("TIKTOK_RESEARCH_CLIENT_KEY")
    assert load_sources(path)["tiktok"][0].collect_comments is True


def test_mutants_of_the_documented_shapes_never_break_the_normalize_contract():
    """The reliability fuzzer's mutations (NaN, huge numbers, lone surrogates, deleted keys,
    deep nesting, invalid UTF-8...) over TikTok's documented bodies: it reads only recordings."""
    import random

    from social_assets_tests.reliability.test_fuzz import contract_breaches, mutate, run_in_process

    rng, now = random.Random(20261130), datetime.now(timezone.utc)
    seeds = [(documented(name)["body"], resource) for name, resource in (
        ("video_list", "posts"), ("video_query", "posts"), ("research_comment_list", "comments"),
        ("research_comment_replies", "comments"), ("user_info", "profiles"), ("err_200_internal_error", "posts"))]
    failures, exits = [], set()
    for number in range(600):
        body, resource = rng.choice(seeds)
        data, done = mutate(rng, body)
        outcome = run_in_process("tiktok", resource, data)
        exits.add(outcome.code)
        failures += [f"mutant {number} as {resource}, {done}: {p}" for p in contract_breaches(resource, outcome, now)]
    assert exits == {0, 2} and failures == [], failures[:10]


def test_research_pages_resend_the_same_query_with_cursor_and_search_id():
    import httpx

    from social_assets.core.rest import PageRequest
    from social_assets.platforms.tiktok.walk import RESEARCH_CURSOR

    first = PageRequest("https://open.tiktokapis.com/v2/research/video/comment/list/", {"fields": "id"},
                        {"comment_id": 7109178180292126422, "max_count": 100, "cursor": 0})
    body = copy.deepcopy(documented("research_comment_replies")["body"])
    assert RESEARCH_CURSOR.next_page(first, httpx.Response(200), body) is None  # has_more false
    body["data"]["has_more"] = True
    following = RESEARCH_CURSOR.next_page(first, httpx.Response(200), body)
    assert following.json == {"comment_id": 7109178180292126422, "max_count": 100, "cursor": 2,
                              "search_id": "7201388525814961198"} and following.params == first.params
    del body["data"]["search_id"]  # SEARCH_ID: sent back only when the answer has one
    assert "search_id" not in RESEARCH_CURSOR.next_page(first, httpx.Response(200), body).json


def test_a_429_leaves_the_sliding_window_to_the_session_s_backoff():
    from social_assets.core.errors import Outcome

    window = SlidingWindow("w", limit=600, window=60)
    state, _ = window.reserve(None, 100.0, 1)
    assert window.observe(state, {}, 100.5, Outcome.THROTTLED, 1) == {"counts": {"100": 1}}
    assert window.observe(state, {}, 100.5, Outcome.NOT_SENT, 1) == {"counts": {}}
