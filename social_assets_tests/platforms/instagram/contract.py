"""What the platform contract suite needs to know about Instagram's test data.

Comments and replies pages are comments; accounts (and the account
insights, refused as not accounts) are profiles; media pages, business discovery's media, single media, `?ids=` lookups and
media insights (refused as not media: insights come expanded into the media) are posts.
"""

from social_assets_tests.contract.spec import ContractData


def resource_of(endpoint: str) -> str:
    path = endpoint.split("?")[0]
    if path.endswith(("/comments", "/replies")):
        return "comments"
    if "followers_count" in endpoint or ("/insights" in path and "period=day" in endpoint):
        return "profiles"
    return "posts"


CONTRACT = ContractData(realdata="instagram", resource_of=resource_of)
