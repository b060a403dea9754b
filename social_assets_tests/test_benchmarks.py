"""`make bench` smoke test: the runner at its tiny size prints one table with a row per
figure. Only the measures that fit in seconds run here (the dbt, memory and `social-assets
run` measures start Dagster or dbt processes that alone take longer than this test may)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(60)
def test_the_runner_prints_one_table_of_figures_beside_their_baselines():
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--size", "tiny", "--only", "throughput,collection"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["measure", "figure", "baseline/floor", "ratio", "goal", "met?"]
    rows = {line.split(" (")[0].split(",")[0]: line for line in lines[2:]}
    for kind in ("normalize reddit posts", "normalize reddit comments", "normalize youtube comments"):
        row = rows[kind].split()
        assert "floor" in row and row[-1] in ("yes", "NO")
        # figure and floor are positive rates, and the ratio is theirs
        figure, floor, ratio = (float(v.replace(",", "")) for v in (row[row.index("floor") - 1],
                                                                   row[row.index("floor") + 1],
                                                                   row[row.index("floor") + 2]))
        assert figure > 0 and floor > 0 and abs(ratio - figure / floor) < 0.01
    assert rows["youtube: daily quota used"].split()[-1] == "yes"  # the sandbox quota is never overrun
    assert "minimum" in rows["reddit: calls per 1"]
    # the founding plan's targets at Reddit's real limit, on busy (SOCIAL_SANDBOX_SCALE) sources
    assert rows["reddit at its real limit"].split()[-1] == "yes"
    calls, throttled, collected, duplicates = re.search(
        r"(\d+) / (\d+) / (\d+)% / (\d+)\s+-", rows["reddit at its real limit: most calls in one window"]).groups()
    assert 0 < int(calls) <= 1000 and (throttled, collected, duplicates) == ("0", "100", "0")


def test_platform_lines_counts_code_apart_from_blank_lines_comments_and_docstrings():
    sys.path.insert(0, str(PROJECT_ROOT))
    from benchmarks.platform_lines import code_lines, measure

    source = '''"""Module docstring,
over two lines."""

# a comment
def f(x):
    """Docstring."""
    text = (
        "a string in an expression"  # counted: it is code
    )
    return x  # trailing comment
'''
    assert code_lines(source) == 5  # def, text = (, the string, ), return
    lines, code = measure("reddit")
    files = [*PROJECT_ROOT.glob("social_assets/platforms/reddit/*.py"), PROJECT_ROOT / "social_assets/sandbox/platforms/reddit.py"]
    assert lines == sum(len(path.read_text().splitlines()) for path in files)  # what `wc -l` of them says
    assert 0 < code < lines
