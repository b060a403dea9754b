"""What the platform contract suite needs to know about X's test data.

Which recorded response is which resource: a conversation search (`conversation_id:`) or a
search for replies (`to:`) is comments; user lookups, followers and the v1.1 user objects are
profiles; every other timeline, lookup and search is posts. The v1.1 responses are refused as
not v2 responses (exit 2, one line): this collector reads API v2 only.
"""

from urllib.parse import unquote

from social_assets_tests.contract.spec import ContractData


def resource_of(endpoint: str) -> str:
    url = unquote(endpoint)
    path = url.split("?")[0]
    if "/search/" in path and any(q in url for q in ("conversation_id:", "(to:", "query=to:")):
        return "comments"
    if "/tweets" in path or "/statuses/" in path or "/favorites/" in path or "/search/" in path or "/mentions" in path \
            or "/liked_tweets" in path or "/timelines/" in path:
        return "posts"
    return "profiles"


CONTRACT = ContractData(realdata="twitter", resource_of=resource_of)
