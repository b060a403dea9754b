"""The platform contract, checked for every registered platform: a platform gets these tests by
being registered (and by its test folder's `contract.py`, see `spec.py`).

For each platform:
- every recorded response of it normalizes, or is refused as not a response (exit 2) when it
  is an error body, through the `normalize` command's code;
- the sandbox answers in the shapes of the recorded responses of the same endpoints: the same
  top-level keys (paging fields included) and the same types for the fields the recording has;
- a day of its first source in the project's sources file collects end to end through the
  pipeline, with posts, comments (where the platform has them) and a profile;
- under a storm of injected faults that collection stays inside the platform's limits;
- in live mode, a source without its credentials is a configuration error naming the source
  and the variables (a platform whose API needs none connects without them).
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from social_assets import connections
from social_assets.cli import main
from social_assets.connections import Connection
from social_assets.core.errors import AuthError
from social_assets.core.records import RECORD_TYPES
from social_assets.platforms import PLATFORMS
from social_assets.sources import load_sources
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.contract.spec import Recorded, contract_of, recorded_responses
from social_assets_tests.pipeline import collect_partition, memory_instance

NAMES = sorted(PLATFORMS)
RECORDED = [r for name in NAMES for r in recorded_responses(name)]
DAY = date(2026, 11, 19)  # the day before the pinned sandbox clock of `pipeline_env`


def project_source(platform: str):
    """The platform's first source in the project's own sources file (what `make run` collects)."""
    sources = load_sources(PROJECT_ROOT / "sources.yaml")[platform]
    assert sources, f"sources.yaml has no {platform} source: every platform needs one"
    return sources[0]


def test_every_platform_has_its_contract_data():
    for name in NAMES:
        data = contract_of(name)
        assert data.realdata or data.documented, name
        assert recorded_responses(name), f"{name}: no recorded or documented responses"


# -- recorded responses through the normalize command -----------------------------------------


def normalize_command(platform: str, resource: str, body: Any, tmp_path: Path) -> tuple[int, str, str]:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["normalize", platform, resource, str(path)])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda r: r.id)
def test_recorded_response_normalizes_or_is_refused(recorded: Recorded, tmp_path: Path):
    code, out, err = normalize_command(recorded.platform, recorded.resource, recorded.body, tmp_path)
    if recorded.status >= 400:
        assert code == 2 and out == "", err
        assert len(err.strip().splitlines()) == 1 and f"{recorded.platform} API error" in err
        return
    assert code in (0, 2), err
    if code == 2:  # a success body of another endpoint: refused in one line, never a traceback
        assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        return
    fields = set(RECORD_TYPES[recorded.resource].model_fields)
    for line in out.splitlines():
        record = json.loads(line)
        assert set(record) == fields and record["platform"] == recorded.platform
    for line in err.splitlines():
        rejected = json.loads(line)
        assert set(rejected) == {"id", "reason"} and rejected["reason"]


# -- the sandbox speaks in the recorded shapes ------------------------------------------------


def shape(value: Any, path: str = "", into: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every key path of a JSON document with the types seen there (list items merged)."""
    into = {} if into is None else into
    kind = "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__
    into.setdefault(path or "$", set()).add(kind)
    if isinstance(value, dict):
        for key, item in value.items():
            shape(item, f"{path}.{key}", into)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", into)
    return into


def shape_problems(sandbox_body: Any, recorded_body: Any) -> list[str]:
    ours, theirs = shape(sandbox_body), shape(recorded_body)
    problems = []
    top = lambda s: {p for p in s if p.count(".") == 1 and "[]" not in p}  # noqa: E731
    if isinstance(recorded_body, dict) and top(ours) != top(theirs):
        problems.append(f"top-level keys differ: sandbox {sorted(top(ours) - top(theirs))}, "
                        f"recording {sorted(top(theirs) - top(ours))}")
    for path, kinds in theirs.items():
        if path not in ours:
            continue
        if kinds - {"NoneType"} and ours[path] - {"NoneType"} and not (kinds & ours[path]):
            problems.append(f"{path}: sandbox {sorted(ours[path])}, recording {sorted(kinds)}")
    return problems


