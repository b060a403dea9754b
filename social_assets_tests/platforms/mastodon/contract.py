"""What the platform contract suite needs to know about Mastodon's test data."""

from social_assets_tests.contract.spec import ContractData

CONTRACT = ContractData(
    realdata="mastodon",
    resource_of=lambda endpoint: (
        "comments" if endpoint.split("?")[0].endswith("/context")
        else "profiles" if "/accounts/" in endpoint and "/statuses" not in endpoint
        else "posts"  # statuses, account statuses, timelines, trends (refused), errors
    ),
)
