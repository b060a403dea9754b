"""How well the collectors use what the platforms allow (not a test: it prints figures).

1. Reddit, sustained: N processes sharing one client id collect comment-heavy subreddit-days
   for `--seconds` against a sandbox served over real HTTP whose rate-limit window is shrunk
   (default 100 calls per 10 s; Reddit's is 1000 per 600 s). Printed: the share of each full
   window's allowed calls that was used, and any overuse (calls past the limit, 429s).
2. YouTube, a day's quota: channel-days are collected until the key's daily units (shrunk to
   `--youtube-quota`) are spent. Printed: the share of the quota used, and refusals by the
   platform (overuse).
3. Per 1,000 posts collected with full metrics (the counts of each post, and its account's
   follower count): the calls (and YouTube units) spent, next to the documented minimum for the
   same source-days (profile: 1 call; listings: Reddit 100 posts a page, YouTube 50 uploads a
   playlistItems page plus 50 videos a videos.list call; reading on to the first older post;
   X 100 posts a timeline page bounded by the day, 100 replies a conversation-search page).
4. Reddit at its real limit (1,000 calls per 600 s) on a virtual clock: sources of the sandbox
   catalog, their activity multiplied (`SOCIAL_SANDBOX_SCALE`), each collected for a day with
   its comments under one shared client id. Printed: posts per hour of the clock, calls past the
   limit and 429s, the share of sources collected, duplicate posts, and the CPU the collection
   (client and in-process sandbox) spent per item.

    .venv/bin/python benchmarks/collection_efficiency.py [--seconds 60] [--processes 2] [--scale 30]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from social_assets.collection import walk_source  # noqa: E402
from social_assets.connections import Connection  # noqa: E402
from social_assets.core.errors import ApiError, QuotaExhaustedError  # noqa: E402
from social_assets.core.limits import Limiter  # noqa: E402
from social_assets.platforms.base import DayWindow  # noqa: E402
from social_assets.platforms.reddit import PLATFORM as REDDIT  # noqa: E402
from social_assets.platforms.reddit.spec import LIMITS as REDDIT_LIMITS, RedditSource  # noqa: E402
from social_assets.platforms.youtube import PLATFORM as YOUTUBE  # noqa: E402
from social_assets.platforms.youtube.spec import LIMITS as YOUTUBE_LIMITS, YouTubeSource  # noqa: E402
from social_assets.platforms.x import PLATFORM as X  # noqa: E402
from social_assets.platforms.x.spec import XSource  # noqa: E402
from social_assets.platforms.bluesky import PLATFORM as BLUESKY  # noqa: E402
from social_assets.platforms.bluesky.spec import BlueskySource  # noqa: E402
from social_assets.platforms.mastodon import PLATFORM as MASTODON  # noqa: E402
from social_assets.platforms.mastodon.spec import STATUSES_PAGE, MastodonSource  # noqa: E402
from social_assets.sandbox.platforms.youtube import _threads, channel_id_for  # noqa: E402
from social_assets.sandbox.platforms.youtube_analytics import HOSTS as ANALYTICS_HOSTS  # noqa: E402
from social_assets.sandbox.app import LoopbackSandboxTransport, Sandbox, SandboxTransport, make_server  # noqa: E402
from social_assets.sandbox.world import SandboxClock  # noqa: E402

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
COMMENT_HEAVY = ("python", "analytics", "dataengineering", "socialmedia", "marketing", "duckdb")


def client(platform, http: httpx.Client, source=None):
    """The client the pipeline builds for `source`, on the sandbox's credentials."""
    return Connection(platform, "sandbox (benchmark)", http, {}).client(source)


def collect(platform, api, source, day: DayWindow):
    """Walk one source's day as the pipeline does; returns the walk."""
    walk = platform.walk(api, source)
    walk_source(platform, walk, source, day)
    return walk


def days_back(count: int) -> list[DayWindow]:
    today = NOW.replace(hour=0)
    return [DayWindow(today - timedelta(days=n + 1), today - timedelta(days=n)) for n in range(count)]


def new_sandbox() -> Sandbox:
    return Sandbox(clock=SandboxClock(NOW))