def sandbox_day(platform_name: str) -> list:
    """Every response of a day of the platform's project source, from a fresh sandbox."""
    from social_assets.collection import walk_source
    from social_assets.platforms.base import DayWindow
    from social_assets.sandbox.app import Sandbox, SandboxTransport
    from social_assets.sandbox.world import SandboxClock
    from datetime import datetime, timedelta, timezone

    platform = PLATFORMS[platform_name]
    source = project_source(platform_name)
    sandbox = Sandbox(clock=SandboxClock(datetime(2026, 11, 20, 3, tzinfo=timezone.utc)), faults="none", log="")
    landed: list = []
    connection = Connection(platform, "sandbox (test)", httpx.Client(transport=SandboxTransport(sandbox)), {})
    client = connection.client(source, landed.append)
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc)
    walk_source(platform, platform.walk(client, source), source, DayWindow(start, start + timedelta(days=1)))
    return landed


@pytest.mark.parametrize("name", NAMES)
def test_sandbox_answers_in_the_recorded_shapes(name: str):
    platform = PLATFORMS[name]
    template = platform.limits.endpoint
    recorded: dict[str, list[Recorded]] = {}
    for r in recorded_responses(name):
        if 200 <= r.status < 300:
            method, url = r.endpoint.split(" ", 1)
            recorded.setdefault(template(method, url), []).append(r)
    compared = 0
    failures = []
    for landed in sandbox_day(name):
        if not 200 <= landed.status < 300:
            continue
        matches = recorded.get(template(landed.method, landed.endpoint), [])
        if not matches:
            continue
        compared += 1
        body = json.loads(landed.body)
        verdicts = [shape_problems(body, r.body) for r in matches]
        if all(verdicts):  # no recording of the endpoint agrees with the sandbox
            best = min(zip(verdicts, matches), key=lambda v: len(v[0]))
            failures.append(f"{landed.method} {landed.endpoint} vs {best[1].path.name}: {best[0][:5]}")
    assert compared, f"{name}: no sandbox answer has a recorded counterpart to compare with"
    assert failures == []


# -- a day end to end, calm and under a storm -------------------------------------------------


def write_sources(tmp_path: Path, name: str) -> Path:
    """A sources file with only the platform's project source."""
    import yaml

    raw = yaml.safe_load((PROJECT_ROOT / "sources.yaml").read_text())
    section = raw[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({name: {"defaults": section.get("defaults") or {}, "sources": section["sources"][:1]}}))
    return path


def rows(warehouse: Path, name: str) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            table: con.execute(f"SELECT count(*) FROM normalized.{table} WHERE platform = ?", [name]).fetchone()[0]
            for table in ("posts", "comments", "profiles")
        }
    finally:
        con.close()


@pytest.mark.parametrize("name", NAMES)
def test_a_day_collects_end_to_end(name: str, pipeline_env: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SOCIAL_SOURCES", str(write_sources(tmp_path, name)))
    with memory_instance() as instance:
        collect_partition(instance, name, DAY)
    counts = rows(pipeline_env, name)
    assert counts["posts"] > 0 and counts["profiles"] == 1, counts
    if project_source(name).collect_comments:
        assert counts["comments"] > 0, counts


@pytest.mark.parametrize("name", NAMES)
def test_limits_are_obeyed_under_a_storm(name: str, pipeline_env: Path, tmp_path: Path, monkeypatch):
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv("SOCIAL_SOURCES", str(write_sources(tmp_path, name)))
    monkeypatch.setenv("SOCIAL_SANDBOX_FAULTS", "storm")
    monkeypatch.setenv("SOCIAL_SANDBOX_LOG", str(log))
    monkeypatch.setattr(connections, "_SANDBOX", None)
    with memory_instance() as instance:
        collect_partition(instance, name, DAY)
    served = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(r["injected_fault"] for r in served), "the storm injected nothing"
    assert [r for r in served if r["refused_for_overuse"] and not r["injected_fault"]] == []
    assert rows(pipeline_env, name)["profiles"] == 1


# -- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_credential_in_live_mode_names_the_source_and_variable(name: str):
    platform = PLATFORMS[name]
    source = project_source(name)
    live = Connection(platform, "live", httpx.Client(), {})
    if any(not auth.variables for auth in platform.api.auth):
        live.client(source)  # the public API needs no credentials
        return
    with pytest.raises(AuthError) as raised:
        live.client(source)
    message = str(raised.value)
    assert source.account_id in message
    assert platform.api.auth[0].variables[0] in message
