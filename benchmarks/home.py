"""A fresh project home for a benchmark: warehouse, Dagster home and sources file in a temp
directory, the environment cleared of the caller's settings and credentials (so the platforms
are the in-process sandbox), the way the reliability tests run the CLI."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_NOW = "2026-11-20T03:00:00+00:00"

# One subreddit with its comment trees: the smallest day with posts, comments and a profile.
REDDIT_SOURCES = """
reddit:
  defaults: {post_limit: 100, collect_comments: true, comment_depth: 6, sort: new}
  sources:
    - subreddit: duckdb
"""


def home_env(root: Path, sources: str = REDDIT_SOURCES) -> dict[str, str]:
    """The environment of a run whose state all lives under `root`."""
    for directory in ("dagster_home", "data"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "sources.yaml").write_text(sources)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIAL_", "REDDIT_", "YOUTUBE_", "DAGSTER_"))}
    env.update(
        SOCIAL_WAREHOUSE=str(root / "data" / "warehouse.duckdb"),
        SOCIAL_SOURCES=str(root / "sources.yaml"),
        SOCIAL_SANDBOX_NOW=SANDBOX_NOW,
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env
