"""The sandbox accepts what it is configured with: besides each emulation's built-in
credentials, the values of its credential variables set when the sandbox is built (by default
the environment), so secrets planted in a test reach the sandbox like a live API."""

from __future__ import annotations

import httpx
import pytest

from social_assets.sandbox.app import Sandbox, SandboxTransport, sandbox_credentials
from social_assets.sandbox.platforms.youtube import channel_id_for
from social_assets.sandbox.world import SandboxClock

from .conftest import NOW, UA

PLANTED = {"REDDIT_CLIENT_ID": "planted-client", "REDDIT_CLIENT_SECRET": "planted-secret",
           "YOUTUBE_API_KEY": "AIzaSy-planted-key"}


def reddit_token_status(http: httpx.Client, client_id: str, secret: str) -> int:
    return http.post("https://www.reddit.com/api/v1/access_token", auth=(client_id, secret),
                     data={"grant_type": "client_credentials"}, headers={"User-Agent": UA}).status_code


def youtube_status(http: httpx.Client, key: str) -> int:
    return http.get("https://www.googleapis.com/youtube/v3/channels",
                    params={"part": "id", "id": channel_id_for("@dagsterio"), "key": key}).status_code


def test_configured_credentials_are_accepted_besides_the_built_in_ones():
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials=PLANTED)
    sandbox.platforms["youtube"].wall_clock = lambda: NOW.timestamp()  # one quota day
    http = httpx.Client(transport=SandboxTransport(sandbox))
    builtin = sandbox_credentials("reddit")
    assert reddit_token_status(http, PLANTED["REDDIT_CLIENT_ID"], PLANTED["REDDIT_CLIENT_SECRET"]) == 200
    assert reddit_token_status(http, builtin["REDDIT_CLIENT_ID"], builtin["REDDIT_CLIENT_SECRET"]) == 200
    # A pair is accepted whole: the planted id with another secret is not.
    assert reddit_token_status(http, PLANTED["REDDIT_CLIENT_ID"], "guessed") == 401
    assert reddit_token_status(http, "someone-else", PLANTED["REDDIT_CLIENT_SECRET"]) == 401
    assert youtube_status(http, PLANTED["YOUTUBE_API_KEY"]) == 200
    assert youtube_status(http, sandbox_credentials("youtube")["YOUTUBE_API_KEY"]) == 200
    assert youtube_status(http, "AIzaSy-not-configured") == 400
    # Quota is counted per key, as on YouTube (a refused key costs nothing).
    youtube_status(http, PLANTED["YOUTUBE_API_KEY"])
    youtube = sandbox.platforms["youtube"]
    assert youtube.units_used(PLANTED["YOUTUBE_API_KEY"]) == 2 and youtube.units_used() == 1


@pytest.mark.parametrize("configured", [True, False])
def test_credentials_default_to_the_environment(monkeypatch, configured):
    for name, value in PLANTED.items():
        if configured:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    http = httpx.Client(transport=SandboxTransport(Sandbox(clock=SandboxClock(NOW), faults="none", log="")))
    expected = 200 if configured else 401
    assert reddit_token_status(http, PLANTED["REDDIT_CLIENT_ID"], PLANTED["REDDIT_CLIENT_SECRET"]) == expected
    assert youtube_status(http, PLANTED["YOUTUBE_API_KEY"]) == (200 if configured else 400)
