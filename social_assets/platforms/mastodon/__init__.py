"""Mastodon: accounts on their own instances, through each instance's public REST API."""

from social_assets.platforms.base import Platform
from social_assets.platforms.mastodon.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.mastodon.spec import API, CAPABILITIES, PLATFORM, MastodonSource
from social_assets.platforms.mastodon.walk import MastodonWalk, refresh

PLATFORM = Platform(
    name=PLATFORM,
    api=API,
    capabilities=CAPABILITIES,
    source_type=MastodonSource,
    walk=MastodonWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
