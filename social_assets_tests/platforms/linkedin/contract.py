"""What the platform contract suite needs to know about LinkedIn's test data.

No recorded LinkedIn responses could be found under a permissive licence, so the suite reads
hand-written bodies in the documented shapes (`documented/`, each marked with its source:
documentation, not recordings). Which resource each is: comments for `socialActions/.../comments`,
profiles for `networkSizes` and the follower statistics, posts for the rest (posts, socialMetadata,
share statistics, errors).
"""

from pathlib import Path
from urllib.parse import unquote

from social_assets_tests.contract.spec import ContractData


def resource_of(endpoint: str) -> str:
    path = unquote(endpoint.split(" ", 1)[-1]).split("?")[0]
    if "/socialActions/" in path:
        return "comments"
    if "/networkSizes/" in path or path.endswith("/organizationalEntityFollowerStatistics"):
        return "profiles"
    return "posts"


CONTRACT = ContractData(realdata=None, resource_of=resource_of, documented=Path(__file__).parent / "documented")
