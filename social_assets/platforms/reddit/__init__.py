"""Reddit: subreddits and users through the OAuth API (app-only)."""

from social_assets.platforms.base import Platform
from social_assets.platforms.reddit.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.reddit.spec import API, CAPABILITIES, RedditSource
from social_assets.platforms.reddit.walk import RedditWalk, refresh

PLATFORM = Platform(
    name="reddit",
    api=API,
    capabilities=CAPABILITIES,
    source_type=RedditSource,
    walk=RedditWalk,
    refresh=refresh,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
)
