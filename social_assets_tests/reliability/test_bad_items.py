"""Bad bytes are rejected per item, never per response or per day: NaN and infinite or absurd
timestamps, numbers beyond BIGINT, negative counts, lone surrogates, invalid UTF-8, empty ids
and malformed error envelopes, through the records, the parsers, `social-assets normalize`,
the dead letters and the pipeline."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from social_assets import collection, connections
from social_assets.cli import main as cli_main
from social_assets.core.records import CommentRecord, PostRecord, ProfileRecord, Rejected
from social_assets.core.timeutil import IsoDatetime, from_epoch_seconds, from_iso
from social_assets.dead_letters import item_letters, letters_write
from social_assets.platforms.reddit.normalize import normalize_posts as reddit_posts
from social_assets.platforms.youtube.normalize import normalize_posts as youtube_posts
from social_assets.platforms.youtube.normalize import normalize_profiles as youtube_profiles
from social_assets.warehouse.tables import DEAD_LETTERS, ensure_schema, replace_partition
from social_assets_tests.conftest import realdata_body, realdata_files
from social_assets_tests.pipeline import collect_partition, memory_instance

COMMAND = str(Path(sys.executable).parent / "social-assets")
DAY = date(2026, 11, 19)
UTC = timezone.utc


def recorded(platform: str, name: str):
    return realdata_body(next(p for p in realdata_files(platform) if p.name == name))


# -- the record contract ------------------------------------------------------------------------

POST = dict(
    platform="reddit", post_id="abc", author_id="t2_x", author_username="someone", text="hello",
    content_type="text", media_urls=[], published_at=datetime(2026, 11, 19, 12, tzinfo=UTC),
    likes=3, comments=2, shares=None, views=None, permalink=None,
)


@pytest.mark.parametrize(
    "field,value,reason",
    [
        ("post_id", "", "id is empty"),
        ("post_id", "  ", "id is empty"),
        ("author_id", "", "id is empty"),
        ("post_id", "ab\ud800", "lone surrogate"),
        ("comments", -1, "negative"),
        ("views", -(2**40), "negative"),
        ("comments", 2**63, "BIGINT"),
        ("likes", 2**63, "BIGINT"),
        ("likes", -(2**63) - 1, "BIGINT"),
        ("published_at", datetime(1970, 1, 1, tzinfo=UTC), "before reddit existed"),
        ("published_at", datetime(1914, 6, 28, tzinfo=UTC), "before reddit existed"),
        ("published_at", datetime(2005, 6, 22, tzinfo=UTC), "before reddit existed"),
        ("published_at", datetime.now(UTC) + timedelta(days=3), "in the future"),
        ("published_at", datetime(2026, 11, 19), "no time zone"),
    ],
)
def test_a_post_that_breaks_the_contract_is_refused(field, value, reason):
    with pytest.raises(ValidationError, match=reason):
        PostRecord(**{**POST, field: value})


def test_edge_values_inside_the_contract_are_kept():
    post = PostRecord(**{**POST, "likes": -(2**63), "comments": 2**63 - 1, "views": 0,
                         "published_at": datetime(2005, 6, 23, tzinfo=UTC)})
    assert (post.likes, post.comments, post.views) == (-(2**63), 2**63 - 1, 0)  # likes is Reddit's score
    soon = datetime.now(UTC) + timedelta(hours=12)  # clocks differ a little
    assert PostRecord(**{**POST, "published_at": soon}).published_at == soon


def test_lone_surrogates_in_text_become_replacement_characters():
    post = PostRecord(**{**POST, "text": "half \ud83d emoji", "author_username": "\udc00x", "media_urls": ["u\ud800"]})
    assert (post.text, post.author_username, post.media_urls) == ("half \ufffd emoji", "\ufffdx", ["u\ufffd"])
    assert json.loads(post.model_dump_json())["text"] == "half \ufffd emoji"
    # A real pair is one character, untouched.
    assert PostRecord(**{**POST, "text": json.loads('"\\ud83d\\ude00"')}).text == "\U0001f600"


def test_comments_and_profiles_follow_the_same_rules():
    comment = dict(platform="youtube", comment_id="c1", post_id="v1", parent_id=None, author_username=None,
                   text="t", published_at=datetime(2026, 1, 1, tzinfo=UTC), likes=0, depth=0)
    assert CommentRecord(**comment).comment_id == "c1"
    for bad in ({"parent_id": ""}, {"depth": 2**31}, {"published_at": datetime(2005, 2, 13, tzinfo=UTC)}):
        with pytest.raises(ValidationError):
            CommentRecord(**{**comment, **bad})
    profile = dict(platform="youtube", account_id="UC1", username="x", followers=10, following=None, posts_count=1)
    for bad in ({"followers": -156}, {"posts_count": 2**64}, {"account_id": ""}):
        with pytest.raises(ValidationError):
            ProfileRecord(**{**profile, **bad})


# -- timestamp parsing --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN", "Infinity", "-Infinity", 1e20, -1, -1.7e9, "x", None, True])
def test_epoch_seconds_that_are_not_a_time_raise(value):
    with pytest.raises(ValueError):
        from_epoch_seconds(value)


def test_epoch_seconds_that_are_a_time_parse():
    assert from_epoch_seconds(1763553600) == datetime(2025, 11, 19, 12, tzinfo=UTC)
    assert from_epoch_seconds("1763553600.5") == datetime(2025, 11, 19, 12, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize("value", ["0", "1763553600", "2026", "20261119", "2026-11-19T12:00:00", "", 0, None])
def test_iso_timestamps_must_be_dated_strings_with_a_zone(value):
    with pytest.raises(ValueError):
        from_iso(value)

    class Model(BaseModel):
        at: IsoDatetime

    with pytest.raises(ValidationError):
        Model(at=value)


def test_iso_timestamps_parse_to_utc():
    assert from_iso("2026-11-19T13:00:00+01:00") == datetime(2026, 11, 19, 12, tzinfo=UTC)
    assert from_iso("2019-03-21T20:37:49Z") == datetime(2019, 3, 21, 20, 37, 49, tzinfo=UTC)


# -- normalizers: one bad item fails itself -----------------------------------------------------


def reddit_listing_with(*changes: dict) -> tuple[dict, list[str]]:
    """The recorded r/popular listing, its first children changed by `changes`."""
    body = copy.deepcopy(recorded("reddit", "praw__r_popular_hot_2026.json"))
    children = body["data"]["children"]
    for child, change in zip(children, changes):
        child["data"].update(change)
    return body, [child["data"]["name"] for child in children]


def test_reddit_bad_items_are_rejected_one_by_one_and_the_rest_kept():
    changes = [
        {"created_utc": "NaN"},
        {"created_utc": "Infinity"},
        {"created_utc": 1e20},
        {"created_utc": -1_700_000_000},  # would be 1916
        {"score": 2**63},
        {"num_comments": -19},
        {"id": "", "name": ""},
        # A link post whose URL makes urlsplit raise ValueError while its record is built.
        {"url": "http://[::1", "is_gallery": False, "is_video": False, "is_self": False, "poll_data": None,
         "media": None, "secure_media": None, "post_hint": None},
        {"title": "half \ud83d emoji"},  # kept, repaired
    ]
    body, names = reddit_listing_with(*changes)
    body["data"]["children"].append("not a thing")
    result = reddit_posts(json.loads(json.dumps(body)))  # through JSON, as the pipeline reads it

    assert len(result.records) == len(names) - 8
    assert {r.post_id for r in result.records} == {n.removeprefix("t3_") for n in names[8:]}
    assert next(r for r in result.records if r.post_id == names[8].removeprefix("t3_")).text.startswith("half \ufffd emoji")
    reasons = {r.item_id: r.reason for r in result.rejected}
    assert len(result.rejected) == 9
    for name, expected in zip(names[:6], ["finite", "finite", "1970..9999", "1970..9999", "BIGINT", "negative"]):
        assert expected in reasons[name], (name, reasons[name])
    assert any(r.item_id is None and "id is empty" in r.reason for r in result.rejected)
    assert "Invalid IPv6 URL" in reasons[names[7]]
    assert any("not a Reddit thing" in r.reason for r in result.rejected)


def test_youtube_bad_items_are_rejected_one_by_one():
    body = copy.deepcopy(recorded("youtube", "python-youtube__videos_list_multi_player.json"))
    good = body["items"][0]
    body["items"] = [copy.deepcopy(good) for _ in range(5)]
    for n, item in enumerate(body["items"]):
        item["id"] = f"v{n}"
    body["items"][0]["snippet"]["publishedAt"] = "0"  # not 1970
    body["items"][1].setdefault("statistics", {})["likeCount"] = "18446744073709551616"
    body["items"][2]["id"] = ""
    body["items"][3]["snippet"]["publishedAt"] = "1999-01-01T00:00:00Z"
    result = youtube_posts(body)
    assert [r.post_id for r in result.records] == ["v4"]
    assert [r.item_id for r in result.rejected] == ["v0", "v1", None, "v3"]
    assert "ISO 8601" in result.rejected[0].reason and "BIGINT" in result.rejected[1].reason
    assert "before youtube existed" in result.rejected[3].reason

    channels = copy.deepcopy(recorded("youtube", "python-youtube__channels_list_multi_parts.json"))
    channels["items"][0]["statistics"]["subscriberCount"] = "-156"
    assert youtube_profiles(channels).rejected[0].item_id == channels["items"][0]["id"]


# -- the command --------------------------------------------------------------------------------


def normalize(capsys, tmp_path, platform, resource, data: bytes):
    path = tmp_path / "body.json"
    path.write_bytes(data)
    code = cli_main(["normalize", platform, resource, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "platform,body,message",
    [
        ("reddit", b'{"error": {"code": 404}}', "reddit API error 404: malformed error envelope"),
        ("reddit", b'{"error": 403, "message": 5}', "reddit API error 403: malformed error envelope"),
        ("youtube", b'{"error": {"code": 404}}', "youtube API error 404"),
        ("youtube", b'{"error": 403, "message": 5}', "youtube API error None: 403"),
        ("youtube", b'{"error": {"code": [1], "message": {"a": 1}}}', "youtube API error"),
        ("reddit", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("youtube", b'{"kind": "youtube#videoListResponse", "items": "\xff\xfe"}', "items is a JSON str"),
        ("reddit", b"\xff\xfe\x00", "not JSON"),
    ],
)
def test_a_body_it_cannot_use_exits_2_with_one_line(capsys, tmp_path, platform, body, message):
    code, out, err = normalize(capsys, tmp_path, platform, "posts", body)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err, err


def test_items_it_cannot_use_are_rejected_on_stderr(capsys, tmp_path):
    body, names = reddit_listing_with({"created_utc": float("nan")}, {"title": "a\ud800b"}, {"selftext": "x"})
    # NaN as the bare token a broken server sends, the surrogate as a JSON escape, and invalid
    # UTF-8 bytes inside a third item's text.
    data = json.dumps(body, allow_nan=True).encode().replace(b'"selftext": "x"', b'"selftext": "x\xff\xc3("')
    code, out, err = normalize(capsys, tmp_path, "reddit", "posts", data)
    assert code == 0
    (rejected,) = [json.loads(line) for line in err.splitlines()]
    assert rejected["id"] == names[0] and "finite" in rejected["reason"]
    records = {r["post_id"]: r for r in map(json.loads, out.splitlines())}
    assert len(records) == len(names) - 1
    assert records[names[1].removeprefix("t3_")]["text"].startswith("a\ufffdb")
    assert records[names[2].removeprefix("t3_")]["text"].endswith("x\ufffd\ufffd(")


def test_the_installed_command_prints_no_traceback_for_a_malformed_envelope():
    for body in (b'{"error": {"code": 404}}', b"[" * 50_000):
        result = subprocess.run([COMMAND, "normalize", "reddit", "comments"], input=body, capture_output=True, timeout=120)
        assert result.returncode == 2 and result.stdout == b""
        assert len(result.stderr.splitlines()) == 1 and b"Traceback" not in result.stderr, result.stderr


# -- dead letters -------------------------------------------------------------------------------


class Landed:
    account_id, method, endpoint, params, context = "r/duckdb", "GET", "https://oauth.reddit.com/r/duckdb/new", "{}", "{}"


def write_letters(con, letters):
    replace_partition(con, "reddit", DAY, [letters_write(con, letters, kind="item", resource="posts")])


def test_two_rejected_items_with_the_same_id_are_one_letter_and_reruns_work(tmp_path):
    rejected = [
        Rejected(item_id="t3_dup", reason="first copy", payload={"n": 1}),
        Rejected(item_id="t3_dup", reason="second copy", payload={"n": 2}),
        Rejected(item_id=None, reason="no id", payload={"a": 1}),
        Rejected(item_id=None, reason="no id either", payload={"b": 2}),
        Rejected(item_id="t3_\ud800", reason="bad \ud800 id", payload={"title": "\udc00"}),
    ]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    for attempt in (1, 2, 3):
        letters = item_letters("reddit", DAY, "posts", Landed, rejected, datetime.now(UTC))
        write_letters(con, letters)
        rows = con.execute(
            f"SELECT item_id, reason, payload, attempts FROM {DEAD_LETTERS.qualified} ORDER BY reason"
        ).fetchall()
        assert rows == [
            ("t3_\ufffd", "bad \ufffd id", '{"title": "\\udc00"}', attempt),
            (None, "no id", '{"a": 1}', attempt),
            (None, "no id either", '{"b": 2}', attempt),
            ("t3_dup", "second copy", '{"n": 2}', attempt),
        ]


def test_a_warehouse_already_holding_a_letter_twice_is_repaired_by_the_next_run(tmp_path):
    """Written before letters were de-duplicated: the rerun used to fail with InvalidIndexError."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    (letter,) = item_letters("reddit", DAY, "posts", Landed, [Rejected(item_id="x", reason="r")], datetime.now(UTC))
    twice = pd.DataFrame([letter, {**letter, "attempts": 4}])
    con.execute(f"INSERT INTO {DEAD_LETTERS.qualified} BY NAME SELECT * FROM twice")
    write_letters(con, [letter])
    assert con.execute(f"SELECT item_id, attempts FROM {DEAD_LETTERS.qualified}").fetchall() == [("x", 5)]


