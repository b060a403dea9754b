"""LinkedIn: organization pages through the Community Management API (REST, Rest.li 2.0)."""

from social_assets.platforms.base import Platform
from social_assets.platforms.linkedin.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.linkedin.spec import API, CAPABILITIES, LinkedInSource
from social_assets.platforms.linkedin.walk import LinkedInWalk, refresh

PLATFORM = Platform(
    name="linkedin",
    api=API,
    capabilities=CAPABILITIES,
    source_type=LinkedInSource,
    walk=LinkedInWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
