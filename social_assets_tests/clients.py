"""Platform clients as the pipeline builds them, for tests that drive them directly."""

from __future__ import annotations

from typing import Any, Callable

import httpx

from social_assets.connections import Connection
from social_assets.core.rest import RestClient
from social_assets.platforms.base import Platform, SourceConfig


class TestConnection(Connection):
    """A sandbox connection over a given httpx client, whose clients keep time by `clock`
    (pacing and retries) when one is given."""

    __test__ = False  # not a test class for pytest

    def __init__(self, platform: Platform, http: httpx.Client, environ: dict | None = None, clock: Any = None):
        super().__init__(platform, "sandbox (test)", http, environ or {})
        self.clock = clock

    def _client(self, spec: Any, source: SourceConfig | None, sink: Callable | None) -> RestClient:
        client = super()._client(spec, source, sink)  # the platform's API or a companion
        if self.clock is not None:
            client.session.sleep = self.clock.sleep
            client.session.limiter.clock, client.session.limiter.sleep = self.clock, self.clock.sleep
        return client


def sandbox_client(platform: Platform, http: httpx.Client, source: SourceConfig | None = None,
                   sink: Callable | None = None, clock: Any = None) -> RestClient:
    """The client the pipeline would build for `source` (None: the platform-wide credentials),
    talking to the sandbox through `http` with the sandbox's own credentials."""
    return TestConnection(platform, http, clock=clock).client(source, sink)


def walk(platform: Platform, client: RestClient, source: SourceConfig, window) -> Any:
    """Walk one source's day as the pipeline does; returns the walk (its stats, what it kept)."""
    from social_assets.collection import walk_source

    walker = platform.walk(client, source)
    walk_source(platform, walker, source, window)
    return walker
