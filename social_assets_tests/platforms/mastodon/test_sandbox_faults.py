"""Every fault kind the Mastodon sandbox can show, in Mastodon's own shapes."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.mastodon import account_id_for
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.sandbox.conftest import force, log_lines

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
WALL = 1_800_000_000.0


@pytest.fixture
def setup(tmp_path):
    log = tmp_path / "requests.jsonl"
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log=str(log), credentials={})
    sandbox.platforms["mastodon"].wall_clock = lambda: WALL  # no window ends mid-test
    account = sandbox.world.account("mastodon", "dagster@fosstodon.org")
    path = f"https://fosstodon.org/api/v1/accounts/{account_id_for(account)}/statuses"
    return sandbox, httpx.Client(transport=SandboxTransport(sandbox)), path, log


def test_the_fault_kinds_of_a_statuses_page(setup):
    sandbox, http, path, log = setup
    first = http.get(path, params={"limit": "5"})
    assert first.headers["x-ratelimit-reset"] == "2027-01-15T08:05:00.000000Z"  # the window's end, ISO 8601
    next_url = first.links["next"]["url"]
    kinds = sandbox.platforms["mastodon"].fault_kinds(
        sandbox_request(next_url))
    assert kinds == {"429_burst", "5xx", "timeout", "dropped_connection", "truncated_body", "duplicate_items",
                     "field_missing", "field_renamed"}  # tokens never expire: no expired_token

    force(sandbox, "429_burst")
    throttled = http.get(next_url)
    assert throttled.status_code == 429 and throttled.json() == {"error": "Too many requests"}
    assert throttled.headers["x-ratelimit-remaining"] == "299"  # the true window; injected faults are free

    force(sandbox, "duplicate_items")
    again = http.get(next_url).json()
    clean = http.get(next_url).json()
    assert again[0]["id"] == first.json()[-1]["id"] and again[1:] == clean[:4] and len(again) == 5

    force(sandbox, "field_renamed")
    renamed = http.get(next_url).json()
    assert sum("published" in s and "created_at" not in s for s in renamed) == 1

    force(sandbox, "5xx")
    failed = http.get(next_url)
    assert failed.status_code in (500, 503)

    force(sandbox, "timeout")
    with pytest.raises(httpx.ReadTimeout):
        http.get(next_url)
    logged = [e["injected_fault"] for e in log_lines(log)]
    assert logged == [None, "429_burst", "duplicate_items", None, "field_renamed", "5xx", "timeout"]


def test_a_wrong_token_is_refused_and_anonymous_reads_are_not(setup):
    sandbox, http, path, log = setup
    refused = http.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401 and refused.json() == {"error": "The access token is invalid"}
    assert http.get(path).status_code == 200


def sandbox_request(url: str):
    from urllib.parse import parse_qsl

    from social_assets.sandbox.http import SandboxRequest

    parsed = httpx.URL(url)
    return SandboxRequest("GET", parsed.host, parsed.path, parse_qsl(parsed.query.decode()), {}, b"")
