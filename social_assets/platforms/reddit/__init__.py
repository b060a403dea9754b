"""Reddit: subreddits and users through the OAuth API (app-only), and its sandbox emulation."""

from social_assets.platforms.base import Platform
from social_assets.platforms.reddit.client import CREDENTIAL_VARS, LIMITS, RedditCollector, RedditSource, make_collector
from social_assets.platforms.reddit.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.reddit.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, RedditSandbox

PLATFORM = Platform(
    name="reddit",
    source_type=RedditSource,
    normalizers={"posts": normalize_posts, "comments": normalize_comments, "profiles": normalize_profiles},
    credentials=CREDENTIAL_VARS,
    sandbox_credentials={"REDDIT_CLIENT_ID": SANDBOX_CLIENT_ID, "REDDIT_CLIENT_SECRET": SANDBOX_CLIENT_SECRET},
    make_collector=make_collector,
    limits=LIMITS,
    refresh_posts=RedditCollector.refresh_posts,
    sandbox=RedditSandbox,
)
