"""YouTube: the Data API v3 client, its normalizers and its sandbox emulation.

Sources name channels by id (`UC...`); the collector reads the channel, its uploads playlist,
the day's videos and their comments, spending as few of the daily quota units as it can.
"""

from social_assets.platforms.base import Platform
from social_assets.platforms.youtube.client import API_KEY_VARIABLE, LIMITS, YouTubeCollector, YouTubeSource, make_collector
from social_assets.platforms.youtube.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.youtube.sandbox import SANDBOX_API_KEY, YouTubeSandbox

PLATFORM = Platform(
    name="youtube",
    source_type=YouTubeSource,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
    credentials=(API_KEY_VARIABLE,),
    sandbox_credentials={API_KEY_VARIABLE: SANDBOX_API_KEY},
    make_collector=make_collector,
    limits=LIMITS,
    refresh_posts=YouTubeCollector.refresh_posts,
    sandbox=YouTubeSandbox,
)
