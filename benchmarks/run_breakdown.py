"""Where the time of `make run` goes: one `social-assets run --date <day>` on a fresh home with
the default sources (the project's sources.yaml: every platform, in the in-process sandbox), as
issue #11 states its goal, split by the moments its own output lines appear: startup (interpreter, imports, Dagster home, dbt manifest) until the first "[1/N]"
progress line; collection + normalization (with their checks) until "analytics: building";
the dbt build and the analysts' snapshot until "analytics: published"; the summary after it.
Issue #11's goal: the whole run at most 2 x its collection + normalization.

    .venv/bin/python benchmarks/run_breakdown.py [--date 2026-11-19]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.home import PROJECT_ROOT, home_env  # noqa: E402

COMMAND = str(Path(sys.executable).parent / "social-assets")
DAY = "2026-11-19"
# (phase, the start of the output line that ends it)
PHASES = (
    ("startup", "[1/"),
    ("collection+normalization", "analytics: building"),
    ("dbt", "analytics: published"),
)


def _imports_seconds() -> float:
    """A bare interpreter importing the CLI and the definitions, for comparison with startup."""
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import social_assets.cli, social_assets.definitions"],
                       cwd=PROJECT_ROOT, env=home_env(Path(tmp)), check=True)
        return time.monotonic() - started


def run(day: str = DAY) -> dict:
    default_sources = (PROJECT_ROOT / "sources.yaml").read_text()
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        started = time.monotonic()
        child = subprocess.Popen([COMMAND, "run", "--date", day], env=home_env(Path(tmp), default_sources), cwd=PROJECT_ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen: dict[str, float] = {}
        output = []
        for line in child.stdout:
            output.append(line)
            for _, ends_with in PHASES:
                if ends_with not in seen and line.startswith(ends_with):
                    seen[ends_with] = time.monotonic() - started
        child.wait()
        total = time.monotonic() - started
    missing = [marker for _, marker in PHASES if marker not in seen]
    if child.returncode or missing:
        raise SystemExit(f"social-assets run --date {day} exited {child.returncode} without {missing}:\n"
                         + "".join(output)[-3000:])
    phases, previous = {}, 0.0
    for name, marker in PHASES:
        phases[name] = seen[marker] - previous
        previous = seen[marker]
    phases["summary"] = total - previous
    return {"total": total, "phases": phases, "imports_alone": _imports_seconds()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default=DAY)
    r = run(parser.parse_args().date)
    for name, seconds in r["phases"].items():
        print(f"{name:26} {seconds:6.1f} s")
    print(f"{'total':26} {r['total']:6.1f} s   (imports alone: {r['imports_alone']:.1f} s)")


if __name__ == "__main__":
    main()
