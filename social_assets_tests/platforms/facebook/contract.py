"""What the platform contract suite needs to know about Facebook's test data.

Comments pages are comments; a Page (its fields) and the Pages a user manages (`/accounts`)
are profiles; feeds, posts, `?ids=` lookups, videos and live videos (rejected one by one: no
`created_time`) are posts. The two error bodies (code 100) exit 2 naming the Graph error.
"""

from social_assets_tests.contract.spec import ContractData


def resource_of(endpoint: str) -> str:
    path = endpoint.split("?")[0]
    if path.endswith("/comments"):
        return "comments"
    if path.endswith("/accounts") or "fan_count" in endpoint or "<page-id>" in endpoint:
        return "profiles"
    return "posts"


CONTRACT = ContractData(realdata="facebook", resource_of=resource_of)
