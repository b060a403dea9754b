"""Bluesky: actors (handles or DIDs) through the AT Protocol XRPC API, on the public AppView
without credentials or through an optional app-password session."""

from social_assets.platforms.base import Platform
from social_assets.platforms.bluesky.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.bluesky.spec import API, CAPABILITIES, BlueskySource
from social_assets.platforms.bluesky.walk import BlueskyWalk, refresh

PLATFORM = Platform(
    name="bluesky",
    api=API,
    capabilities=CAPABILITIES,
    source_type=BlueskySource,
    walk=BlueskyWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
