"""The YouTube sandbox: ids, JSON shapes against the recorded responses, world fidelity,
parameter bounds, key check and the daily quota."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from social_assets.sandbox.engine import uid_of_token
from social_assets.sandbox.http import SandboxRequest
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.sandbox.platforms.youtube import (
    SANDBOX_API_KEY,
    YouTubeEmulation,
    channel_id_for,
    reply_comment_id,
    top_level_comment_id,
    uid_from_top_level_id,
    uid_from_video_id,
    uploads_playlist_id,
    video_id_for,
)
from social_assets.sandbox.world import SandboxClock, World

NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
REALDATA = Path("/work/shared/realdata/youtube")
CHANNEL_IDS = {
    "@dagsterio": "UCmzSW9Don0eAA8yBCT-TUpg",
    "@duckdblabs": "UCg9pOTJgV1dY4oV1Ijoz4tA",
    "@datatalksclub": "UColvMEZjCvMJjqo0vstcYkA",
    "@socialpulse": "UCVQt5N4mmppOyoJ7RiFbRoA",
    "@brandstudio": "UChWFbEB3ZBUKVyKBFF8pDfw",
}


@pytest.fixture
def world() -> World:
    return World({"youtube": list(YouTubeEmulation.catalog)}, clock=SandboxClock(NOW))


@pytest.fixture
def youtube(world) -> YouTubeEmulation:
    return YouTubeEmulation(world)


def get(sandbox: YouTubeEmulation, resource: str, key: str | None = SANDBOX_API_KEY, **params):
    query = [(name, str(value)) for name, value in params.items()]
    if key is not None:
        query.append(("key", key))
    response = sandbox.handle(SandboxRequest("GET", "www.googleapis.com", f"/youtube/v3/{resource}", query, {}, b""))
    # What goes over the wire is JSON: compare shapes after a round trip.
    return response.status, json.loads(json.dumps(response.body))


def recorded(name: str):
    return json.loads((REALDATA / f"python-youtube__{name}.json").read_text())["body"]


def socialpulse_posts(world, day_offset: int):
    """The channel's posts of one day before NOW's date, oldest first."""
    account = world.account("youtube", "@socialpulse")
    start = datetime(2026, 3, 10, tzinfo=timezone.utc) - timedelta(days=day_offset)
    return [p for p in reversed(world.posts(account)) if start <= p.published_at < start + timedelta(days=1)]


def reason(body) -> str:
    return body["error"]["errors"][0]["reason"]


# -- ids ----------------------------------------------------------------------------------


def test_channel_ids_are_fixed_and_well_formed():
    assert {handle: channel_id_for(handle) for _, handle in YouTubeEmulation.catalog[:5]} == CHANNEL_IDS
    assert channel_id_for("@SocialPulse") == CHANNEL_IDS["@socialpulse"]
    for channel_id in CHANNEL_IDS.values():
        assert re.fullmatch(r"UC[0-9A-Za-z_-]{22}", channel_id)
    assert uploads_playlist_id("UCVQt5N4mmppOyoJ7RiFbRoA") == "UUVQt5N4mmppOyoJ7RiFbRoA"


def test_ids_are_reversible(world):
    post = socialpulse_posts(world, 1)[0]
    video_id = video_id_for(post.uid)
    assert re.fullmatch(r"[0-9A-Za-z_-]{11}", video_id)
    assert uid_from_video_id(video_id) == post.uid
    top, reply = 123_456_789_012, 123_456_789_013
    top_id = top_level_comment_id(top)
    assert re.fullmatch(r"Ug[wxyz][0-9A-Za-z_-]{16}4AaABAg", top_id)
    assert uid_from_top_level_id(top_id) == top
    reply_id = reply_comment_id(top, reply)
    thread_id, _, own_part = reply_id.partition(".")
    assert thread_id == top_id and len(own_part) == 22
    assert uid_of_token(own_part, 16, "reply") == reply  # the engine's token, scoped to replies
    assert uid_from_video_id("D-lhorsDlUQ") is None or uid_from_video_id("D-lhorsDlUQ") != post.uid
    assert uid_of_token("8wWQ3tdHcFx8xcDheui-qb", 16, "reply") is None  # a recorded reply id's own part
    assert uid_from_video_id("short") is None


# -- shapes against the recorded responses ------------------------------------------------


def shape(value, prefix: str = "") -> dict[str, type]:
    """Every key path of a JSON value with the type found there (lists: their first element)."""
    if isinstance(value, dict):
        found = {prefix: dict} if prefix else {}
        for key, inner in value.items():
            found |= shape(inner, f"{prefix}.{key}" if prefix else key)
        return found
    if isinstance(value, list):
        return {prefix: list} | (shape(value[0], prefix + "[]") if value else {})
    return {prefix: type(value)}


def assert_same_shape(sandbox_json, recorded_json, not_served: set[str] = frozenset()):
    """Each recorded key path exists in the sandbox answer with the same JSON type."""
    ours, theirs = shape(sandbox_json), shape(recorded_json)
    missing = {path for path in theirs if path not in ours and not any(path.startswith(n) for n in not_served)}
    assert not missing, f"sandbox lacks {sorted(missing)}"
    wrong = {path: (ours[path], kind) for path, kind in theirs.items() if path in ours and ours[path] is not kind}
    assert not wrong, f"types differ: {wrong}"


def test_video_shape_matches_recorded(world, youtube):
    post = socialpulse_posts(world, 28)[0]
    status, body = get(youtube, "videos", part="snippet,contentDetails,status,statistics", id=video_id_for(post.uid))
    assert status == 200
    # dislikeCount is no longer public; defaultLanguage is only set on some videos.
    assert_same_shape(body, recorded("videos_list_full_parts"),
                      {"items[].statistics.dislikeCount", "items[].snippet.defaultLanguage"})


def test_channel_shape_matches_recorded(youtube):
    status, body = get(youtube, "channels", part="snippet,contentDetails,statistics", id=CHANNEL_IDS["@duckdblabs"])
    assert status == 200
    assert_same_shape(body, recorded("channels_list_multi_parts"), {"items[].brandingSettings"})
    assert_same_shape(body, recorded("channels_list_single_statistics"), {"items[].statistics.commentCount"})


def test_playlist_items_shape_matches_recorded(youtube):
    status, body = get(youtube, "playlistItems", part="snippet", playlistId="UU" + CHANNEL_IDS["@socialpulse"][2:],
                       maxResults=10)
    assert status == 200
    assert_same_shape(body, recorded("playlist_items_p1"))
    status, page2 = get(youtube, "playlistItems", part="snippet", playlistId="UU" + CHANNEL_IDS["@socialpulse"][2:],
                        maxResults=10, pageToken=body["nextPageToken"])
    assert_same_shape(page2, recorded("playlist_items_p2_last"))


def test_comment_shapes_match_recorded(world, youtube):
    post = max(socialpulse_posts(world, 29), key=world.comment_count)  # 2026-02-09
    status, threads = get(youtube, "commentThreads", part="snippet,replies", videoId=video_id_for(post.uid), maxResults=5)
    assert status == 200
    assert_same_shape(threads, recorded("comment_threads_by_video_p1"))
    _, all_threads = get(youtube, "commentThreads", part="snippet,replies", videoId=video_id_for(post.uid), maxResults=100)
    with_replies = max(all_threads["items"], key=lambda t: t["snippet"]["totalReplyCount"])
    assert with_replies["snippet"]["totalReplyCount"] > 2  # so comments.list below has a next page
    assert_same_shape(with_replies, recorded("comment_thread_item_with_replies"))
    status, replies = get(youtube, "comments", part="snippet", parentId=with_replies["id"], maxResults=2)
    assert_same_shape(replies, recorded("comments_by_parent_p1"))
    # Like the recorded answers: thread comments name their video, comments.list replies do not.
    assert with_replies["replies"]["comments"][0]["snippet"]["videoId"] == video_id_for(post.uid)
    assert "videoId" not in replies["items"][0]["snippet"]
    assert "totalResults" not in replies["pageInfo"]


def test_sandbox_answers_normalize(world, youtube):
    post = max(socialpulse_posts(world, 29), key=world.comment_count)
    assert normalize_posts(get(youtube, "videos", part="snippet,statistics", id=video_id_for(post.uid))[1]).records
    assert normalize_profiles(get(youtube, "channels", part="snippet,statistics", id=CHANNEL_IDS["@dagsterio"])[1]).records
    threads = normalize_comments(get(youtube, "commentThreads", part="snippet,replies", videoId=video_id_for(post.uid))[1])
    assert threads.records and threads.rejected == []


# -- the world, rendered ------------------------------------------------------------------


def test_video_statistics_are_the_worlds_counts_as_strings(world, youtube):
    post = max(socialpulse_posts(world, 29), key=world.comment_count)
    assert not youtube.likes_hidden(post) and not youtube.comments_disabled(post)
    _, body = get(youtube, "videos", part="statistics,snippet", id=video_id_for(post.uid))
    stats = body["items"][0]["statistics"]
    assert stats == {"viewCount": str(post.views(NOW)), "likeCount": str(post.likes(NOW)), "favoriteCount": "0",
                     "commentCount": str(world.comment_count(post))}
    assert body["items"][0]["snippet"]["publishedAt"] == post.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_hidden_likes_and_disabled_comments(world, youtube):
    posts = socialpulse_posts(world, 29)
    hidden = next(p for p in posts if youtube.likes_hidden(p))
    disabled = next(p for p in posts if youtube.comments_disabled(p))
    _, body = get(youtube, "videos", part="statistics", id=f"{video_id_for(hidden.uid)},{video_id_for(disabled.uid)}")
    by_id = {item["id"]: item["statistics"] for item in body["items"]}
    assert "likeCount" not in by_id[video_id_for(hidden.uid)]
    assert "commentCount" not in by_id[video_id_for(disabled.uid)]
    status, error = get(youtube, "commentThreads", part="snippet", videoId=video_id_for(disabled.uid))
    assert (status, reason(error), error["error"]["code"]) == (403, "commentsDisabled", 403)


def test_channel_profile(world, youtube):
    account = world.account("youtube", "@socialpulse")
    _, body = get(youtube, "channels", part="snippet,statistics,contentDetails", id=CHANNEL_IDS["@socialpulse"])
    [channel] = body["items"]
    followers = account.followers(NOW)
    step = 10 ** (len(str(followers)) - 3)
    assert channel["statistics"]["subscriberCount"] == str(followers // step * step)  # 3 significant figures
    assert channel["statistics"]["videoCount"] == str(len(world.posts(account)))
    assert channel["snippet"]["customUrl"] == "@socialpulse"
    assert channel["contentDetails"]["relatedPlaylists"]["uploads"] == "UUVQt5N4mmppOyoJ7RiFbRoA"
    _, hidden = get(youtube, "channels", part="statistics", id=CHANNEL_IDS["@brandstudio"])
    assert hidden["items"][0]["statistics"]["hiddenSubscriberCount"] is True
    assert "subscriberCount" not in hidden["items"][0]["statistics"]
    assert normalize_profiles(hidden).records[0].followers is None


def test_uploads_playlist_pages_through_the_worlds_posts_newest_first(world, youtube):
    account = world.account("youtube", "@socialpulse")
    expected = [video_id_for(p.uid) for p, _ in zip(world.iter_posts_newest_first(account), range(120))]
    seen, token, pages = [], None, 0
    while len(seen) < 120:
        params = {"pageToken": token} if token else {}
        status, body = get(youtube, "playlistItems", part="contentDetails", playlistId="UUVQt5N4mmppOyoJ7RiFbRoA",
                           maxResults=50, **params)
        assert status == 200 and len(body["items"]) == 50
        seen += [item["contentDetails"]["videoId"] for item in body["items"]]
        token, pages = body["nextPageToken"], pages + 1
    assert seen[:120] == expected and pages == 3
    assert body["pageInfo"]["totalResults"] == len(world.posts(account))


def test_threads_and_replies_are_the_worlds_comments_on_two_levels(world, youtube):
    post = max(socialpulse_posts(world, 29), key=world.comment_count)
    comments = world.comments(post)
    root = {}
    for c in comments:
        root[c.index] = c.index if c.parent_index is None else root[c.parent_index]
    by_index = {c.index: c for c in comments}
    expected = {
        (top_level_comment_id(c.uid) if c.parent_index is None else reply_comment_id(by_index[root[c.index]].uid, c.uid))
        for c in comments
    }
    got: set[str] = set()
    _, threads = get(youtube, "commentThreads", part="snippet,replies", videoId=video_id_for(post.uid),
                     maxResults=100, textFormat="plainText")
    assert "nextPageToken" not in threads
    for thread in threads["items"]:
        got.add(thread["id"])
        inline = thread.get("replies", {}).get("comments", [])
        assert len(inline) <= 5
        total = thread["snippet"]["totalReplyCount"]
        _, listed = get(youtube, "comments", part="snippet", parentId=thread["id"], maxResults=100)
        assert len(listed["items"]) == total
        assert {c["id"] for c in inline} <= {c["id"] for c in listed["items"]}
        assert {c["snippet"]["parentId"] for c in listed["items"]} <= {thread["id"]}
        got |= {c["id"] for c in listed["items"]}
    assert got == expected
    assert max(t["snippet"]["totalReplyCount"] for t in threads["items"]) > 5  # some replies are not inline


def test_thread_order_and_paging(world, youtube):
    post = max(socialpulse_posts(world, 29), key=world.comment_count)
    video_id = video_id_for(post.uid)
    _, by_time = get(youtube, "commentThreads", part="snippet", videoId=video_id, maxResults=100)
    times = [t["snippet"]["topLevelComment"]["snippet"]["publishedAt"] for t in by_time["items"]]
    assert times == sorted(times, reverse=True)
    _, by_relevance = get(youtube, "commentThreads", part="snippet", videoId=video_id, maxResults=100, order="relevance")
    assert {t["id"] for t in by_relevance["items"]} == {t["id"] for t in by_time["items"]}
    assert [t["id"] for t in by_relevance["items"]] != [t["id"] for t in by_time["items"]]
    paged, token = [], None
    while True:
        _, page = get(youtube, "commentThreads", part="snippet", videoId=video_id, maxResults=7,
                      **({"pageToken": token} if token else {}))
        paged += [t["id"] for t in page["items"]]
        assert page["pageInfo"]["totalResults"] == len(page["items"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert paged == [t["id"] for t in by_time["items"]]
    assert len(paged) > 20 and math.ceil(len(paged) / 7) > 3
    _, default = get(youtube, "commentThreads", part="snippet", videoId=video_id)
    assert len(default["items"]) == 20  # default maxResults


# -- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("resource,params", [
    ("videos", {"part": "snippet", "id": "x", "maxResults": 51}),
    ("playlistItems", {"part": "snippet", "playlistId": "UUVQt5N4mmppOyoJ7RiFbRoA", "maxResults": -1}),
    ("commentThreads", {"part": "snippet", "videoId": "x", "maxResults": 0}),
    ("commentThreads", {"part": "snippet", "videoId": "x", "maxResults": 101}),
    ("comments", {"part": "snippet", "parentId": "x", "maxResults": "lots"}),
])
def test_max_results_out_of_range_is_a_400(youtube, resource, params):
    status, body = get(youtube, resource, **params)
    assert (status, reason(body)) == (400, "invalidParameter")
    assert body["error"]["errors"][0]["location"] == "maxResults"


def test_bad_parameters(youtube):
    assert reason(get(youtube, "videos", id="x")[1]) == "required"  # no part
    assert reason(get(youtube, "videos", part="snippet,nonsense", id="x")[1]) == "unknownPart"
    assert reason(get(youtube, "commentThreads", part="snippet", videoId="x", order="new")[1]) == "invalidParameter"
    status, body = get(youtube, "playlistItems", part="snippet", playlistId="UUVQt5N4mmppOyoJ7RiFbRoA",
                       pageToken="not-a-token")
    assert (status, reason(body)) == (400, "invalidPageToken")


def test_page_tokens_only_work_for_their_query(youtube):
    _, page = get(youtube, "playlistItems", part="snippet", playlistId="UUVQt5N4mmppOyoJ7RiFbRoA")
    assert len(page["items"]) == 5  # default maxResults
    status, body = get(youtube, "playlistItems", part="snippet", playlistId="UU" + CHANNEL_IDS["@dagsterio"][2:],
                       pageToken=page["nextPageToken"])
    assert (status, reason(body)) == (400, "invalidPageToken")


def test_videos_by_up_to_fifty_ids_omitting_unknown_ones(world, youtube):
    account = world.account("youtube", "@socialpulse")
    ids = [video_id_for(p.uid) for p, _ in zip(world.iter_posts_newest_first(account), range(49))]
    status, body = get(youtube, "videos", part="id", id=",".join(ids + ["AAAAAAAAAAA"]))
    assert status == 200 and [item["id"] for item in body["items"]] == ids
    status, body = get(youtube, "videos", part="id", id=",".join(ids + ["AAAAAAAAAAA", "BBBBBBBBBBB"]))
    assert (status, reason(body)) == (400, "invalidParameter")


def test_unknown_things(youtube):
    status, body = get(youtube, "channels", part="snippet", id="UC" + "x" * 22)
    assert (status, body["items"], body["pageInfo"]["totalResults"]) == (200, [], 0)
    status, body = get(youtube, "playlistItems", part="snippet", playlistId="UU" + "x" * 22)
    assert (status, reason(body)) == (404, "playlistNotFound")
    status, body = get(youtube, "commentThreads", part="snippet", videoId="AAAAAAAAAAA")
    assert (status, reason(body)) == (404, "videoNotFound")
    status, body = get(youtube, "comments", part="snippet", parentId="UgydxWWoeA7F1OdqypJ4AaABAg")
    assert (status, reason(body)) == (404, "commentNotFound")
    status, body = get(youtube, "search", part="snippet", q="x")
    assert status == 404


def test_channel_by_handle(youtube):
    _, body = get(youtube, "channels", part="id", forHandle="@datatalksclub")
    assert [item["id"] for item in body["items"]] == [CHANNEL_IDS["@datatalksclub"]]


# -- key and quota ------------------------------------------------------------------------


def test_wrong_key_gets_the_recorded_key_invalid_answer(youtube):
    status, body = get(youtube, "channels", key="AIza-wrong", part="id", id=CHANNEL_IDS["@dagsterio"])
    assert (status, body) == (400, recorded("err_400_key_invalid"))
    status, body = get(youtube, "channels", key=None, part="id", id=CHANNEL_IDS["@dagsterio"])
    assert (status, reason(body)) == (403, "forbidden")
    assert youtube.units_used() == 0  # no project to charge


def test_every_request_costs_a_unit_until_the_quota_is_gone(youtube):
    youtube.daily_quota = 3
    assert get(youtube, "channels", part="id", id=CHANNEL_IDS["@dagsterio"])[0] == 200
    assert get(youtube, "videos", part="snippet", id="x", maxResults=99)[0] == 400  # invalid ones cost too
    assert get(youtube, "nothing-here", part="id")[0] == 404
    assert youtube.units_used() == 3
    status, body = get(youtube, "channels", part="id", id=CHANNEL_IDS["@dagsterio"])
    error = body["error"]
    assert (status, error["code"], reason(body)) == (403, 403, "quotaExceeded")
    assert error["errors"][0]["domain"] == "youtube.quota"
    assert youtube.units_used() == 3


def test_quota_resets_at_midnight_pacific_by_wall_clock_not_world_clock(youtube):
    youtube.daily_quota = 1
    youtube.wall_clock = lambda: datetime(2026, 1, 15, 7, 59, tzinfo=timezone.utc).timestamp()  # 23:59 PST, Jan 14
    assert get(youtube, "channels", part="id", id=CHANNEL_IDS["@dagsterio"])[0] == 200
    assert get(youtube, "channels", part="id", id=CHANNEL_IDS["@duckdblabs"])[0] == 403
    youtube.wall_clock = lambda: datetime(2026, 1, 15, 8, 0, 1, tzinfo=timezone.utc).timestamp()  # 00:00:01 PST, Jan 15
    assert get(youtube, "channels", part="id", id=CHANNEL_IDS["@duckdblabs"])[0] == 200
    assert youtube.world.now() == NOW  # the world's clock played no part
