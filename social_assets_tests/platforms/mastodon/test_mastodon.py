"""Mastodon: recorded responses, the ISO reset, Link paging to the empty page, reply trees from
flat contexts, per-instance limits and the refresh, against the sandbox."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.core.http import LandedResponse
from social_assets.core.rest import LinkHeader
from social_assets.platforms.base import DayWindow
from social_assets.platforms.mastodon import PLATFORM as MASTODON
from social_assets.platforms.mastodon.normalize import html_to_text, normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.mastodon.spec import RATE_LIMIT_HEADERS, MastodonSource
from social_assets.platforms.mastodon.walk import MastodonWalk, refresh
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.mastodon import SANDBOX_TOKEN, account_id_for, post_id_for, reply_id_for
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection
from social_assets_tests.conftest import REALDATA

PLATFORM = "mastodon"
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))


def recorded(name: str) -> dict:
    return json.loads((REALDATA / "mastodon" / f"mastodonpy__{name}.json").read_text())


class Clock:
    """Epoch seconds shared by the client's limiter and the sandbox's windows; they move only
    when someone sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def sandbox(clock: Clock | None = None) -> Sandbox:
    box = Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials={})
    if clock is not None:
        box.platforms[PLATFORM].wall_clock = clock
    return box


def client_for(box: Sandbox, account: str, environ: dict | None = None, clock: Clock | None = None, **options):
    source = MastodonSource(account=account, **options)
    landed: list[LandedResponse] = []
    connection = TestConnection(_platform(), httpx.Client(transport=SandboxTransport(box)), environ, clock=clock)
    return source, connection.client(source, landed.append), landed


def _platform():
    return MASTODON


# -- recorded responses -----------------------------------------------------------------------


def test_the_iso_reset_of_the_recorded_headers_is_an_absolute_time():
    record = recorded("account_23972_remote")
    now = datetime(2026, 4, 11, 23, 14, 11, tzinfo=timezone.utc).timestamp()  # its Date header
    report = RATE_LIMIT_HEADERS.read(record["rate_limit_headers"], now)
    assert report.resets_at == datetime(2026, 4, 11, 23, 15, 0, 746804, tzinfo=timezone.utc).timestamp()
    assert (report.limit, report.used, report.remaining) == (300, 1, 299)


def test_recorded_statuses_become_posts_with_their_counts_and_plain_text():
    page = normalize_posts(recorded("account_statuses_page1_link")["body"])
    assert [p.post_id for p in page.records] == [s["id"] for s in recorded("account_statuses_page1_link")["body"]]
    first = page.records[0]
    assert (first.text, first.likes, first.shares, first.comments, first.views) == ("Toot number 9!", 0, 0, 0, None)
    assert first.author_username == "mastodonpy_test@localhost"

    edited = normalize_posts(recorded("status_emoji_mentions_edited")["body"]).records[0]
    # The content warning comes first, then the content.
    assert edited.text.startswith("test post for mastodon.py stuff\n\n@halcy you're a doo-doo head")
    assert "#ThisIsAHashtag" in edited.text and edited.content_type == "video"
    assert edited.media_urls[0].endswith("e6bdbd614788c2d1.mp4")
    raw = recorded("status_emoji_mentions_edited")["body"]
    assert (edited.likes, edited.shares, edited.comments) == (
        raw["favourites_count"], raw["reblogs_count"], raw["replies_count"])

    quote = normalize_posts(recorded("status_quote")["body"]).records[0]
    # A shortened link's text is replaced by its whole URL.
    assert "https://bsky.app/profile/h4lcy.bsky.social/post/3lwlumdwf522i" in quote.text
    assert "h4lc..." not in quote.text

    image = normalize_posts(recorded("status_media_image_focus")["body"]).records[0]
    assert image.content_type == "image" and image.text == "image post" and len(image.media_urls) == 1
    assert normalize_posts(recorded("status_poll")["body"]).records[0].content_type == "poll"


def test_a_reblog_is_not_the_boosters_post():
    statuses = recorded("account_statuses_page1_link")["body"]
    boost = {**statuses[1], "id": "999", "reblog": statuses[2], "content": ""}
    result = normalize_posts([statuses[0], boost])
    assert [p.post_id for p in result.records] == [statuses[0]["id"]] and result.rejected == []


def test_html_keeps_paragraphs_mentions_and_full_links():
    content = ('<p>Hi <span class="h-card"><a href="https://a.example/@bob" class="u-url mention">@<span>bob</span></a>'
               '</span> see <a href="https://example.com/a/very/long/path" rel="nofollow noopener">'
               '<span class="invisible">https://</span><span class="ellipsis">example.com/a/ve</span>'
               '<span class="invisible">ry/long/path</span></a></p><p>line<br>two &amp; more</p>')
    assert html_to_text(content) == "Hi @bob see https://example.com/a/very/long/path\n\nline\ntwo & more"


