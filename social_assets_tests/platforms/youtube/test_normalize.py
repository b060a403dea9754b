"""YouTube normalizers against the recorded API responses in /work/shared/realdata/youtube."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_assets.core.records import ApiErrorBody, NotAResponse
from social_assets.platforms import PLATFORMS
from social_assets.platforms.youtube import analytics
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts, normalize_profiles

REALDATA = Path("/work/shared/realdata/youtube")
# Profiles go through analytics.py, which hands channels to normalize_profiles (and reads history).
NORMALIZERS = {"posts": normalize_posts, "comments": normalize_comments, "profiles": analytics.normalize_profiles}

# What each recorded file is a response of; "error" files must raise ApiErrorBody.
FILE_RESOURCES = {
    "python-youtube__activities_by_channel_p1.json": "posts",
    "python-youtube__channels_list_multi_parts.json": "profiles",
    "python-youtube__channels_list_single_statistics.json": "profiles",
    "python-youtube__comment_thread_item_with_replies.json": "comments",
    "python-youtube__comment_threads_all_to_channel.json": "comments",
    "python-youtube__comment_threads_by_video_p1.json": "comments",
    "python-youtube__comments_by_parent_p1.json": "comments",
    "python-youtube__err_400_key_invalid.json": "error",
    "python-youtube__err_403_permission_denied.json": "error",
    "python-youtube__playlist_items_p1.json": "posts",
    "python-youtube__playlist_items_p2_last.json": "posts",
    "python-youtube__playlists_by_channel_p1.json": "posts",
    "python-youtube__search_channels.json": "posts",
    "python-youtube__search_keywords_p1.json": "posts",
    "python-youtube__subscriptions_empty.json": "posts",
    "python-youtube__videos_chart_most_popular_p1.json": "posts",
    "python-youtube__videos_list_full_parts.json": "posts",
    "python-youtube__videos_list_multi_player.json": "posts",
}


def body(name: str):
    return json.loads((REALDATA / f"python-youtube__{name}.json").read_text())["body"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


# -- every recorded file ------------------------------------------------------------------


def test_every_recorded_file_is_classified():
    assert sorted(p.name for p in REALDATA.glob("*.json")) == sorted(FILE_RESOURCES)


@pytest.mark.parametrize("file_name", sorted(FILE_RESOURCES))
def test_every_recorded_file_normalizes_as_its_resource_and_no_other(file_name):
    data = json.loads((REALDATA / file_name).read_text())["body"]
    resource = FILE_RESOURCES[file_name]
    for name, normalize in NORMALIZERS.items():
        if resource == "error":
            with pytest.raises(ApiErrorBody):
                normalize(data)
        elif name == resource:
            result = normalize(data)
            assert len(result.records) + len(result.rejected) == _item_count(data)
        else:
            with pytest.raises(NotAResponse) as raised:
                normalize(data)
            assert not isinstance(raised.value, ApiErrorBody)


def _item_count(data) -> int:
    if "items" not in data:
        return 1 + len(data.get("replies", {}).get("comments", []))  # one thread resource
    return len(data["items"]) + sum(len(i.get("replies", {}).get("comments", [])) for i in data["items"])


def test_the_platform_registers_these_normalizers():
    assert PLATFORMS["youtube"].normalizers == NORMALIZERS


# -- posts --------------------------------------------------------------------------------


def test_video_with_full_parts():
    result = normalize_posts(body("videos_list_full_parts"))
    assert result.rejected == []
    [video] = result.records
    assert video.post_id == "D-lhorsDlUQ"
    assert (video.likes, video.comments, video.views, video.shares) == (190, 32, 7920, None)
    assert video.author_id == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert video.author_username == "Google Developers"
    assert video.text.startswith("What are Actions on Google (Assistant on Air)\n\nIn the first episode")
    assert video.content_type == "video"
    assert video.media_urls == ["https://i.ytimg.com/vi/D-lhorsDlUQ/maxresdefault.jpg"]
    assert video.published_at == utc(2019, 3, 21, 20, 37, 49)
    assert video.permalink == "https://www.youtube.com/watch?v=D-lhorsDlUQ"


def test_videos_without_statistics_part_have_unknown_counts_and_best_available_thumbnail():
    first, second = normalize_posts(body("videos_list_multi_player")).records
    assert (first.post_id, second.post_id) == ("D-lhorsDlUQ", "ovdbrdCIP7U")
    assert (second.likes, second.comments, second.views) == (None, None, None)
    # This video has no maxres thumbnail: standard is the best.
    assert second.media_urls == ["https://i.ytimg.com/vi/ovdbrdCIP7U/sddefault.jpg"]
    assert second.author_username == "NFL Throwback"


def test_hidden_likes_and_disabled_comments_are_none_not_zero():
    data = body("videos_list_full_parts")
    stats = data["items"][0]["statistics"]
    del stats["likeCount"], stats["commentCount"]
    [video] = normalize_posts(data).records
    assert (video.likes, video.comments, video.views) == (None, None, 7920)


def test_a_video_with_an_empty_description_is_its_title():
    data = body("videos_list_full_parts")
    data["items"][0]["snippet"]["description"] = ""
    assert normalize_posts(data).records[0].text == "What are Actions on Google (Assistant on Air)"


def test_chart_listing():
    result = normalize_posts(body("videos_chart_most_popular_p1"))
    assert len(result.records) == 5 and result.rejected == []
    assert [r.post_id for r in result.records[:3]] == ["hDeuSfo_Ys0", "Ukd8dJNBvOA", "Pdgk3ERKdug"]
    assert result.records[0].author_username == "The ACE Family"


def test_playlist_items_name_their_videos():
    page1 = normalize_posts(body("playlist_items_p1")).records
    page2 = normalize_posts(body("playlist_items_p2_last")).records
    assert len(page1) == 10 and len(page2) == 3
    assert page1[0].post_id == "CvTApw9X8aA"
    assert page1[1].post_id == "Yh4EKaUY3gg"
    assert [r.post_id for r in page2][:2] == ["6aSG8SdvkoU", "ECGpZCFUL8s"]
    # Without contentDetails the time is snippet.publishedAt (when it was added to the playlist).
    assert page1[0].published_at == utc(2019, 11, 21, 22, 17, 43)
    assert page1[0].author_id == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert all(r.likes is None and r.views is None for r in page1)


def test_playlist_item_prefers_content_details():
    data = body("playlist_items_p1")
    item = data["items"][0]
    item["contentDetails"] = {"videoId": "CvTApw9X8aA", "videoPublishedAt": "2019-11-20T10:00:00Z"}
    del item["snippet"]["resourceId"]
    record = normalize_posts(data).records[0]
    assert (record.post_id, record.published_at) == ("CvTApw9X8aA", utc(2019, 11, 20, 10))


def test_private_playlist_entries_are_rejected():
    data = body("playlist_items_p1")
    item = data["items"][0]
    item["snippet"].update(title="Private video", description="This video is private.", thumbnails={})
    item["contentDetails"] = {"videoId": "CvTApw9X8aA"}
    result = normalize_posts(data)
    assert len(result.records) == 9
    assert result.rejected[0].item_id == item["id"]
    assert "private or deleted" in result.rejected[0].reason


def test_search_results_are_videos_with_unescaped_titles():
    result = normalize_posts(body("search_keywords_p1"))
    assert len(result.records) == 25 and result.rejected == []
    assert result.records[0].post_id == "gQ_1zX-F_No"
    assert result.records[1].text.startswith("SURFING PERFECT PIPE & BACKDOOR || SUNRISE SHACK!")
    assert result.records[0].published_at == utc(2019, 12, 5, 19, 0, 10)


def test_search_results_of_channels_are_rejected_by_id():
    result = normalize_posts(body("search_channels"))
    assert result.records == []
    assert [r.item_id for r in result.rejected][:2] == ["UCxRULEz6kS0PMxCzOY25GhQ", "UCBGVFobD9nXtTxBdMbDZfnQ"]
    assert all(r.reason == "youtube#channel is not a video" for r in result.rejected)


def test_upload_activities_need_their_video_id():
    data = body("activities_by_channel_p1")
    recorded = normalize_posts(data)  # part=snippet only: no contentDetails.upload
    assert recorded.records == [] and len(recorded.rejected) == 10
    assert recorded.rejected[0].item_id == "MTUxNTcyNTU1NjEyNjk5ODAxNzY0MzM4MDg="

    data["items"][0]["contentDetails"] = {"upload": {"videoId": "abcdefghijk"}}
    data["items"][1]["snippet"]["type"] = "like"
    result = normalize_posts(data)
    assert [r.post_id for r in result.records] == ["abcdefghijk"]
    assert result.records[0].published_at == utc(2019, 10, 31, 21, 0, 12)
    assert "'like' is not an upload" in result.rejected[0].reason


def test_playlists_and_subscriptions_are_not_videos():
    playlists = normalize_posts(body("playlists_by_channel_p1"))
    assert playlists.records == [] and len(playlists.rejected) == 10
    assert playlists.rejected[0].item_id == "PLOU2XLYxmsIKpaV8h0AGE05so0fAwwfTw"
    assert playlists.rejected[0].reason == "youtube#playlist is not a video"
    empty = normalize_posts(body("subscriptions_empty"))
    assert (empty.records, empty.rejected) == ([], [])


# -- comments -----------------------------------------------------------------------------


def test_thread_with_replies():
    top, reply = normalize_comments(body("comment_thread_item_with_replies")).records
    assert (top.comment_id, top.depth, top.parent_id, top.post_id) == (
        "UgydxWWoeA7F1OdqypJ4AaABAg", 0, None, "D-lhorsDlUQ")
    assert top.text == "Actions.ai"  # textOriginal, not the HTML textDisplay
    assert (top.author_username, top.likes) == ("Loren Robilio", 0)
    assert top.published_at == utc(2019, 6, 23, 8, 24, 24)
    assert (reply.comment_id, reply.depth, reply.parent_id, reply.post_id) == (
        "UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb", 1, "UgydxWWoeA7F1OdqypJ4AaABAg", "D-lhorsDlUQ")
    assert (reply.author_username, reply.likes, reply.text) == ("Dian Anggraeni", 1, "#")


def test_thread_page_of_a_video():
    result = normalize_comments(body("comment_threads_by_video_p1"))
    assert len(result.records) == 5 and result.rejected == []
    first = result.records[0]
    assert (first.comment_id, first.post_id, first.text, first.likes) == (
        "UgyZ1jqkHKYvi1-ruOZ4AaABAg", "F1UP7wRCPH8", "Google.com", 0)
    assert {r.depth for r in result.records} == {0}
    assert result.records[1].likes == 1


def test_channel_discussion_threads_are_rejected():
    result = normalize_comments(body("comment_threads_all_to_channel"))
    assert [r.comment_id for r in result.records] == ["UgyWeTdgc4sc1xgmbld4AaABAg", "Ugw5zYU6n9pmIgAZWvN4AaABAg"]
    assert {r.post_id for r in result.records} == {"JE8xdDp5B8Q"}
    assert [r.item_id for r in result.rejected] == ["Ugy0FhSzKMNMT9qs6zt4AaABAg", "UgwSRpgkjCe6OHHe3IJ4AaABAg"]


def test_replies_by_parent_carry_no_video_id():
    data = body("comments_by_parent_p1")
    result = normalize_comments(data)
    assert result.records == []
    assert [r.item_id for r in result.rejected] == [
        "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za6voUoRh", "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za5eJxzs1"]
    assert {r.reason for r in result.rejected} == {"reply carries no videoId"}

    # Told which video the listing was read for, the replies are complete records.
    third, second = normalize_comments(data, video_id="JE8xdDp5B8Q").records
    assert (third.post_id, third.parent_id, third.depth) == ("JE8xdDp5B8Q", "Ugw5zYU6n9pmIgAZWvN4AaABAg", 1)
    assert (third.text, second.text) == ("this is the third reply!", "this is the second reply!")
    assert third.published_at == utc(2019, 12, 1, 4, 46, 31)


def test_a_bad_reply_loses_only_itself():
    data = body("comment_thread_item_with_replies")
    data["replies"]["comments"].append({"kind": "youtube#comment", "id": "UgydxWWoeA7F1OdqypJ4AaABAg.broken"})
    result = normalize_comments(data)
    assert [r.depth for r in result.records] == [0, 1]
    assert result.rejected[0].item_id == "UgydxWWoeA7F1OdqypJ4AaABAg.broken"
    assert "snippet" in result.rejected[0].reason


def test_a_thread_without_snippet_is_rejected_with_its_id():
    data = body("comment_threads_by_video_p1")
    del data["items"][2]["snippet"]
    result = normalize_comments(data)
    assert len(result.records) == 4
    assert result.rejected[0].item_id == data["items"][2]["id"]


# -- profiles -----------------------------------------------------------------------------


def test_channels_with_subscriber_counts():
    google, developers = normalize_profiles(body("channels_list_multi_parts")).records
    assert (google.account_id, google.username, google.followers, google.posts_count) == (
        "UCK8sQmJBp8GCxrOtXWBpyEA", "@google", 10_700_000, 2678)
    assert (developers.account_id, developers.followers, developers.posts_count) == (
        "UC_x5XG1OV2P6uZZ5FSM9Ttw", 2_260_000, 5652)
    assert google.following is None
    [single] = normalize_profiles(body("channels_list_single_statistics")).records
    assert (single.username, single.followers, single.posts_count) == ("@googledevelopers", 1_927_873, 5026)


def test_hidden_or_missing_subscriber_counts_are_none():
    data = body("channels_list_multi_parts")
    data["items"][0]["statistics"]["hiddenSubscriberCount"] = True
    del data["items"][1]["statistics"]["subscriberCount"]
    del data["items"][1]["snippet"]["customUrl"]
    google, developers = normalize_profiles(data).records
    assert google.followers is None and developers.followers is None
    assert developers.username == "Google Developers"  # no handle: the title
    assert google.posts_count == 2678


# -- errors and malformed bodies ----------------------------------------------------------


def test_google_error_envelopes_raise_with_code_message_and_reason():
    with pytest.raises(ApiErrorBody) as invalid:
        normalize_posts(body("err_400_key_invalid"))
    assert (invalid.value.platform, invalid.value.status) == ("youtube", 400)
    assert invalid.value.error_message == "Bad Request (keyInvalid)"
    with pytest.raises(ApiErrorBody) as denied:
        normalize_profiles(body("err_403_permission_denied"))
    assert denied.value.status == 403
    assert denied.value.error_message == "The caller does not have permission (SERVICE_UNAVAILABLE)"


def test_quota_exceeded_envelope():
    envelope = {"error": {"code": 403, "message": "quota", "errors": [
        {"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}
    with pytest.raises(ApiErrorBody, match=r"403: quota \(quotaExceeded\)"):
        normalize_comments(envelope)


def test_oauth_error_answers_raise_too():
    oauth = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    for normalize in NORMALIZERS.values():
        with pytest.raises(ApiErrorBody, match="youtube API error None: Token has been expired or revoked"):
            normalize(oauth)


def test_wrong_kind_names_expected_and_found():
    with pytest.raises(NotAResponse) as raised:
        normalize_posts(body("channels_list_multi_parts"))
    message = str(raised.value)
    assert "youtube#videoListResponse" in message and "found 'youtube#channelListResponse'" in message
    assert "\n" not in message
    with pytest.raises(NotAResponse, match="expected a YouTube profiles response .* found 'youtube#videoListResponse'"):
        normalize_profiles(body("videos_list_full_parts"))


@pytest.mark.parametrize("bad", [[], "text", 3, None, {"items": []}, {"kind": "youtube#videoListResponse", "items": {}}])
def test_bodies_of_the_wrong_shape_are_not_responses(bad):
    for normalize in NORMALIZERS.values():
        with pytest.raises(NotAResponse):
            normalize(bad)


def test_a_video_without_snippet_is_rejected_with_its_id_and_the_rest_kept():
    data = body("videos_chart_most_popular_p1")
    del data["items"][1]["snippet"]
    data["items"][3]["statistics"] = {"viewCount": "many"}
    data["items"].append("not an object")
    result = normalize_posts(data)
    assert [r.post_id for r in result.records] == [data["items"][i]["id"] for i in (0, 2, 4)]
    by_id = {r.item_id: r.reason for r in result.rejected}
    assert "no snippet" in by_id["Ukd8dJNBvOA"]
    assert "statistics.viewCount" in by_id[data["items"][3]["id"]]
    assert by_id[None] == "item is a JSON str, not an object"


def test_a_timestamp_without_zone_is_rejected():
    data = copy.deepcopy(body("videos_list_full_parts"))
    data["items"][0]["snippet"]["publishedAt"] = "2019-03-21T20:37:49"
    result = normalize_posts(data)
    assert result.records == []
    assert result.rejected[0].item_id == "D-lhorsDlUQ"
