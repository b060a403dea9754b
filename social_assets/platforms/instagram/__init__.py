"""Instagram business and creator accounts, through the Graph API (Instagram Login)."""

from social_assets.platforms.base import Platform
from social_assets.platforms.instagram.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.instagram.spec import API, CAPABILITIES, PLATFORM, InstagramSource
from social_assets.platforms.instagram.walk import InstagramWalk, refresh

PLATFORM = Platform(
    name=PLATFORM,
    api=API,
    capabilities=CAPABILITIES,
    source_type=InstagramSource,
    walk=InstagramWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
