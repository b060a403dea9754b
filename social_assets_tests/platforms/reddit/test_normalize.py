"""The Reddit normalizers against every recorded Reddit response in shared/realdata, and against
malformed bodies."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_assets.core.records import ApiErrorBody, NotAResponse
from social_assets.platforms.reddit import PLATFORM
from social_assets.platforms.reddit.models import Link
from social_assets.platforms.reddit.normalize import normalize_comments, normalize_posts, normalize_profiles, post_record

REALDATA = Path(__file__).resolve().parents[4] / "shared" / "realdata" / "reddit"

# Which resource each recorded response is a response of (error files: the HTTP status).
RESOURCE_OF = {
    "praw__api_info_deleted_comment.json": "comments",
    "praw__api_info_mixed_kinds.json": "posts",
    "praw__comments_1kh35wk_url_with_selftext_2025.json": "comments",
    "praw__comments_2025_context_tree.json": "comments",
    "praw__comments_3hahrw_full_tree.json": "comments",
    "praw__comments_52o2fl_context_of_deleted.json": "comments",
    "praw__comments_6otocc_deep_chain_context.json": "comments",
    "praw__comments_6vx8n0_crosspost.json": "comments",
    "praw__comments_asxv46_nsfw.json": "comments",
    "praw__comments_g9zfex_poll.json": "comments",
    "praw__comments_huw6vs_gallery.json": "comments",
    "praw__comments_j4p2rk_inline_media.json": "comments",
    "praw__comments_k5rsq3_video.json": "comments",
    "praw__domain_youtube_rising_empty.json": "posts",
    "praw__err_400_user_doesnt_exist.json": 400,
    "praw__err_401_invalid_token.json": 401,
    "praw__err_403_other_user_upvoted.json": 403,
    "praw__err_403_quarantined_subreddit.json": 403,
    "praw__err_404_user_data_not_found.json": 404,
    "praw__err_500_mod_notes_delete.json": 500,
    "praw__morechildren_cu5pg2h.json": "comments",
    "praw__r_all_search_praw.json": "posts",
    "praw__r_askreddit_comments_stream.json": "comments",
    "praw__r_askreddit_new_2016.json": "posts",
    "praw__r_askreddit_top_all_2016.json": "posts",
    "praw__r_popular_hot_2026.json": "posts",
    "praw__subreddit_about_announcements.json": "profiles",
    "praw__user_about_2025.json": "profiles",
    "praw__user_about_watchful1.json": "profiles",
    "praw__user_data_by_account_ids.json": "profiles",
    "praw__user_spez_comments_new.json": "comments",
    "praw__user_spez_overview_top_lastpage.json": "posts",
    "praw__user_spez_overview_top_page1.json": "posts",
    "praw__user_spladug_submitted_top.json": "posts",
}


def body(name: str):
    return json.loads((REALDATA / f"praw__{name}.json").read_text())["body"]


def by_id(records, attribute: str):
    return {getattr(record, attribute): record for record in records}


def test_every_recorded_reddit_file_is_classified():
    assert sorted(p.name for p in REALDATA.glob("*.json")) == sorted(RESOURCE_OF)


@pytest.mark.parametrize("name", sorted(RESOURCE_OF))
def test_every_recorded_file_normalizes_as_its_resource(name):
    recorded = json.loads((REALDATA / name).read_text())
    expected = RESOURCE_OF[name]
    if isinstance(expected, int):
        for resource in ("posts", "comments", "profiles"):
            with pytest.raises(ApiErrorBody) as error:
                PLATFORM.normalizers[resource](recorded["body"])
            assert error.value.status == expected == recorded["status"]
            assert error.value.platform == "reddit"
        return
    result = PLATFORM.normalizers[expected](recorded["body"])
    assert all(record.platform == "reddit" for record in result.records)
    # A data response of the right resource normalizes without losing items to rejects,
    # except listings that mix kinds (checked in their own tests).
    if name not in ("praw__api_info_mixed_kinds.json", "praw__user_spez_overview_top_page1.json"):
        assert result.rejected == []


# -- posts ------------------------------------------------------------------------------------


def test_2026_listing_posts_carry_ids_authors_counts_and_no_views():
    result = normalize_posts(body("r_popular_hot_2026"))
    assert len(result.records) == 25 and result.rejected == []
    post = by_id(result.records, "post_id")["1skjxta"]
    assert post.author_id == "t2_1k4v4ka3y9"
    assert post.author_username == "airplane231"
    assert post.likes == 546 and post.comments == 495
    assert post.views is None and post.shares is None
    assert post.published_at == datetime(2026, 4, 13, 18, 44, 8, tzinfo=timezone.utc)
    assert post.permalink == "https://www.reddit.com/r/MMA/comments/1skjxta/ulberg_on_jiri_showing_mercy_thats_bullshit_total/"
    # A link post with selftext: title, blank line, selftext.
    assert post.text.startswith("Ulberg on Jiri showing mercy") and post.text.endswith("\n\nhttps://x.com/arielhelwani/status/2043757261882044451")
    assert post.content_type == "link"
    assert post.media_urls == [
        "https://external-preview.redd.it/qZIuPQ3BmxRI11HulZ-Ikg0_iC-LBfQi8tIVY4CVFLk.jpeg?auto=webp&s=9f6bc785e518bd79d0d0a1ebd0fe4daba3064cda"
    ]
    assert Counter(p.content_type for p in result.records) == {"image": 13, "gallery": 6, "video": 4, "link": 2}
    assert all(p.views is None and p.shares is None for p in result.records)


def test_2026_gallery_video_and_image_media():
    posts = by_id(normalize_posts(body("r_popular_hot_2026")).records, "post_id")
    gallery = posts["1skad0l"]
    assert gallery.content_type == "gallery" and len(gallery.media_urls) == 4
    assert gallery.media_urls[0] == "https://preview.redd.it/xn6btjfsiyug1.jpg?width=1367&format=pjpg&auto=webp&s=3a37ab658a9431f1e10ee2daa686f9be4991242e"
    assert posts["1skl1i1"].content_type == "video"
    assert posts["1skl1i1"].media_urls == ["https://v.redd.it/dqm10oy4d0vg1/CMAF_1080.mp4?source=fallback"]
    assert posts["1skii2f"].content_type == "image"
    assert posts["1skii2f"].media_urls == ["https://i.redd.it/rrinwcmrxzug1.jpeg"]


def test_2016_listing_deleted_author_and_no_author_fullname():
    result = normalize_posts(body("r_askreddit_top_all_2016"))
    assert len(result.records) == 25
    deleted = by_id(result.records, "post_id")["1rwouq"]
    assert deleted.author_username is None and deleted.author_id is None
    assert deleted.likes == 7343 and deleted.comments == 7292
    assert deleted.text.endswith("\n\nEveryone can use a good laugh. Links in comments are appreciated")
    assert deleted.published_at == datetime.fromtimestamp(1385988157, tz=timezone.utc)
    # 2016 posts have no author_fullname at all.
    assert all(p.author_id is None for p in result.records)
    assert all(p.content_type == "text" for p in result.records)


def test_self_posts_with_empty_selftext_are_just_the_title():
    posts = by_id(normalize_posts(body("r_askreddit_new_2016")).records, "post_id")
    assert posts["48fbm9"].text == posts["48fbm9"].text.strip() and "\n" not in posts["48fbm9"].text
    assert posts["48fax4"].text.endswith("\n\n.")


def test_user_overview_rejects_comments_as_not_posts():
    result = normalize_posts(body("user_spez_overview_top_page1"))
    assert len(result.records) == 3 and len(result.rejected) == 22
    assert "3cxedn" in by_id(result.records, "post_id")
    assert result.rejected[0].item_id == "t1_csz1fte"
    assert "is not a post" in result.rejected[0].reason


def test_api_info_with_mixed_kinds():
    result = normalize_posts(body("api_info_mixed_kinds"))
    # 5dec01 is a deleted post (author and selftext "[deleted]"): reported gone, not a record.
    assert len(result.records) == 7 and "5dec01" not in by_id(result.records, "post_id")
    assert [(g.resource, g.item_id, g.reason) for g in result.gone] == [("posts", "5dec01", "[deleted] on Reddit")]
    assert Counter(r.item_id[:2] for r in result.rejected) == {"t1": 9, "t5": 8}
    comments = normalize_comments(body("api_info_mixed_kinds"))
    assert len(comments.records) == 9 and by_id(comments.records, "comment_id")["d7ltv08"].author_username is None


def test_comment_page_posts_by_content_type():
    gallery = normalize_posts(body("comments_huw6vs_gallery")).records[0]
    assert gallery.content_type == "gallery"
    # Gallery order comes from gallery_data; the animated item has only a gif rendition.
    assert len(gallery.media_urls) == 4 and gallery.media_urls[2] == "https://i.redd.it/vkm62gm6i3c51.gif"
    video = normalize_posts(body("comments_k5rsq3_video")).records[0]
    assert (video.content_type, video.media_urls) == ("video", ["https://v.redd.it/5ph4906syw261/DASH_240.mp4?source=fallback"])
    poll = normalize_posts(body("comments_g9zfex_poll")).records[0]
    assert poll.content_type == "poll" and poll.author_username == "ukcomedy" and poll.comments == 3
    inline = normalize_posts(body("comments_j4p2rk_inline_media")).records[0]
    assert inline.content_type == "text" and inline.media_urls == []  # media_metadata is null there
    crosspost = normalize_posts(body("comments_6vx8n0_crosspost")).records[0]
    assert crosspost.content_type == "link" and crosspost.author_id is None
    nsfw = normalize_posts(body("comments_asxv46_nsfw")).records[0]
    assert nsfw.text == "Test Title\n\nTest text."
    # Removed by Reddit's filters (removed_by_category "reddit"; its author still sees it): gone.
    removed = normalize_posts(body("comments_1kh35wk_url_with_selftext_2025"))
    assert removed.records == [] and [(g.item_id, g.reason) for g in removed.gone] == [("1kh35wk", "removed_by_category reddit")]
    link = post_record(Link.model_validate(body("comments_1kh35wk_url_with_selftext_2025")[0]["data"]["children"][0]["data"]))
    assert link.content_type == "link" and link.text == "Test Title\n\nTesting **PRAW** link submission *with markdown selftext*."


def test_other_post_listings():
    assert normalize_posts(body("domain_youtube_rising_empty")).records == []
    assert [p.post_id for p in normalize_posts(body("r_all_search_praw")).records] == ["3gpbiu", "3x4kt2", "3b4erh", "1qvzkd", "3qc02b", "4at068"]
    last = normalize_posts(body("user_spez_overview_top_lastpage")).records
    assert [(p.post_id, p.comments) for p in last] == [("3dautm", 18504)]
    removed = by_id(normalize_posts(body("user_spladug_submitted_top")).records, "post_id")["ghgg1"]
    assert removed.author_username == "spladug" and removed.text.endswith("\n\n[removed]")


def test_html_escaped_media_urls_are_unescaped():
    listing = body("r_popular_hot_2026")
    escaped = json.loads(json.dumps(listing).replace("&s=", "&amp;s="))
    post = by_id(normalize_posts(escaped).records, "post_id")["1skad0l"]
    assert all("&amp;" not in url for url in post.media_urls)
    assert post.media_urls[0].endswith("&auto=webp&s=3a37ab658a9431f1e10ee2daa686f9be4991242e")


# -- comments ---------------------------------------------------------------------------------


def test_2016_full_tree_depths_come_from_nesting():
    result = normalize_comments(body("comments_3hahrw_full_tree"))
    # 476 comments, 6 of them "[deleted]" (reported gone, their replies kept); the 18 `more`
    # stubs are skipped; no depth field in 2016, so nesting decides.
    assert len(result.records) == 470 and result.rejected == [] and len(result.gone) == 6
    assert all(g.reason == "[deleted] on Reddit" for g in result.gone)
    assert max(c.depth for c in result.records) == 9
    assert sum(c.depth == 0 for c in result.records) == 137
    # Comments whose author deleted the account keep their text: 10 have no author.
    assert sum(c.author_username is None for c in result.records) == 10
    assert {c.post_id for c in result.records} == {"3hahrw"}
    assert all((c.depth == 0) == (c.parent_id is None) for c in result.records)
    comments = by_id(result.records, "comment_id")
    # Every reply sits one level below its parent.
    assert all(comments[c.parent_id].depth == c.depth - 1 for c in result.records if c.parent_id in comments)


def test_morechildren_rebuilds_depth_from_parent_ids():
    result = normalize_comments(body("morechildren_cu5pg2h"))
    comments = by_id(result.records, "comment_id")
    assert len(comments) == 11
    first = comments["cu5pg2h"]
    # Its parent (a top-level comment) is not in the body: the least depth a reply can have.
    assert (first.parent_id, first.depth, first.likes, first.author_username) == ("cu5p1hh", 1, -142, "Nak4000")
    assert (comments["cu5pjjs"].parent_id, comments["cu5pjjs"].depth) == ("cu5pg2h", 2)
    assert (comments["cu5tau6"].parent_id, comments["cu5tau6"].depth) == ("cu5sb33", 6)
    assert {c.post_id for c in comments.values()} == {"3hahrw"}


def test_2025_context_tree_uses_modern_fields():
    result = normalize_comments(body("comments_2025_context_tree"))
    comments = by_id(result.records, "comment_id")
    assert len(comments) == 67
    assert (comments["mynfrrh"].depth, comments["mynfrrh"].parent_id) == (0, None)
    assert (comments["mynfuan"].depth, comments["mynfuan"].parent_id) == (1, "mynfrrh")
    assert (comments["myngt77"].depth, comments["myngt77"].parent_id) == (2, "mynfuan")
    assert sum(c.depth == 3 for c in comments.values()) == 64
    assert comments["mynfrrh"].published_at == datetime.fromtimestamp(1750348372, tz=timezone.utc)
    assert comments["mynfrrh"].text == "Test comment" and comments["mynfrrh"].post_id == "1j7g9uj"


def test_subtree_view_never_calls_a_reply_top_level():
    # A context view starts at a comment whose parent is not shown, numbered depth 0 by Reddit.
    result = normalize_comments(body("comments_6otocc_deep_chain_context"))
    chain = [(c.comment_id, c.parent_id, c.depth) for c in result.records]
    assert chain[0] == ("dkk4qc2", "dkk4q9z", 1)
    assert [d for _, _, d in chain] == list(range(1, 10))


def test_comment_listings():
    stream = by_id(normalize_comments(body("r_askreddit_comments_stream")).records, "comment_id")
    assert len(stream) == 25
    assert (stream["d4y8bdn"].post_id, stream["d4y8bdn"].parent_id, stream["d4y8bdn"].depth) == ("4r2hd3", "d4xrzgq", 1)
    assert (stream["d4y8bdp"].parent_id, stream["d4y8bdp"].depth) == (None, 0)
    spez = by_id(normalize_comments(body("user_spez_comments_new")).records, "comment_id")
    assert (spez["d0iaye9"].likes, spez["d0iaye9"].author_username, spez["d0iaye9"].parent_id) == (10, "spez", "d0hkqti")
    assert spez["d0iaye9"].published_at == datetime.fromtimestamp(1456769953, tz=timezone.utc)


def test_deleted_comment_and_empty_comment_listing():
    # A deleted comment is no record: it is reported gone, for the pipeline to purge.
    deleted = normalize_comments(body("api_info_deleted_comment"))
    assert deleted.records == [] and deleted.rejected == []
    assert [(g.resource, g.item_id, g.reason) for g in deleted.gone] == [("comments", "d7ltvl0", "[deleted] on Reddit")]
    # The post says 19 comments, yet the comment listing is empty: nothing to normalize.
    assert normalize_comments(body("comments_52o2fl_context_of_deleted")).records == []
    assert normalize_posts(body("comments_52o2fl_context_of_deleted")).records[0].comments == 19


def test_poll_comments():
    result = normalize_comments(body("comments_g9zfex_poll"))
    assert len(result.records) == 3 and {c.post_id for c in result.records} == {"g9zfex"}


# -- profiles ---------------------------------------------------------------------------------


def test_profiles():
    [subreddit] = normalize_profiles(body("subreddit_about_announcements")).records
    assert (subreddit.account_id, subreddit.username, subreddit.followers) == ("r/announcements", "announcements", 47456009)
    [bot] = normalize_profiles(body("user_about_2025")).records
    assert (bot.account_id, bot.username, bot.followers) == ("u/Lil_SpazBot", "Lil_SpazBot", 0)
    [watchful] = normalize_profiles(body("user_about_watchful1")).records
    assert (watchful.account_id, watchful.followers, watchful.following, watchful.posts_count) == ("u/Watchful1", 156, None, None)
    partial = by_id(normalize_profiles(body("user_data_by_account_ids")).records, "account_id")
    assert set(partial) == {"u/spez", "u/<USERNAME>"}
    assert partial["u/spez"].followers is None and partial["u/spez"].username == "spez"


# -- errors and malformed bodies --------------------------------------------------------------


def test_error_envelopes_keep_their_message():
    with pytest.raises(ApiErrorBody, match=r"400: that user doesn't exist \(USER_DOESNT_EXIST\)") as error:
        normalize_profiles(body("err_400_user_doesnt_exist"))
    assert error.value.status == 400
    with pytest.raises(ApiErrorBody, match="403: Forbidden"):
        normalize_posts({"error": 403})
    with pytest.raises(ApiErrorBody, match="RATELIMIT") as error:
        normalize_comments({"json": {"errors": [["RATELIMIT", "you are doing that too much", "ratelimit"]]}})
    assert error.value.error_message == "you are doing that too much"


@pytest.mark.parametrize(
    ("normalizer", "bad_body", "found"),
    [
        (normalize_posts, [1, 2, 3], "a JSON array of 3 elements"),
        (normalize_posts, {"kind": "t2", "data": {"name": "x"}}, "a t2 account"),
        (normalize_posts, "nope", "a JSON str"),
        (normalize_comments, {"kind": "t5", "data": {}}, "a t5 subreddit"),
        (normalize_comments, None, "null"),
        (normalize_profiles, {"kind": "Listing"}, "a JSON object with keys kind"),
        (normalize_profiles, [{"kind": "Listing", "data": {"children": []}}] * 2, "a JSON array of 2 elements"),
    ],
)
def test_wrong_shapes_raise_a_one_line_not_a_response(normalizer, bad_body, found):
    with pytest.raises(NotAResponse) as error:
        normalizer(bad_body)
    assert not isinstance(error.value, ApiErrorBody)
    message = str(error.value)
    assert "\n" not in message and message.startswith("expected") and found in message


def test_a_post_without_created_utc_is_rejected_alone():
    listing = body("r_popular_hot_2026")
    del listing["data"]["children"][1]["data"]["created_utc"]
    result = normalize_posts(listing)
    assert len(result.records) == 24
    [rejected] = result.rejected
    assert rejected.item_id == "t3_1skl1i1" and "created_utc" in rejected.reason


def test_a_bad_comment_in_a_tree_is_rejected_and_its_replies_kept():
    tree = body("comments_2025_context_tree")
    top = tree[1]["data"]["children"][0]["data"]
    del top["created_utc"]
    result = normalize_comments(tree)
    assert [(r.item_id, "created_utc" in r.reason) for r in result.rejected] == [("t1_mynfrrh", True)]
    comments = by_id(result.records, "comment_id")
    assert len(comments) == 66 and comments["mynfuan"].depth == 1


def test_a_wrongly_typed_field_names_the_field():
    listing = body("user_spez_comments_new")
    listing["data"]["children"][3]["data"]["score"] = "many"
    result = normalize_comments(listing)
    [rejected] = result.rejected
    assert rejected.item_id == "t1_d0eunx1" and "score" in rejected.reason
    assert len(result.records) == 24


def test_a_malformed_listing_is_not_a_response():
    with pytest.raises(NotAResponse, match="malformed Listing"):
        normalize_posts({"kind": "Listing", "data": {"children": "none"}})


def test_a_malformed_write_error_envelope_is_no_envelope_not_a_crash():
    # `{"json": {"errors": [[]]}}`: an error entry with no code. Reading it raised IndexError out
    # of the error table; a malformed envelope is no envelope, and a 200 without one is a success.
    from social_assets.platforms.reddit.spec import ERRORS

    assert ERRORS.classify(200, {"json": {"errors": [[]]}}) == (None, None)
