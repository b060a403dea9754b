"""Pseudonyms for people who are not tracked accounts: commenters, and authors of posts in a
tracked community. With `privacy.pseudonymize_usernames` in the sources file, their usernames
(and a post author's platform id) are stored as `anon_<hash>`, a keyed hash (HMAC-SHA256 with
`SOCIAL_PSEUDONYM_KEY`) of the platform and the name: the same person gets the same pseudonym
in every table and run, so analysts can still count distinct commenters, but the name cannot
be recovered without the key. Tracked accounts stay readable: a name or id that is one of the
platform's sources (its account id, with or without `u/` / `@`, or a username its profile
reported) is kept as is.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

PREFIX = "anon_"


class MissingPseudonymKey(RuntimeError):
    pass


def pseudonym(key: str, platform: str, name: str) -> str:
    digest = hmac.new(key.encode(), f"{platform}\0{name.strip().lower()}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:20]


def readable_names(platform: str, account_ids: list[str], profile_usernames: list[str]) -> set[str]:
    """Lower-cased names and ids that belong to tracked accounts of the platform."""
    names = set()
    for value in [*account_ids, *profile_usernames]:
        if not value:
            continue
        lowered = value.strip().lower()
        names |= {lowered, lowered.lstrip("@"), lowered.split("/", 1)[-1], lowered.lstrip("@").split("@", 1)[0]}
    return names


def pseudonymize(frame: pd.DataFrame, resource: str, platform: str, key: str, readable: set[str]) -> pd.DataFrame:
    """`frame` (normalized rows of one resource) with the people who are not tracked accounts
    replaced by their pseudonyms."""
    if resource not in ("posts", "comments") or frame.empty:
        return frame
    frame = frame.copy()

    def hidden(value):
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return value
        text = str(value)
        if text.startswith(PREFIX) or text.strip().lower() in readable or text.strip().lower().lstrip("@") in readable:
            return text
        return pseudonym(key, platform, text)

    if resource == "comments":
        frame["author_username"] = [hidden(v) for v in frame["author_username"]]
        return frame
    # A post's author is one person: readable when either its name or its id is a tracked account.
    tracked = [
        _is_tracked(name, author_id, readable) for name, author_id in zip(frame["author_username"], frame["author_id"])
    ]
    frame["author_username"] = [v if keep else hidden(v) for v, keep in zip(frame["author_username"], tracked)]
    frame["author_id"] = [v if keep else hidden(v) for v, keep in zip(frame["author_id"], tracked)]
    return frame


def _is_tracked(name, author_id, readable: set[str]) -> bool:
    for value in (name, author_id):
        if isinstance(value, str) and (value.strip().lower() in readable or value.strip().lower().lstrip("@") in readable):
            return True
    return False
