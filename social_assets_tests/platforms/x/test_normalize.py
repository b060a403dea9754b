"""X normalizers on the recorded v2 responses and on small bodies built to pin one rule each:
includes joined onto data, note_tweet over text, reply trees from referenced_tweets, 200s with
errors (alone or beside data), and the error envelopes."""

from __future__ import annotations

import pytest

from social_assets.core.records import ApiErrorBody, NotAResponse
from social_assets.platforms.x.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets_tests.conftest import REALDATA, realdata_body

TWITTER = REALDATA / "twitter"


def test_a_timeline_joins_authors_and_keeps_public_metrics():
    body = realdata_body(TWITTER / "academictwitter__v2_user_tweets_includes_metrics.json")
    result = normalize_posts(body)
    retweets = [t for t in body["data"] if any(r["type"] == "retweeted" for r in t.get("referenced_tweets", []))]
    assert len(result.records) == len(body["data"]) - len(retweets) == 8
    # A retweet is the original author's post: rejected with the reason, never counted as the account's.
    assert [r.item_id for r in result.rejected] == [t["id"] for t in retweets]
    assert all(r.reason.startswith("a retweet of ") for r in result.rejected)
    first = result.records[0]
    assert first.post_id == "1400112279446704128" and first.author_username == "ajeenarose"
    assert (first.likes, first.comments, first.shares, first.views) == (1, 1, 1, None)  # no impressions asked
    assert first.permalink == "https://x.com/ajeenarose/status/1400112279446704128"
    assert first.published_at.isoformat() == "2021-06-02T15:29:14+00:00"


