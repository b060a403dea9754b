"""Past subscriber counts from YouTube Analytics: the derivation, the walk in sandbox and live
mode (with, without and with half the credentials), and the sandbox's report."""

from __future__ import annotations

import json
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from social_assets.connections import Connection
from social_assets.core.errors import AuthError
from social_assets.core.http import LandedResponse
from social_assets.core.records import NotAResponse
from social_assets.platforms.youtube import PLATFORM
from social_assets.platforms.youtube.analytics import normalize_profiles
from social_assets.platforms.youtube.spec import YouTubeSource
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.youtube import SANDBOX_API_KEY, channel_id_for
from social_assets.sandbox.platforms.youtube_analytics import CREDENTIALS as ANALYTICS_CREDENTIALS
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)  # 05:00 in Los Angeles (PDT since 8 March)
SOCIALPULSE = channel_id_for("@socialpulse")
HEADERS = [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
           {"name": "subscribersGained", "columnType": "METRIC", "dataType": "INTEGER"},
           {"name": "subscribersLost", "columnType": "METRIC", "dataType": "INTEGER"}]


def table(rows, headers=HEADERS):
    return {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows}


def history(body, subscribers="1000", counted_at="2026-11-04T10:00:00+00:00"):
    result = normalize_profiles(body, channel=SOCIALPULSE, subscribers=subscribers, counted_at=counted_at)
    return [(r.observed_at.isoformat(), r.followers) for r in result.records], result.rejected


# -- the derivation -----------------------------------------------------------------------


def test_each_day_ends_with_the_count_read_minus_the_net_changes_after_it():
    # Read at 02:00 in Los Angeles on 4 November: 1,000 subscribers. Summer time ended on
    # 1 November, so 31 October ends at 07:00 UTC and the later days at 08:00 UTC.
    body = table([["2026-10-31", 1, 0], ["2026-11-01", 5, 1], ["2026-11-02", 3, 0], ["2026-11-03", 2, 4]])
    records, rejected = history(body)
    assert records == [
        ("2026-11-04T08:00:00+00:00", 1000),  # the last reported day: the count read
        ("2026-11-03T08:00:00+00:00", 1002),  # 1000 - (2 - 4)
        ("2026-11-02T08:00:00+00:00", 999),  # 1002 - (3 - 0)
        ("2026-11-01T07:00:00+00:00", 995),  # 999 - (5 - 1)
    ]
    assert rejected == []


def test_a_day_not_over_when_the_count_was_read_gets_no_snapshot_but_counts():
    body = table([["2026-11-03", 2, 0], ["2026-11-04", 7, 2]])
    records, _ = history(body, counted_at="2026-11-04T20:00:00+00:00")  # noon on 4 November in Los Angeles
    assert records == [("2026-11-04T08:00:00+00:00", 995)]


def test_columns_are_found_by_their_headers_and_missing_rows_mean_no_data():
    swapped = [HEADERS[2], HEADERS[0], HEADERS[1]]
    records, _ = history(table([[1, "2026-11-02", 10], [0, "2026-11-03", 4]], swapped))
    assert records == [("2026-11-04T08:00:00+00:00", 1000), ("2026-11-03T08:00:00+00:00", 996)]
    assert history({"kind": "youtubeAnalytics#resultTable", "columnHeaders": HEADERS}) == ([], [])


def test_a_day_missing_between_reported_days_counts_no_change():
    records, rejected = history(table([["2026-11-01", 5, 1], ["2026-11-03", 2, 4]]))  # no row for 2 November
    assert records == [("2026-11-04T08:00:00+00:00", 1000), ("2026-11-02T08:00:00+00:00", 1002)]
    assert rejected == []


def test_an_unreadable_day_stops_the_count_back_and_rejects_the_older_days():
    body = table([["2026-11-01", 5, 1], ["2026-11-02", "3", 0], ["2026-11-03", 2, 4]])
    records, rejected = history(body)
    assert records == [("2026-11-04T08:00:00+00:00", 1000)]
    assert [(r.item_id, r.reason) for r in rejected] == [
        ("2026-11-02", "subscribersGained of 2026-11-02: expected a count, found '3'"),
        ("2026-11-01", "older than an unreadable day"),
    ]