def test_the_recorded_context_rebuilds_its_one_reply_and_a_profile_names_its_instance():
    body = recorded("status_context_thread")["body"]
    [reply] = normalize_comments(body).records  # the subject is what the top-level reply answers
    assert (reply.post_id, reply.parent_id, reply.depth, reply.text) == ("110446983926957470", None, 0, "final status")
    [profile] = normalize_profiles(recorded("accounts_lookup_local")["body"]).records
    assert (profile.account_id, profile.followers, profile.posts_count) == ("@mastodonpy_test@localhost", 0, 0)
    [remote] = normalize_profiles(recorded("account_23972_remote")["body"]).records
    assert (remote.account_id, remote.followers, remote.following) == ("@halcy@icosahedron.website", 3553, 540)


# -- reply trees from flat contexts -----------------------------------------------------------


def test_the_reply_tree_is_rebuilt_from_a_flat_context():
    box = sandbox()
    world = box.world
    account = world.account(PLATFORM, "sandbox_account_03@mastodon.social")
    post = max(world.posts(account, since=NOW - timedelta(days=14)), key=lambda p: world.comment_count(p))
    comments = world.comments(post)
    assert len(comments) > 60 and max(c.depth for c in comments) >= 3  # a real tree, not a list
    source, client, landed = client_for(box, "@sandbox_account_03@mastodon.social",
                                        {"MASTODON_ACCESS_TOKEN": SANDBOX_TOKEN})
    body = client.get(f"/api/v1/statuses/{post_id_for(post)}/context")
    assert all("children" not in d and "replies" not in d for d in body["descendants"])  # flat, as Mastodon's
    result = normalize_comments(body, status_id=post_id_for(post))
    by_index = {c.index: c for c in comments}
    expected = {
        reply_id_for(c): (reply_id_for(by_index[c.parent_index]) if c.parent_index is not None else None, c.depth)
        for c in comments
    }
    assert {r.comment_id: (r.parent_id, r.depth) for r in result.records} == expected
    assert result.rejected == []


def test_logged_out_readers_get_a_short_thread_and_a_token_the_whole_one():
    box = sandbox()
    world = box.world
    account = world.account(PLATFORM, "dagster@fosstodon.org")
    post = max(world.posts(account, since=NOW - timedelta(days=30)), key=lambda p: world.comment_count(p))
    assert world.comment_count(post) > 60
    _, anonymous, _ = client_for(box, "@dagster@fosstodon.org")
    assert len(anonymous.get(f"/api/v1/statuses/{post_id_for(post)}/context")["descendants"]) == 60
    # A source names its own instance's token; the sandbox accepts its planted value.
    planted = Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials={"MASTODON_ACCESS_TOKEN": "fosstodon-secret-1"})
    _, with_token, _ = client_for(planted, "@dagster@fosstodon.org", {"FOSSTODON_TOKEN": "fosstodon-secret-1"},
                                  credentials={"MASTODON_ACCESS_TOKEN": "FOSSTODON_TOKEN"})
    full = with_token.get(f"/api/v1/statuses/{post_id_for(post)}/context")["descendants"]
    assert len(full) == world.comment_count(post)


# -- Link-header paging -----------------------------------------------------------------------


def test_link_header_paging_ends_on_an_empty_page_without_a_link():
    box = sandbox()
    account = box.world.account(PLATFORM, "datatalks@mas.to")
    every = box.world.posts(account)  # newest first, the account's whole history
    start = every[-9]  # exactly 8 statuses are older: two full pages of 4, then nothing
    source, client, landed = client_for(box, "@datatalks@mas.to")
    path = f"/api/v1/accounts/{account_id_for(account)}/statuses"
    pages = list(client.pages("GET", path, LinkHeader(), params={"limit": "4", "max_id": post_id_for(start)},
                              land_as="posts"))
    assert [[s["id"] for s in page] for page in pages] == [
        [post_id_for(p) for p in every[-8:-4]], [post_id_for(p) for p in every[-4:]], []
    ]
    assert [r.status for r in landed] == [200, 200, 200]
    links = [httpx.Response(200, headers={"link": h}).links for h in _links(box, path, start)]
    assert "next" in links[0] and "next" in links[1] and links[2] == {}


