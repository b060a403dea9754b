"""YouTube Analytics reports -> derived past follower counts: the normalizer counts back from the
subscriber count read just before, each Pacific day ending at the next midnight in Los Angeles."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from social_assets.cli import main
from social_assets.connections import Connection
from social_assets.core.http import LandedResponse
from social_assets.core.records import NotAResponse
from social_assets.platforms import PLATFORMS
from social_assets.platforms.youtube.normalize import normalize_profiles
from social_assets.platforms.youtube.spec import YouTubeSource
from social_assets.sandbox.app import Sandbox, SandboxTransport, sandbox_credentials
from social_assets.sandbox.platforms.youtube import SANDBOX_API_KEY, channel_id_for
from social_assets.sandbox.world import SandboxClock

CHANNEL = "UCmzSW9Don0eAA8yBCT-TUpg"
SOCIALPULSE = channel_id_for("@socialpulse")
PACIFIC = ZoneInfo("America/Los_Angeles")
HEADERS = [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
           {"name": "subscribersGained", "columnType": "METRIC", "dataType": "INTEGER"},
           {"name": "subscribersLost", "columnType": "METRIC", "dataType": "INTEGER"}]
CONTEXT = {"channel_id": CHANNEL, "subscribers": "12300", "counted_on": "2026-11-04"}


def report(*rows) -> dict:
    return {"kind": "youtubeAnalytics#resultTable", "columnHeaders": HEADERS, "rows": list(rows)}


def end_of(day: str) -> datetime:
    """The end of a Pacific day: the next midnight in Los Angeles."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), time.min, PACIFIC)


def counts(result) -> dict[datetime, int]:
    return {r.observed_at.astimezone(timezone.utc): r.followers for r in result.records}


def test_counts_back_from_the_count_read_with_gains_and_losses():
    result = normalize_profiles(report(["2026-11-01", 5, 1], ["2026-11-02", 7, 2], ["2026-11-03", 10, 4]), **CONTEXT)
    assert result.rejected == []
    assert all(r.account_id == CHANNEL and r.platform == "youtube" for r in result.records)
    # end of 11-03 = the count read (today's gains so far taken as 0); each earlier end: minus the
    # gains, plus the losses, of the days after it.
    assert counts(result) == {end_of("2026-11-03"): 12300, end_of("2026-11-02"): 12294,
                              end_of("2026-11-01"): 12289, end_of("2026-10-31"): 12285}
    assert end_of("2026-11-03").astimezone(timezone.utc) == datetime(2026, 11, 4, 8, tzinfo=timezone.utc)


def test_bad_rows_are_rejected_one_by_one_and_the_chain_stops_at_the_first_gap():
    result = normalize_profiles(report(
        ["2026-11-03", 10, 4],
        ["2026-11-02", "7", 2],          # a count as a string
        ["2026-11-01", 5, -1],           # a negative loss
        ["2026-10-31", 3],               # a short row
        ["not a day", 1, 1],
        "2026-10-30",                    # not a row
        ["2026-11-04", 1, 0],            # not over when the count was read
    ), **CONTEXT)
    assert counts(result) == {end_of("2026-11-03"): 12300, end_of("2026-11-02"): 12294}
    reasons = {r.item_id: r.reason for r in result.rejected}
    assert reasons["2026-11-02"].startswith("subscribersGained: expected a count, found '7'")
    assert reasons["2026-11-01"].startswith("subscribersLost: expected a count, found -1")
    assert "not an array of 3 cells" in reasons["2026-10-31"]
    assert reasons["not a day"].startswith("day: expected YYYY-MM-DD")
    assert "not over on 2026-11-04" in reasons["2026-11-04"]
    assert len(result.rejected) == 6  # the row that is a string too (no day to name it by)


def test_a_day_missing_in_between_stops_the_chain_and_older_days_are_rejected_not_guessed():
    result = normalize_profiles(report(["2026-11-03", 10, 4], ["2026-11-01", 5, 1], ["2026-11-01", 5, 1]), **CONTEXT)
    assert counts(result) == {end_of("2026-11-03"): 12300, end_of("2026-11-02"): 12294}
    reasons = [r.reason for r in result.rejected]
    gap = "not contiguous with the days after it (a day missing or rejected): cannot count back to it"
    assert reasons == ["day 2026-11-01 is reported twice", gap]


def test_a_count_that_would_go_negative_ends_the_chain_with_a_reason():
    result = normalize_profiles(report(["2026-11-02", 9, 0], ["2026-11-03", 5, 0]),
                                **CONTEXT | {"subscribers": "10"})
    assert counts(result) == {end_of("2026-11-03"): 10, end_of("2026-11-02"): 5}
    assert [r.item_id for r in result.rejected] == ["2026-11-01"] and "followers" in result.rejected[0].reason


def test_without_the_walks_context_every_day_is_rejected_with_what_is_missing():
    result = normalize_profiles(report(["2026-11-01", 5, 1], ["2026-11-02", 1, 0]))
    assert result.records == [] and [r.item_id for r in result.rejected] == ["2026-11-01", "2026-11-02"]
    assert "channel_id" in result.rejected[0].reason and "subscribers" in result.rejected[0].reason


def test_a_report_without_the_subscriber_columns_or_rows_array_is_not_a_response():
    with pytest.raises(NotAResponse, match="without subscribersLost"):
        normalize_profiles({"kind": "youtubeAnalytics#resultTable", "columnHeaders": HEADERS[:2], "rows": []}, **CONTEXT)
    with pytest.raises(NotAResponse, match="rows is a JSON dict"):
        normalize_profiles({"kind": "youtubeAnalytics#resultTable", "columnHeaders": HEADERS, "rows": {}}, **CONTEXT)
    assert normalize_profiles({"kind": "youtubeAnalytics#resultTable", "columnHeaders": HEADERS}, **CONTEXT).records == []


