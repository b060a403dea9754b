"""Reddit: subreddits and users through the OAuth API (app-only). Its sandbox emulation is
`social_assets.sandbox.platforms.reddit`."""

import httpx

from social_assets.platforms.base import Platform
from social_assets.platforms.reddit.client import (
    API_BASE,
    CREDENTIAL_VARS,
    LIMITS,
    TOKEN_URL,
    RedditCollector,
    RedditSource,
    make_collector,
)
from social_assets.platforms.reddit.normalize import normalize_comments, normalize_posts, normalize_profiles

PLATFORM = Platform(
    name="reddit",
    source_type=RedditSource,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
    credentials=CREDENTIAL_VARS,
    make_collector=make_collector,
    limits=LIMITS,
    refresh_posts=RedditCollector.refresh_posts,
    hosts=(httpx.URL(TOKEN_URL).host, httpx.URL(API_BASE).host),
)
