"""How active the sandbox world is: the default sources have posts, comments and a profile on
every day; SOCIAL_SANDBOX_SCALE multiplies every account's activity; and each platform has at
least 50 accounts for scaling tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from social_assets.sandbox.app import Sandbox, SandboxTransport, emulation_modules, sandbox_credentials
from social_assets.sandbox.platforms.youtube import channel_id_for
from social_assets.sandbox.world import SandboxClock, World
from social_assets.sources import load_sources

from .conftest import NOW, UA

SOURCES_FILE = Path(__file__).resolve().parents[2] / "sources.yaml"


def catalogs() -> dict[str, list[tuple[str, str]]]:
    return {name: list(module.EMULATION.catalog) for name, module in emulation_modules().items()}


def default_accounts(world: World) -> dict[str, list]:
    """The world accounts behind the sources of the project's sources file."""
    channels = {channel_id_for(a.handle): a for a in world.accounts("youtube")}
    found: dict[str, list] = {}
    for platform, sources in load_sources(SOURCES_FILE).items():
        if platform == "reddit":
            found[platform] = [world.account("reddit", s.subreddit or s.user) for s in sources]
        elif platform == "youtube":
            found[platform] = [channels[s.channel] for s in sources]
        elif platform == "bluesky":
            found[platform] = [world.account("bluesky", s.actor) for s in sources]
        elif platform == "mastodon":
            found[platform] = [world.account("mastodon", s.account_id.lstrip("@")) for s in sources]
        elif platform == "tiktok":
            found[platform] = [world.account("tiktok", s.account) for s in sources]
    assert found.keys() == {"reddit", "youtube", "bluesky", "mastodon", "tiktok"} and all(all(accounts) for accounts in found.values())
    return found


def test_default_sources_have_posts_and_comments_every_day():
    """What the daily schedule (01:00 UTC, the previous day) finds, over two months: every source
    has posts, and every platform has comments it can collect (YouTube: not on videos with
    comments disabled)."""
    commentable = Sandbox(clock=SandboxClock(NOW), faults="none", log="").platforms["youtube"]
    for offset in range(61):
        day = date(2026, 9, 1) + timedelta(days=offset)
        world = World(catalogs(), clock=SandboxClock(datetime.combine(day, datetime.min.time(), timezone.utc)
                                                     + timedelta(days=1, hours=1)))
        for platform, accounts in default_accounts(world).items():
            posts = {account.handle: world.posts_on(account, day) for account in accounts}
            assert all(posts.values()), f"{platform} {day}: a source without posts: {posts}"
            comments = sum(world.comment_count(post) for day_posts in posts.values() for post in day_posts
                           if platform != "youtube" or not commentable.comments_disabled(post))
            assert comments > 0, f"{platform} {day}: no comments to collect"


def test_profiles_of_default_sources_answer():
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    http = httpx.Client(transport=SandboxTransport(sandbox))
    reddit = sandbox_credentials("reddit")
    token = http.post("https://www.reddit.com/api/v1/access_token", data={"grant_type": "client_credentials"},
                      auth=(reddit["REDDIT_CLIENT_ID"], reddit["REDDIT_CLIENT_SECRET"]), headers={"User-Agent": UA}
                      ).json()["access_token"]
    for platform, sources in load_sources(SOURCES_FILE).items():
        for source in sources:
            if platform == "reddit":
                path = f"/r/{source.subreddit}/about" if source.subreddit else f"/user/{source.user}/about"
                response = http.get(f"https://oauth.reddit.com{path}",
                                    headers={"Authorization": f"bearer {token}", "User-Agent": UA})
                assert response.status_code == 200 and response.json()["data"]["created_utc"] > 0
            elif platform == "mastodon":  # anonymous, on the account's own instance
                response = http.get(f"{source.base_url}/api/v1/accounts/lookup", params={"acct": source.username})
                assert response.status_code == 200 and response.json()["username"] == source.username
            elif platform == "youtube":
                response = http.get("https://www.googleapis.com/youtube/v3/channels", params={
                    "part": "statistics", "id": source.channel, "key": sandbox_credentials("youtube")["YOUTUBE_API_KEY"]})
                assert [item["id"] for item in response.json()["items"]] == [source.channel]
            else:  # any other platform: its own walk's profile call, as the pipeline makes it
                from social_assets.platforms import PLATFORMS
                from social_assets_tests.clients import sandbox_client

                landed: list = []
                PLATFORMS[platform].walk(sandbox_client(PLATFORMS[platform], http, source, landed.append), source).profile()
                # (LinkedIn's profile is its follower count and its follower history: two answers.)
                assert landed and {(r.resource, r.status) for r in landed} == {("profiles", 200)}, (platform, source.account_id)


