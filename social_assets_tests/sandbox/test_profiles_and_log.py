"""Fault profiles from SOCIAL_SANDBOX_FAULTS: about the advertised rates, deterministic,
transient; the request log from SOCIAL_SANDBOX_LOG: one whole line per request, telling genuine
overuse (which the platforms keep enforcing) from injected faults (which cost nothing)."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable

import httpx
import pytest

from social_assets.sandbox.http import SandboxRequest
from social_assets.sandbox.app import Sandbox
from social_assets.sandbox.faults import FAULT_KINDS, MAX_FAULTS_IN_A_ROW, FaultInjector

from .conftest import (
    CHANNEL, LOG_KEYS, NOW, UPLOADS, Reddit, YouTube, in_process, log_lines, make_sandbox, served,
)


def send(call: Callable[[], httpx.Response], reddit: Reddit | None = None) -> httpx.Response | None:
    """One request as a client sees it: None for a network failure; a new token after a 401."""
    try:
        response = call()
    except httpx.TransportError:
        return None
    if response.status_code == 401 and reddit is not None:
        reddit.token = reddit.new_token()
    return response


def mixed_requests(http: httpx.Client) -> list[tuple[Callable[[], httpx.Response], Reddit | None]]:
    """A collector's kinds of request on both platforms: items, later pages, profiles."""
    # Cursors and ids from a fault-free sandbox of the same world: they are valid in any.
    clean = in_process(make_sandbox())
    first_page = Reddit(clean).get("/r/python/new", limit="25").json()["data"]
    after, post = first_page["after"], first_page["children"][0]["data"]["id"]
    uploads = YouTube(clean).get("playlistItems", part="contentDetails", playlistId=UPLOADS, maxResults="10").json()
    page_token = uploads["nextPageToken"]
    video_ids = ",".join(item["contentDetails"]["videoId"] for item in uploads["items"])
    reddit, youtube = Reddit(http), YouTube(http)
    return [
        (lambda: reddit.get("/r/python/new", limit="25"), reddit),
        (lambda: reddit.get("/r/python/new", limit="25", after=after), reddit),
        (lambda: reddit.get(f"/comments/{post}"), reddit),
        (lambda: reddit.get("/r/python/about"), reddit),
        (lambda: youtube.get("videos", part="snippet", id=video_ids), None),
        (lambda: youtube.get("playlistItems", part="snippet", playlistId=UPLOADS, pageToken=page_token), None),
        (lambda: youtube.get("channels", part="statistics", id=CHANNEL), None),
    ]


def drive(sandbox: Sandbox, count: int, http: httpx.Client | None = None) -> int:
    """Send `count` requests of every kind in turn; returns how many were sent in all."""
    http = http or in_process(sandbox)
    calls = mixed_requests(http)
    for call, reddit in itertools.islice(itertools.cycle(calls), count):
        send(call, reddit)
    return len(log_lines(sandbox.log.path))


def injected_share(entries: list[dict]) -> float:
    return sum(e["injected_fault"] is not None for e in entries) / len(entries)


# -- profiles ---------------------------------------------------------------------------------


def test_profile_and_log_come_from_the_environment(monkeypatch, tmp_path):
    log = tmp_path / "from-env.jsonl"
    monkeypatch.setenv("SOCIAL_SANDBOX_FAULTS", "Storm")
    monkeypatch.setenv("SOCIAL_SANDBOX_LOG", str(log))
    sandbox = Sandbox()
    assert sandbox.faults.profile == "storm" and sandbox.log.path == log
    YouTube(in_process(sandbox)).get("channels", part="id", id=CHANNEL)
    assert len(log_lines(log)) == 1
    explicit = Sandbox(faults="none", log="")  # explicit arguments win over the environment
    assert explicit.faults.profile == "none" and explicit.log is None
    monkeypatch.delenv("SOCIAL_SANDBOX_FAULTS")
    assert Sandbox().faults.profile == "none"  # the default


@pytest.mark.parametrize("source", ["argument", "environment"])
def test_an_unknown_profile_names_the_variable_and_the_choices(source, monkeypatch):
    if source == "environment":
        monkeypatch.setenv("SOCIAL_SANDBOX_FAULTS", "hurricane")
    with pytest.raises(ValueError) as error:
        Sandbox(faults="hurricane" if source == "argument" else None)
    assert str(error.value) == "SOCIAL_SANDBOX_FAULTS='hurricane' is not a fault profile; use one of: none, flaky, storm"


