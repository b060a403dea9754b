"""Each kind of limit as a state machine, fed the platforms' real header shapes at pinned times.

The header window is checked with Reddit's relative reset and with X's absolute epoch reset
(the rate-limit headers X really sent, from the recorded responses, at the recorded Date);
Graph's usage percentages; YouTube's daily units with their Pacific reset (across a DST change);
and a daily count that resets at midnight UTC (TikTok Research, LinkedIn).
"""

from __future__ import annotations

import email.utils
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from social_assets.core.errors import Outcome
from social_assets.core.limits import DailyQuota, UsageShare, WindowHeaders, WindowLimit
from social_assets.core.limits.kinds import Admit, Exhausted, Wait
from social_assets.platforms.reddit.spec import LIMITS as REDDIT_LIMITS
from social_assets.platforms.youtube.spec import LIMITS as YOUTUBE_LIMITS
from social_assets_tests.conftest import REALDATA

PACIFIC = ZoneInfo("America/Los_Angeles")
X_HEADERS = WindowHeaders(
    limit="x-rate-limit-limit", remaining="x-rate-limit-remaining", reset="x-rate-limit-reset", reset_is_epoch=True
)


def recorded(platform: str, name: str) -> tuple[dict[str, str], float]:
    """The rate-limit headers of a recorded response and when it was answered (its Date)."""
    record = json.loads((REALDATA / platform / name).read_text())
    date = record.get("response_date_header") or record["recorded_at"]
    try:
        moment = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        moment = datetime.fromisoformat(date).replace(tzinfo=timezone.utc)
    return record["rate_limit_headers"], moment.timestamp()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# -- a header window with a relative reset (Reddit) -------------------------------------------


def test_reddit_headers_set_the_window_and_the_even_pace_after_the_burst():
    [window] = REDDIT_LIMITS.limits
    headers, now = recorded("reddit", "praw__user_about_2025.json")
    assert headers == {"x-ratelimit-remaining": "996.0", "x-ratelimit-reset": "342", "x-ratelimit-used": "4"}

    state = window.observe(None, headers, now, Outcome.OK, 1)
    assert state == {"limit": 1000.0, "used": 4.0, "resets_at": now + 342, "confirmed": True}

    # Within the first tenth of the window's calls nothing waits ...
    state, decision = window.reserve(state, now, 1)
    assert decision == Admit(now) and state["used"] == 5
    # ... past it, call k of the window goes no earlier than window start + (k - 100) * 0.6 s.
    start = state["resets_at"] - 600  # the window began 258 s ago
    state["used"] = 150.0  # behind that pace: no wait
    state, decision = window.reserve(state, now, 1)
    assert decision == Admit(now)
    state["used"] = 700.0  # ahead of it: call 700 waits for its place
    state, decision = window.reserve(state, now, 1)
    assert decision.slot == pytest.approx(start + 600 * 0.6)
    assert decision.slot - now == pytest.approx(102.0)


def test_reddit_window_stops_at_the_limit_until_the_reset_then_starts_over():
    [window] = REDDIT_LIMITS.limits
    now = 1_000_000.0
    state = window.observe(None, {"x-ratelimit-used": "999", "x-ratelimit-remaining": "1.0", "x-ratelimit-reset": "42"},
                           now, Outcome.OK, 1)
    state, decision = window.reserve(state, now, 1)
    assert isinstance(decision, Admit)
    state, decision = window.reserve(state, now + 1, 1)
    assert decision == Wait(now + 42, "window 'calls' of 1000 calls spent")  # nothing reserved, whatever the pace
    state, decision = window.reserve(state, now + 42, 1)
    assert decision == Admit(now + 42)
    assert state == {"limit": 1000.0, "used": 1.0, "resets_at": now + 42 + 600, "confirmed": True}


