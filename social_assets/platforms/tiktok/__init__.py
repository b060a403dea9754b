"""TikTok: authorized accounts through the Display API v2, comments through the Research API."""

from social_assets.platforms.base import Platform
from social_assets.platforms.tiktok.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.tiktok.spec import API, CAPABILITIES, TikTokSource, comments_unavailable
from social_assets.platforms.tiktok.walk import TikTokWalk, refresh

PLATFORM = Platform(
    name="tiktok",
    api=API,
    capabilities=CAPABILITIES,
    source_type=TikTokSource,
    walk=TikTokWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
    comments_unavailable=comments_unavailable,
)
