"""What the platform contract suite needs to know about TikTok's test data.

No recorded TikTok responses could be found under a permissive licence, so the suite reads the
hand-written files of `documented/`: each is a response in the shape TikTok's documentation
gives (its `source` names the page), marked as documentation, not a recording. Which resource
each is: `research/video/comment/list` is comments, `user/info` profiles, the video endpoints
posts.
"""

from pathlib import Path

from social_assets_tests.contract.spec import ContractData


def resource_of(endpoint: str) -> str:
    path = endpoint.split("?")[0]
    if "/comment/list" in path:
        return "comments"
    return "profiles" if "/user/info" in path else "posts"


CONTRACT = ContractData(realdata=None, resource_of=resource_of, documented=Path(__file__).parent / "documented")
