"""The YouTube collector against the sandbox: in process and over real HTTP."""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from pydantic import ValidationError

from social_assets.connections import Connection
from social_assets.core.errors import ApiError, AuthError, TransientApiError
from social_assets.core.http import LandedResponse
from social_assets.platforms.base import DayWindow
from social_assets.platforms.youtube import PLATFORM
from social_assets.platforms.youtube.spec import YouTubeSource
from social_assets.platforms.youtube.walk import ChannelNotFoundError, QuotaExceededError, YouTubeWalk
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.sandbox.platforms.youtube import (
    SANDBOX_API_KEY,
    YouTubeEmulation,
    _threads,
    channel_id_for,
    reply_comment_id,
    top_level_comment_id,
    video_id_for,
)
from social_assets.sandbox.app import LoopbackSandboxTransport, Sandbox, SandboxTransport, make_server
from social_assets.sandbox.world import SandboxClock, World, WorldAccount
from social_assets_tests.clients import TestConnection, walk

NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
SOCIALPULSE = channel_id_for("@socialpulse")
# 2026-02-09 on @socialpulse: six videos, one with comments disabled, one with hidden likes,
# and threads with more replies than come inline (asserted below, not assumed).
BUSY_DAY = DayWindow(datetime(2026, 2, 9, tzinfo=timezone.utc), datetime(2026, 2, 10, tzinfo=timezone.utc))


@dataclass
class Run:
    sandbox: Sandbox
    collector: YouTubeWalk
    landed: list[LandedResponse]

    @property
    def youtube(self) -> YouTubeEmulation:
        return self.sandbox.platforms["youtube"]

    @property
    def world(self) -> World:
        return self.sandbox.world

    def calls(self, resource: str) -> list[LandedResponse]:
        return [r for r in self.landed if r.endpoint.endswith(f"/youtube/v3/{resource}")]

    @property
    def data_api(self) -> list[LandedResponse]:
        """The Data API's answers (not the Analytics report, which costs no Data API unit)."""
        return [r for r in self.landed if "/youtube/v3/" in r.endpoint]


def new_sandbox() -> Sandbox:
    return Sandbox(clock=SandboxClock(NOW))


def collect(source: YouTubeSource, window: DayWindow = BUSY_DAY, *, sandbox: Sandbox | None = None,
            transport: httpx.BaseTransport | None = None, key: str = SANDBOX_API_KEY) -> Run:
    sandbox = sandbox or new_sandbox()
    landed: list[LandedResponse] = []
    http = httpx.Client(transport=transport or SandboxTransport(sandbox))
    client = TestConnection(PLATFORM, http, environ={"YOUTUBE_API_KEY": key}).client(source, landed.append)
    return Run(sandbox, walk(PLATFORM, client, source, window), landed)


def walk_day(collector: YouTubeWalk, window: DayWindow = BUSY_DAY) -> None:
    from social_assets.collection import walk_source

    walk_source(PLATFORM, collector, collector.source, window)


def source(**options) -> YouTubeSource:
    return YouTubeSource(channel=SOCIALPULSE, **options)


def account(world: World) -> WorldAccount:
    return world.account("youtube", "@socialpulse")


def posts_in(world: World, window: DayWindow):
    """The world's posts in the window, newest first (the uploads playlist's order)."""
    return [p for p in world.posts(account(world)) if p.published_at in window]


def collected_posts(run: Run):
    return [r for l in run.landed if l.resource == "posts" and l.normalize
            for r in normalize_posts(json.loads(l.body)).records]


def collected_comments(run: Run):
    """Every comment landed, normalized as the pipeline does: with the landed context."""
    records = []
    for landed in run.landed:
        if landed.resource == "comments" and landed.status == 200:
            result = normalize_comments(json.loads(landed.body), **landed.context)
            assert result.rejected == []
            records += result.records
    return records


def expected_comment_ids(world: World, post) -> dict[str, tuple[int, str | None]]:
    """comment id -> (depth, parent id) as YouTube shows the post's world comments."""
    comments = world.comments(post)
    by_index = {c.index: c for c in comments}
    root: dict[int, int] = {}
    expected = {}
    for c in comments:
        root[c.index] = c.index if c.parent_index is None else root[c.parent_index]
        top = by_index[root[c.index]]
        if c.parent_index is None:
            expected[top_level_comment_id(c.uid)] = (0, None)
        else:
            expected[reply_comment_id(top.uid, c.uid)] = (1, top_level_comment_id(top.uid))
    return expected


