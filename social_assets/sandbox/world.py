"""A deterministic synthetic social world, shared by every platform's sandbox.

Everything is a pure function of (seed, platform, account handle, time), computed on demand,
so the sandbox keeps no state and two processes with the same seed see the same world:

- accounts have heavy-tailed (log-normal) follower counts that grow every day;
- each account posts a Poisson number of posts per day at seeded times;
- a post's likes, views and comments accrue with its age towards a heavy-tailed final value;
- comments form trees: each new comment either starts a thread or replies to an earlier one,
  which gives the long thin chains and wide shallow threads real comment sections have.

The world's clock (`SandboxClock`) decides what exists "now": nothing published after it is
visible, and counts are evaluated at it.

Posts and comments can be deleted (`World.delete`: by their author, or removed by a moderator)
from a moment on; that is the world's only state. From then on listings, lookups and comment
lists leave them out, unless a platform asks for them (`include_deleted`) to show a
placeholder, as Reddit shows "[deleted]" and Bluesky `notFoundPost`.

Every account posts at least once a day (a quiet day's one post comes out in the morning) and
every post draws at least `MIN_COMMENTS_PER_POST` comments, so a daily collection of any
account finds posts, comments and a profile. `SOCIAL_SANDBOX_SCALE=N` (`scale`) multiplies
every account's followers and posting rate, and with the followers its likes and comments per
post: one source then makes a busy community's day (up to `MAX_POSTS_PER_DAY` posts and
`MAX_COMMENTS_PER_POST` comments each, the limits of the id layout). Scale 1 is the world as it
always was, value for value. A scaled day is still computed on demand, one day's posts and one
post's comments at a time, and only the most recently used ones are kept (`_BoundedCache`), so
serving hundreds of thousands of comments never holds them all.

Platform sandboxes render these platform-neutral objects in their API's shapes. Ids are derived
reversibly from (account number, day, index) so any id a client was given can be resolved
again without a lookup table.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import random
import threading
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from social_assets.core.timeutil import from_iso, utc_now

SCALE_VARIABLE = "SOCIAL_SANDBOX_SCALE"
EPOCH = date(2020, 1, 1)  # day 0 of the world; ids encode days since then
FOLLOWERS_ANCHOR = datetime(2026, 1, 1, tzinfo=timezone.utc)  # base_followers hold on this day
DEFAULT_SEED = 20260101
MAX_POSTS_PER_DAY = 9_999
MAX_COMMENTS_PER_POST = 4000
MAX_SCALE = 10_000  # more is surely a typo: most accounts reach MAX_POSTS_PER_DAY well before
# Post uids: (account number * 40,000 + day) << 8 | index for a day's first 256 posts, the
# layout every existing id was made from; a busy day's later posts are marked by this bit and
# keep 14 bits for their index. Every uid stays below 2**53 with its comments, so the
# platforms' fixed-size id encodings (7 or 8 bytes) hold them.
_BUSY_DAY_BIT = 1 << 40
_SMALL_INDEX_BITS, _BUSY_INDEX_BITS = 8, 14
ACCRUAL_HOURS = 18.0  # engagement reaches ~63% of its final value after this many hours
MIN_COMMENTS_PER_POST = 3  # every post draws some conversation, so every collected day has comments
QUIET_DAY_POST_LATEST = 12 * 3600 - 1  # seconds into the day

_WORDS = (
    "data pipeline warehouse launch update guide tips question weekly thread review python "
    "analytics growth story behind scenes tutorial live recap news release community event "
    "design dashboard metrics sql model dbt dagster duckdb api stream debate ideas why how "
    "best worst first last quick deep dive lesson mistakes wins today tomorrow"
).split()


class SandboxClock:
    """The world's 'now'.

    A fixed time when given one. Otherwise `SOCIAL_SANDBOX_NOW` (ISO 8601, read at each call)
    pins it, and without that it is real UTC time floored to the hour: the world ticks hourly,
    so two collections within the same hour see identical numbers and re-running a partition
    reproduces the warehouse exactly.
    """

    def __init__(self, fixed: datetime | None = None):
        self.fixed = fixed

    def now(self) -> datetime:
        if self.fixed is not None:
            return self.fixed
        pinned = os.environ.get("SOCIAL_SANDBOX_NOW")
        if pinned:
            try:
                return from_iso(pinned)
            except ValueError as exc:
                raise ValueError(f"SOCIAL_SANDBOX_NOW={pinned!r} is not an ISO 8601 time with a zone") from exc
        return utc_now().replace(minute=0, second=0, microsecond=0)


def scale_from(value: str | None) -> float:
    """The activity multiplier named by `value` (None or "" = 1); a clear error for anything else."""
    if not value:
        return 1.0
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= MAX_SCALE:  # also refuses nan and inf
        raise ValueError(f"{SCALE_VARIABLE}={value!r} is not an activity multiplier: use a number above 0 and "
                         f"at most {MAX_SCALE:,}, e.g. 1 (the default world) or 100 (a busy community)")
    return scale


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 500:
        # Only scaled worlds get here: Knuth's product would underflow (exp(-745) is 0), and a
        # Poisson count this large is normal to within a fraction of a percent.
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    # Knuth's method is fine for the small rates of an unscaled world.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def accrual(age: timedelta) -> float:
    """Share of its final engagement a post (or comment) has reached at this age."""
    hours = age.total_seconds() / 3600.0
    return 0.0 if hours <= 0 else 1.0 - math.exp(-hours / ACCRUAL_HOURS)


@dataclass(frozen=True)
class WorldAccount:
    platform: str
    kind: str  # what the platform calls it: subreddit, user, channel, page, ...
    handle: str
    number: int  # position in the platform's catalog; encoded into ids
    created_at: datetime
    base_followers: int  # followers on FOLLOWERS_ANCHOR
    daily_growth: float  # relative follower growth per day
    posts_per_day: float
    display_name: str

    def followers(self, at: datetime) -> int:
        days = (at - FOLLOWERS_ANCHOR).total_seconds() / 86400
        return int(self.base_followers * math.exp(self.daily_growth * days))


@dataclass(frozen=True, slots=True)  # slots: a busy day holds many
class WorldPost:
    account: WorldAccount
    day: date
    index: int
    uid: int
    published_at: datetime
    title: str
    body: str
    flavor: float  # uniform [0, 1): platforms map it to a content type
    final_likes: int
    final_comments: int
    view_ratio: float  # views per like, for platforms that report views
    share_ratio: float

    def likes(self, at: datetime) -> int:
        return int(self.final_likes * accrual(at - self.published_at))

    def views(self, at: datetime) -> int:
        return int(self.final_likes * self.view_ratio * accrual(at - self.published_at))

    def shares(self, at: datetime) -> int:
        return int(self.final_likes * self.share_ratio * accrual(at - self.published_at))


@dataclass(frozen=True, slots=True)  # slots: a busy day holds many
class WorldComment:
    post: WorldPost
    index: int
    uid: int
    parent_index: int | None  # None: top-level
    depth: int
    published_at: datetime
    author: str
    text: str
    final_likes: int

    def likes(self, at: datetime) -> int:
        return int(self.final_likes * accrual(at - self.published_at))


def post_uid(account_number: int, day: date, index: int) -> int:
    account_day = account_number * 40_000 + (day - EPOCH).days
    if index < 1 << _SMALL_INDEX_BITS:
        return (account_day << _SMALL_INDEX_BITS) | index
    return _BUSY_DAY_BIT | (account_day << _BUSY_INDEX_BITS) | index


def post_place(uid: int) -> tuple[int, date, int]:
    """The (account number, day, index) a post uid was made from (the inverse of `post_uid`)."""
    bits = _BUSY_INDEX_BITS if uid & _BUSY_DAY_BIT else _SMALL_INDEX_BITS
    account_day, index = (uid & ~_BUSY_DAY_BIT) >> bits, uid & ((1 << bits) - 1)
    account_number, day_number = divmod(account_day, 40_000)
    return account_number, EPOCH + timedelta(days=day_number), index


def comment_uid(post: WorldPost, index: int) -> int:
    return post.uid * (MAX_COMMENTS_PER_POST + 1) + index + 1


@dataclass(frozen=True)
class Deletion:
    at: datetime
    how: str  # "deleted" (by its author) or "removed" (by a moderator)


class World:
    """The synthetic world. `catalogs` maps each platform to its accounts as (kind, handle);
    `scale` multiplies every account's activity (see the module docstring)."""

    def __init__(
        self,
        catalogs: dict[str, list[tuple[str, str]]],
        seed: int = DEFAULT_SEED,
        clock: SandboxClock | None = None,
        scale: float = 1.0,
    ):
        self.seed = seed
        self.clock = clock or SandboxClock()
        self.scale = scale
        self._accounts: dict[str, list[WorldAccount]] = {
            platform: [self._make_account(platform, n, kind, handle) for n, (kind, handle) in enumerate(entries)]
            for platform, entries in catalogs.items()
        }
        self._deletions: dict[tuple[str, int], Deletion] = {}

    def now(self) -> datetime:
        return self.clock.now()

    # -- deletions --------------------------------------------------------------------------

    def delete(self, item: "WorldPost | WorldComment", how: str = "deleted", at: datetime | None = None) -> None:
        """Delete a post or comment from `at` (default now) on; `how` is "deleted" or "removed"."""
        if how not in ("deleted", "removed"):
            raise ValueError(f"how={how!r}: expected 'deleted' or 'removed'")
        platform = item.account.platform if isinstance(item, WorldPost) else item.post.account.platform
        self._deletions[(platform, item.uid)] = Deletion(at or self.now(), how)

    def deletion(self, platform: str, uid: int) -> Deletion | None:
        """How and when the item was deleted, if it is by now."""
        found = self._deletions.get((platform, uid))
        return found if found is not None and found.at <= self.now() else None

    def is_deleted(self, item: "WorldPost | WorldComment") -> bool:
        platform = item.account.platform if isinstance(item, WorldPost) else item.post.account.platform
        return bool(self._deletions) and self.deletion(platform, item.uid) is not None

    # -- accounts ---------------------------------------------------------------------------

    def _make_account(self, platform: str, number: int, kind: str, handle: str) -> WorldAccount:
        rng = _rng(self.seed, platform, handle)
        created_days = rng.randint(200, 3000)
        return WorldAccount(
            platform=platform,
            kind=kind,
            handle=handle,
            number=number,
            created_at=datetime(EPOCH.year, EPOCH.month, EPOCH.day, tzinfo=timezone.utc)
            - timedelta(days=created_days, seconds=rng.randint(0, 86399)),
            base_followers=int(max(50, int(rng.lognormvariate(math.log(8_000), 1.6))) * self.scale),
            daily_growth=rng.uniform(0.0002, 0.0015),
            posts_per_day=min(12.0, max(0.3, rng.lognormvariate(math.log(2.5), 0.7))) * self.scale,
            display_name=handle.replace("_", " ").title(),
        )

    def accounts(self, platform: str) -> list[WorldAccount]:
        return list(self._accounts.get(platform, []))

    def account(self, platform: str, handle: str) -> WorldAccount | None:
        wanted = handle.lower()
        for account in self._accounts.get(platform, []):
            if account.handle.lower() == wanted:
                return account
        return None

    def account_by_number(self, platform: str, number: int) -> WorldAccount | None:
        accounts = self._accounts.get(platform, [])
        return accounts[number] if 0 <= number < len(accounts) else None

    # -- posts ------------------------------------------------------------------------------

    def posts_on(self, account: WorldAccount, day: date) -> list[WorldPost]:
        """Every post the account publishes on `day`, oldest first, whether or not it exists yet."""
        return list(_posts_on(self.seed, account, day))

    def posts(self, account: WorldAccount, until: datetime | None = None, since: datetime | None = None) -> list[WorldPost]:
        """Posts published in [since, until], newest first; `until` defaults to now and never passes it."""
        now = self.now()
        until = min(until or now, now)
        first_day = max((since or account.created_at).date(), account.created_at.date(), EPOCH)
        found: list[WorldPost] = []
        day = until.date()
        while day >= first_day:
            for post in reversed(self.posts_on(account, day)):
                if post.published_at <= until and (since is None or post.published_at >= since) and not self.is_deleted(post):
                    found.append(post)
            day -= timedelta(days=1)
        return found

    def iter_posts_newest_first(self, account: WorldAccount):
        """Posts from now backwards, lazily, to the account's creation: listings page through this."""
        now = self.now()
        day = now.date()
        first_day = max(account.created_at.date(), EPOCH)
        while day >= first_day:
            for post in reversed(self.posts_on(account, day)):
                if post.published_at <= now and not self.is_deleted(post):
                    yield post
            day -= timedelta(days=1)

    def post_by_uid(self, platform: str, uid: int, include_deleted: bool = False) -> WorldPost | None:
        account_number, day, index = post_place(uid)
        account = self.account_by_number(platform, account_number)
        if account is None:
            return None
        posts = self.posts_on(account, day)
        if index >= len(posts) or posts[index].uid != uid or posts[index].published_at > self.now():
            return None
        if not include_deleted and self.is_deleted(posts[index]):
            return None
        return posts[index]

    # -- comments ---------------------------------------------------------------------------

    def comments(self, post: WorldPost, at: datetime | None = None, include_deleted: bool = False) -> list[WorldComment]:
        """The post's comments that exist at `at` (default now), oldest first. With
        `include_deleted`, deleted ones too: then a comment's index in the list is its `index`."""
        at = at or self.now()
        return [c for c in _comment_tree(self.seed, post)
                if c.published_at <= at and (include_deleted or not self.is_deleted(c))]

    def comment_count(self, post: WorldPost, at: datetime | None = None) -> int:
        if self._deletions or _comment_tree.holds(self.seed, post):
            return len(self.comments(post, at))
        # Listings show every post's count: the arrival times alone give it, without building
        # (and caching) a busy post's thousands of comments for one number.
        at = at or self.now()
        return bisect_right(_arrival_times(_comments_rng(self.seed, post), post), at)

    def comment_by_uid(self, platform: str, uid: int, include_deleted: bool = False) -> WorldComment | None:
        post_uid_, offset = divmod(uid, MAX_COMMENTS_PER_POST + 1)
        post = self.post_by_uid(platform, post_uid_)
        if post is None or offset == 0:
            return None
        tree = _comment_tree(self.seed, post)
        if offset - 1 >= len(tree) or tree[offset - 1].published_at > self.now():
            return None
        if not include_deleted and self.is_deleted(tree[offset - 1]):
            return None
        return tree[offset - 1]