# -- the pipeline -------------------------------------------------------------------------------


@pytest.fixture
def instance():
    with memory_instance() as dagster_instance:
        yield dagster_instance


def bad_children(good: dict) -> list[dict]:
    """Copies of a good post of the day, each broken in one way, plus one that is only repaired."""
    future = time.time() + 5 * 86400

    def variant(post_id: str, **change):
        # No comments: the collector would ask the sandbox for the comments of posts it never made.
        data = {**good["data"], "id": post_id, "name": f"t3_{post_id}", "num_comments": 0, **change}
        return {"kind": "t3", "data": data}

    return [
        variant("badnan", created_utc=float("nan")),  # the bare NaN token
        variant("badnanstr", created_utc="NaN"),
        variant("badinf", created_utc="Infinity"),
        variant("badhuge", created_utc=1e20),
        variant("badold", created_utc=-1_700_000_000),
        variant("badfuture", created_utc=future),
        variant("badscore", score=2**63),
        variant("badcount", num_comments=-4),
        variant("", name=""),
        variant("baddup", created_utc="NaN"),
        variant("baddup", score=2**64),  # the same id twice in one response
        variant("surrogate", title="half \ud83d emoji"),  # a lone surrogate: repaired, kept
    ]


BAD_IDS = {"t3_badnan", "t3_badnanstr", "t3_badinf", "t3_badhuge", "t3_badold", "t3_badfuture", "t3_badscore",
           "t3_badcount", None, "t3_baddup"}


