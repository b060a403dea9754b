"""X: accounts through API v2, with their conversations' reply trees (recent search: 7 days)."""

from social_assets.platforms.base import Platform
from social_assets.platforms.x.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.x.spec import API, CAPABILITIES, XSource
from social_assets.platforms.x.walk import XWalk, refresh

PLATFORM = Platform(
    name="x",
    api=API,
    capabilities=CAPABILITIES,
    source_type=XSource,
    walk=XWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