def test_none_injects_nothing(log_path):
    sandbox = make_sandbox(log_path, "none")
    drive(sandbox, 140)
    entries = log_lines(log_path)
    assert {e["injected_fault"] for e in entries} == {None}
    assert {e["status"] for e in entries} == {200}


@pytest.mark.parametrize(("profile", "low", "high"), [("flaky", 0.07, 0.14), ("storm", 0.30, 0.45)])
def test_profiles_inject_about_their_advertised_share(profile, low, high, log_path):
    sandbox = make_sandbox(log_path, profile)
    drive(sandbox, 420)
    entries = log_lines(log_path)
    assert len(entries) >= 420 and low <= injected_share(entries) <= high
    if profile == "storm":
        assert {e["injected_fault"] for e in entries} == set(FAULT_KINDS) | {None}


def test_faults_are_seeded_and_deterministic(tmp_path):
    runs = []
    for n in range(2):
        sandbox = make_sandbox(tmp_path / f"run{n}.jsonl", "storm")
        drive(sandbox, 150)
        runs.append(log_lines(sandbox.log.path))
    assert runs[0] == runs[1]


def test_served_and_in_process_inject_the_same_faults(tmp_path):
    logs = []
    for transport in ("in_process", "served"):
        sandbox = make_sandbox(tmp_path / f"{transport}.jsonl", "storm")
        if transport == "in_process":
            drive(sandbox, 60)
        else:
            with served(sandbox, stall_seconds=0.5, client_timeout=0.2) as http:
                drive(sandbox, 60, http)
        logs.append(log_lines(sandbox.log.path))
    assert logs[0] == logs[1]
    assert {"timeout", "dropped_connection", "truncated_body"} <= {e["injected_fault"] for e in logs[0]}


def test_faults_are_transient_a_retried_request_gets_through(log_path):
    sandbox = make_sandbox(log_path, "storm")
    youtube = YouTube(in_process(sandbox))
    outcomes = []
    for _ in range(300):  # the very same request, again and again
        response = send(lambda: youtube.get("videos", part="snippet", id="VoK6R0ptdcs"))
        outcomes.append(response is not None and response.status_code == 200 and b'"publishedAt"' in response.content
                        and response.content.endswith(b"}"))
    assert 0.5 < sum(outcomes) / len(outcomes) < 0.75
    longest_failing_run = max(len(list(run)) for ok, run in itertools.groupby(outcomes) if not ok)
    assert 2 <= longest_failing_run <= MAX_FAULTS_IN_A_ROW


def test_a_client_that_retries_enough_always_finishes(log_path):
    """Every one of many distinct requests gets a good answer within MAX_FAULTS_IN_A_ROW + 1
    attempts, expired tokens included (a token does not expire twice in a row)."""
    sandbox = make_sandbox(log_path, "storm")
    http = in_process(sandbox)
    reddit = Reddit(http)
    for limit in range(1, 101):
        for _ in range(MAX_FAULTS_IN_A_ROW + 1):
            response = send(lambda: reddit.get("/r/python/new", limit=str(limit)), reddit)
            try:
                posts = [c["data"] for c in response.json()["data"]["children"]] if response else None
            except (json.JSONDecodeError, KeyError):
                posts = None
            if response is not None and response.status_code == 200 and posts and all("created_utc" in p for p in posts):
                break
        else:
            raise AssertionError(f"limit={limit} never got through")
    assert injected_share(log_lines(log_path)) > 0.2


def test_a_429_burst_refuses_a_short_run_of_requests():
    injector = FaultInjector("storm", seed=1)
    key, kinds = ("GET", "x"), frozenset({"429_burst", "5xx"})
    injector.settle("reddit", key, "429_burst")  # a burst starts
    refused = 0
    while injector.draw("reddit", (refused,), kinds) == "429_burst" and refused < 10:
        injector.settle("reddit", (refused,), "429_burst")
        refused += 1
    assert 1 <= refused <= 2
    assert injector.draw("youtube", key, kinds) in (None, "429_burst", "5xx")  # other platforms: their own bursts