def minimal_units(world: World, youtube: YouTubeEmulation, window: DayWindow, src: YouTubeSource) -> int:
    """The fewest list calls that collect `src` for `window`, computed from the world."""
    newest_first = world.posts(account(world))
    wanted = [p for p in newest_first if p.published_at in window][: src.post_limit]
    if len(wanted) == src.post_limit:  # stop on the page holding the last wanted upload
        last_position = newest_first.index(wanted[-1])
    else:  # stop on the page holding the first upload older than the window
        older = [i for i, p in enumerate(newest_first) if p.published_at < window.start]
        last_position = older[0] if older else len(newest_first) - 1
    units = 1 + (last_position // 50 + 1) + math.ceil(len(wanted) / 50)
    for post in wanted if src.collect_comments else []:
        if youtube.comments_disabled(post):
            units += 1  # asked, answered 403 commentsDisabled
        elif world.comment_count(post):
            threads = _threads(world, post)
            units += math.ceil(len(threads) / 100)
            if src.comment_depth >= 1:
                units += sum(math.ceil(len(t.replies) / 100) for t in threads if len(t.replies) > 5)
    return units


# -- the source ---------------------------------------------------------------------------


def test_source_takes_channel_ids_only():
    assert YouTubeSource(channel=SOCIALPULSE).account_id == SOCIALPULSE
    with pytest.raises(ValidationError, match="'@socialpulse' is not a YouTube channel id.*handle"):
        YouTubeSource(channel="@socialpulse")
    with pytest.raises(ValidationError, match="'UCshort'"):
        YouTubeSource(channel="UCshort")
    with pytest.raises(ValidationError):
        YouTubeSource(channel=SOCIALPULSE, sort="new")
    assert PLATFORM.source_type is YouTubeSource
    assert PLATFORM.credentials == ("YOUTUBE_API_KEY", "YOUTUBE_CLIENT_ID", "YOUTUBE_CLIENT_SECRET", "YOUTUBE_REFRESH_TOKEN")


# -- collecting a day ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_day() -> Run:
    return collect(source())


def test_collects_exactly_the_worlds_posts_of_the_day(busy_day):
    world, youtube = busy_day.world, busy_day.youtube
    expected = posts_in(world, BUSY_DAY)
    assert len(expected) == 6
    records = {r.post_id: r for r in collected_posts(busy_day)}
    assert set(records) == {video_id_for(p.uid) for p in expected}
    assert any(youtube.likes_hidden(p) for p in expected)
    for post in expected:
        record = records[video_id_for(post.uid)]
        assert record.views == post.views(NOW)
        assert record.likes == (None if youtube.likes_hidden(post) else post.likes(NOW))
        assert record.comments == (None if youtube.comments_disabled(post) else world.comment_count(post))
        assert record.published_at == post.published_at
        assert record.author_id == SOCIALPULSE


def test_lands_the_profile_and_the_playlist_index(busy_day):
    [profile_call] = busy_day.calls("channels")
    [profile] = normalize_profiles(json.loads(profile_call.body)).records
    assert (profile.account_id, profile.username) == (SOCIALPULSE, "@socialpulse")
    index_calls = [l for l in busy_day.landed if not l.normalize]
    assert index_calls and index_calls == busy_day.calls("playlistItems")
    assert {l.resource for l in index_calls} == {"posts"}


def test_collects_every_comment_of_the_days_videos(busy_day):
    world, youtube = busy_day.world, busy_day.youtube
    records = collected_comments(busy_day)
    by_post = {}
    for record in records:
        by_post.setdefault(record.post_id, {})[record.comment_id] = record
    for post in posts_in(world, BUSY_DAY):
        video_id = video_id_for(post.uid)
        if youtube.comments_disabled(post):
            assert video_id not in by_post
            continue
        expected = expected_comment_ids(world, post)
        got = by_post.get(video_id, {})
        assert {cid: (r.depth, r.parent_id) for cid, r in got.items()} == expected
        texts = {top_level_comment_id(c.uid) if c.parent_index is None else None: c.text for c in world.comments(post)}
        assert all(got[cid].text == text for cid, text in texts.items() if cid)
    # Inline replies come again in their thread's full listing: the same records, nothing else twice.
    repeated = {cid for cid, n in Counter(r.comment_id for r in records).items() if n > 1}
    listed_threads = {l.params["parentId"] for l in busy_day.calls("comments")}
    assert repeated and {cid.split(".")[0] for cid in repeated} <= listed_threads
    assert all(len({r for r in records if r.comment_id == cid}) == 1 for cid in repeated)
    # The day exercises the replies listing: threads with more than five replies.
    assert busy_day.calls("comments")
    # Replies pages carry their video in the landed context (their bodies do not say it).
    assert all(l.context.get("video_id") for l in busy_day.calls("comments"))


def test_comments_disabled_is_no_comments_not_a_failure(busy_day):
    refused = [l for l in busy_day.calls("commentThreads") if l.status == 403]
    assert len(refused) == 1
    assert json.loads(refused[0].body)["error"]["errors"][0]["reason"] == "commentsDisabled"


def test_replies_listed_by_parent_need_the_video_hint(busy_day):
    listing = busy_day.calls("comments")[0]
    result = normalize_comments(json.loads(listing.body))
    assert result.records == [] and {r.reason for r in result.rejected} == {"reply carries no videoId"}


def test_units_spent_are_the_calls_made_and_the_fewest_possible(busy_day):
    run = busy_day
    assert run.collector.units_spent == len(run.data_api) == run.youtube.units_used()
    assert run.collector.units_spent == minimal_units(run.world, run.youtube, BUSY_DAY, source())
    requests = Counter((l.endpoint, tuple(sorted(l.params.items()))) for l in run.landed)
    assert max(requests.values()) == 1  # never the same request twice
    assert not run.calls("search")
    assert all("key" not in l.params for l in run.landed)


def test_request_parameters(busy_day):
    [channels] = busy_day.calls("channels")
    assert channels.params == {"part": "snippet,statistics,contentDetails", "id": SOCIALPULSE}
    first_index = busy_day.calls("playlistItems")[0].params
    assert first_index == {"part": "contentDetails,snippet", "playlistId": "UU" + SOCIALPULSE[2:], "maxResults": "50"}
    thread_call = busy_day.calls("commentThreads")[0].params
    assert thread_call | {"videoId": "-"} == {"part": "snippet,replies", "videoId": "-", "maxResults": "100",
                                              "order": "time", "textFormat": "plainText"}
    reply_call = busy_day.calls("comments")[0].params
    assert reply_call | {"parentId": "-"} == {"part": "snippet", "parentId": "-", "maxResults": "100",
                                              "textFormat": "plainText"}


def test_videos_are_fetched_fifty_at_a_time():
    month = DayWindow(datetime(2026, 1, 20, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc))
    src = source(collect_comments=False, post_limit=1000)
    run = collect(src, month)
    expected = posts_in(run.world, month)
    assert len(expected) > 50
    video_calls = run.calls("videos")
    full, rest = divmod(len(expected), 50)
    assert [len(c.params["id"].split(",")) for c in video_calls] == [50] * full + ([rest] if rest else [])
    assert {r.post_id for r in collected_posts(run)} == {video_id_for(p.uid) for p in expected}
    assert len(run.calls("playlistItems")) >= 2
    assert run.collector.units_spent == len(run.data_api) == minimal_units(run.world, run.youtube, month, src)


def test_post_limit_keeps_the_newest_posts_of_the_day():
    src = source(post_limit=2)
    run = collect(src)
    newest_two = posts_in(run.world, BUSY_DAY)[:2]
    assert [r.post_id for r in collected_posts(run)] == [video_id_for(p.uid) for p in newest_two]
    assert {l.params["videoId"] for l in run.calls("commentThreads")} <= {video_id_for(p.uid) for p in newest_two}
    assert run.collector.units_spent == minimal_units(run.world, run.youtube, BUSY_DAY, src)


def test_comment_depth_zero_reads_top_level_comments_only():
    src = source(comment_depth=0)
    run = collect(src)
    assert not run.calls("comments")
    assert {l.params["part"] for l in run.calls("commentThreads")} == {"snippet"}
    records = collected_comments(run)
    assert records and {r.depth for r in records} == {0}
    expected = {cid for p in posts_in(run.world, BUSY_DAY) if not run.youtube.comments_disabled(p)
                for cid, (depth, _) in expected_comment_ids(run.world, p).items() if depth == 0}
    assert {r.comment_id for r in records} == expected
    assert run.collector.units_spent == minimal_units(run.world, run.youtube, BUSY_DAY, src)


def test_no_comment_calls_for_videos_without_comments_or_when_not_wanted():
    # Minutes after @socialpulse's last video of 2026-03-09 (every video draws comments, later).
    yesterday = DayWindow(datetime(2026, 3, 9, tzinfo=timezone.utc), datetime(2026, 3, 10, tzinfo=timezone.utc))
    minutes_after = Sandbox(clock=SandboxClock(datetime(2026, 3, 9, 22, 40, tzinfo=timezone.utc)))
    run = collect(source(), yesterday, sandbox=minutes_after)
    silent = [p for p in posts_in(run.world, yesterday)
              if run.world.comment_count(p) == 0 and not run.youtube.comments_disabled(p)]
    assert silent, "the day should hold a video nobody commented on yet"
    asked = {l.params["videoId"] for l in run.calls("commentThreads")}
    assert not asked & {video_id_for(p.uid) for p in silent}
    assert run.collector.units_spent == minimal_units(run.world, run.youtube, yesterday, source())
    quiet = collect(source(collect_comments=False))
    assert not quiet.calls("commentThreads") and not quiet.calls("comments")


def test_relevance_sort_is_the_comment_order():
    run = collect(source(sort="relevance", post_limit=1))
    assert {l.params["order"] for l in run.calls("commentThreads")} == {"relevance"}


def test_unknown_channel_is_a_clear_error():
    with pytest.raises(ChannelNotFoundError, match="UC0123456789abcdefghijkl does not exist"):
        collect(YouTubeSource(channel="UC0123456789abcdefghijkl"))


# -- credentials and quota ----------------------------------------------------------------


def test_a_bad_key_names_the_variable_but_not_the_key():
    wrong_key = "AIzaSy-this-is-not-the-sandbox-key-000"
    sandbox = new_sandbox()
    with pytest.raises(AuthError) as raised:
        collect(source(), sandbox=sandbox, key=wrong_key)
    message = str(raised.value)
    assert "YOUTUBE_API_KEY" in message and "keyInvalid" in message
    assert wrong_key not in message and "key=" not in message


def test_a_missing_key_fails_before_any_call():
    sandbox = new_sandbox()
    live = Connection(PLATFORM, "live", httpx.Client(transport=SandboxTransport(sandbox)), {})
    with pytest.raises(AuthError, match=f"youtube source {SOCIALPULSE}: YOUTUBE_API_KEY not set"):
        live.client(source())
    assert sandbox.platforms["youtube"].units_used() == 0


def test_quota_exhaustion_stops_the_run_with_a_quota_error():
    sandbox = new_sandbox()
    sandbox.platforms["youtube"].daily_quota = 4
    landed: list[LandedResponse] = []
    client = TestConnection(PLATFORM, httpx.Client(transport=SandboxTransport(sandbox))).client(source(), landed.append)
    collector = YouTubeWalk(client, source())
    with pytest.raises(QuotaExceededError) as raised:
        walk_day(collector)
    error = raised.value
    assert isinstance(error, ApiError) and not isinstance(error, TransientApiError)
    assert error.status == 403
    assert "quotaExceeded" in str(error) and "10,000 units" in str(error) and "America/Los_Angeles" in str(error)
    assert client.session.stats.retries == 0  # not retried
    assert collector.units_spent == 4 == sandbox.platforms["youtube"].units_used()
    assert error.resets_at.utcoffset() in (timedelta(hours=-8), timedelta(hours=-7))
    assert (error.resets_at.hour, error.resets_at.minute) == (0, 0)


# -- over real HTTP -----------------------------------------------------------------------


def test_the_same_collection_over_real_http(busy_day):
    served = new_sandbox()
    server = make_server(served, port=0)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.02), daemon=True)
    thread.start()
    try:
        transport = LoopbackSandboxTransport(f"http://127.0.0.1:{server.server_address[1]}")
        over_http = collect(source(), sandbox=served, transport=transport)
    finally:
        server.shutdown()
        server.server_close()

    def summary(run: Run):
        return [(l.resource, l.normalize, l.endpoint, l.params, l.status, json.loads(l.body)) for l in run.landed]
    assert summary(over_http) == summary(busy_day)
    assert over_http.collector.units_spent == busy_day.collector.units_spent