# -- SOCIAL_SANDBOX_SCALE ---------------------------------------------------------------------


def test_scale_one_is_the_default_world():
    plain, scaled = World(catalogs(), clock=SandboxClock(NOW)), World(catalogs(), clock=SandboxClock(NOW), scale=1)
    for platform in catalogs():
        assert plain.accounts(platform) == scaled.accounts(platform)


def test_scale_multiplies_followers_posts_and_comments():
    quiet, busy = World(catalogs(), clock=SandboxClock(NOW)), World(catalogs(), clock=SandboxClock(NOW), scale=20)
    for platform in catalogs():
        for calm, loud in zip(quiet.accounts(platform), busy.accounts(platform)):
            assert loud.base_followers == calm.base_followers * 20
            assert loud.posts_per_day == pytest.approx(calm.posts_per_day * 20)
    since = NOW - timedelta(days=14)
    calm_posts = quiet.posts(quiet.account("reddit", "python"), since=since)
    loud_posts = busy.posts(busy.account("reddit", "python"), since=since)
    assert 12 <= len(loud_posts) / len(calm_posts) <= 30  # Poisson counts around 20 times as many
    calm_comments = sum(p.final_comments for p in calm_posts) / len(calm_posts)
    loud_comments = sum(p.final_comments for p in loud_posts) / len(loud_posts)
    assert loud_comments > 10 * calm_comments  # likes, and with them comments, grow with the followers


def test_a_busy_day_from_one_source():
    world = World(catalogs(), clock=SandboxClock(NOW), scale=200)
    day = world.posts_on(world.account("reddit", "python"), (NOW - timedelta(days=2)).date())
    assert len(day) >= 200 and sum(p.final_comments for p in day) >= 100_000


def test_scale_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOCIAL_SANDBOX_SCALE", "5")
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    default = World(catalogs(), clock=SandboxClock(NOW))
    assert sandbox.world.scale == 5
    assert sandbox.world.account("youtube", "@socialpulse").base_followers == \
        5 * default.account("youtube", "@socialpulse").base_followers
    for bad in ("lots", "0", "-2", "nan"):
        monkeypatch.setenv("SOCIAL_SANDBOX_SCALE", bad)
        with pytest.raises(ValueError, match="SOCIAL_SANDBOX_SCALE"):
            Sandbox(clock=SandboxClock(NOW), faults="none", log="")


# -- many accounts ----------------------------------------------------------------------------


def test_every_platform_has_at_least_50_accounts_and_serves_them():
    for platform, catalog in catalogs().items():
        assert len(catalog) >= 50 and len({handle.lower() for _, handle in catalog}) == len(catalog), platform
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    http = httpx.Client(transport=SandboxTransport(sandbox))
    last_channel = channel_id_for(catalogs()["youtube"][-1][1])
    response = http.get("https://www.googleapis.com/youtube/v3/playlistItems", params={
        "part": "contentDetails", "playlistId": "UU" + last_channel[2:], "maxResults": 5,
        "key": sandbox_credentials("youtube")["YOUTUBE_API_KEY"]})
    assert response.status_code == 200 and len(response.json()["items"]) == 5
    reddit = sandbox_credentials("reddit")
    token = http.post("https://www.reddit.com/api/v1/access_token", data={"grant_type": "client_credentials"},
                      auth=(reddit["REDDIT_CLIENT_ID"], reddit["REDDIT_CLIENT_SECRET"]), headers={"User-Agent": UA}
                      ).json()["access_token"]
    kind, handle = catalogs()["reddit"][-1]
    path = f"/user/{handle}/submitted" if kind == "user" else f"/r/{handle}/new"
    listing = http.get(f"https://oauth.reddit.com{path}", params={"limit": 5, "raw_json": 1},
                       headers={"Authorization": f"bearer {token}", "User-Agent": UA})
    assert listing.status_code == 200 and len(listing.json()["data"]["children"]) == 5
