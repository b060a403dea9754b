"""`make lines`: what each platform costs in production code, the measure of issue #7.

A platform's lines are its folder (`social_assets/platforms/<name>/`) and its sandbox routes and
renderers (`social_assets/sandbox/platforms/<name>.py` and `<name>_*.py`), counted as `wc -l`
counts them; "code" leaves out blank lines, comments and docstrings. A folder of
`platforms/` that registers no platform (Graph, shared by Instagram and Facebook) is listed on
its own with its sandbox module, `<name>_common.py`.

    .venv/bin/python benchmarks/platform_lines.py
"""

from __future__ import annotations

import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = ROOT / "social_assets" / "platforms"
SANDBOX = ROOT / "social_assets" / "sandbox" / "platforms"
GOAL = 1_300
# Lines of Reddit and YouTube before the seam of issue #7 (commit 1504ac4's parent): the
# platform folder, client and sandbox emulation included.
BEFORE = {"reddit": 2_708, "youtube": 1_929}
_NOT_CODE = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring (a string
    that is a statement of its own)."""
    lines: set[int] = set()
    statement_start = True
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _NOT_CODE:
            statement_start = statement_start or token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
            continue
        if not (token.type == tokenize.STRING and statement_start):
            lines.update(range(token.start[0], token.end[0] + 1))
        statement_start = False
    return len(lines)


def platform_files(name: str) -> list[Path]:
    sandbox = [SANDBOX / f"{name}.py", *sorted(SANDBOX.glob(f"{name}_*.py"))]
    return sorted((PLATFORMS / name).glob("*.py")) + [path for path in sandbox if path.exists()]


def measure(name: str) -> tuple[int, int]:
    """(lines, code lines) of one platform or shared folder."""
    texts = [path.read_text() for path in platform_files(name)]
    return sum(len(text.splitlines()) for text in texts), sum(code_lines(text) for text in texts)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from social_assets.platforms import PLATFORMS as REGISTERED

    folders = sorted(path.name for path in PLATFORMS.iterdir() if (path / "__init__.py").exists())
    print(f"{'platform':<12} {'lines':>6} {'code':>6} {'before':>7} {'goal':>6}  met?")
    for name in folders:
        lines, code = measure(name)
        shared = "" if name in REGISTERED else "  (shared, not a platform)"
        before = f"{BEFORE[name]:,}" if name in BEFORE else "-"
        met = ("yes" if lines <= GOAL else "NO") if name in REGISTERED else "-"
        print(f"{name:<12} {lines:>6,} {code:>6,} {before:>7} {GOAL:>6,}  {met}{shared}")


if __name__ == "__main__":
    main()
