"""`social-assets normalize`: the normalization contract, over every real recorded Reddit and
YouTube response (through the command's code, in process: one interpreter start per response
would cost a minute), and through the installed command for the exits and output formats."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from social_assets.cli import main
from social_assets_tests.conftest import realdata_files

COMMAND = str(Path(sys.executable).parent / "social-assets")
FIELDS = {
    "posts": {"platform", "post_id", "author_id", "author_username", "text", "content_type", "media_urls",
              "published_at", "likes", "comments", "shares", "views", "permalink",
              "saves", "impressions", "reach", "clicks", "watch_time_seconds", "duration_seconds"},
    "comments": {"platform", "comment_id", "post_id", "parent_id", "author_username", "text", "published_at",
                 "likes", "depth"},
    "profiles": {"platform", "account_id", "username", "followers", "following", "posts_count", "observed_at", "likes_received"},
}


def resource_of(path: Path) -> str:
    """Which resource a recorded response is (see realdata/INDEX.md)."""
    name = path.name
    if any(k in name for k in ("comment", "morechildren")):
        # A Reddit /comments/<id> page is a comment tree; so are comment listings and threads.
        return "comments"
    if any(k in name for k in ("about", "user_data", "channels_list")):
        return "profiles"
    return "posts"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, "normalize", *args], input=stdin, capture_output=True, text=True, timeout=60)


def run_in_process(*args: str) -> subprocess.CompletedProcess:
    """The command's own code (`social_assets.cli.main`) with its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["normalize", *args])
    return subprocess.CompletedProcess(["normalize", *args], code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("path", realdata_files("reddit") + realdata_files("youtube"), ids=lambda p: p.name)
def test_every_recorded_response_is_handled(path: Path, tmp_path: Path):
    recorded = json.loads(path.read_text())
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(recorded["body"]))
    platform = path.parent.name
    resource = resource_of(path)

    result = run_in_process(platform, resource, str(body_file))

    if recorded["status"] >= 400:
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert f"{platform} API error" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record in records:
        assert set(record) == FIELDS[resource]
        assert record["platform"] == platform
        if "published_at" in record:
            assert record["published_at"].endswith("Z") or record["published_at"].endswith("+00:00")
    for line in result.stderr.splitlines():
        rejected = json.loads(line)
        assert set(rejected) == {"id", "reason"} and rejected["reason"]


def test_a_known_post_is_normalized_exactly(tmp_path):
    body = json.loads(Path(realdata_files("youtube")[0].parent / "python-youtube__videos_list_full_parts.json").read_text())["body"]
    result = run("youtube", "posts", stdin=json.dumps(body))
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    stats = body["items"][0]["statistics"]
    assert record["post_id"] == "D-lhorsDlUQ"
    assert record["likes"] == int(stats["likeCount"])
    assert record["views"] == int(stats["viewCount"])
    assert record["comments"] == int(stats["commentCount"])
    assert record["shares"] is None
    assert record["published_at"] in ("2019-03-21T20:37:49Z", "2019-03-21T20:37:49+00:00")
    assert record["permalink"] == "https://www.youtube.com/watch?v=D-lhorsDlUQ"


def test_reddit_views_and_shares_are_null_not_zero():
    path = next(p for p in realdata_files("reddit") if p.name == "praw__r_popular_hot_2026.json")
    body = json.dumps(json.loads(path.read_text())["body"])
    result = run("reddit", "posts", stdin=body)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 25
    assert all(r["views"] is None and r["shares"] is None for r in records)
    assert all(isinstance(r["likes"], int) for r in records)


@pytest.mark.parametrize(
    "args,stdin,message",
    [
        (("reddit", "posts"), "{not json", "not JSON"),
        (("youtube", "posts"), json.dumps({"kind": "youtube#channelListResponse", "items": []}), "youtube#channelListResponse"),
        (("youtube", "profiles"), json.dumps([1, 2]), "not a youtube profiles response"),
        (("myspace", "posts"), "{}", "unknown platform 'myspace'"),
    ],
)
def test_a_body_that_is_not_a_response_exits_2_with_one_line(args, stdin, message):
    result = run(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_items_that_cannot_be_normalized_are_reported_and_the_rest_kept():
    path = next(p for p in realdata_files("youtube") if p.name == "python-youtube__videos_list_multi_player.json")
    body = json.loads(path.read_text())["body"]
    broken_id = body["items"][1]["id"]
    del body["items"][1]["snippet"]
    result = run("youtube", "posts", stdin=json.dumps(body))
    assert result.returncode == 0
    assert [json.loads(line)["post_id"] for line in result.stdout.splitlines()] == [body["items"][0]["id"]]
    (rejected,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert rejected["id"] == broken_id and "snippet" in rejected["reason"]
