"""What the platform contract suite needs to know about YouTube's test data."""

from social_assets_tests.contract.spec import ContractData

CONTRACT = ContractData(
    realdata="youtube",
    resource_of=lambda endpoint: (
        "comments" if any(k in endpoint for k in ("/commentThreads", "/comments"))
        else "profiles" if "/channels" in endpoint
        else "posts"
    ),
)