def test_a_burst_is_never_extended_by_the_next_draw():
    """However the draws fall, a platform never sees more than three injected 429s in a row
    (LinkedIn would read a longer run as its daily limit spent)."""
    injector = FaultInjector("storm", seed=7)
    kinds = frozenset({"429_burst", "5xx"})  # half the faults drawn are 429s
    longest = current = 0
    for n in range(20_000):
        fault = injector.draw("linkedin", ("GET", n), kinds)
        injector.settle("linkedin", ("GET", n), fault)
        current = current + 1 if fault == "429_burst" else 0
        longest = max(longest, current)
    assert longest == 3


# -- genuine overuse is still refused, and told apart -----------------------------------------


def test_reddit_overuse_is_refused_and_logged_apart_from_injected_429s(log_path):
    sandbox = make_sandbox(log_path, "storm")
    sandbox.platforms["reddit"].requests_per_window = 40
    reddit = Reddit(in_process(sandbox))
    last = None
    for _ in range(90):
        last = send(lambda: reddit.get("/r/python/about"), reddit) or last
    calls = [e for e in log_lines(log_path) if e["path"] == "/r/python/about"]
    charged = [e for e in calls if e["injected_fault"] is None]
    assert [e["refused_for_overuse"] for e in charged] == [False] * 40 + [True] * (len(charged) - 40)
    assert {e["status"] for e in charged[40:]} == {429} and len(charged) > 45
    injected = [e for e in calls if e["injected_fault"] is not None]
    assert any(e["injected_fault"] == "429_burst" and e["status"] == 429 for e in injected)
    assert not any(e["refused_for_overuse"] for e in injected)
    assert last.json() == {"message": "Too Many Requests", "error": 429}
    assert int(last.headers["x-ratelimit-used"]) == len(charged)  # injected calls were not counted
    assert last.headers["x-ratelimit-remaining"] == "0.0"


def test_youtube_quota_is_refused_and_logged_apart_from_injected_faults(log_path):
    sandbox = make_sandbox(log_path, "storm")
    sandbox.platforms["youtube"].daily_quota = 30
    youtube = YouTube(in_process(sandbox))
    for _ in range(70):
        send(lambda: youtube.get("channels", part="id", id=CHANNEL))
    entries = log_lines(log_path)
    charged = [e for e in entries if e["injected_fault"] is None]
    assert [e["refused_for_overuse"] for e in charged] == [False] * 30 + [True] * (len(charged) - 30)
    assert {e["status"] for e in charged[30:]} == {403}
    assert not any(e["refused_for_overuse"] for e in entries if e["injected_fault"])
    assert sandbox.platforms["youtube"].units_used() == 30
    refused = youtube.get("channels", part="id", id=CHANNEL).json()["error"]
    assert refused["errors"][0]["reason"] == "quotaExceeded"


# -- the log ----------------------------------------------------------------------------------


def test_one_well_formed_line_per_request(log_path):
    sandbox = make_sandbox(log_path, "storm")
    sent = drive(sandbox, 120)
    sandbox.handle(SandboxRequest("GET", "api.nowhere.example", "/v1/things", [], {}, b""))
    entries = log_lines(log_path)
    assert len(entries) == sent + 1
    for entry in entries:
        assert set(entry) == LOG_KEYS
        assert entry["method"] in ("GET", "POST") and entry["path"].startswith("/")
        assert isinstance(entry["refused_for_overuse"], bool)
        assert entry["injected_fault"] in (None, *FAULT_KINDS)
        assert (entry["status"] is None) == (entry["injected_fault"] in ("timeout", "dropped_connection"))
    assert entries[-1] == {"platform": None, "method": "GET", "path": "/v1/things", "status": 404,
                           "refused_for_overuse": False, "injected_fault": None}
    assert "key=" not in log_path.read_text()  # paths only: no query, so no API key


def test_the_served_sandbox_logs_whole_lines_from_many_threads(log_path):
    sandbox = make_sandbox(log_path, "storm")
    with served(sandbox, stall_seconds=0.4, client_timeout=0.2) as http:
        youtube = YouTube(http)

        def client(n: int) -> None:
            for i in range(15):
                send(lambda: youtube.get("playlistItems", part="snippet", playlistId=UPLOADS, maxResults=str(n * 15 + i)))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    entries = log_lines(log_path)
    assert len(entries) == 90 and all(set(e) == LOG_KEYS for e in entries)
    assert sandbox.world.now() == NOW
