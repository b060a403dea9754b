"""The sources file: a good file loads with defaults applied; a bad one names file, entry and problem."""

from __future__ import annotations

import pytest

from social_assets.sources import SourcesConfigError, load_sources
from social_assets_tests.conftest import PROJECT_ROOT

CHANNEL = "UC" + "a" * 22


def write(tmp_path, text: str):
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    return path


def test_the_project_sources_file_loads():
    sources = load_sources(PROJECT_ROOT / "sources.yaml")
    assert [s.account_id for s in sources["reddit"]][:1] == ["r/dataengineering"]
    assert sources["youtube"], "the default run collects YouTube too"


def test_defaults_apply_and_entries_override_them(tmp_path):
    path = write(
        tmp_path,
        f"""
reddit:
  defaults: {{post_limit: 40, comment_depth: 3}}
  sources:
    - subreddit: python
    - user: someone
      post_limit: 7
      collect_comments: false
youtube:
  sources:
    - channel: {CHANNEL}
      sort: relevance
""",
    )
    sources = load_sources(path)
    python, someone = sources["reddit"]
    assert (python.account_id, python.post_limit, python.comment_depth, python.collect_comments) == (
        "r/python", 40, 3, True,
    )
    assert (someone.account_id, someone.post_limit, someone.collect_comments) == ("u/someone", 7, False)
    (channel,) = sources["youtube"]
    assert (channel.account_id, channel.sort) == (CHANNEL, "relevance")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("tiktokk:\n  sources: []\n", "tiktokk: unknown platform 'tiktokk' (known: "),
        ("reddit:\n  sources:\n    - subreddit: python\n      colour: red\n", "reddit.sources[0] (subreddit='python', colour='red'): unknown option 'colour'"),
        ("reddit:\n  sources:\n    - subreddit: python\n      post_limit: lots\n", "reddit.sources[0] (subreddit='python', post_limit='lots'): post_limit:"),
        ("reddit:\n  sources:\n    - subreddit: python\n      post_limit: 0\n", "post_limit: Input should be greater than 0 (got 0)"),
        ("reddit:\n  sources:\n    - subreddit: python\n    - subreddit: python\n", "reddit.sources[1]: r/python is already listed at sources[0]"),
        ("reddit:\n  defaults: {depth: 3}\n  sources: []\n", "reddit.defaults: unknown option(s) ['depth']"),
        ("reddit:\n  sources:\n    - python\n", "reddit.sources[0]: expected a mapping, got 'python'"),
        ("reddit:\n  sources: {subreddit: python}\n", "reddit.sources: expected a list of sources"),
        ("youtube:\n  sources:\n    - channel: not-a-channel\n", "youtube.sources[0] (channel='not-a-channel')"),
        ("reddit: [\n", "not valid YAML"),
    ],
)
def test_a_bad_file_names_the_file_the_entry_and_the_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SourcesConfigError) as error:
        load_sources(path)
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert expected in message, message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SourcesConfigError, match="nothere.yaml: sources file not found"):
        load_sources(tmp_path / "nothere.yaml")
