"""Secrets configured the normal way never come to rest (issue #13, item 6).

Every credential variable of every registered platform that has a sandbox gets a planted value,
set in the environment as a user would. The sandbox accepts what it is configured with, and in
sandbox mode the clients send the configured credentials (checked first, on the wire). Then a
real pipeline day runs as separate processes (`social-assets run`, once per auth kind a platform
offers, and the hourly refresh), and every place the project stores anything is searched for
the values in plain, URL-encoded and base64 forms (the sandbox is served, so that tokens and
sessions go through the limit store as they do against a live API):
- the runs' output (stdout and stderr);
- the Dagster storage: every file under DAGSTER_HOME (run and event storage, compute logs);
- every table and column of the warehouse and of the analysts' snapshot;
- the limit store (SQLite by default: SOCIAL_LIMIT_STORE) and anything else in the data folder;
- dbt's logs and target folders.
Platforms added later are covered by the same loop: nothing here names a platform.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import httpx
import pytest
import yaml

from social_assets.connections import connect
from social_assets.platforms import PLATFORMS
from social_assets.sandbox.app import Sandbox, SandboxTransport, emulation_modules, make_server
from social_assets.sandbox.world import SandboxClock
from social_assets.settings import DBT_PROJECT_DIR
from social_assets.sources import load_sources
from social_assets_tests.reliability.cli_runs import COMMAND, DAY, PROJECT_ROOT, Place
from social_assets_tests.reliability.search import found_in_database, table_texts

REFRESH_HOUR = "2026-11-20-02:00"  # the hour before the runs' sandbox clock (03:00)
SANDBOX_NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)  # Place.env's SOCIAL_SANDBOX_NOW


def planted_secrets() -> dict[str, str]:
    """A fresh value for every credential variable of every platform with a sandbox. Characters
    that URL and JSON encodings change are in each, so the encoded forms differ from the plain."""
    emulated = emulation_modules()
    values = {}
    for platform in PLATFORMS.values():
        if platform.name not in emulated:
            continue
        for variable in platform.credentials:
            values[variable] = f"planted-{variable.lower()}-{secrets.token_hex(12)}+/=~{secrets.token_hex(6)}"
    return values


def encoded_forms(secret: str) -> set[str]:
    """What the secret looks like plain, URL-encoded and base64-encoded, alone or inside a
    longer encoded value (an `id:secret` Basic credential): the base64 of every alignment, with
    the characters that depend on its neighbours cut off."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).decode()
            start = (shift * 4 + 2) // 3  # the first characters carry bits of the padding
            end = (shift + len(raw)) // 3 * 4  # the last group carries the padding after it
            forms.add(encoded[start:end])
    return {form for form in forms if len(form) >= 16}


def test_encoded_forms_find_a_secret_inside_basic_auth():
    secret = "planted-secret+/=~abc"
    header = base64.b64encode(f"some-client-id:{secret}".encode()).decode()
    assert any(form in header for form in encoded_forms(secret))
    assert any(form in f"key={quote_plus(secret)}&x=1" for form in encoded_forms(secret))
    assert not any(form in base64.b64encode(b"some-client-id:another-secret").decode() for form in encoded_forms(secret))


