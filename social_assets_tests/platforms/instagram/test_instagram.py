"""Instagram: the normalizers on Graph's shapes (insights as their own columns, null when Graph
gives none; carousel children; one level of replies; follower history from account insights),
a day read from the sandbox, the hourly refresh by `?ids=`, and the token: an expired one is a
configuration error naming the source, a refreshed one is kept in the shared store."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.core.errors import AuthError, NotFoundError
from social_assets.core.records import ApiErrorBody
from social_assets.platforms.base import DayWindow
from social_assets.platforms.instagram import PLATFORM as INSTAGRAM
from social_assets.platforms.instagram import spec
from social_assets.platforms.instagram.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.instagram.spec import InstagramSource
from social_assets.platforms.instagram.walk import refresh
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.instagram import CREDENTIALS, comment_id_for, media_id_for
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection, sandbox_client, walk
from social_assets_tests.conftest import REALDATA

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))
SOURCE = InstagramSource(user="sandbox_studio")


def recorded(name: str):
    return json.loads((REALDATA / "instagram" / f"python-facebook__{name}.json").read_text())["body"]


def metric(name: str, value: int) -> dict:
    return {"name": name, "period": "lifetime", "values": [{"value": value}], "id": f"1/insights/{name}/lifetime"}


# -- normalizers --------------------------------------------------------------------------------


def test_insights_fill_their_own_columns_and_a_metric_graph_does_not_give_stays_null():
    media = {"id": "1", "timestamp": "2026-11-19T08:00:00+0000", "media_type": "IMAGE", "like_count": 3, "comments_count": 0}
    with_insights = {**media, "insights": {"data": [metric("reach", 5), metric("saved", 0)]}}
    not_yet = {**media, "id": "2", "insights": {"data": []}}  # Graph's "unavailable": no data, not 0
    records = normalize_posts({"data": [with_insights, not_yet, {**media, "id": "3"}]}).records
    assert [(r.reach, r.saves, r.shares, r.views) for r in records] == [(5, 0, None, None), (None, None, None, None),
                                                                       (None, None, None, None)]
    assert records[0].likes == 3 and records[0].comments == 0


def test_a_carousel_is_a_gallery_of_its_children_s_media():
    [post] = normalize_posts(recorded("ig_media_carousel_single")).records
    children = recorded("ig_media_carousel_single")["children"]["data"]
    assert post.content_type == "gallery" and post.media_urls == [c["media_url"] for c in children] and len(children) > 1


def test_media_insights_alone_are_not_media_and_an_error_names_the_graph_error():
    with pytest.raises(ValueError, match="page of Instagram media"):
        normalize_posts(recorded("ig_media_insights"))
    with pytest.raises(ApiErrorBody, match="instagram API error OAuthException code 190 subcode 463"):
        normalize_posts({"error": {"message": "Session has expired", "type": "OAuthException", "code": 190,
                                   "error_subcode": 463, "fbtrace_id": "A"}})


def test_replies_hang_one_level_under_their_top_level_comment():
    body = {"data": [{"id": "10", "text": "top", "timestamp": "2026-11-19T09:00:00+0000", "username": "ann", "like_count": 2,
                      "replies": {"data": [{"id": "11", "text": "re", "timestamp": "2026-11-19T09:05:00+0000",
                                            "username": "bob", "parent_id": "10"}]}}]}
    result = normalize_comments(body, post_id="1")
    assert [(c.comment_id, c.parent_id, c.depth, c.post_id) for c in result.records] == [("10", None, 0, "1"), ("11", "10", 1, "1")]
    # A replies page: the parent comes beside the body.
    replies = normalize_comments({"data": [{"id": "12", "text": "x", "timestamp": "2026-11-19T09:06:00+0000"}]},
                                 post_id="1", parent_id="10")
    assert [(c.parent_id, c.depth) for c in replies.records] == [("10", 1)]
    # Without the media beside it, a comment cannot be placed: a reason, not a guess.
    assert normalize_comments(recorded("ig_comment_replies")).rejected[0].reason.startswith("the media it belongs to")


def test_follower_history_counts_back_from_today_s_followers_by_the_new_followers_of_each_day():
    values = [{"value": 5, "end_time": "2026-11-17T08:00:00+0000"}, {"value": 7, "end_time": "2026-11-18T08:00:00+0000"},
              {"value": 3, "end_time": "2026-11-19T08:00:00+0000"}]
    body = {"id": "178", "username": "acme", "followers_count": 1000, "follows_count": 3, "media_count": 9,
            "insights": {"data": [{"name": "follower_count", "period": "day", "values": values}]}}
    profile, *history = normalize_profiles(body).records
    assert (profile.account_id, profile.followers, profile.following, profile.posts_count) == ("@acme", 1000, 3, 9)
    assert profile.observed_at is None  # the profile itself; the past counts follow, dated
    assert [(h.account_id, h.observed_at.isoformat(), h.followers) for h in history] == [
        ("@acme", "2026-11-19T08:00:00+00:00", 1000), ("@acme", "2026-11-18T08:00:00+00:00", 997),
        ("@acme", "2026-11-17T08:00:00+00:00", 990)]
    assert len(normalize_profiles(recorded("ig_user_profile_fields")).records) == 1


# -- the sandbox --------------------------------------------------------------------------------


class Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport):
        self.inner, self.requests = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def test_a_day_gives_the_day_s_media_and_every_comment_with_replies_past_the_expansion():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=12)  # threads longer than one expansion
    landed: list = []
    client = sandbox_client(INSTAGRAM, httpx.Client(transport=SandboxTransport(box)), SOURCE, landed.append)
    walk(INSTAGRAM, client, SOURCE, DAY)
    account = box.world.account("instagram", "sandbox_studio")
    day_posts = [p for p in box.world.posts_on(account, DAY.start.date())]
    posts = {r.post_id for x in landed if x.resource == "posts" for r in normalize_posts(json.loads(x.body)).records
             if r.published_at in DAY}
    assert posts == {media_id_for(p) for p in day_posts}
    comments = {c.comment_id: c for x in landed if x.resource == "comments"
                for c in normalize_comments(json.loads(x.body), **x.context).records}
    expected = [c for p in day_posts for c in box.world.comments(p)]
    assert set(comments) == {comment_id_for(c) for c in expected}
    assert {c.depth for c in comments.values()} == {0, 1}
    assert any(x.context.get("parent_id") for x in landed), "no thread ran past the replies expanded into its comment"


def test_the_refresh_looks_up_fifty_media_a_call_with_their_insights():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    account = box.world.account("instagram", "sandbox_studio")
    media = [media_id_for(p) for p in box.world.posts(account, since=NOW - timedelta(days=90))][:60]
    landed: list = []
    refresh(sandbox_client(INSTAGRAM, httpx.Client(transport=SandboxTransport(box)), None, landed.append), media)
    assert [(x.resource, x.status, len(x.params["ids"].split(","))) for x in landed] == [("posts", 200, 50), ("posts", 200, 10)]
    records = [r for x in landed for r in normalize_posts(json.loads(x.body)).records]
    assert [r.post_id for r in records] == media and all(r.reach is not None and r.views is not None for r in records)


def test_the_refresh_reports_a_deleted_media_gone_and_still_refreshes_the_rest_of_its_batch():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    posts = box.world.posts(box.world.account("instagram", "sandbox_studio"), since=NOW - timedelta(days=90))[:60]
    box.world.delete(posts[7], at=NOW - timedelta(hours=1))
    media = [media_id_for(p) for p in posts]
    landed: list = []
    gone = refresh(sandbox_client(INSTAGRAM, httpx.Client(transport=SandboxTransport(box)), None, landed.append), media)
    assert [(g.resource, g.item_id) for g in gone] == [("posts", media[7])] and "subcode 33" in gone[0].reason
    # Graph fails the whole batch for one missing id: it is asked again without it.
    records = [r.post_id for x in landed if x.status == 200 for r in normalize_posts(json.loads(x.body)).records]
    assert records == media[:7] + media[8:]


def test_a_batch_in_which_nothing_exists_any_more_purges_nothing():
    """A token that lost access to the account answers every id as a deletion does (code 100,
    subcode 33): when a whole batch answers so, the refresh fails instead of reporting it gone."""
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    posts = box.world.posts(box.world.account("instagram", "sandbox_studio"), since=NOW - timedelta(days=90))[:3]
    for post in posts:
        box.world.delete(post, at=NOW - timedelta(hours=1))
    client = sandbox_client(INSTAGRAM, httpx.Client(transport=SandboxTransport(box)), None, lambda landed: None)
    with pytest.raises(NotFoundError):
        refresh(client, [media_id_for(p) for p in posts])


def test_an_expired_token_is_a_configuration_error_naming_the_source_and_its_variable():
    expired = "IGQVJexpired-planted-token-0001"
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials={})  # does not know it
    connection = TestConnection(INSTAGRAM, httpx.Client(transport=SandboxTransport(box)), {"INSTAGRAM_ACCESS_TOKEN": expired})
    with pytest.raises(AuthError) as refused:
        connection.client(SOURCE).get("/me", params={"fields": "id,username"})
    message = str(refused.value)
    assert "@sandbox_studio" in message and "INSTAGRAM_ACCESS_TOKEN" in message and "code 190" in message
    assert expired not in message


def test_the_token_is_refreshed_before_it_expires_and_kept_for_every_client(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(spec, "FIRST_REFRESH_AFTER", 0.5)  # instead of the day a new token must age
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    transport = Recording(SandboxTransport(box))
    http = httpx.Client(transport=transport)
    client = sandbox_client(INSTAGRAM, http, SOURCE)
    client.get("/me", params={"fields": "id"})
    time.sleep(0.6)
    client.get("/me", params={"fields": "id,username"})
    later = sandbox_client(INSTAGRAM, http, SOURCE)  # another client (run, process) of the same token and store
    later.get("/me", params={"fields": "id,username,followers_count"})
    sent = [(r.url.path, r.headers.get("authorization", "")) for r in transport.requests]
    configured = CREDENTIALS["INSTAGRAM_ACCESS_TOKEN"]
    assert [path for path, _ in sent] == ["/v24.0/me", "/refresh_access_token", "/v24.0/me", "/v24.0/me"]
    assert sent[0][1] == f"Bearer {configured}"
    renewed = sent[2][1].removeprefix("Bearer ")
    assert renewed != configured and box.platforms["instagram"].tokens.subject(renewed) == "sandbox_studio"
    assert sent[3][1] == f"Bearer {renewed}"  # no second refresh: the store had it
    stored = json.dumps(client.session.limiter.state.store.read(client.session.limiter.state.key("token")))
    assert renewed not in stored and configured not in stored  # sealed
    assert renewed in client.session.secrets  # and scrubbed from whatever is landed
    # httpx logged the refresh's URL, whose query carries the token: not its value.
    assert "refresh_access_token" in caplog.text and "access_token=<redacted>" in caplog.text
    assert configured not in caplog.text and renewed not in caplog.text
