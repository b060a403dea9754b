"""How active the sandbox world is: the default sources have posts, comments and a profile on
every day; SOCIAL_SANDBOX_SCALE multiplies every account's activity; and each platform has at
least 50 accounts for scaling tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from social_assets.sandbox import world as world_module
from social_assets.sandbox.app import Sandbox, SandboxTransport, emulation_modules, sandbox_credentials
from social_assets.sandbox.platforms.mastodon import _host_of, _post_ms, post_id_for
from social_assets.sandbox.platforms.reddit import to_base36
from social_assets.sandbox.platforms.youtube import channel_id_for
from social_assets.sandbox.world import MAX_POSTS_PER_DAY, SandboxClock, World
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


def reddit_http(sandbox: Sandbox) -> tuple[httpx.Client, dict[str, str]]:
    """A client on the sandbox and the headers of an app-only Reddit token."""
    http = httpx.Client(transport=SandboxTransport(sandbox))
    reddit = sandbox_credentials("reddit")
    token = http.post("https://www.reddit.com/api/v1/access_token", data={"grant_type": "client_credentials"},
                      auth=(reddit["REDDIT_CLIENT_ID"], reddit["REDDIT_CLIENT_SECRET"]), headers={"User-Agent": UA}
                      ).json()["access_token"]
    return http, {"Authorization": f"bearer {token}", "User-Agent": UA}


def reddit_day(sandbox: Sandbox, subreddit: str, day: date) -> tuple[int, list[dict]]:
    """The subreddit's subscribers and its posts of `day`, read over HTTP as a collector would:
    /about, then /new pages of 100 down to the first older post."""
    http, headers = reddit_http(sandbox)
    about = http.get(f"https://oauth.reddit.com/r/{subreddit}/about", headers=headers).json()["data"]
    start = datetime.combine(day, datetime.min.time(), timezone.utc).timestamp()
    found: list[dict] = []
    after = None
    while True:
        page = http.get(f"https://oauth.reddit.com/r/{subreddit}/new", headers=headers,
                        params={"limit": 100, "raw_json": 1, **({"after": after} if after else {})}).json()["data"]
        posts = [child["data"] for child in page["children"]]
        found += [p for p in posts if start <= p["created_utc"] < start + 86400]
        after = page["after"]
        if not after or not posts or posts[-1]["created_utc"] < start:
            return about["subscribers"], found


def test_scale_one_is_the_default_world():
    """Unset, "" and 1 are the world every other test was written against, value for value."""
    plain, scaled = World(catalogs(), clock=SandboxClock(NOW)), World(catalogs(), clock=SandboxClock(NOW), scale=1)
    for platform in catalogs():
        assert plain.accounts(platform) == scaled.accounts(platform)
    python = scaled.account("reddit", "python")
    assert (python.base_followers, python.created_at) == (186_427, datetime(2012, 9, 15, 17, 27, 30, tzinfo=timezone.utc))
    [post] = scaled.posts_on(python, date(2026, 11, 18))
    assert (post.uid, post.published_at, post.final_likes, post.final_comments, scaled.comment_count(post)) == \
        (10_883_328, datetime(2026, 11, 18, 22, 50, 39, tzinfo=timezone.utc), 904, 39, 34)
    comment = scaled.comments(post)[5]
    assert (comment.uid, comment.author, comment.text) == (43_544_195_334, "user_45196", "Duckdb recap data")
    for unset in (None, ""):
        assert world_module.scale_from(unset) == 1.0


def test_scale_one_over_http_is_the_default_world(monkeypatch):
    monkeypatch.delenv("SOCIAL_SANDBOX_SCALE", raising=False)
    default = reddit_day(Sandbox(clock=SandboxClock(NOW), faults="none", log=""), "python", date(2026, 11, 18))
    monkeypatch.setenv("SOCIAL_SANDBOX_SCALE", "1")
    assert reddit_day(Sandbox(clock=SandboxClock(NOW), faults="none", log=""), "python", date(2026, 11, 18)) == default
    subscribers, [post] = default
    assert post["id"] == to_base36(10_883_328) and post["num_comments"] == 34


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


def test_scale_multiplies_a_reddit_day_served_over_http():
    """Two weeks of r/python read through the API at scale 1 and 10: ten times the subscribers
    (to the rounding of one), and the posts and comments of Poisson days around ten times."""
    days = [date(2026, 11, 19) - timedelta(days=n) for n in range(14)]
    quiet = Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=1)
    busy = Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=10)
    calm = [reddit_day(quiet, "python", day) for day in days]
    loud = [reddit_day(busy, "python", day) for day in days]
    assert all(abs(l_subs - 10 * c_subs) <= 10 for (c_subs, _), (l_subs, _) in zip(calm, loud))
    calm_posts, loud_posts = sum(len(p) for _, p in calm), sum(len(p) for _, p in loud)
    assert 7 <= loud_posts / calm_posts <= 13, (calm_posts, loud_posts)
    calm_comments = sum(p["num_comments"] for _, posts in calm for p in posts)
    loud_comments = sum(p["num_comments"] for _, posts in loud for p in posts)
    # about 10 x 10: each post's comments follow its likes, which follow the followers
    assert 50 <= loud_comments / calm_comments <= 200, (calm_comments, loud_comments)
    # deterministic: another sandbox at the same scale serves the same day
    assert reddit_day(Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=10), "python", days[0]) == loud[0]


def test_a_busy_day_from_one_source():
    world = World(catalogs(), clock=SandboxClock(NOW), scale=200)
    day = world.posts_on(world.account("reddit", "python"), (NOW - timedelta(days=2)).date())
    assert len(day) >= 200 and sum(p.final_comments for p in day) >= 100_000


def test_thousands_of_posts_a_day_each_found_again_by_its_id():
    """At scale 1000 one account posts thousands of times a day: past the 256 posts of the
    original id layout, and past Mastodon's 1,000 ids per second. Every post keeps its own id,
    and the API finds each one again by it."""
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=1000)
    world = sandbox.world
    day = date(2026, 11, 18)
    reddit_posts = world.posts_on(world.account("reddit", "python"), day)
    assert 2_000 <= len(reddit_posts) <= MAX_POSTS_PER_DAY
    assert len({p.uid for p in reddit_posts}) == len(reddit_posts)
    assert all(world.post_by_uid("reddit", p.uid) == p for p in reddit_posts)
    http, headers = reddit_http(sandbox)
    late = reddit_posts[-150:]
    info = http.get("https://oauth.reddit.com/api/info", headers=headers,
                    params={"id": ",".join(f"t3_{to_base36(p.uid)}" for p in late[:100]), "raw_json": 1}).json()
    assert [child["data"]["id"] for child in info["data"]["children"]] == [to_base36(p.uid) for p in late[:100]]

    account = world.accounts("mastodon")[0]
    statuses = world.posts_on(account, day)
    assert len(statuses) > 1000
    for post in (statuses[0], statuses[999], statuses[1000], statuses[-1]):
        response = http.get(f"https://{_host_of(account)}/api/v1/statuses/{post_id_for(post)}")
        assert response.status_code == 200 and response.json()["id"] == post_id_for(post)
    # Mastodon's and TikTok's keys (second * 1000 + index of the day) rise strictly, across
    # midnight too: what paging by id and cursor relies on.
    keys = [_post_ms(p) for d in (day - timedelta(days=1), day) for p in world.posts_on(account, d)]
    assert keys == sorted(set(keys)) and len(keys) > 2000


def test_a_scaled_world_keeps_only_a_bounded_share_in_memory():
    """Days and comment trees are memoized up to a budget of items, the newest always kept."""
    calls: list[int] = []

    def items(n: int) -> tuple:
        calls.append(n)
        return tuple(range(n))

    cache = world_module._BoundedCache(items, budget=100)
    assert cache(60) == tuple(range(60)) and cache(60) == tuple(range(60)) and calls == [60]
    cache(30)  # 90 items: both kept
    assert cache.holds(60) and cache.holds(30)
    cache(30), cache(50)  # 60 is the least recently used: it goes
    assert not cache.holds(60) and cache.holds(30) and cache.holds(50)
    cache(500)  # larger than the budget: kept alone
    assert cache.holds(500) and not cache.holds(30) and not cache.holds(50)
    assert world_module._comment_tree.budget <= 100_000 and world_module._posts_on.budget <= 100_000


def test_scale_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOCIAL_SANDBOX_SCALE", "5")
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    default = World(catalogs(), clock=SandboxClock(NOW))
    assert sandbox.world.scale == 5
    assert sandbox.world.account("youtube", "@socialpulse").base_followers == \
        5 * default.account("youtube", "@socialpulse").base_followers
    for bad in ("lots", "0", "-2", "nan", "inf", "1e9", " "):
        monkeypatch.setenv("SOCIAL_SANDBOX_SCALE", bad)
        with pytest.raises(ValueError, match=f"SOCIAL_SANDBOX_SCALE={bad!r} is not an activity multiplier"):
            Sandbox(clock=SandboxClock(NOW), faults="none", log="")


# -- many accounts ----------------------------------------------------------------------------


def test_the_catalog_accounts_are_deterministic_and_distinct():
    """The accounts made for scaling tests are drawn like the examples: the same in every world
    (and process: their draws are hashed from the seed and handle), and different from each other."""
    first, second = World(catalogs(), clock=SandboxClock(NOW)), World(catalogs(), clock=SandboxClock(NOW))
    for platform in catalogs():
        accounts = first.accounts(platform)
        assert accounts == second.accounts(platform)
        assert len({(a.base_followers, a.posts_per_day, a.created_at) for a in accounts}) == len(accounts), platform
        day = (NOW - timedelta(days=1)).date()
        assert len({tuple(p.uid for p in first.posts_on(a, day)) for a in accounts}) == len(accounts), platform
    reddit = {a.handle: a for a in first.accounts("reddit")}
    assert reddit["sandbox_community_01"].base_followers != reddit["sandbox_community_02"].base_followers


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
