"""Facebook Pages as the seam sees it: the Graph API at `graph.facebook.com/<VERSION>`
(PLATFORMS.md section 5), one Page token per Page.

Auth: the Page's access token (`FACEBOOK_PAGE_TOKEN`, or the source's own variable, e.g.
`credentials: {FACEBOOK_PAGE_TOKEN: ACME_PAGE_TOKEN}`), sent as `Authorization: Bearer`. Page
tokens got from a long-lived user token do not expire; one Graph refuses (code 190) is a
configuration error naming the source and its variable.

Limits and errors: the shared Graph layer (`platforms/graph/api.py`), counted per Page token,
so a throttled Page pauses that Page only, in every process.
"""

from __future__ import annotations

import re

from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.platforms.base import SourceConfig
from social_assets.platforms.graph.api import BATCH_IDS, ERRORS, FACEBOOK_GRAPH, usage_limits

PLATFORM = "facebook"
TOKEN_VARIABLE = "FACEBOOK_PAGE_TOKEN"
_PAGE = re.compile(r"^([A-Za-z0-9.]{5,50}|\d{5,20})$")


class FacebookSource(SourceConfig):
    """One Page by its username or numeric id, e.g. `{page: sandboxcafe}` (its account_id)."""

    page: str

    @field_validator("page")
    @classmethod
    def _page(cls, value: str) -> str:
        name = value.strip().removeprefix("@")
        if not _PAGE.match(name):
            raise ValueError(f"Facebook Page {value!r} is not valid: a Page username (5 or more letters, digits "
                             "or '.') or its numeric id")
        return name.lower()

    @property
    def account_id(self) -> str:
        return self.page


API = ApiSpec(
    base_url=FACEBOOK_GRAPH,
    auth=(Auth(AuthKind.BEARER, (TOKEN_VARIABLE,)),),
    limits=usage_limits(PLATFORM),
    errors=ERRORS,
)

# Replies are one level deep (`/{comment-id}/comments`); the refresh looks up 50 posts a call.
CAPABILITIES = Capabilities(comments=True, max_depth=1, batch_lookup=BATCH_IDS)
