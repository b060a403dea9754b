"""Which store and which key prefix hold one credential's limits, breakers and tokens.

State is shared by everything that talks to the same API with the same credential, and by
nothing else. The client's transport says which API that is:
- the network (httpx's own transport): the real platforms. The store `SOCIAL_LIMIT_STORE`
  names (default: SQLite next to the warehouse), so every process and run of this machine, or
  of every machine, shares it;
- a served sandbox (`LoopbackSandboxTransport`): with `SOCIAL_LIMIT_STORE` set, that store
  under the sandbox's URL (processes sharing a served sandbox share its limits); without, a store
  private to the client (a sandbox served again on the same port must not inherit stale counts
  from a file that outlives it);
- the in-process sandbox (`SandboxTransport`): a store private to that sandbox object, which
  lives and dies with the sandbox's own counters (other processes have their own sandbox);
- any other transport (a test's mock): a store private to that transport.
Wrapping transports (e.g. a test's recorder with an `inner` transport) are looked through.

The key prefix names the credential by a salted hash, never by its value.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import httpx

from social_assets.core.limits.store import MemoryStore, StateStore, open_store
from social_assets.settings import LIMIT_STORE_VARIABLE, limit_store_url


@dataclass(frozen=True)
class SharedState:
    store: StateStore
    scope: str  # "<api>/<platform>/<credential hash>": the prefix of every key

    def key(self, name: str) -> str:
        return f"{self.scope}/{name}"


def credential_hash(platform: str, *secrets: str) -> str:
    """A stable name for a credential that does not reveal it."""
    digest = hashlib.sha256("\0".join(("social_assets/credential/v1", platform, *secrets)).encode())
    return digest.hexdigest()[:32]


def shared_state(http: httpx.Client, platform: str, *secrets: str) -> SharedState:
    """The state shared by every user of `secrets` at the API `http` talks to."""
    api, store = _api_of(http)
    return SharedState(store, f"{api}/{platform}/{credential_hash(platform, *secrets)}")


def configured_store() -> StateStore:
    """The store of `SOCIAL_LIMIT_STORE`, one per process (connections do not survive a fork)."""
    url = limit_store_url()
    key = (os.getpid(), url)
    with _OPENING:  # the sources of a platform are collected in threads
        if key not in _STORES:
            _STORES[key] = open_store(url)
        return _STORES[key]


_STORES: dict[tuple[int, str], StateStore] = {}
_OPENING = threading.Lock()
_PRIVATE: "weakref.WeakKeyDictionary[Any, MemoryStore]" = weakref.WeakKeyDictionary()


def _api_of(http: httpx.Client) -> tuple[str, StateStore]:
    transport = getattr(http, "_transport", None)
    for _ in range(8):  # wrappers of wrappers, within reason
        if isinstance(transport, httpx.HTTPTransport):
            return "live", configured_store()
        if getattr(transport, "sandbox", None) is not None:  # SandboxTransport
            return "sandbox", _private_store(transport.sandbox)
        if getattr(transport, "base", None) is not None:  # LoopbackSandboxTransport
            if os.environ.get(LIMIT_STORE_VARIABLE):
                return f"sandbox@{transport.base}", configured_store()
            return "sandbox", _private_store(transport)
        inner = getattr(transport, "inner", None)
        if inner is None:
            break
        transport = inner
    return "private", _private_store(transport)


def _private_store(owner: Any) -> MemoryStore:
    with _OPENING:
        if owner not in _PRIVATE:
            _PRIVATE[owner] = MemoryStore()
        return _PRIVATE[owner]