class CommentTree:
    """Comments of one post indexed by parent, siblings in `order` (default oldest first):
    what platforms render threads, reply chains and "load more" counts from."""

    def __init__(self, comments: list[WorldComment], order: Callable[[WorldComment], Any] | None = None):
        self._children: dict[int | None, list[WorldComment]] = defaultdict(list)
        for comment in comments:
            self._children[comment.parent_index].append(comment)
        for siblings in self._children.values() if order else ():
            siblings.sort(key=order)
        self._sizes: dict[int, int] = {}

    @property
    def top_level(self) -> list[WorldComment]:
        return self._children.get(None, [])

    def replies(self, comment: WorldComment) -> list[WorldComment]:
        return self._children.get(comment.index, [])

    def descendants(self, comment: WorldComment) -> list[WorldComment]:
        """Every comment under `comment`, depth first."""
        return [d for reply in self.replies(comment) for d in (reply, *self.descendants(reply))]

    def subtree_size(self, comment: WorldComment) -> int:
        if comment.index not in self._sizes:
            self._sizes[comment.index] = 1 + sum(self.subtree_size(r) for r in self.replies(comment))
        return self._sizes[comment.index]


class _BoundedCache:
    """Memoizes a function returning tuples, keeping the most recently used results up to
    `budget` items in all (the newest result always, however large). An entry-count bound
    (`lru_cache`) would let a scaled world's days and comment trees, thousands of items each,
    fill the memory; this keeps a busy post's comments while they are being paged through."""

    def __init__(self, function: Callable[..., tuple], budget: int):
        self.function, self.budget = function, budget
        self._results: OrderedDict[tuple, tuple] = OrderedDict()
        self._items = 0
        self._lock = threading.Lock()  # the sandbox server answers from several threads
        functools.update_wrapper(self, function)

    def __call__(self, *key: Any) -> tuple:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        result = self.function(*key)
        with self._lock:
            if key not in self._results:
                self._results[key] = result
                self._items += len(result)
            while self._items > self.budget and len(self._results) > 1:
                self._items -= len(self._results.popitem(last=False)[1])
        return result

    def holds(self, *key: Any) -> bool:
        with self._lock:
            return key in self._results

    def cache_clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._items = 0


