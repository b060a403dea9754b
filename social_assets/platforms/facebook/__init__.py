"""Facebook Pages, through the Graph API with Page tokens."""

from social_assets.platforms.base import Platform
from social_assets.platforms.facebook.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.facebook.spec import API, CAPABILITIES, PLATFORM, FacebookSource
from social_assets.platforms.facebook.walk import FacebookWalk, refresh

PLATFORM = Platform(
    name=PLATFORM,
    api=API,
    capabilities=CAPABILITIES,
    source_type=FacebookSource,
    walk=FacebookWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