def record_calls(sandbox: Sandbox, platform: str, into: list, skip_hosts: tuple[str, ...] = ()) -> None:
    """Keep (time, status) of every call the platform's emulation answers (not its token
    endpoint, nor calls to `skip_hosts`)."""
    emulation = sandbox.platforms[platform]
    answer = emulation.handle

    def recorded(request, *args, **kwargs):
        response = answer(request, *args, **kwargs)
        if "access_token" not in request.path and request.host not in skip_hosts:
            into.append((time.time(), response.status))
        return response

    emulation.handle = recorded


# -- 1. Reddit, sustained --------------------------------------------------------------------


class _RunOver(Exception):
    pass


class _UntilDeadline(Limiter):
    """Stops the worker's collection at the deadline, mid-collect."""

    deadline: float = 0.0

    def acquire(self, method: str, url: str):
        permit = super().acquire(method, url)
        if time.time() >= self.deadline:
            raise _RunOver()
        return permit


def _reddit_worker(base_url: str, store: str, window: float, deadline: float, offset: int) -> None:
    os.environ["SOCIAL_LIMIT_STORE"] = store
    http = httpx.Client(transport=LoopbackSandboxTransport(base_url), timeout=30)
    [limit] = REDDIT_LIMITS.limits
    policy = replace(REDDIT_LIMITS, limits=(replace(limit, window=window),))
    work = [(sub, day) for day in days_back(30) for sub in COMMENT_HEAVY]
    n = offset
    while True:
        sub, day = work[n % len(work)]
        n += 1
        source = RedditSource(subreddit=sub, comment_depth=8)
        api = client(REDDIT, http, source)
        api.session.limiter = _UntilDeadline(policy, api.session.limiter.state)
        api.session.limiter.deadline = deadline
        try:
            collect(REDDIT, api, source, day)
        except _RunOver:
            return
        except ApiError as error:
            print(f"  worker: {sub} {day.start.date()} failed: {error}", file=sys.stderr)