def test_reddit_window_learns_from_each_response_and_never_counts_down():
    [window] = REDDIT_LIMITS.limits
    now = 5_000.0
    seen = {"x-ratelimit-used": "10", "x-ratelimit-remaining": "990.0", "x-ratelimit-reset": "300"}
    state = window.observe(None, seen, now, Outcome.OK, 1)
    # Our reservations run ahead of the platform's count (calls in flight): keep the higher.
    state["used"] = 14.0
    state = window.observe(state, seen, now + 0.4, Outcome.OK, 1)
    assert state["used"] == 14.0
    # Another client of the same id spent more: the platform's count wins.
    state = window.observe(state, {**seen, "x-ratelimit-used": "60", "x-ratelimit-remaining": "940.0"}, now + 0.5,
                           Outcome.OK, 1)
    assert state["used"] == 60.0
    # Resets come rounded up to whole seconds: the earliest end seen is the closest bound.
    state = window.observe(state, {**seen, "x-ratelimit-reset": "299"}, now + 0.8, Outcome.OK, 1)
    assert state["resets_at"] == pytest.approx(now + 299.8)
    # The window turns on the platform's grid: the next one ends 600 s later.
    state, _ = window.reserve(state, now + 400, 1)
    assert state["used"] == 1 and state["resets_at"] == pytest.approx(now + 299.8 + 600)


def test_a_call_admitted_just_before_the_reset_counts_in_the_next_window_too():
    # X's reset is an epoch second: a call sent 0.4 s before it may reach X after its window turned.
    window = WindowLimit("requests", limit=3, window=900, headers=X_HEADERS)
    now = 2_000_000.0
    state = window.observe(None, {"x-rate-limit-limit": "3", "x-rate-limit-remaining": "3",
                                  "x-rate-limit-reset": str(int(now + 60))}, now, Outcome.OK, 1)
    state, _ = window.reserve(state, now, 1)  # a minute before the reset: this window's only
    state, _ = window.reserve(state, now + 59.6, 1)  # within the margin: maybe the next window's
    assert state["used"] == 2 and state["straddling"] == 1
    admitted = []
    for moment in (now + 60, now + 61, now + 62):
        state, decision = window.reserve(state, moment, 1)
        admitted.append(isinstance(decision, Admit))
    assert admitted == [True, True, False]  # the next window's three calls include the straddler
    assert state["used"] == 3 and "straddling" not in state
    state, decision = window.reserve(state, now + 60 + 900 + 1, 1)  # the window after starts from zero
    assert isinstance(decision, Admit) and state["used"] == 1