def _links(box: Sandbox, path: str, start) -> list[str]:
    """The Link headers of the same three pages, read straight from the sandbox."""
    http = httpx.Client(transport=SandboxTransport(box))
    found, url = [], f"https://mas.to{path}?limit=4&max_id={post_id_for(start)}"
    for _ in range(3):
        response = http.get(url)
        found.append(response.headers.get("link", ""))
        url = response.links.get("next", {}).get("url", url)
    return found


def test_a_day_of_posts_comes_from_the_account_statuses_without_reblogs():
    box = sandbox()
    source, client, landed = client_for(box, "@Gargron@mastodon.social")
    walk = MastodonWalk(client, source)
    refs = walk.posts(DAY)
    account = box.world.account(PLATFORM, "Gargron@mastodon.social")
    assert [r.post_id for r in refs] == [post_id_for(p) for p in box.world.posts(account, DAY.end - timedelta(microseconds=1), DAY.start)]
    listing = [r for r in landed if r.resource == "posts"]
    assert listing and all(r.params.get("exclude_reblogs") == "true" for r in listing)


# -- per-instance limits ----------------------------------------------------------------------


def test_spending_one_instances_window_does_not_slow_another():
    clock = Clock()
    box = sandbox(clock)
    box.platforms[PLATFORM].meters["mastodon.social"].windows[0].limit = 3  # a small instance window
    source_a, client_a, _ = client_for(box, "@Gargron@mastodon.social", clock=clock)
    source_b, client_b, landed_b = client_for(box, "@dagster@fosstodon.org", clock=clock)

    walk_a = MastodonWalk(client_a, source_a)
    walk_a.profile()
    for _ in range(2):
        client_a.forget_requests()
        walk_a.profile()
    [window_a] = client_a.session.limiter.headroom()
    assert (window_a.remaining, window_a.of) == (0, 3)  # learned from mastodon.social's headers

    from social_assets.collection import walk_source

    slept_before = len(clock.sleeps)
    refs = walk_source(_platform(), MastodonWalk(client_b, source_b), source_b, DAY)
    assert refs and len(landed_b) >= 3 and all(r.status == 200 for r in landed_b)
    assert client_b.session.stats.waited_s == 0 and client_b.session.stats.throttled == 0
    assert len(clock.sleeps) == slept_before  # fosstodon.org's calls never waited
    [window_b] = client_b.session.limiter.headroom()
    assert window_b.of == 300 and window_b.remaining == 300 - len(landed_b)

    client_a.forget_requests()
    walk_a.profile()  # mastodon.social's window is spent: this one waits for its reset
    assert clock.now >= window_a.resets_at.timestamp() and len(clock.sleeps) > slept_before
    assert client_a.session.stats.throttled == 0  # it waited instead of being refused


# -- the refresh ------------------------------------------------------------------------------


def test_the_refresh_batches_by_twenty_where_the_instance_can_and_calls_one_by_one_where_not():
    box = sandbox()
    for account, batched in (("@sandbox_account_03@mastodon.social", True), ("@sandbox_account_02@mas.to", False)):
        source, client, landed = client_for(box, account)
        world_account = box.world.account(PLATFORM, source.account.lstrip("@"))
        ids = [post_id_for(p) for p in box.world.posts(world_account, since=NOW - timedelta(days=14))][:25]
        assert len(ids) == 25
        refresh(client, ids)
        ok = [r for r in landed if r.status == 200]
        refreshed = [p.post_id for r in ok for p in normalize_posts(json.loads(r.body)).records]
        assert sorted(refreshed) == sorted(ids)
        if batched:
            assert len(landed) == 2 and all(r.endpoint.endswith("/api/v1/statuses") for r in landed)
        else:  # mas.to runs Mastodon 4.2: the batch route is missing, then one call per status
            assert [r.status for r in landed] == [404] + [200] * 25


def test_health_probes_every_instance_the_sources_live_on():
    from social_assets.health import api_hosts, probe

    sources = [MastodonSource(account="@Gargron@mastodon.social"), MastodonSource(account="@dagster@Fosstodon.org")]
    assert api_hosts(MASTODON, sources) == ["mastodon.social", "fosstodon.org"]
    reach = probe(MASTODON, {}, sources)  # the in-process sandbox answers at the real hosts
    assert reach.reachable and "fosstodon.org answered" in reach.detail


def test_a_source_must_be_user_at_instance():
    with pytest.raises(ValueError, match="expected '@user@instance'"):
        MastodonSource(account="Gargron")
    source = MastodonSource(account="Gargron@Mastodon.Social")
    assert (source.account_id, source.base_url, source.username) == (
        "@Gargron@mastodon.social", "https://mastodon.social", "Gargron")
