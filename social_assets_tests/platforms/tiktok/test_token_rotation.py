"""TikTok's refresh tokens rotate: each works once, and its answer carries the next. Two real
processes, each with the client the pipeline builds (store from `SOCIAL_LIMIT_STORE`), share one
Display credential against a sandbox served over real HTTP whose access tokens live 2 seconds:
together they refresh several times, and never present the same refresh token twice."""

from __future__ import annotations

import multiprocessing
import os
import time

import httpx

from social_assets.platforms import PLATFORMS
from social_assets.sandbox.app import LoopbackSandboxTransport
from social_assets.sandbox.platforms.tiktok import CREDENTIALS
from social_assets_tests.clients import sandbox_client
from social_assets_tests.core.conftest import _quiet_environment, served_sandbox, store_url  # noqa: F401 (fixtures)

TIKTOK = PLATFORMS["tiktok"]
CALLS_PER_PROCESS = 12
PATH = "/v2/user/info/"


def _tiktok_process(base_url: str, store: str, results) -> None:
    os.environ["SOCIAL_LIMIT_STORE"] = store
    session = sandbox_client(TIKTOK, httpx.Client(transport=LoopbackSandboxTransport(base_url))).session
    statuses = []
    for n in range(CALLS_PER_PROCESS):
        response = session.get(f"https://open.tiktokapis.com{PATH}", params={"fields": "username", "n": str(n)})
        statuses.append(response.status_code)
        time.sleep(0.25)  # 3 seconds in all: the 2-second tokens expire on the way
    results.put(statuses)


def test_two_processes_never_refresh_with_the_same_refresh_token(store_url):
    with served_sandbox() as served:
        tiktok = served.sandbox.platforms["tiktok"]
        tiktok.token_lifetime = 2
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        workers = [context.Process(target=_tiktok_process, args=(served.url, store_url, results)) for _ in range(2)]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=90) for _ in workers]
        for worker in workers:
            worker.join(timeout=10)
    assert [w.exitcode for w in workers] == [0, 0]
    assert outcomes == [[200] * CALLS_PER_PROCESS] * 2  # 401s on the way were answered by one refresh
    presented = tiktok.refreshes
    assert len(presented) >= 2, presented  # the tokens did expire: a rotated refresh token was used
    assert len(set(presented)) == len(presented)  # never the same refresh token twice
    assert presented[0] == CREDENTIALS["TIKTOK_REFRESH_TOKEN"]  # the configured one, once, then the rotated ones
    grants = [status for _, platform, path, status in served.requests if path == "/v2/oauth/token/"]
    assert grants == [200] * len(presented)