def _posts_on(seed: int, account: WorldAccount, day: date) -> tuple[WorldPost, ...]:
    if day < account.created_at.date() or day < EPOCH:
        return ()
    rng = _rng(seed, account.platform, account.handle, day.isoformat())
    count = min(MAX_POSTS_PER_DAY, _poisson(rng, min(account.posts_per_day, MAX_POSTS_PER_DAY)))
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    # Mastodon and TikTok key a post by its second * 1000 + its index of the day: a scaled day of
    # more than 1,000 posts ends as many seconds early, so those keys stay inside their day.
    last_second = 86_399 - count // 1000
    # A quiet day still has one post, published in the morning, so that every account shows up
    # in every daily collection (only the days that would have had none differ).
    times = sorted(rng.randint(0, last_second) for _ in range(count)) or [rng.randint(0, QUIET_DAY_POST_LATEST)]
    followers = account.followers(midnight)
    posts = []
    for index, offset in enumerate(times):
        virality = rng.lognormvariate(0.0, 1.1)
        final_likes = max(0, int(followers * 0.003 * virality))
        words = rng.sample(_WORDS, k=rng.randint(3, 8))
        posts.append(
            WorldPost(
                account=account,
                day=day,
                index=index,
                uid=post_uid(account.number, day, index),
                published_at=midnight + timedelta(seconds=offset),
                title=" ".join(words).capitalize(),
                body=" ".join(rng.sample(_WORDS, k=rng.randint(0, 30))),
                flavor=rng.random(),
                final_likes=final_likes,
                final_comments=min(MAX_COMMENTS_PER_POST, max(MIN_COMMENTS_PER_POST, int(final_likes * rng.uniform(0.02, 0.10)))),
                view_ratio=rng.uniform(15.0, 60.0),
                share_ratio=rng.uniform(0.01, 0.08),
            )
        )
    return tuple(posts)


