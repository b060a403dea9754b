"""YouTube: channels through the Data API v3, spending as few of the daily quota units as it can."""

from social_assets.platforms.base import Platform
from social_assets.platforms.youtube.analytics import normalize_profiles  # channels, and past subscriber counts
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts
from social_assets.platforms.youtube.spec import API, CAPABILITIES, YouTubeSource
from social_assets.platforms.youtube.walk import YouTubeWalk, refresh

PLATFORM = Platform(
    name="youtube",
    api=API,
    capabilities=CAPABILITIES,
    source_type=YouTubeSource,
    walk=YouTubeWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
