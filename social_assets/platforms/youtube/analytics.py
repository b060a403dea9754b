"""Past subscriber counts of a channel that authorized the YouTube Analytics API v2 (the
companion `analytics`, OAuth2 scope yt-analytics.readonly, PLATFORMS.md §2).

Walk: right after `channels.list` (the walk's step 1), `land_subscriber_history` asks
`reports` for the daily `subscribersGained` and `subscribersLost` of the
`SUBSCRIBER_HISTORY_DAYS` Los Angeles days before the one the count was read in, and lands the
result table as "profiles" with the channel, its `subscriberCount` and the moment YouTube
answered it (`counted_at`, the answer's Date) beside it.
Where the channel has not authorized it (live mode, none of `ANALYTICS_VARIABLES` set for the
source) nothing is asked: the channel is collected as before, with no history.

Normalization (`subscriber_history`): a reported day ends with the count read minus the net
changes (gained - lost) of the reported days after it; the record is a derived follower
snapshot observed at the end of that Los Angeles day, in UTC. A day not over when the count was
read gets none.

⚠ Decisions on what PLATFORMS.md does not confirm:
- `ANALYTICS_IDS`: the report asks `ids=channel==<the source's channel id>`, not `channel==MINE`:
  a token of another channel is then refused instead of its history being filed under this one.
- `SUBSCRIBERS_LOST`: net change = `subscribersGained - subscribersLost` (PLATFORMS.md lists
  only subscribersGained).
- `DAYS_IN_LOS_ANGELES`: the report's days are America/Los_Angeles days.
- `UNREPORTED_DAYS_COUNT_ZERO`: Analytics lags behind by days; changes not reported yet (and
  those of the day the count was read in) count 0, so the newest derived days carry them.
- `ABSENT_DAY_NO_CHANGE`: a day missing between reported days counts no change.
- `ROUNDED_BASE`: `subscriberCount` is rounded to three significant figures on large
  channels; the derived counts inherit that rounding (the daily changes are exact).
- `HIDDEN_COUNT_NO_HISTORY`: a hidden subscriber count gives no base: the report is not asked.
- `ANALYTICS_ERRORS_FAIL_THE_SOURCE`: an error answer (a missing scope, a token of another
  channel, half the credentials set) fails the source like any call of its walk: only no
  credentials at all means "not authorized".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from social_assets.core.errors import CredentialsNotSet
from social_assets.core.history import counted_back, counted_base, derived_snapshot
from social_assets.core.records import Normalized, NotAResponse, ProfileRecord, Rejected, Unusable
from social_assets.core.rest import RestClient
from social_assets.core.timeutil import utc_now
from social_assets.platforms.youtube import normalize
from social_assets.platforms.youtube.models import Channel
from social_assets.platforms.youtube.spec import ANALYTICS, PLATFORM, QUOTA_TIME_ZONE

SUBSCRIBER_HISTORY_DAYS = 30
RESULT_TABLE = "youtubeAnalytics#resultTable"
METRICS = ("subscribersGained", "subscribersLost")
ANALYTICS_DAYS = QUOTA_TIME_ZONE  # DAYS_IN_LOS_ANGELES


def land_subscriber_history(client: RestClient, channel: Channel) -> None:
    """Land the channel's daily subscriber changes before the count `client` just read (its
    `channels.list` answer), when the channel authorized it."""
    stats = channel.statistics
    if stats is None or stats.hidden_subscriber_count or stats.subscriber_count is None:
        return  # HIDDEN_COUNT_NO_HISTORY
    try:
        analytics = client.companion(ANALYTICS)
    except CredentialsNotSet:
        return  # not authorized: collected as before
    counted_at = client.answered_at or utc_now()
    today = counted_at.astimezone(ANALYTICS_DAYS).date()
    params = {"ids": f"channel=={channel.id}", "startDate": (today - timedelta(days=SUBSCRIBER_HISTORY_DAYS)).isoformat(),
              "endDate": (today - timedelta(days=1)).isoformat(), "metrics": ",".join(METRICS),
              "dimensions": "day", "sort": "day"}
    analytics.call("GET", "/reports", params=params, land_as="profiles",
                   context={"channel": channel.id, "subscribers": str(stats.subscriber_count),
                            "counted_at": counted_at.isoformat()})


def normalize_profiles(body: Any, channel: str | None = None, subscribers: str | None = None,
                       counted_at: str | None = None) -> Normalized[ProfileRecord]:
    """Profiles: a result table of `reports` is history, anything else a Data API answer."""
    if isinstance(body, dict) and body.get("kind") == RESULT_TABLE:
        return subscriber_history(body, channel, subscribers, counted_at)
    return normalize.normalize_profiles(body)


def subscriber_history(body: dict[str, Any], channel: str | None, subscribers: str | None,
                       counted_at: str | None) -> Normalized[ProfileRecord]:
    """The derived end-of-day counts of a result table (see the module docstring)."""
    columns = _columns(body)
    rows = body.get("rows") or []  # no rows at all: no data for the range
    if not isinstance(rows, list):
        raise NotAResponse(f"malformed YouTube Analytics result table: rows is a JSON {type(rows).__name__}")
    base = counted_base(subscribers, counted_at)
    if not channel or base is None:
        reason = ("past subscriber counts need the channel and the subscriberCount read with it (the walk "
                  "records `channel`, `subscribers` and `counted_at` beside the body)")
        return Normalized(rejected=[Rejected(item_id=_day_text(row), reason=reason, payload=row) for row in rows])
    days: list[tuple[tuple[date, Any], int]] = []  # ((day, row), net change), newest first (`sort=day`)
    unreadable: list[Rejected] = []
    for index in reversed(range(len(rows))):
        try:
            day, net = _day_row(rows[index], columns)
            if days and day >= days[-1][0][0]:
                raise Unusable(f"day {day} is not before {days[-1][0][0]}: the rows are not sorted by day")
        except Unusable as exc:
            # Older days would count back through this one's unknown change: none of them is guessed.
            unreadable = [Rejected(item_id=_day_text(rows[index]), reason=str(exc), payload=rows[index])]
            unreadable += [Rejected(item_id=_day_text(r), reason="older than an unreadable day", payload=r)
                           for r in rows[:index]]
            break
        days.append(((day, rows[index]), net))
    (count, moment), result = base, Normalized[ProfileRecord]()
    for (day, row), followers in counted_back(count, days):
        end = datetime.combine(day + timedelta(days=1), time.min, ANALYTICS_DAYS)
        if end > moment:
            continue  # not over when the count was read: no snapshot, but its change counts
        if followers < 0:
            result.rejected.append(Rejected(item_id=day.isoformat(), payload=row, reason=(
                f"counting back from {count} subscribers gives {followers} at the end of {day}")))
        else:
            result.records.append(derived_snapshot(PLATFORM, channel, followers, end.astimezone(timezone.utc)))
    result.rejected += unreadable
    return result


def _columns(body: dict[str, Any]) -> dict[str, int]:
    """Where the day and each metric are in a row, by the table's column headers."""
    headers = body.get("columnHeaders")
    names = [h.get("name") for h in headers if isinstance(h, dict)] if isinstance(headers, list) else []
    wanted = ("day", *METRICS)
    missing = [name for name in wanted if name not in names]
    if missing:
        raise NotAResponse(f"expected a YouTube Analytics result table with columns {', '.join(wanted)}, "
                           f"found columnHeaders without {', '.join(missing)}")
    return {name: names.index(name) for name in wanted}


def _day_row(row: Any, columns: dict[str, int]) -> tuple[date, int]:
    """(day, net subscriber change) of one row."""
    if not isinstance(row, list) or len(row) <= max(columns.values()):
        raise Unusable(f"row {row!r} does not have the table's {max(columns.values()) + 1} columns")
    try:
        day = date.fromisoformat(str(row[columns["day"]]))
    except ValueError:
        raise Unusable(f"day {row[columns['day']]!r} is not a YYYY-MM-DD date") from None
    gained, lost = (row[columns[name]] for name in METRICS)
    for name, value in zip(METRICS, (gained, lost)):
        if isinstance(value, bool) or not (isinstance(value, int) or isinstance(value, float) and value.is_integer()) or value < 0:
            raise Unusable(f"{name} of {day}: expected a count, found {value!r}")
    return day, int(gained) - int(lost)


def _day_text(row: Any) -> str | None:
    return str(row[0]) if isinstance(row, list) and row else None