def reddit_sustained(seconds: float, processes: int, limit: int, window: int, store_url: str | None) -> dict:
    sandbox = new_sandbox()
    reddit = sandbox.platforms["reddit"]
    reddit.requests_per_window, reddit.window_seconds = limit, window
    calls: list[tuple[float, int]] = []
    record_calls(sandbox, "reddit", calls)
    server = make_server(sandbox, port=0)
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.time()
    deadline = started + seconds
    with tempfile.TemporaryDirectory() as tmp:
        store = store_url or str(Path(tmp) / "limits.sqlite")
        context = multiprocessing.get_context("fork")
        workers = [
            context.Process(target=_reddit_worker, args=(base_url, store, window, deadline, i * 7))
            for i in range(processes)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        _forget(base_url, store)
    server.shutdown()
    server.server_close()

    # Full windows of the sandbox's clock inside the run: what the platform allowed in each.
    per_window: dict[int, int] = {}
    for moment, _ in calls:
        per_window[int(moment // window)] = per_window.get(int(moment // window), 0) + 1
    full = range(math.ceil(started / window), int(deadline // window))
    counts = [per_window.get(n, 0) for n in full]
    return {
        "windows": len(counts),
        "share_mean": sum(counts) / (limit * len(counts)) if counts else float("nan"),
        "share_min": min(counts) / limit if counts else float("nan"),
        "max_in_window": max(per_window.values(), default=0),
        "throttled": sum(1 for _, status in calls if status == 429),
        "calls": len(calls),
    }


def _forget(base_url: str, store_url: str) -> None:
    """Remove this run's state from a shared store (its sandbox is gone with it)."""
    os.environ["SOCIAL_LIMIT_STORE"] = store_url
    shared = client(REDDIT, httpx.Client(transport=LoopbackSandboxTransport(base_url))).session.limiter.state
    for name in ("limits", "token"):
        shared.store.transact(shared.key(name), lambda doc: (None, None), ttl=1)


# -- 2. YouTube, a day's quota ---------------------------------------------------------------


def youtube_quota(quota: int) -> dict:
    sandbox = new_sandbox()
    youtube = sandbox.platforms["youtube"]
    youtube.daily_quota = quota
    calls: list[tuple[float, int]] = []
    # The Analytics API (its reports and token endpoint) is not metered in Data API units.
    record_calls(sandbox, "youtube", calls, skip_hosts=ANALYTICS_HOSTS)
    http = httpx.Client(transport=SandboxTransport(sandbox))
    [units] = YOUTUBE_LIMITS.limits
    policy = replace(YOUTUBE_LIMITS, limits=(replace(units, limit=quota),))
    channels = [channel_id_for(handle) for _, handle in youtube.catalog]
    paused_after = None
    for n, (day, channel) in enumerate((d, c) for d in days_back(365) for c in channels):
        source = YouTubeSource(channel=channel, comment_depth=1)
        api = client(YOUTUBE, http, source)
        api.session.limiter = Limiter(policy, api.session.limiter.state)
        try:
            collect(YOUTUBE, api, source, day)
        except QuotaExhaustedError:
            paused_after = n
            break
    return {
        "quota": quota,
        "units_used": youtube.units_used(),
        # The sandbox charges every call it answers except those it refuses for quota.
        "refused_by_platform": len(calls) - youtube.units_used(),
        "source_days": paused_after,
    }


# -- 3. per 1,000 posts ----------------------------------------------------------------------


def reddit_per_thousand_posts(source_days: int) -> dict:
    sandbox = new_sandbox()
    calls: list = []
    record_calls(sandbox, "reddit", calls)
    http = httpx.Client(transport=SandboxTransport(sandbox))
    world = sandbox.world
    newest_first = {sub: world.posts(world.account("reddit", sub)) for sub in COMMENT_HEAVY}  # as /new lists them
    posts = minimum = 0
    work = [(sub, day) for day in days_back(source_days) for sub in COMMENT_HEAVY][:source_days]
    for sub, day in work:
        source = RedditSource(subreddit=sub, collect_comments=False, post_limit=1000)
        posts += len(collect(REDDIT, client(REDDIT, http, source), source, day).kept)
        reach = _reach(newest_first[sub], day)
        minimum += 1 + math.ceil(reach / 100)  # the about call, then listing pages
    return {"posts": posts, "calls": len(calls), "minimum": minimum, "source_days": len(work)}


def youtube_per_thousand_posts(with_comments: bool) -> dict:
    sandbox = new_sandbox()
    youtube = sandbox.platforms["youtube"]
    http = httpx.Client(transport=SandboxTransport(sandbox))
    world = sandbox.world
    uploads = {handle: world.posts(world.account("youtube", handle)) for _, handle in youtube.catalog}  # newest first
    posts = minimum = units = 0
    for day in days_back(60):
        for handle, newest_first in uploads.items():
            source = YouTubeSource(channel=channel_id_for(handle), collect_comments=with_comments, comment_depth=1,
                                   post_limit=1000)
            units += collect(YOUTUBE, client(YOUTUBE, http, source), source, day).units_spent
            in_day = [p for p in newest_first if p.published_at in day]
            posts += len(in_day)
            minimum += 1 + math.ceil(_reach(newest_first, day) / 50) + math.ceil(len(in_day) / 50)
            minimum += sum(_comment_calls(youtube, world, post) for post in in_day) if with_comments else 0
    return {"posts": posts, "units": units, "minimum": minimum, "calls": youtube.units_used(),
            "source_days": 60 * len(uploads)}


def x_per_thousand_posts(with_comments: bool, days: int = 6) -> dict:
    """Recent days only: X's recent search (the replies) reaches back 7 days."""
    sandbox = new_sandbox()
    # These figures count calls, not pacing: a window wide enough that nobody waits 15 minutes.
    sandbox.platforms["x"].requests_per_window = 1_000_000
    calls: list = []
    record_calls(sandbox, "x", calls)
    http = httpx.Client(transport=SandboxTransport(sandbox))
    world = sandbox.world
    posts = minimum = 0
    accounts = world.accounts("x")
    for day in days_back(days):
        for account in accounts:
            source = XSource(user=account.handle, collect_comments=with_comments, post_limit=1000)
            collect(X, client(X, http, source), source, day)
            in_day = [p for p in world.posts_on(account, day.start.date()) if p.published_at <= NOW]
            posts += len(in_day)
            minimum += 1 + max(1, math.ceil(len(in_day) / 100))  # the user lookup, then timeline pages
            if with_comments:
                minimum += sum(math.ceil(world.comment_count(p, NOW) / 100) for p in in_day)
    return {"posts": posts, "calls": len(calls), "minimum": minimum, "source_days": days * len(accounts)}


def bluesky_per_thousand_posts(with_comments: bool, accounts: int = 20, days: int = 10) -> dict:
    """Anonymous source-days on the public AppView. Minimum: the profile, feed pages of 100
    items (posts and reposts, newest first) down to the first item older than the day, and one
    getPostThread per post with replies."""
    sandbox = new_sandbox()
    bluesky = sandbox.platforms["bluesky"]
    http = httpx.Client(transport=SandboxTransport(sandbox))
    world = sandbox.world
    posts = minimum = calls = 0
    for account in world.accounts("bluesky")[:accounts]:
        # The feed as the AppView lists it at the sandbox's now: the items' places, newest first.
        feed = [item for item in bluesky._items(account, lambda item: True, None) if item.at <= NOW]
        for day in days_back(days):
            source = BlueskySource(actor=account.handle, collect_comments=with_comments, post_limit=1000)
            api = client(BLUESKY, http, source)
            collect(BLUESKY, api, source, day)
            calls += api.session.stats.calls
            in_day = [item.post for item in feed if item.reposted_by is None and item.post.published_at in day]
            posts += len(in_day)
            older = [i for i, item in enumerate(feed) if item.at < day.start]
            minimum += 1 + max(1, math.ceil(((older[0] + 1) if older else len(feed)) / 100))
            if with_comments:
                minimum += sum(1 for p in in_day if world.comment_count(p, NOW))
    return {"posts": posts, "calls": calls, "minimum": minimum, "source_days": accounts * days}


def mastodon_per_thousand_posts(with_comments: bool, accounts: int = 20, days: int = 10) -> dict:
    """Anonymous source-days on the accounts' own instances. Minimum: the lookup (the profile),
    statuses pages of 40 down to the first status older than the day, and one context per post
    with replies."""
    sandbox = new_sandbox()
    http = httpx.Client(transport=SandboxTransport(sandbox))
    world = sandbox.world
    posts = minimum = calls = 0
    for account in world.accounts("mastodon")[:accounts]:
        newest_first = world.posts(account)
        for day in days_back(days):
            source = MastodonSource(account="@" + account.handle, collect_comments=with_comments, post_limit=1000)
            api = client(MASTODON, http, source)
            collect(MASTODON, api, source, day)
            calls += api.session.stats.calls
            in_day = [p for p in newest_first if p.published_at in day]
            posts += len(in_day)
            minimum += 1 + math.ceil(_reach(newest_first, day) / STATUSES_PAGE)
            if with_comments:
                minimum += sum(1 for p in in_day if any(c.parent_index is None for c in world.comments(p)))
    return {"posts": posts, "calls": calls, "minimum": minimum, "source_days": accounts * days}


# -- 4. Reddit at its real limit, a scaled day -----------------------------------------------


class VirtualClock:
    """Epoch seconds shared by the clients' limiters and the sandbox's windows and tokens: the
    real time that has passed plus every sleep, which returns at once. So the work takes its
    real time, and an hour of waiting for Reddit's window takes none."""

    def __init__(self) -> None:
        self.started, self.slept = time.time(), 0.0

    def __call__(self) -> float:
        return time.time() + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)


def reddit_at_real_limit(sources: int, scale: float, days: int = 1) -> dict:
    """`sources` catalog subreddits made for scaling tests (`sandbox_community_NN`) at `scale`,
    each collected for `days` days with comments, one after another, under one client id at
    Reddit's own limit. Each source's day starts a new client, as each run does; they share the
    credential's limit state. Past the window's first 1,000 calls the limit, not the CPU, sets
    the pace: posts per hour then approach 6,000 calls an hour over the calls a post costs."""
    clock = VirtualClock()
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="", scale=scale)
    reddit = sandbox.platforms["reddit"]
    reddit.wall_clock = clock
    calls: list[tuple[float, int]] = []
    answer = reddit.handle

    def recorded(request, *args, **kwargs):
        response = answer(request, *args, **kwargs)
        if "access_token" not in request.path:
            calls.append((clock(), response.status))
        return response

    reddit.handle = recorded
    http = httpx.Client(transport=SandboxTransport(sandbox))
    subreddits = [handle for kind, handle in reddit.catalog if handle.startswith("sandbox_community_")][:sources]
    posts = comments = collected = duplicates = 0
    started, cpu = clock(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        saved_store = os.environ.get("SOCIAL_LIMIT_STORE")
        os.environ["SOCIAL_LIMIT_STORE"] = str(Path(tmp) / "limits.sqlite")  # a limit state of its own
        try:
            for day in days_back(days):
                for sub in subreddits:
                    source = RedditSource(subreddit=sub, post_limit=1000)
                    found: list[int] = []
                    api = Connection(REDDIT, "sandbox (benchmark)", http, {}).client(
                        source, lambda landed: found.append(landed.body.count('"kind": "t1"')))
                    api.session.sleep = api.session.limiter.sleep = clock.sleep
                    api.session.limiter.clock = clock
                    try:
                        kept = walk_source(REDDIT, REDDIT.walk(api, source), source, day)  # the day's PostRefs
                    except ApiError as error:
                        print(f"  {sub} {day.start.date()} failed: {error}", file=sys.stderr)
                        continue
                    collected += 1
                    ids = [post.post_id for post in kept]
                    posts += len(ids)
                    duplicates += len(ids) - len(set(ids))
                    comments += sum(found)
        finally:
            if saved_store is None:
                del os.environ["SOCIAL_LIMIT_STORE"]
            else:
                os.environ["SOCIAL_LIMIT_STORE"] = saved_store
    [limit] = REDDIT_LIMITS.limits
    per_window: dict[int, int] = {}  # the sandbox's windows, as Reddit's: fixed, on the clock
    for moment, _ in calls:
        per_window[int(moment // limit.window)] = per_window.get(int(moment // limit.window), 0) + 1
    hours = (clock() - started) / 3600
    return {
        "sources": len(subreddits) * days, "collected": collected, "posts": posts, "comments": comments,
        "duplicates": duplicates, "calls": len(calls), "hours": hours,
        "posts_per_hour": posts / hours if hours else float("inf"),
        "most_in_window": max(per_window.values(), default=0), "limit": limit.limit, "window": limit.window,
        "throttled": sum(1 for _, status in calls if status == 429),
        "cpu_s": time.process_time() - cpu,
    }


def _comment_calls(youtube, world, post) -> int:
    """commentThreads pages (100 threads each), then comments pages (100 replies each) for the
    threads with more than the five replies that come inline; a video with comments off still
    costs the call that says so."""
    if youtube.comments_disabled(post):
        return 1
    if not world.comment_count(post):
        return 0
    threads = _threads(world, post)
    return math.ceil(len(threads) / 100) + sum(math.ceil(len(t.replies) / 100) for t in threads if len(t.replies) > 5)


def _reach(newest_first: list, day: DayWindow) -> int:
    """How many listing items must be read: down to the first one older than the day."""
    older = [i for i, post in enumerate(newest_first) if post.published_at < day.start]
    return older[0] + 1 if older else len(newest_first)


def main() -> None:
    for name in ("SOCIAL_SANDBOX_FAULTS", "SOCIAL_SANDBOX_LOG", "SOCIAL_SANDBOX_URL"):
        os.environ.pop(name, None)  # a clean sandbox: these figures are about the limits alone
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sustained Reddit run")
    parser.add_argument("--processes", type=int, default=2, help="processes sharing the Reddit client id")
    parser.add_argument("--limit", type=int, default=100, help="sandbox Reddit calls per window")
    parser.add_argument("--window", type=int, default=10, help="sandbox Reddit window, seconds")
    parser.add_argument("--youtube-quota", type=int, default=2000, help="sandbox YouTube units per day")
    parser.add_argument("--store", help="SOCIAL_LIMIT_STORE the Reddit processes share (default: a new SQLite file)")
    parser.add_argument("--sources", type=int, default=5, help="catalog subreddits collected at Reddit's real limit")
    parser.add_argument("--scale", type=float, default=30.0, help="their SOCIAL_SANDBOX_SCALE")
    args = parser.parse_args()

    store = args.store.split("://", 1)[0] if args.store else "SQLite"
    print(f"Reddit: {args.processes} process(es) sharing one client id for {args.seconds:.0f} s, "
          f"{args.limit} calls per {args.window} s window ({store} store, sandbox over HTTP)")
    reddit = reddit_sustained(args.seconds, args.processes, args.limit, args.window, args.store)
    print(f"  share of allowed calls used: {reddit['share_mean']:.1%} mean over {reddit['windows']} full windows "
          f"(lowest window {reddit['share_min']:.1%})")
    print(f"  overuse: most calls in one window {reddit['max_in_window']} of {args.limit}; "
          f"429 answers {reddit['throttled']}; calls {reddit['calls']}")

    print(f"YouTube: channel-days until the key's daily quota ({args.youtube_quota:,} units) is spent")
    tube = youtube_quota(args.youtube_quota)
    print(f"  share of the daily quota used: {tube['units_used'] / tube['quota']:.1%} "
          f"({tube['units_used']:,} units, paused after {tube['source_days']} source-days)")
    print(f"  overuse: calls the platform refused for quota {tube['refused_by_platform']}")

    print("Per 1,000 posts collected with full metrics (calls; minimum for the same source-days):")
    per = reddit_per_thousand_posts(source_days=180)
    print(f"  reddit  posts only:    {1000 * per['calls'] / per['posts']:7.1f} calls   "
          f"minimum {1000 * per['minimum'] / per['posts']:7.1f}   ({per['posts']} posts, {per['source_days']} source-days)")
    for with_comments in (False, True):
        yt = youtube_per_thousand_posts(with_comments)
        label = "with comments:" if with_comments else "posts only:   "
        print(f"  youtube {label} {1000 * yt['units'] / yt['posts']:7.1f} units ({1000 * yt['calls'] / yt['posts']:.1f} "
              f"calls)   minimum {1000 * yt['minimum'] / yt['posts']:7.1f}   ({yt['posts']} posts, {yt['source_days']} source-days)")
    for with_comments in (False, True):
        x = x_per_thousand_posts(with_comments)
        label = "with comments:" if with_comments else "posts only:   "
        print(f"  x       {label} {1000 * x['calls'] / x['posts']:7.1f} calls   minimum {1000 * x['minimum'] / x['posts']:7.1f}   "
              f"({x['posts']} posts, {x['source_days']} source-days)")
        bs = bluesky_per_thousand_posts(with_comments)
        label = "with comments:" if with_comments else "posts only:   "
        print(f"  bluesky {label} {1000 * bs['calls'] / bs['posts']:7.1f} calls   minimum "
              f"{1000 * bs['minimum'] / bs['posts']:7.1f}   ({bs['posts']} posts, {bs['source_days']} source-days)")
        md = mastodon_per_thousand_posts(with_comments)
        label = "with comments:" if with_comments else "posts only:   "
        print(f"  mastodon {label}{1000 * md['calls'] / md['posts']:7.1f} calls   minimum "
              f"{1000 * md['minimum'] / md['posts']:7.1f}   ({md['posts']} posts, {md['source_days']} source-days)")

    print(f"Reddit at its real limit: {args.sources} catalog subreddits at SOCIAL_SANDBOX_SCALE={args.scale:g}, "
          "a day each with comments, one client id, virtual clock")
    real = reddit_at_real_limit(args.sources, args.scale)
    print(f"  {real['posts']:,} posts and {real['comments']:,} comments in {real['calls']:,} calls over "
          f"{real['hours']:.2f} h: {real['posts_per_hour']:,.0f} posts per hour")
    print(f"  overuse: most calls in one {real['window']:g} s window {real['most_in_window']} of {real['limit']:g}; "
          f"429 answers {real['throttled']}; sources collected {real['collected']} of {real['sources']}; "
          f"duplicate posts {real['duplicates']}; {real['cpu_s']:.1f} CPU-s")


if __name__ == "__main__":
    main()
