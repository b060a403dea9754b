"""What each platform's test folder tells the contract suite (`CONTRACT` in
`social_assets_tests/platforms/<name>/contract.py`)."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from social_assets_tests.conftest import REALDATA


@dataclass(frozen=True)
class ContractData:
    # The folder of ../shared/realdata with the platform's recorded responses (None: it has
    # none; `documented` then names the folder of hand-written documentation examples).
    realdata: str | None
    # Which resource a recorded response is, from its request ("GET https://...").
    resource_of: Callable[[str], str]
    documented: Path | None = None


@dataclass(frozen=True)
class Recorded:
    platform: str
    path: Path
    endpoint: str
    status: int
    body: Any
    resource: str

    @property
    def id(self) -> str:
        return f"{self.platform}/{self.path.name}"


def contract_of(platform: str) -> ContractData:
    return importlib.import_module(f"social_assets_tests.platforms.{platform}.contract").CONTRACT


def recorded_responses(platform: str) -> list[Recorded]:
    data = contract_of(platform)
    folder = REALDATA / data.realdata if data.realdata else data.documented
    found = []
    for path in sorted(folder.glob("*.json")) if folder else []:
        document = json.loads(path.read_text())
        endpoint = document["endpoint"]
        found.append(Recorded(platform, path, endpoint, document["status"], document["body"], data.resource_of(endpoint)))
    return found
