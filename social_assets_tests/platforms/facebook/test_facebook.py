"""Facebook Pages: shares that Graph leaves out, comments and their replies from a day of the
sandbox, the sandbox's posts page in the shape of the recorded feed, the refresh by `?ids=`, and a
refused Page token named as a configuration error of its source."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.core.errors import AuthError
from social_assets.platforms.base import DayWindow
from social_assets.platforms.facebook import PLATFORM as FACEBOOK
from social_assets.platforms.facebook.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.facebook.spec import FacebookSource
from social_assets.platforms.facebook.walk import refresh
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.facebook import comment_id_for, post_id_for
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection, sandbox_client, walk
from social_assets_tests.conftest import REALDATA
from social_assets_tests.contract.test_contract import shape_problems

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))
SOURCE = FacebookSource(page="sandboxcafe")


def recorded(name: str):
    return json.loads((REALDATA / "facebook" / f"python-facebook__{name}.json").read_text())["body"]


def test_shares_left_out_by_graph_are_zero_when_the_counts_were_asked_for_and_unknown_otherwise():
    post = {"id": "1_2", "created_time": "2026-11-19T08:00:00+0000", "message": "hi"}
    counted = {**post, "reactions": {"data": [], "summary": {"total_count": 4}},
               "comments": {"data": [], "summary": {"total_count": 1}}}
    shared = {**counted, "id": "1_3", "shares": {"count": 7}}
    records = normalize_posts({"data": [counted, shared, {**post, "id": "1_4"}]}).records
    assert [(r.likes, r.comments, r.shares) for r in records] == [(4, 1, 0), (4, 1, 7), (None, None, None)]
    assert records[0].author_id == "1" and records[0].views is None


def test_a_page_s_followers_and_comments_withheld_ids():
    [page] = normalize_profiles(recorded("page_profile_default_fields")).records
    assert page.followers == recorded("page_profile_default_fields")["fan_count"]  # no followers_count asked: fan_count
    result = normalize_comments(recorded("post_comments_p1"), post_id="19292868552_10158407654328553")
    assert result.records == [] and all("has no id" in r.reason for r in result.rejected)


def test_the_sandbox_posts_page_has_the_shape_of_the_recorded_feed():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    landed: list = []
    client = sandbox_client(FACEBOOK, httpx.Client(transport=SandboxTransport(box)), SOURCE, landed.append)
    walk(FACEBOOK, client, SOURCE, DayWindow(DAY.start - timedelta(days=6), DAY.end))
    pages = [json.loads(x.body) for x in landed if x.resource == "posts"]
    assert pages and all(shape_problems(body, recorded("page_feed_p1")) == [] for body in pages if body["data"])


def test_a_day_gives_the_page_s_posts_and_every_comment_and_reply():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=5)
    landed: list = []
    client = sandbox_client(FACEBOOK, httpx.Client(transport=SandboxTransport(box)), SOURCE, landed.append)
    walk(FACEBOOK, client, SOURCE, DAY)
    page = box.world.account("facebook", "sandboxcafe")
    day_posts = box.world.posts_on(page, DAY.start.date())
    posts = [r for x in landed if x.resource == "posts" for r in normalize_posts(json.loads(x.body)).records]
    assert {r.post_id for r in posts} == {post_id_for(p) for p in day_posts}
    assert all(r.likes is not None and r.comments is not None and r.shares is not None for r in posts)
    comments = {c.comment_id: c for x in landed if x.resource == "comments"
                for c in normalize_comments(json.loads(x.body), **x.context).records}
    assert set(comments) == {comment_id_for(c) for p in day_posts for c in box.world.comments(p)}
    assert {c.depth for c in comments.values()} == {0, 1}
    assert all(comments[c.parent_id].depth == 0 for c in comments.values() if c.parent_id)


def test_the_refresh_looks_up_fifty_posts_a_call():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    page = box.world.account("facebook", "sandboxcafe")
    ids = [post_id_for(p) for p in box.world.posts(page, since=NOW - timedelta(days=120))][:70]
    assert len(ids) == 70
    landed: list = []
    refresh(sandbox_client(FACEBOOK, httpx.Client(transport=SandboxTransport(box)), None, landed.append), ids)
    assert [len(x.params["ids"].split(",")) for x in landed] == [50, 20]
    assert [r.post_id for x in landed for r in normalize_posts(json.loads(x.body)).records] == ids


def test_the_refresh_reports_a_deleted_post_gone_and_still_refreshes_the_rest_of_its_batch():
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    posts = box.world.posts(box.world.account("facebook", "sandboxcafe"), since=NOW - timedelta(days=120))[:70]
    box.world.delete(posts[55], at=NOW - timedelta(hours=1))
    ids = [post_id_for(p) for p in posts]
    landed: list = []
    gone = refresh(sandbox_client(FACEBOOK, httpx.Client(transport=SandboxTransport(box)), None, landed.append), ids)
    assert [(g.resource, g.item_id) for g in gone] == [("posts", ids[55])] and "subcode 33" in gone[0].reason
    records = [r.post_id for x in landed if x.status == 200 for r in normalize_posts(json.loads(x.body)).records]
    assert records == ids[:55] + ids[56:]


def test_a_refused_page_token_is_a_configuration_error_naming_the_source_and_its_variable():
    revoked = "EAArevoked-planted-page-token-0002"
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials={})
    source = FacebookSource(page="sandboxcafe", credentials={"FACEBOOK_PAGE_TOKEN": "CAFE_PAGE_TOKEN"})
    connection = TestConnection(FACEBOOK, httpx.Client(transport=SandboxTransport(box)), {"CAFE_PAGE_TOKEN": revoked})
    with pytest.raises(AuthError) as refused:
        walk(FACEBOOK, connection.client(source), source, DAY)
    message = str(refused.value)
    assert "facebook source sandboxcafe" in message and "CAFE_PAGE_TOKEN" in message and "code 190" in message
    assert revoked not in message


class NoInsights(httpx.BaseTransport):
    """A token without `read_insights`: Graph refuses any request expanding insights (code 10)."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "insights" in str(request.url):
            return httpx.Response(400, json={"error": {"message": "(#10) Requires read_insights permission",
                                                       "type": "OAuthException", "code": 10, "fbtrace_id": "A"}})
        return self.inner.handle_request(request)


@pytest.mark.parametrize("allowed", [True, False])
def test_post_reach_comes_from_insights_where_the_token_allows_them(allowed):
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    transport = SandboxTransport(box) if allowed else NoInsights(SandboxTransport(box))
    landed: list = []
    walk(FACEBOOK, sandbox_client(FACEBOOK, httpx.Client(transport=transport), SOURCE, landed.append), SOURCE, DAY)
    posts = [r for x in landed if x.resource == "posts" and x.status == 200 for r in normalize_posts(json.loads(x.body)).records]
    assert posts and all((r.reach is not None) == allowed for r in posts)
    assert all(r.likes is not None for r in posts)  # the counts come either way
