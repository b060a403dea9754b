"""A record whose values are already clean is made without pydantic's validation
(`_Record.__init__`): it must be the very record validation makes, and any other value must
still go through validation, with the same result or the same error."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from social_assets.core.records import CommentRecord, PostRecord, ProfileRecord, _clean_values

UTC = timezone.utc
POST = dict(platform="reddit", post_id="abc", author_id="t2_x", author_username="someone", text="hello",
            content_type="text", media_urls=["https://i.example/a.png"],
            published_at=datetime(2026, 11, 19, 12, tzinfo=UTC), likes=-3, comments=2, shares=None, views=None,
            permalink=None, watch_time_seconds=1.5)
COMMENT = dict(platform="youtube", comment_id="c1", post_id="v1", parent_id=None, author_username=None, text="t",
               published_at=datetime(2026, 1, 1, tzinfo=UTC), likes=0, depth=3)
PROFILE = dict(platform="tiktok", account_id="@x", username="x", followers=10, following=None, posts_count=1,
               observed_at=datetime(2026, 1, 1, tzinfo=UTC))

VARIANTS = [
    {},  # clean: the fast path
    {"text": "half \ud83d emoji"},  # repaired by validation
    {"media_urls": ["u\ud800"]},
    {"likes": True},  # not exactly an int
    {"likes": 3.0},
    {"comments": "4"},
    {"watch_time_seconds": 2},  # an int for a float
    {"watch_time_seconds": math.nan},
    {"watch_time_seconds": math.inf},
    {"watch_time_seconds": -1.0},
    {"published_at": datetime(2026, 11, 19, 12, tzinfo=timezone(timedelta(hours=2)))},  # another zone
    {"published_at": "2026-11-19T12:00:00Z"},
    {"published_at": datetime(2026, 11, 19, 12)},
    {"published_at": datetime(2005, 6, 22, tzinfo=UTC)},
    {"published_at": datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)},
    {"post_id": " "},
    {"post_id": "a\udc00"},
    {"author_id": ""},
    {"content_type": "hologram"},
    {"comments": -1},
    {"likes": -(2**63) - 1},
    {"views": 2**63},
    {"unknown_field": 1},
    {"text": None},
]


def outcome(make):
    try:
        return make()
    except ValidationError as exc:
        return [(e["loc"], e["msg"]) for e in exc.errors()]


# Ids by position: a value made from the clock would name the test differently in each xdist worker.
@pytest.mark.parametrize("change", VARIANTS, ids=[f"variant{n}-{sorted(v) or 'clean'}" for n, v in enumerate(VARIANTS)])
def test_a_post_is_the_record_validation_makes(change):
    data = {**POST, **change}
    made, validated = outcome(lambda: PostRecord(**data)), outcome(lambda: PostRecord.model_validate(data))
    assert made == validated
    if isinstance(made, PostRecord):
        assert made.model_dump() == validated.model_dump()
        assert made.model_fields_set == validated.model_fields_set


def test_clean_values_take_the_fast_path_and_the_rest_do_not():
    assert _clean_values(PostRecord, POST) is not None
    assert _clean_values(CommentRecord, COMMENT) is not None
    assert _clean_values(ProfileRecord, PROFILE) is not None
    assert all(_clean_values(PostRecord, {**POST, **change}) is None for change in VARIANTS[1:])


@pytest.mark.parametrize("model,data", [(CommentRecord, COMMENT), (ProfileRecord, PROFILE)])
@pytest.mark.parametrize("change", [{}, {"depth": 2**31}, {"depth": -1}, {"followers": -156}, {"account_id": ""},
                                    {"observed_at": None}, {"parent_id": ""}])
def test_comments_and_profiles_too(model, data, change):
    wanted = {**data, **{k: v for k, v in change.items() if k in model.model_fields}}
    made, validated = outcome(lambda: model(**wanted)), outcome(lambda: model.model_validate(wanted))
    assert made == validated
    if isinstance(made, model):
        assert made.model_dump() == validated.model_dump()
    # Defaults are filled in as validation fills them.
    fewer = {k: v for k, v in wanted.items() if k not in ("likes_received", "observed_at")}
    assert outcome(lambda: model(**fewer)) == outcome(lambda: model.model_validate(fewer))