def test_the_normalize_command_exits_2_on_an_analytics_error_body(tmp_path, capsys):
    error = {"error": {"code": 403, "message": "Forbidden",
                       "errors": [{"message": "Forbidden", "domain": "global", "reason": "forbidden"}]}}
    (tmp_path / "error.json").write_text(json.dumps(error))
    assert main(["normalize", "youtube", "profiles", str(tmp_path / "error.json")]) == 2
    err = capsys.readouterr().err
    assert "not a youtube profiles response" in err and "Forbidden (forbidden)" in err
    # A report body without the walk's context: exit 0, every day rejected on stderr.
    (tmp_path / "report.json").write_text(json.dumps(report(["2026-11-01", 5, 1])))
    assert main(["normalize", "youtube", "profiles", str(tmp_path / "report.json")]) == 0
    out, err = capsys.readouterr()
    assert out == "" and json.loads(err)["id"] == "2026-11-01"


# -- the walk and the sandbox's Analytics -------------------------------------------------------

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)


def profile_calls(channel: str, mode: str = "sandbox (test)", environ: dict | None = None,
                  sandbox: Sandbox | None = None) -> list[LandedResponse]:
    """What the walk's profile step lands for `channel`, over the in-process sandbox."""
    sandbox = sandbox or Sandbox(clock=SandboxClock(NOW))
    landed: list[LandedResponse] = []
    environ = {"YOUTUBE_API_KEY": SANDBOX_API_KEY} if environ is None else environ
    connection = Connection(PLATFORMS["youtube"], mode, httpx.Client(transport=SandboxTransport(sandbox)), environ)
    source = YouTubeSource(channel=channel)
    PLATFORMS["youtube"].walk(connection.client(source, landed.append), source).profile()
    return landed


def test_without_analytics_credentials_in_live_mode_nothing_is_asked():
    landed = profile_calls(SOCIALPULSE, mode="live")
    assert [l.endpoint.rsplit("/", 1)[-1] for l in landed] == ["channels"]


def test_a_hidden_subscriber_count_asks_no_history():
    landed = profile_calls(channel_id_for("@brandstudio"))
    assert [l.endpoint.rsplit("/", 1)[-1] for l in landed] == ["channels"]


def test_the_sandbox_report_is_the_worlds_daily_change_in_gains_and_losses():
    sandbox = Sandbox(clock=SandboxClock(NOW))
    [_, history] = profile_calls(SOCIALPULSE, sandbox=sandbox)
    assert history.params["ids"] == f"channel=={SOCIALPULSE}"
    assert (history.params["startDate"], history.params["endDate"]) == ("2026-10-20", "2026-11-18")
    assert history.context["counted_on"] == "2026-11-19"  # 03:00 UTC is still the 19th in Los Angeles
    rows = json.loads(history.body)["rows"]
    assert [r[0] for r in rows][:2] == ["2026-10-20", "2026-10-21"] and rows[-1][0] == "2026-11-18"
    followers = sandbox.world.account("youtube", "@socialpulse").followers
    for day, gained, lost in rows:
        start = datetime.combine(date.fromisoformat(day), time.min, PACIFIC)
        assert gained - lost == followers(start + timedelta(days=1)) - followers(start) and lost >= 0
    assert any(lost for _, _, lost in rows)


def test_a_refused_history_costs_the_history_only(caplog):
    # Credentials the sandbox does not know: Google's token endpoint refuses them (invalid_client).
    environ = {"YOUTUBE_API_KEY": SANDBOX_API_KEY, "YOUTUBE_ANALYTICS_CLIENT_ID": "someone-else",
               "YOUTUBE_ANALYTICS_CLIENT_SECRET": "secret-of-someone-else", "YOUTUBE_ANALYTICS_REFRESH_TOKEN": "1//x"}
    landed = profile_calls(SOCIALPULSE, environ=environ)
    assert [l.endpoint.rsplit("/", 1)[-1] for l in landed] == ["channels"]
    assert "no follower history from YouTube Analytics" in caplog.text and "secret-of-someone-else" not in caplog.text


def test_the_sandbox_refuses_another_channel_a_bad_token_and_a_bad_grant():
    sandbox = Sandbox(clock=SandboxClock(NOW))
    http = httpx.Client(transport=SandboxTransport(sandbox))
    credentials = sandbox_credentials("youtube")
    form = {"grant_type": "refresh_token", "client_id": credentials["YOUTUBE_ANALYTICS_CLIENT_ID"],
            "client_secret": credentials["YOUTUBE_ANALYTICS_CLIENT_SECRET"],
            "refresh_token": credentials["YOUTUBE_ANALYTICS_REFRESH_TOKEN"]}
    granted = http.post("https://oauth2.googleapis.com/token", data=form)
    assert granted.status_code == 200 and "refresh_token" not in granted.json()  # Google does not rotate it
    refused = http.post("https://oauth2.googleapis.com/token", data=form | {"refresh_token": "1//revoked"})
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    query = {"ids": "channel==UC" + "x" * 22, "startDate": "2026-11-01", "endDate": "2026-11-02",
             "metrics": "subscribersGained,subscribersLost", "dimensions": "day", "sort": "day"}
    headers = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    reports = "https://youtubeanalytics.googleapis.com/v2/reports"
    assert http.get(reports, params=query, headers=headers).status_code == 403
    assert http.get(reports, params=query, headers={"Authorization": "Bearer sbx.forged.token"}).status_code == 401
    mine = http.get(reports, params=query | {"ids": "channel==MINE"}, headers=headers)
    assert mine.status_code == 200 and [r[0] for r in mine.json()["rows"]] == ["2026-11-01", "2026-11-02"]
