"""What the platform contract suite needs to know about Reddit's test data."""

from social_assets_tests.contract.spec import ContractData

CONTRACT = ContractData(
    realdata="reddit",
    # Comment trees, comment listings and morechildren answers are comments; about pages and
    # account lookups are profiles; every other listing holds posts.
    resource_of=lambda endpoint: (
        "comments" if any(k in endpoint for k in ("/comments/", "/comments?", "morechildren"))
        else "profiles" if any(k in endpoint for k in ("/about", "user_data_by_account_ids"))
        else "posts"
    ),
)