@pytest.fixture
def bad_items_in_duckdb_listing(pipeline_env, monkeypatch):
    """The sandbox's r/duckdb listing carries the bad items beside its real posts, and the
    collector's re-fetches of such a response are quick."""
    emulation = connections.shared_sandbox().platforms["reddit"]
    real_handle = emulation.handle

    def handle(request, fault=None):
        response = real_handle(request, fault)
        body = response.body
        first_page = "/r/duckdb/new" in request.path.lower() and request.param("after") is None
        if first_page and response.status == 200 and isinstance(body, dict):
            children = body["data"]["children"]
            day = [c for c in children if datetime.fromtimestamp(c["data"]["created_utc"], UTC).date() == DAY]
            if day:
                body = {**body, "data": {**body["data"], "children": children + bad_children(day[0])}}
                response.body = body
        return response

    monkeypatch.setattr(emulation, "handle", handle)
    real_open_client = collection.open_client

    def quick_client(connection, source, sink):
        client = real_open_client(connection, source, sink)
        client.session.backoff_initial, client.session.backoff_max = 0.01, 0.05
        return client

    monkeypatch.setattr(collection, "open_client", quick_client)


def rows(warehouse, sql):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_day_with_bad_items_keeps_the_rest_and_letters_the_bad_ones_on_every_rerun(
    pipeline_env, instance, bad_items_in_duckdb_listing
):
    for attempt in (1, 2, 3):
        collect_partition(instance, "reddit", DAY)

        posts = rows(pipeline_env, "SELECT post_id, text FROM normalized.posts WHERE account_id = 'r/duckdb'")
        ids = [post_id for post_id, _ in posts]
        assert len(ids) == len(set(ids)) and len(ids) > 1
        assert not {i.removeprefix("t3_") for i in BAD_IDS if i} & set(ids)
        assert dict(posts)["surrogate"].startswith("half \ufffd emoji")

        letters = rows(
            pipeline_env,
            "SELECT item_id, reason, attempts, letter_id FROM ops.dead_letters WHERE kind = 'item' ORDER BY item_id",
        )
        assert {item_id for item_id, *_ in letters} == BAD_IDS
        assert len({letter_id for *_, letter_id in letters}) == len(letters) == len(BAD_IDS)
        assert all(reason and attempts == attempt for _, reason, attempts, _ in letters)
        reasons = {item_id: reason for item_id, reason, *_ in letters}
        assert "finite" in reasons["t3_badnan"] and "BIGINT" in reasons["t3_badscore"]
        assert "future" in reasons["t3_badfuture"] and "1970..9999" in reasons["t3_badold"]
        assert "negative" in reasons["t3_badcount"] and "id is empty" in reasons[None]

    statuses = rows(pipeline_env, "SELECT DISTINCT status FROM ops.collection_log WHERE account_id = 'r/duckdb'")
    assert statuses == [("partial",)]  # some items did not normalize; the source did not fail
    assert rows(pipeline_env, "SELECT count(*) FROM normalized.posts WHERE account_id = 'u/sandbox_bob'")[0][0] > 0