def test_a_negative_count_back_is_rejected():
    records, rejected = history(table([["2026-11-02", 0, 0], ["2026-11-03", 12, 0]]), subscribers="10")
    assert records == [("2026-11-04T08:00:00+00:00", 10)]
    assert [(r.item_id, r.reason) for r in rejected] == [
        ("2026-11-02", "counting back from 10 subscribers gives -2 at the end of 2026-11-02")]


def test_without_the_count_beside_it_every_day_is_rejected():
    result = normalize_profiles(table([["2026-11-03", 2, 4]]), channel=SOCIALPULSE)
    assert result.records == [] and [r.item_id for r in result.rejected] == ["2026-11-03"]
    assert "`subscribers`" in result.rejected[0].reason


def test_a_table_without_the_subscriber_columns_is_not_a_response():
    with pytest.raises(NotAResponse, match="without subscribersGained, subscribersLost"):
        normalize_profiles(table([["2026-11-03", 9]], HEADERS[:1] + [{"name": "views"}]))


def test_channels_still_normalize_as_profiles():
    body = {"kind": "youtube#channelListResponse", "items": [{"kind": "youtube#channel", "id": SOCIALPULSE,
            "statistics": {"subscriberCount": "1200", "hiddenSubscriberCount": False}}]}
    [profile] = normalize_profiles(body).records
    assert (profile.account_id, profile.followers, profile.observed_at) == (SOCIALPULSE, 1200, None)


# -- the walk and the sandbox -------------------------------------------------------------


def new_sandbox() -> Sandbox:
    return Sandbox(clock=SandboxClock(NOW), credentials={})


def profile(connection: Connection, source: YouTubeSource) -> list[LandedResponse]:
    landed: list[LandedResponse] = []
    PLATFORM.walk(connection.client(source, landed.append), source).profile()
    return landed


def live(sandbox: Sandbox, environ: dict[str, str]) -> Connection:
    """Live mode, as against YouTube, but answered by the sandbox (which accepts its own values)."""
    return Connection(PLATFORM, "live", httpx.Client(transport=SandboxTransport(sandbox)), environ)


def test_the_sandbox_report_counts_back_to_the_worlds_followers():
    sandbox = new_sandbox()
    channels, report = profile(TestConnection(PLATFORM, httpx.Client(transport=SandboxTransport(sandbox))),
                               YouTubeSource(channel=SOCIALPULSE))
    assert report.endpoint == "https://youtubeanalytics.googleapis.com/v2/reports"
    assert report.params == {"ids": f"channel=={SOCIALPULSE}", "startDate": "2026-02-08", "endDate": "2026-03-09",
                             "metrics": "subscribersGained,subscribersLost", "dimensions": "day", "sort": "day"}
    subscribers = int(json.loads(channels.body)["items"][0]["statistics"]["subscriberCount"])
    assert report.context == {"channel": SOCIALPULSE, "subscribers": str(subscribers), "counted_at": NOW.isoformat()}
    records = normalize_profiles(json.loads(report.body), **report.context).records
    assert len(records) == 30 and records[0].observed_at == datetime(2026, 3, 10, 7, tzinfo=timezone.utc)
    assert records[0].followers == subscribers  # the last whole day ends with the count read
    # Each day's derived count differs from the next by the world's change over that day, at
    # Los Angeles midnights (08:00 UTC before summer time, 07:00 after).
    account = sandbox.world.account("youtube", "@socialpulse")
    for newer, older in zip(records, records[1:]):
        assert newer.followers - older.followers == account.followers(newer.observed_at) - account.followers(older.observed_at)
    assert records[-1].observed_at == datetime.combine(datetime(2026, 2, 9), time.min, LOS_ANGELES)
    table_rows = json.loads(report.body)["rows"]
    assert all(gained >= 0 and lost >= 0 for _, gained, lost in table_rows) and any(lost for *_, lost in table_rows)