def test_media_urls_come_from_includes_and_note_tweet_wins_over_text():
    body = {
        "data": [
            {"id": "1", "text": "short cut…", "created_at": "2026-11-19T10:00:00.000Z", "author_id": "9",
             "note_tweet": {"text": "the whole long text"}, "attachments": {"media_keys": ["3_a", "7_b"]},
             "public_metrics": {"retweet_count": 2, "quote_count": 1, "reply_count": 0, "like_count": 5,
                                "impression_count": 80}},
            {"id": "2", "text": "two photos", "created_at": "2026-11-19T11:00:00.000Z", "author_id": "404",
             "attachments": {"media_keys": ["3_c", "3_d"]}},
        ],
        "includes": {
            "users": [{"id": "9", "username": "acme", "name": "Acme"}],
            "media": [
                {"media_key": "3_a", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"},
                {"media_key": "7_b", "type": "video", "preview_image_url": "https://pbs.twimg.com/b.jpg",
                 "variants": [{"bit_rate": 100, "url": "https://video.twimg.com/low.mp4"},
                              {"bit_rate": 900, "url": "https://video.twimg.com/high.mp4"},
                              {"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/pl.m3u8"}]},
                {"media_key": "3_c", "type": "photo", "url": "https://pbs.twimg.com/media/c.jpg"},
                {"media_key": "3_d", "type": "photo", "url": "https://pbs.twimg.com/media/d.jpg"},
            ],
        },
    }
    long, gallery = normalize_posts(body).records
    assert long.text == "the whole long text" and long.content_type == "video" and long.author_username == "acme"
    assert long.media_urls == ["https://pbs.twimg.com/media/a.jpg", "https://video.twimg.com/high.mp4"]
    assert (long.likes, long.shares, long.views) == (5, 3, 80)
    # An author missing from includes: no username, a permalink that needs none, counts unknown.
    assert gallery.content_type == "gallery" and gallery.author_username is None
    assert gallery.permalink == "https://x.com/i/web/status/2" and gallery.likes is None and gallery.shares is None


def test_a_200_with_only_errors_gives_each_item_a_reason():
    body = realdata_body(TWITTER / "academictwitter__v2_tweets_lookup_not_found_errors_only.json")
    result = normalize_posts(body)
    assert result.records == [] and len(result.rejected) == len(body["errors"]) == 15
    assert result.rejected[0].item_id == "1"
    assert result.rejected[0].reason == "Not Found Error: Could not find tweet with ids: [1]."
    suspended = normalize_posts(realdata_body(TWITTER / "academictwitter__v2_mentions_suspended_user_errors_only.json"))
    assert [(r.item_id, r.reason) for r in suspended.rejected] == [("45648666", "Forbidden: User has been suspended: [45648666].")]


def test_a_200_with_data_and_partial_errors_keeps_its_data():
    body = realdata_body(TWITTER / "academictwitter__v2_search_all_partial_errors.json")
    result = normalize_posts(body)
    # The errors are about expansions (referenced posts, mentioned users), not the posts asked for.
    assert {e["parameter"] for e in body["errors"]} == {"referenced_tweets.id", "entities.mentions.username"}
    assert len(result.records) == len(body["data"]) - 3  # three retweets, rejected as such
    assert [r.reason[:13] for r in result.rejected] == ["a retweet of "] * 3
    lookup = {"data": [{"id": "5", "text": "here", "created_at": "2026-11-19T10:00:00.000Z"}],
              "errors": [{"value": "6", "detail": "Could not find tweet with ids: [6].", "title": "Not Found Error",
                          "resource_type": "tweet", "parameter": "ids", "resource_id": "6",
                          "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    mixed = normalize_posts(lookup)
    assert [r.post_id for r in mixed.records] == ["5"] and [r.item_id for r in mixed.rejected] == ["6"]


def test_posts_without_created_at_are_rejected_with_the_field_to_ask_for():
    result = normalize_posts(realdata_body(TWITTER / "tweepy__v2_user_tweets_next_token.json"))
    assert result.records == [] and result.rejected
    assert all(r.reason == "created_at missing (ask for tweet.fields=created_at)" for r in result.rejected)


def test_reply_trees_are_rebuilt_from_referenced_tweets():
    def reply(rid: str, parent: str, at: str) -> dict:
        return {"id": rid, "text": f"reply {rid}", "created_at": f"2026-11-19T{at}:00.000Z", "conversation_id": "100",
                "author_id": "7", "referenced_tweets": [{"type": "replied_to", "id": parent}],
                "public_metrics": {"like_count": 1, "reply_count": 0, "retweet_count": 0, "quote_count": 0}}

    body = {
        # Newest first, as search answers; 105 answers a reply that is not in this response.
        "data": [reply("104", "103", "14:00"), reply("105", "999", "13:30"), reply("103", "101", "13:00"),
                 reply("102", "100", "12:30"), reply("101", "100", "12:00"),
                 {"id": "100", "text": "the post", "created_at": "2026-11-19T11:00:00.000Z", "conversation_id": "100"}],
        "includes": {"users": [{"id": "7", "username": "fan"}]},
        "meta": {"result_count": 6},
    }
    result = normalize_comments(body)
    tree = {c.comment_id: (c.post_id, c.parent_id, c.depth) for c in result.records}
    assert tree == {
        "101": ("100", None, 0), "102": ("100", None, 0), "103": ("100", "101", 1),
        "104": ("100", "103", 2), "105": ("100", "999", 1),
    }
    assert result.rejected == [] and {c.author_username for c in result.records} == {"fan"}


def test_recorded_replies_keep_their_parents_and_skip_conversation_roots():
    body = realdata_body(TWITTER / "academictwitter__v2_search_all_replies_to_kfc.json")
    result = normalize_comments(body)
    replies = [t for t in body["data"] if t["id"] != t["conversation_id"]]
    assert len(result.records) == len(replies) == 5 and result.rejected == []
    for record, item in zip(result.records, replies):
        assert record.post_id == item["conversation_id"]
        parent = item["referenced_tweets"][0]["id"]
        assert record.parent_id == (None if parent == item["conversation_id"] else parent)


def test_profiles_from_public_metrics():
    [user] = normalize_profiles(realdata_body(TWITTER / "tweepy__v2_user_by_username.json")).records
    assert (user.account_id, user.followers) == ("@Twitter", None)  # default fields: no counts, not zeros
    records = normalize_profiles(realdata_body(TWITTER / "python-twitter__v2_users_lookup_includes.json")).records
    assert all(r.followers is not None and r.following is not None and r.posts_count is not None for r in records)


@pytest.mark.parametrize("name, status", [
    ("academictwitter__v2_err_401_problem.json", 401),
    ("academictwitter__v2_err_400_invalid_params.json", None),
    ("academictwitter__v2_err_404_html_wrong_path.json", None),
])
def test_error_bodies_raise_the_platform_error(name: str, status):
    with pytest.raises(ApiErrorBody) as raised:
        normalize_posts(realdata_body(TWITTER / name))
    assert raised.value.platform == "x" and raised.value.status == status


def test_a_usage_capped_answer_and_a_bare_errors_list_are_errors():
    capped = {"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap",
              "type": "https://api.twitter.com/2/problems/usage-capped", "period": "Monthly", "scope": "Product", "status": 429}
    with pytest.raises(ApiErrorBody, match="UsageCapExceeded.*usage-capped"):
        normalize_posts(capped)
    with pytest.raises(ApiErrorBody, match="Rate limit exceeded"):
        normalize_posts({"errors": [{"code": 88, "message": "Rate limit exceeded"}]})


@pytest.mark.parametrize("name", ["tweepy__v1_user_timeline_twitter.json", "tweepy__v1_users_show.json",
                                  "tweepy__v1_search_tweets.json"])
def test_v1_1_bodies_are_refused_as_not_v2_responses(name: str):
    with pytest.raises(NotAResponse, match="v1.1") as raised:
        normalize_posts(realdata_body(TWITTER / name))
    assert not isinstance(raised.value, ApiErrorBody)