def test_configured_credentials_are_the_ones_sent(monkeypatch):
    """The canary: with the planted values set, each platform's client puts them on the wire
    (a key in the query, a token or Basic credential in a header, a login body), so finding
    none of them at rest later means something."""
    planted = planted_secrets()
    sent: list[str] = []
    sandbox = Sandbox(faults="none", log="", credentials=planted)

    class Recording(SandboxTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(f"{request.url} {dict(request.headers)} {request.read().decode(errors='replace')}")
            return super().handle_request(request)

    configured = load_sources(PROJECT_ROOT / "sources.yaml")
    for name in emulation_modules():
        platform = PLATFORMS[name]
        if not platform.credentials or not configured[name]:
            continue
        for source in _sources_per_auth(platform, configured[name][0]):
            connection = connect(platform, environ=planted, sandbox=sandbox, mode="sandbox")
            connection.http = httpx.Client(transport=Recording(sandbox))
            sent.clear()
            try:
                platform.walk(connection.client(source), source).profile()
            finally:
                connection.close()
            used = [v for v in source_variables(platform, source) if any(f in " ".join(sent) for f in encoded_forms(planted[v]))]
            assert used, f"{name} ({source.credentials or 'default variables'}): no planted credential was sent"


def source_variables(platform, source) -> list[str]:
    """The default variable names of the first auth whose variables the source does not hide."""
    for auth in platform.api.auth:
        if auth.variables and all(not source.credentials.get(v, v).startswith("UNSET_") for v in auth.variables):
            return list(auth.variables)
    return []


def _sources_per_auth(platform, source):
    """The source once per auth kind with credentials: the earlier kinds' variables renamed to
    unset ones, so the later kind is chosen (`credentials:` in the sources file)."""
    kinds = [auth for auth in platform.api.auth if auth.variables]
    for index in range(len(kinds)):
        hidden = {v: f"UNSET_{v}" for auth in kinds[:index] for v in auth.variables}
        yield source.model_copy(update={"credentials": hidden})


def _sources_file(per_auth: int) -> tuple[str, list[str]]:
    """The project's sources file cut to the first source of each platform with credentials and
    a sandbox, small, using the `per_auth`-th auth kind; and the platforms in it."""
    project = yaml.safe_load((PROJECT_ROOT / "sources.yaml").read_text())
    emulated = emulation_modules()
    out, names = {}, []
    for name, platform in sorted(PLATFORMS.items()):
        kinds = [auth for auth in platform.api.auth if auth.variables]
        section = project.get(name) or {}
        if name not in emulated or per_auth >= len(kinds) or not section.get("sources"):
            continue
        entry = dict(section["sources"][0])
        hidden = {v: f"UNSET_{v}" for auth in kinds[:per_auth] for v in auth.variables}
        if hidden:
            entry["credentials"] = hidden
        defaults = {**(section.get("defaults") or {}), "post_limit": 5}
        if "comment_depth" in defaults:
            defaults["comment_depth"] = min(defaults["comment_depth"], 2)
        out[name] = {"defaults": defaults, "sources": [entry]}
        names.append(name)
    return yaml.safe_dump(out), names


def _files(root: Path):
    if root.exists():
        yield from (p for p in root.rglob("*") if p.is_file())


def _found_in_bytes(data: bytes, needles: dict[str, set[str]]) -> list[str]:
    text = data.decode("latin-1").lower()
    return sorted(variable for variable, forms in needles.items() if any(f.lower() in text for f in forms))


@pytest.fixture
def served_sandbox():
    """A sandbox served on a loopback port that accepts the planted credentials. Served, so that
    the runs keep their limits, tokens and sessions in the limit store (SOCIAL_LIMIT_STORE), as
    against a live API; an in-process sandbox keeps them in memory."""
    planted = planted_secrets()
    sandbox = Sandbox(clock=SandboxClock(SANDBOX_NOW), faults="none", log="", credentials=planted)
    server = make_server(sandbox, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield planted, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(1800)
def test_planted_secrets_are_found_nowhere_after_a_pipeline_day(tmp_path, served_sandbox):
    planted, sandbox_url = served_sandbox
    assert planted, "no platform takes credentials"
    needles = {variable: encoded_forms(value) for variable, value in planted.items()}
    place = Place(tmp_path / "project")
    place.root.mkdir(parents=True)
    outputs: list[str] = []
    credential_variables = {v for p in PLATFORMS.values() for v in p.credentials}
    limit_store = place.warehouse.parent / "limits.sqlite"

    def env() -> dict[str, str]:
        base = {k: v for k, v in place.env().items() if k not in credential_variables}
        return {**base, **planted, "SOCIAL_SANDBOX_URL": sandbox_url, "SOCIAL_LIMIT_STORE": str(limit_store)}

    collected: set[str] = set()
    per_auth = 0
    while True:
        text, platforms = _sources_file(per_auth)
        if not platforms:
            break
        (place.root / "sources.yaml").write_text(text)
        result = subprocess.run([COMMAND, "run", "--date", DAY], env=env(), cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=900)
        outputs += [result.stdout, result.stderr]
        assert result.returncode == 0, result.stdout + result.stderr
        collected.update(platforms)
        per_auth += 1
    # The hourly refresh, for every platform of the last sources file that has one.
    script = (
        "import sys\n"
        "from dagster import DagsterInstance\n"
        "from social_assets.definitions import defs\n"
        "job = defs.resolve_job_def('refresh_engagement_hourly')\n"
        "with DagsterInstance.get() as instance:\n"
        "    for platform in sys.argv[2:]:\n"
        "        result = job.execute_in_process(instance=instance, partition_key=f'{sys.argv[1]}|{platform}', raise_on_error=False)\n"
        "        print(platform, 'refresh', 'ok' if result.success else 'failed')\n"
    )
    (place.root / "sources.yaml").write_text(_sources_file(0)[0])
    refreshed = subprocess.run([sys.executable, "-c", script, REFRESH_HOUR, *sorted(collected)], env=env(),
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    outputs += [refreshed.stdout, refreshed.stderr]
    assert refreshed.returncode == 0 and "failed" not in refreshed.stdout, refreshed.stdout + refreshed.stderr

    # The runs really collected every platform with the planted credentials.
    con = duckdb.connect(str(place.warehouse), read_only=True)
    try:
        statuses = dict(con.execute("SELECT platform, min(status) FROM ops.collection_log GROUP BY 1").fetchall())
        refreshes = {p for (p,) in con.execute("SELECT DISTINCT platform FROM raw.metric_refreshes").fetchall()}
    finally:
        con.close()
    assert statuses == {p: "success" for p in collected}, statuses
    assert refreshes == {p for p in collected if PLATFORMS[p].refresh is not None}

    leaks: dict[str, list[str]] = {}
    places = 0
    for index, output in enumerate(outputs):
        places += 1
        if hits := _found_in_bytes(output.encode(), needles):
            leaks[f"run output {index}"] = hits
    stored = [place.home, place.warehouse.parent, DBT_PROJECT_DIR / "logs", DBT_PROJECT_DIR / "target"]
    assert limit_store.exists() and limit_store.stat().st_size > 0, "the limit store is not where it is searched"
    for root in stored:
        for path in _files(root):
            places += 1
            if hits := _found_in_bytes(path.read_bytes(), needles):
                leaks[str(path)] = hits
    for database in (place.warehouse, place.snapshot):
        places += len(table_texts(database))
        leaks.update(found_in_database(database, needles, ignore_case=True))
    assert places > 20
    assert leaks == {}, f"planted secrets found at rest: {leaks}"
