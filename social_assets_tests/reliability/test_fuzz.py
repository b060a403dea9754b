"""A mutation fuzzer over the real recorded responses in ../shared/realdata/.

Every platform folder there whose platform has a registered normalizer takes part, so a new
platform joins by registering. Each mutant is a recorded body with one to three mutations (a
value of another type, NaN, infinities, numbers beyond BIGINT, negative numbers, empty strings,
lone surrogates, deep nesting, a deleted key, invalid UTF-8 bytes), run through the code of
`social-assets normalize` in process. The contract:

- no crash: exit 0 with records on stdout and rejected items on stderr (one JSON line each),
  or exit 2 with one line on stderr and nothing on stdout;
- every record honours the record contract (ids non-empty, counts inside BIGINT and not
  negative, timestamps plausible, no lone surrogates).

Seeded: a failure names its seed and mutant, and `python -m social_assets_tests.reliability.test_fuzz`
prints the figures (mutants, crashes by cause) for a larger run.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from social_assets.cli import normalize_command
from social_assets.core.records import RECORD_TYPES, RESOURCES, NotAResponse, has_lone_surrogate
from social_assets.normalization import normalize_body
from social_assets.platforms import PLATFORMS
from social_assets_tests.conftest import REALDATA

SEED = 20261130
MUTANTS = 3000
COMMAND = str(Path(sys.executable).parent / "social-assets")

BIGINT_MAX = 2**63 - 1
# Values a mutation puts in place of another. Strings that look like numbers are there because
# APIs send counts as strings (YouTube) and pydantic's lax mode reads them.
ODD_VALUES: list[Any] = [
    float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "-Infinity", 1e20, -1e20, 1e308,
    2**63, 2**64, -(2**63) - 1, "9223372036854775808", "18446744073709551616", -1, -5, "-7", "0", 0,
    -1_700_000_000, "-1700000000", "", " ", "\ud800", "a\udfffb", "\x00", True, False, None, [], {},
    "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2999-01-01T00:00:00Z",
    "2026-11-20T03:00:00", "not a date", 3.5, "x" * 5000, {"nested": {"deeper": [1, 2]}},
]
MUTATIONS = ("retype", "odd_value", "negate", "empty", "surrogate", "deep", "delete", "bad_utf8")
PLACEHOLDER = "@@FUZZ{}@@"


@dataclass(frozen=True)
class Seed:
    """One recorded body, cut down (every list to its first three elements) so a mutant is cheap."""

    platform: str
    name: str
    body: Any
    resources: tuple[str, ...]  # the resources this body is a response of (all three for errors)


def _trim(value: Any, keep: int = 3) -> Any:
    if isinstance(value, list):
        return [_trim(v, keep) for v in value[:keep]]
    if isinstance(value, dict):
        return {k: _trim(v, keep) for k, v in value.items()}
    return value


def corpus() -> list[Seed]:
    seeds = []
    for folder in sorted(p for p in REALDATA.iterdir() if p.is_dir()):
        if folder.name not in PLATFORMS:
            continue
        for path in sorted(folder.glob("*.json")):
            body = _trim(json.loads(path.read_text())["body"])
            accepted = []
            for resource in RESOURCES:
                try:
                    normalize_body(folder.name, resource, copy.deepcopy(body))
                except NotAResponse:
                    continue
                accepted.append(resource)
            seeds.append(Seed(folder.name, path.name, body, tuple(accepted) or RESOURCES))
    return seeds


# -- mutations ----------------------------------------------------------------------------------


def _slots(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of the tree, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            _slots(value[key], out)
    elif isinstance(value, list):
        for index in range(len(value)):
            out.append((value, index))
            _slots(value[index], out)
    return out


def _slots_by_name(body: Any) -> dict[str, list[tuple[Any, Any]]]:
    """The slots grouped by key name (list elements under "[]"): a mutation picks a name first,
    so the rare keys that matter (`id`, `created_utc`, `publishedAt`) are hit as often as the
    many cosmetic ones."""
    by_name: dict[str, list[tuple[Any, Any]]] = {}
    for container, key in _slots(body, []):
        by_name.setdefault(str(key) if isinstance(container, dict) else "[]", []).append((container, key))
    return by_name


def mutate(rng: random.Random, body: Any) -> tuple[bytes, list[str]]:
    """A mutant of `body` as the bytes of a response, and what was done to it."""
    body = json.loads(json.dumps(body))  # a deep copy, faster than copy.deepcopy
    done: list[str] = []
    splices: dict[str, bytes] = {}  # placeholder -> raw bytes put in its place after encoding
    by_name = _slots_by_name(body)  # a later mutation may land in a subtree an earlier one cut off
    names = sorted(by_name)
    for _ in range(rng.randint(1, 3) if names else 0):
        container, key = rng.choice(by_name[rng.choice(names)])
        if key not in container if isinstance(container, dict) else key >= len(container):
            continue  # deleted by an earlier mutation
        old = container[key]
        kind = rng.choice(MUTATIONS)
        done.append(f"{kind}@{key}")
        if kind == "retype":
            container[key] = rng.choice([str(old), [old], {"value": old}, None, 1, 1.5, True, "text"])
        elif kind == "odd_value":
            container[key] = rng.choice(ODD_VALUES)
        elif kind == "negate":
            if isinstance(old, (int, float)) and not isinstance(old, bool):
                container[key] = -old if old else -1
            elif isinstance(old, str) and old.isdigit():
                container[key] = f"-{old}"
            else:
                container[key] = -rng.randint(1, 2**40)
        elif kind == "empty":
            container[key] = rng.choice(["", [], {}])
        elif kind == "surrogate":
            text = old if isinstance(old, str) else str(old)
            cut = rng.randint(0, len(text))
            container[key] = text[:cut] + rng.choice(["\ud800", "\udc00", "\udbff"]) + text[cut:]
        elif kind == "deep":
            # Deeper than about 990 levels, Python's JSON reader gives up: the body exits 2.
            depth = rng.choice([20, 200, 600, 5000])
            placeholder = PLACEHOLDER.format(len(splices))
            opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
            splices[json.dumps(placeholder)] = (opener * depth + "1" + closer * depth).encode()
            container[key] = placeholder
        elif kind == "delete":
            if isinstance(container, dict):
                del container[key]
            else:
                container.pop(key)
        elif kind == "bad_utf8":
            text = old if isinstance(old, str) else str(old)
            cut = rng.randint(0, len(text))
            placeholder = PLACEHOLDER.format(len(splices))
            bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80\x80"])
            escaped = [json.dumps(part)[1:-1].encode() for part in (text[:cut], text[cut:])]
            splices[placeholder] = escaped[0] + bad + escaped[1]
            container[key] = placeholder
    # allow_nan: NaN and Infinity as bare JSON tokens, as a broken server would send them.
    data = json.dumps(body, ensure_ascii=rng.random() < 0.5, allow_nan=True).encode("utf-8", "surrogatepass")
    for placeholder, raw in splices.items():
        data = data.replace(placeholder.encode(), raw)
    return data, done


# -- running and judging ------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    crash: str | None = None  # the exception that escaped, if any


def run_in_process(platform: str, resource: str, data: bytes) -> Outcome:
    """`social-assets normalize PLATFORM RESOURCE` with `data` on stdin, in this process (the
    function the command line calls, without building its argument parser each time)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    real_stdin = sys.stdin
    sys.stdin = stdin
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = normalize_command(platform, resource, None)
    except BaseException as exc:  # anything escaping is what the fuzzer looks for
        if isinstance(exc, KeyboardInterrupt):
            raise
        return Outcome(None, stdout.getvalue(), stderr.getvalue(), f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        sys.stdin = real_stdin
    return Outcome(code, stdout.getvalue(), stderr.getvalue())


def contract_breaches(resource: str, outcome: Outcome, now: datetime) -> list[str]:
    """What is wrong with an outcome, judged by rules written here, independently of the
    validators in core/records.py, and then by those validators."""
    if outcome.crash:
        return [f"crash: {outcome.crash}"]
    problems: list[str] = []
    if outcome.code == 2:
        if outcome.stdout or len(outcome.stderr.splitlines()) != 1:
            problems.append(f"exit 2 must print one line and no records: {outcome.stderr[:300]!r}")
        return problems
    if outcome.code != 0:
        return [f"exit code {outcome.code}"]
    for line in outcome.stderr.splitlines():
        rejected = json.loads(line)
        if set(rejected) != {"id", "reason"} or not rejected["reason"]:
            problems.append(f"bad rejection line {line[:200]!r}")
    for line in outcome.stdout.splitlines():
        record = json.loads(line)
        for name, value in record.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                low = -BIGINT_MAX - 1 if name == "likes" else 0  # likes may be a (negative) Reddit score
                if not low <= value <= BIGINT_MAX:
                    problems.append(f"{name}={value} out of range")
            if isinstance(value, str) and has_lone_surrogate(value):
                problems.append(f"{name} holds a lone surrogate")
            if name.endswith("_id") and value is not None and not str(value).strip():
                problems.append(f"{name} is empty")
        if "published_at" in record:
            published = datetime.fromisoformat(record["published_at"].replace("Z", "+00:00"))
            if not datetime(2003, 1, 1, tzinfo=timezone.utc) <= published <= now + timedelta(days=1):
                problems.append(f"published_at {published} is implausible")
        try:
            RECORD_TYPES[resource].model_validate_json(line)
        except ValueError as exc:
            problems.append(f"record fails its own validators: {str(exc)[:200]}")
    return problems


@dataclass
class Figures:
    mutants: int = 0
    exit_0: int = 0
    exit_2: int = 0
    records: int = 0
    rejected: int = 0
    failures: list[str] = field(default_factory=list)
    causes: dict[str, int] = field(default_factory=dict)


def fuzz(seed: int, mutants: int) -> Figures:
    rng = random.Random(seed)
    seeds = corpus()
    now = datetime.now(timezone.utc)
    figures = Figures()
    for number in range(mutants):
        origin = rng.choice(seeds)
        resource = rng.choice(origin.resources)
        data, done = mutate(rng, origin.body)
        outcome = run_in_process(origin.platform, resource, data)
        figures.mutants += 1
        figures.exit_0 += outcome.code == 0
        figures.exit_2 += outcome.code == 2
        if outcome.code == 0:
            figures.records += len(outcome.stdout.splitlines())
            figures.rejected += len(outcome.stderr.splitlines())
        problems = contract_breaches(resource, outcome, now)
        if problems:
            cause = problems[0].split(":")[0] if problems[0].startswith("crash") else problems[0][:40]
            cause = outcome.crash.split(":")[0] if outcome.crash else cause
            figures.causes[cause] = figures.causes.get(cause, 0) + 1
            figures.failures.append(
                f"mutant {number} (seed {seed}) of {origin.platform}/{origin.name} as {resource}, {done}: {problems[0]}"
            )
    return figures


def test_the_corpus_covers_every_platform_with_recorded_data():
    platforms = {seed.platform for seed in corpus()}
    recorded = {p.name for p in REALDATA.iterdir() if p.is_dir()} & set(PLATFORMS)
    assert platforms == recorded and {"reddit", "youtube"} <= platforms


def test_mutants_never_crash_normalize_and_every_record_honours_the_contract():
    figures = fuzz(SEED, MUTANTS)
    assert figures.mutants == MUTANTS
    # The mutants must exercise both outcomes, or the fuzzer tests nothing.
    assert figures.exit_0 > MUTANTS // 4 and figures.exit_2 > 0 and figures.records > 0 and figures.rejected > 0
    assert not figures.failures, f"{len(figures.failures)} of {MUTANTS} mutants broke the contract:\n" + "\n".join(
        figures.failures[:15]
    )


@pytest.mark.parametrize("number", range(3))
def test_mutants_through_the_installed_command(number):
    """A few mutants through a real process: stdin bytes, exit code and streams as a user sees them."""
    rng = random.Random(SEED + number)
    seeds = corpus()
    origin = seeds[rng.randrange(len(seeds))]
    resource = rng.choice(origin.resources)
    data, done = mutate(rng, origin.body)
    result = subprocess.run([COMMAND, "normalize", origin.platform, resource], input=data, capture_output=True, timeout=120)
    outcome = Outcome(result.returncode, result.stdout.decode(), result.stderr.decode())
    assert "Traceback" not in outcome.stderr, (origin.name, done, outcome.stderr[-2000:])
    assert contract_breaches(resource, outcome, datetime.now(timezone.utc)) == [], (origin.name, done)


if __name__ == "__main__":
    import time

    count = int(sys.argv[1]) if len(sys.argv) > 1 else MUTANTS
    started = time.monotonic()
    result = fuzz(int(sys.argv[2]) if len(sys.argv) > 2 else SEED, count)
    print(f"mutants: {result.mutants} in {time.monotonic() - started:.1f} s; exit 0: {result.exit_0}, exit 2: {result.exit_2}, "
          f"records: {result.records}, rejected items: {result.rejected}")
    print(f"contract breaches: {len(result.failures)}")
    for cause, count in sorted(result.causes.items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {cause}")
    for failure in result.failures[:10]:
        print("  e.g.", failure[:300])
