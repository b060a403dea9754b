"""YouTube: the Data API v3 client and its normalizers. Its sandbox emulation is
`social_assets.sandbox.platforms.youtube`.

Sources name channels by id (`UC...`); the collector reads the channel, its uploads playlist,
the day's videos and their comments, spending as few of the daily quota units as it can.
"""

import httpx

from social_assets.platforms.base import Platform
from social_assets.platforms.youtube.client import (
    API_KEY_VARIABLE,
    BASE_URL,
    LIMITS,
    YouTubeCollector,
    YouTubeSource,
    make_collector,
)
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts, normalize_profiles

PLATFORM = Platform(
    name="youtube",
    source_type=YouTubeSource,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
    credentials=(API_KEY_VARIABLE,),
    make_collector=make_collector,
    limits=LIMITS,
    refresh_posts=YouTubeCollector.refresh_posts,
    hosts=(httpx.URL(BASE_URL).host,),
)
