"""The sandbox engine's parts on their own, including what today's two emulations do not use
(epoch resets and limit headers, as X sends them)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from social_assets.core.limits import DailyQuota, LimitPolicy, WindowHeaders, WindowLimit
from social_assets.sandbox.engine import (
    Accepted,
    Emulation,
    InvalidCursor,
    Meter,
    PageTokens,
    TokenIssuer,
    cursor_page,
    decode_uid,
    encode_uid,
)
from social_assets.sandbox.http import SandboxRequest

X_HEADERS = WindowHeaders(limit="x-rate-limit-limit", remaining="x-rate-limit-remaining",
                          reset="x-rate-limit-reset", reset_is_epoch=True)
POLICY = LimitPolicy(platform="x", limits=(
    WindowLimit("calls", limit=3, window=900, headers=X_HEADERS),
    DailyQuota("reads", 5, ZoneInfo("America/Los_Angeles")),
))
REQUEST = SandboxRequest("GET", "api.x.com", "/2/tweets", [], {}, b"")


def test_window_counts_per_key_and_renders_epoch_reset_headers():
    meter = Meter(POLICY)
    now = 1_800_000_050.0  # 50 s into a 900 s window
    for _ in range(3):
        assert meter.refusal("key-a", now) is None
        meter.charge("key-a", now, meter.cost(REQUEST))
    refusal = meter.refusal("key-a", now)
    assert refusal is meter.windows[0] and refusal.refusal == "throttled"
    assert meter.refusal("key-b", now) is None  # per credential
    assert meter.headers("key-a", now) == {"x-rate-limit-limit": "3", "x-rate-limit-remaining": "0",
                                           "x-rate-limit-reset": str(1_800_000_000 + 900)}
    meter.charge("key-a", now, 1, refused_by=refusal)  # a refused call still counts in the window...
    assert meter.windows[0].used("key-a", now) == 4
    assert meter.quotas[0].used("key-a", now) == 3  # ...but costs no quota
    assert meter.refusal("key-a", now + 900) is None  # the next window


def test_daily_quota_resets_at_midnight_in_its_zone():
    meter = Meter(LimitPolicy(platform="y", limits=(DailyQuota("units", 2, ZoneInfo("America/Los_Angeles")),)))
    before = datetime(2026, 1, 15, 7, 59, tzinfo=timezone.utc).timestamp()  # 23:59 in Los Angeles
    meter.charge("k", before, 2)
    assert meter.refusal("k", before).refusal == "quota" and meter.headers("k", before) == {}
    assert meter.refusal("k", before + 120) is None


def test_tokens_expire_can_be_revoked_and_cannot_be_forged():
    clock = [1_000.0]
    issuer = TokenIssuer("secret", lambda: clock[0])
    token = issuer.issue("client-1", lifetime=60)
    assert issuer.subject(token) == "client-1"
    assert issuer.subject(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert TokenIssuer("other", lambda: clock[0]).subject(token) is None
    second = issuer.issue("client-1", lifetime=60)
    assert second != token
    issuer.revoke(second)
    assert issuer.subject(second) is None and issuer.subject(token) == "client-1"
    clock[0] += 60
    assert issuer.subject(token) is None


def test_accepted_credentials_are_whole_sets():
    accepted = Accepted({"ID": "built-in-id", "SECRET": "built-in-secret"}, {"SECRET": "planted", "OTHER": "x"})
    assert accepted.accepts(ID="built-in-id", SECRET="built-in-secret")
    assert accepted.accepts(ID="built-in-id", SECRET="planted")
    assert not accepted.accepts(ID="built-in-id", SECRET="x")
    assert not Accepted({"KEY": "k"}).accepts(KEY="planted")


def test_cursor_pages_forward_backward_and_with_an_overlap():
    items = list(range(10))
    name = str
    first = cursor_page(items, name, 4)
    assert (first.items, first.next, first.previous) == ([0, 1, 2, 3], "3", None)
    second = cursor_page(items, name, 4, after="3")
    assert (second.items, second.next, second.previous, second.start) == ([4, 5, 6, 7], "7", "4", 4)
    repeated = cursor_page(items, name, 4, after="3", overlap=1)
    assert (repeated.items, repeated.next, repeated.overlapped) == ([3, 4, 5, 6], "6", True)
    assert cursor_page(items, name, 4, after="9").items == [] and cursor_page(items, name, 4, after="nope").items == []
    back = cursor_page(items, name, 4, before="6")
    assert (back.items, back.previous, back.next) == ([2, 3, 4, 5], "2", "5")


def test_page_tokens_are_bound_to_their_query():
    tokens = PageTokens("videos|channel-a")
    page = tokens.page(list(range(7)), None, 3)
    assert page.items == [0, 1, 2] and page.previous is None
    second = tokens.page(list(range(7)), page.next, 3)
    assert second.items == [3, 4, 5] and tokens.offset(second.previous) == 0
    assert tokens.page(list(range(7)), page.next, 3, overlap=1).items == [2, 3, 4]
    assert tokens.page(list(range(7)), None, 3, overlap=1).overlapped is False  # nothing before a first page
    with pytest.raises(InvalidCursor):
        PageTokens("videos|channel-b").page(list(range(7)), page.next, 3)
    with pytest.raises(InvalidCursor):
        tokens.offset("not-a-token")


def test_token_pages_read_the_cursor_of_the_resource_and_a_lazy_listing_only_as_far_as_needed():
    class Listing(Emulation):
        platform, paged = "sbx", {"items": "pageToken"}

        def resource_of(self, request: SandboxRequest) -> str | None:
            return request.path.strip("/")

    read: list[int] = []

    def lazy():
        for n in range(100):
            read.append(n)
            yield n

    def ask(token: str | None = None, overlap: int = 0) -> SandboxRequest:
        return SandboxRequest("GET", "sbx", "/items", [("pageToken", token)] if token else [], {}, b"", overlap)

    listing = Listing.__new__(Listing)  # token_page needs neither a world nor credentials
    first = listing.token_page(ask(), "items|a", lazy(), 3)
    assert first.items == [0, 1, 2] and len(read) == 4  # the page and one look-ahead
    read.clear()
    second = listing.token_page(ask(first.next, overlap=1), "items|a", lazy(), 3)
    assert second.items == [2, 3, 4] and second.overlapped and len(read) == 7
    assert listing.token_page(ask(first.next), "items|a", [0, 1, 2, 3], 3).items == [3]
    with pytest.raises(InvalidCursor):
        listing.token_page(ask(first.next), "items|b", lazy(), 3)


@pytest.mark.parametrize("size", [8, 12, 16])
def test_uids_round_trip_through_scrambled_ids(size):
    uids = [0, 1, 2, 123_456_789, 2**63 - 1]
    encoded = [encode_uid(uid, size, "label") for uid in uids]
    assert [decode_uid(raw, "label") for raw in encoded] == uids
    assert len(set(encoded)) == len(uids) and all(len(raw) == size for raw in encoded)
    assert encode_uid(1, size, "label") != encode_uid(1, size, "other")