def test_the_sandbox_report_needs_its_token_and_a_channel_id():
    sandbox = new_sandbox()
    http = httpx.Client(transport=SandboxTransport(sandbox))
    url = "https://youtubeanalytics.googleapis.com/v2/reports"
    params = {"ids": f"channel=={SOCIALPULSE}", "startDate": "2026-03-01", "endDate": "2026-03-02",
              "metrics": "subscribersGained,subscribersLost", "dimensions": "day"}
    assert http.get(url, params=params).status_code == 401
    client_id, secret, refresh = ANALYTICS_CREDENTIALS.values()
    grant = http.post("https://oauth2.googleapis.com/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret, "refresh_token": refresh}).json()
    assert grant["expires_in"] == 3599 and "refresh_token" not in grant  # Google does not rotate it
    bearer = {"Authorization": f"Bearer {grant['access_token']}"}
    answer = http.get(url, params=params, headers=bearer).json()
    assert [row[0] for row in answer["rows"]] == ["2026-03-01", "2026-03-02"]
    mine = http.get(url, params=params | {"ids": "channel==MINE"}, headers=bearer)
    assert mine.status_code == 403 and mine.json()["error"]["errors"][0]["reason"] == "forbidden"
    wrong = http.post("https://oauth2.googleapis.com/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret, "refresh_token": "1//other"})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")


def test_a_hidden_subscriber_count_asks_for_no_history():
    sandbox = new_sandbox()
    landed = profile(TestConnection(PLATFORM, httpx.Client(transport=SandboxTransport(sandbox))),
                     YouTubeSource(channel=channel_id_for("@brandstudio")))
    assert [l.endpoint.rsplit("/", 1)[-1] for l in landed] == ["channels"]


def test_live_without_analytics_credentials_collects_as_before():
    landed = profile(live(new_sandbox(), {"YOUTUBE_API_KEY": SANDBOX_API_KEY}), YouTubeSource(channel=SOCIALPULSE))
    assert [l.endpoint.rsplit("/", 1)[-1] for l in landed] == ["channels"]


def test_live_with_the_sources_analytics_credentials_reads_the_history():
    renamed = {"YOUTUBE_REFRESH_TOKEN": "PULSE_YT_REFRESH"}  # a source names its own variable
    client_id, secret, refresh = ANALYTICS_CREDENTIALS.values()
    environ = {"YOUTUBE_API_KEY": SANDBOX_API_KEY, "YOUTUBE_CLIENT_ID": client_id, "YOUTUBE_CLIENT_SECRET": secret,
               "PULSE_YT_REFRESH": refresh}
    landed = profile(live(new_sandbox(), environ), YouTubeSource(channel=SOCIALPULSE, credentials=renamed))
    assert [(l.endpoint.rsplit("/", 1)[-1], l.status) for l in landed] == [("channels", 200), ("reports", 200)]
    assert refresh not in landed[1].body and secret not in landed[1].body


def test_live_with_part_of_the_analytics_credentials_names_the_source_and_what_is_missing():
    client_id, secret, _ = ANALYTICS_CREDENTIALS.values()
    environ = {"YOUTUBE_API_KEY": SANDBOX_API_KEY, "YOUTUBE_CLIENT_ID": client_id, "YOUTUBE_CLIENT_SECRET": secret}
    renamed = {"YOUTUBE_REFRESH_TOKEN": "PULSE_YT_REFRESH"}
    with pytest.raises(AuthError) as raised:
        profile(live(new_sandbox(), environ), YouTubeSource(channel=SOCIALPULSE, credentials=renamed))
    assert str(raised.value).endswith(f"youtube source {SOCIALPULSE}: PULSE_YT_REFRESH not set "
                                      "(live mode needs oauth2 refresh with rotation credentials)")
    assert secret not in str(raised.value)