def test_past_the_limit_used_counts_refusals_so_the_limit_is_learned_while_calls_remain():
    [window] = REDDIT_LIMITS.limits
    now = 9_000.0
    # Over a 20-call window, a refused call counted: used 21, remaining 0. Not a 21-call window.
    state = window.observe(None, {"x-ratelimit-used": "21", "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "30"},
                           now, Outcome.THROTTLED, 1)
    assert state["limit"] == 21 and window.blocked_until(state, now) == now + 30  # at most: a bound
    state, _ = window.reserve(state, now + 30, 1)
    state = window.observe(state, {"x-ratelimit-used": "1", "x-ratelimit-remaining": "19.0", "x-ratelimit-reset": "600"},
                           now + 30, Outcome.OK, 1)
    assert state["limit"] == 20  # exact once calls remain


def test_a_429_at_the_limit_or_unexplained_spends_the_window_and_a_call_never_sent_is_given_back():
    [window] = REDDIT_LIMITS.limits
    now = 7_000.0
    seen = {"x-ratelimit-used": "5", "x-ratelimit-remaining": "995.0", "x-ratelimit-reset": "60"}
    state = window.observe(None, seen, now, Outcome.OK, 1)
    # The platform's own count says calls are left: a short throttle, back off and carry on.
    assert window.blocked_until(window.observe(state, seen, now, Outcome.THROTTLED, 1), now) is None
    # Its count at the limit, or no count at all: nothing remains until the reset.
    spent = {"x-ratelimit-used": "1000", "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "60"}
    assert window.blocked_until(window.observe(state, spent, now, Outcome.THROTTLED, 1), now) == now + 60
    state = window.observe(state, {}, now, Outcome.THROTTLED, 1)
    assert window.blocked_until(state, now) == now + 60
    state = window.observe(state, {}, now + 60, Outcome.NOT_SENT, 1)  # the next window, a call given back
    assert state["used"] == 0


# -- a header window with an absolute epoch reset (X) -----------------------------------------


@pytest.mark.parametrize("name", ["tweepy__v2_user_tweets_next_token.json", "tweepy__v1_home_timeline.json"])
def test_x_reset_is_an_absolute_epoch_second(name):
    headers, now = recorded("twitter", name)
    window = WindowLimit("requests", limit=900, window=900, headers=X_HEADERS, per_endpoint=True)
    state = window.observe(None, headers, now, Outcome.OK, 1)
    limit, remaining, reset = (float(headers[f"x-rate-limit-{k}"]) for k in ("limit", "remaining", "reset"))
    assert state["limit"] == limit and state["used"] == limit - remaining and state["resets_at"] == reset
    assert 0 < reset - now <= 900  # a 15-minute window, the reset not relative to now

    # X wants no pacing: everything that remains goes at once, then nothing until the epoch.
    for _ in range(int(remaining)):
        state, decision = window.reserve(state, now, 1)
        assert decision == Admit(now)
    state, decision = window.reserve(state, now, 1)
    assert decision.until == reset and isinstance(decision, Wait)

    # The next window; then a late answer from the one before teaches nothing.
    state, decision = window.reserve(state, reset, 1)
    assert decision == Admit(reset) and state["used"] == 1
    state = window.observe(state, headers, reset + 1, Outcome.OK, 1)
    assert state["used"] == 1 and state["resets_at"] == reset + 900


def test_x_counts_each_endpoint_in_its_own_window():
    window = WindowLimit("requests", limit=900, window=900, headers=X_HEADERS, per_endpoint=True)
    assert window.state_name("GET /2/users/:id/tweets") != window.state_name("GET /2/tweets")
    assert WindowLimit("calls", 1, 1).state_name("GET /anything") == "calls"


def test_the_v1_app_window_can_be_read_beside_the_endpoint_window():
    headers, now = recorded("twitter", "tweepy__v1_user_timeline_twitter.json")
    app = WindowHeaders(limit="x-app-rate-limit-limit", remaining="x-app-rate-limit-remaining",
                        reset="x-app-rate-limit-reset", reset_is_epoch=True)
    report = app.read(headers, now)
    assert (report.limit, report.used, report.resets_at) == (100000.0, 4.0, 1609317008.0)
    assert X_HEADERS.read(headers, now).resets_at == 1609231508.0


# -- usage percentages (Facebook / Instagram Graph) -------------------------------------------


def graph_headers(app: int, buc: int = 0, regain: int = 0) -> dict[str, str]:
    return {
        "x-app-usage": json.dumps({"call_count": app, "total_cputime": 3, "total_time": 4}),
        "x-business-use-case-usage": json.dumps({"112233445566": [
            {"type": "pages", "call_count": buc, "total_cputime": 1, "total_time": 2,
             "estimated_time_to_regain_access": regain},
        ]}),
    }


def test_graph_usage_below_80_percent_does_not_slow_down():
    usage = UsageShare("graph", calls_per_window=200)
    now = 100.0
    state = usage.observe(None, graph_headers(app=28, buc=41), now, Outcome.OK, 1)
    assert state["used_pct"] == 41.0
    for _ in range(3):
        state, decision = usage.reserve(state, now, 1)
        assert decision == Admit(now)


def test_graph_usage_above_80_percent_spreads_the_share_left_over_the_hour():
    usage = UsageShare("graph", calls_per_window=200)
    now = 100.0
    state = usage.observe(None, graph_headers(app=90), now, Outcome.OK, 1)
    # 10 % of an estimated 200 calls an hour are left: one every 180 s.
    state, first = usage.reserve(state, now, 1)
    state, second = usage.reserve(state, now, 1)
    assert (first, second) == (Admit(now), Admit(now + 180))


def test_graph_estimated_time_to_regain_access_blocks_until_then():
    usage = UsageShare("graph", calls_per_window=200)
    now = 100.0
    state = usage.observe(None, graph_headers(app=12, buc=100, regain=7), now, Outcome.OK, 1)
    assert usage.reserve(state, now + 60, 1)[1] == Wait(now + 7 * 60, "'graph' usage at 100 %")
    assert isinstance(usage.reserve(state, now + 7 * 60, 1)[1], Admit)
    # Throttled at 100 % with no estimate: the configured pause.
    state = usage.observe(None, {"x-app-usage": json.dumps({"call_count": 100})}, now, Outcome.THROTTLED, 1)
    assert usage.blocked_until(state, now) == now + 300


# -- daily units, reset at midnight Pacific (YouTube) -----------------------------------------


def test_youtube_units_by_method_and_their_daily_budget():
    [units] = YOUTUBE_LIMITS.limits
    assert YOUTUBE_LIMITS.cost("GET videos") == 1 and YOUTUBE_LIMITS.cost("GET search") == 100
    now = epoch("2026-01-15T19:00:00+00:00")  # 11:00 in Los Angeles
    state, decision = units.reserve({"day": "2026-01-15", "used": 9_899}, now, 100)
    assert decision == Admit(now) and state["used"] == 9_999
    state, decision = units.reserve(state, now, 1)
    assert decision == Admit(now)
    state, decision = units.reserve(state, now, 1)
    assert isinstance(decision, Exhausted) and "10,000" in decision.why
    assert datetime.fromtimestamp(decision.until, PACIFIC) == datetime(2026, 1, 16, tzinfo=PACIFIC)
    assert decision.until - now == 13 * 3600


@pytest.mark.parametrize("utc_now, next_reset_utc", [
    ("2026-01-15T07:59:00+00:00", "2026-01-15T08:00:00+00:00"),  # 23:59 PST
    ("2026-01-15T08:00:01+00:00", "2026-01-16T08:00:00+00:00"),  # just past midnight PST
    ("2026-03-08T09:00:00+00:00", "2026-03-09T07:00:00+00:00"),  # 01:00 PST; DST starts at 02:00
    ("2026-11-01T06:30:00+00:00", "2026-11-01T07:00:00+00:00"),  # 23:30 PDT; DST ends that night
    ("2026-11-01T08:00:00+00:00", "2026-11-02T08:00:00+00:00"),  # a 25-hour day
])
def test_youtube_quota_resets_at_midnight_pacific(utc_now, next_reset_utc):
    [units] = YOUTUBE_LIMITS.limits
    assert units.next_reset(epoch(utc_now)) == epoch(next_reset_utc)


def test_youtube_units_start_over_on_the_pacific_day_and_a_refusal_spends_the_day():
    [units] = YOUTUBE_LIMITS.limits
    before_midnight = epoch("2026-01-15T07:59:00+00:00")
    state = units.observe(None, {}, before_midnight, Outcome.QUOTA, 1)  # the platform said quotaExceeded
    assert units.blocked_until(state, before_midnight) == before_midnight + 60
    assert isinstance(units.reserve(state, before_midnight, 1)[1], Exhausted)
    state, decision = units.reserve(state, before_midnight + 60, 1)
    assert decision == Admit(before_midnight + 60) and state == {"day": "2026-01-15", "used": 1}


# -- daily counts, reset at midnight UTC (TikTok Research, LinkedIn) --------------------------


def test_a_daily_count_resets_at_midnight_utc():
    research = DailyQuota("requests", 1_000, timezone.utc)
    late = epoch("2026-06-30T23:59:30+00:00")
    state = {"day": "2026-06-30", "used": 1_000}
    state, decision = research.reserve(state, late, 1)
    assert decision == Exhausted(epoch("2026-07-01T00:00:00+00:00"), decision.why, timezone.utc)
    assert "'requests' of 1,000 spent" in decision.why
    state, decision = research.reserve(state, late + 30, 1)
    assert decision == Admit(late + 30) and state == {"day": "2026-07-01", "used": 1}


# -- a monthly count, reset on the 1st (X's post-read cap) ------------------------------------


def test_a_monthly_count_holds_across_days_and_resets_on_the_first_of_the_month():
    from social_assets.core.limits import MonthlyQuota

    cap = MonthlyQuota("post reads", 3, timezone.utc)
    state, decision = cap.reserve(None, epoch("2026-12-01T00:00:00+00:00"), 2)
    assert decision == Admit(epoch("2026-12-01T00:00:00+00:00")) and state == {"day": "2026-12-01", "used": 2}
    late = epoch("2026-12-31T23:59:00+00:00")  # a month later: still the same budget
    state, decision = cap.reserve(state, late, 2)
    assert decision == Exhausted(epoch("2027-01-01T00:00:00+00:00"), decision.why, timezone.utc)
    assert decision.why.startswith("monthly quota 'post reads' of 3 spent")
    state, decision = cap.reserve(state, late + 120, 2)  # January: a new budget
    assert decision == Admit(late + 120) and state == {"day": "2027-01-01", "used": 2}
    # The platform's refusal spends the month whatever we counted.
    state = cap.observe({"day": "2027-01-01", "used": 0}, {}, late + 180, Outcome.QUOTA, 1)
    assert cap.blocked_until(state, late + 180) == epoch("2027-02-01T00:00:00+00:00")