def _comments_rng(seed: int, post: WorldPost) -> random.Random:
    return _rng(seed, post.account.platform, "comments", post.uid)


def _arrival_times(rng: random.Random, post: WorldPost) -> list[datetime]:
    """When the post's comments arrive, oldest first: the first draws of its comments' `rng`."""
    # Arrival delays follow the same accrual curve as likes, so counts and trees agree.
    delays = sorted(-ACCRUAL_HOURS * math.log(1.0 - rng.random()) for _ in range(post.final_comments))
    return [post.published_at + timedelta(hours=delay_hours, seconds=1) for delay_hours in delays]


def _comment_tree(seed: int, post: WorldPost) -> tuple[WorldComment, ...]:
    rng = _comments_rng(seed, post)
    comments: list[WorldComment] = []
    for index, published_at in enumerate(_arrival_times(rng, post)):
        parent: WorldComment | None = None
        if comments and rng.random() < 0.55:
            # Favour recent comments: conversations continue where they are active.
            parent = comments[int(len(comments) * (1 - rng.random() ** 2.5)) - 1 if len(comments) > 1 else 0]
            if parent.depth >= 14:
                parent = None
        comments.append(
            WorldComment(
                post=post,
                index=index,
                uid=comment_uid(post, index),
                parent_index=parent.index if parent else None,
                depth=parent.depth + 1 if parent else 0,
                published_at=published_at,
                author=f"user_{rng.randint(1, 50_000)}",
                text=" ".join(rng.sample(_WORDS, k=rng.randint(2, 14))).capitalize(),
                final_likes=int(rng.paretovariate(1.6)) - 1,
            )
        )
    return tuple(comments)


# Some 20,000 posts (thousands of an unscaled world's account-days, as many as before) and
# 100,000 comments, a few hundred bytes each: tens of MB however busy the world.
_posts_on = _BoundedCache(_posts_on, budget=20_000)
_comment_tree = _BoundedCache(_comment_tree, budget=100_000)
