"""What the platform contract suite needs to know about Bluesky's test data."""

from social_assets_tests.contract.spec import ContractData

CONTRACT = ContractData(
    realdata="bluesky",
    # Threads are comments; profile lookups (and the account answers: followers, blocks, the
    # session) are profiles; feeds, post lists and the write error are posts.
    resource_of=lambda endpoint: (
        "comments" if "getPostThread" in endpoint
        else "profiles" if any(k in endpoint for k in ("app.bsky.actor.", "app.bsky.graph.", "com.atproto.server."))
        else "posts"
    ),
)
