"""The `privacy` section of the sources file:

    privacy:
      pseudonymize_usernames: true   # commenters and non-tracked authors as keyed hashes
      raw_retention_days: 90         # raw API bodies older than this are deleted
      comment_retention_days: 365    # comments published longer ago are dropped

Every option is off when absent. Pseudonyms need a key: the environment variable
`SOCIAL_PSEUDONYM_KEY` (passed to the pipeline as a Dagster EnvVar, never in config or logs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from social_assets.sources import SourcesConfigError

PRIVACY_KEY = "privacy"
PSEUDONYM_KEY_VARIABLE = "SOCIAL_PSEUDONYM_KEY"


class PrivacyConfigError(SourcesConfigError):
    """The `privacy` section of the sources file is wrong; the message names the option."""


class PrivacyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pseudonymize_usernames: bool = Field(
        default=False, description="store commenters' and non-tracked authors' names as keyed hashes"
    )
    raw_retention_days: Optional[int] = Field(
        default=None, gt=0, le=36500, description="delete raw API bodies of partitions older than this many days"
    )
    comment_retention_days: Optional[int] = Field(
        default=None, gt=0, le=36500, description="drop comments published more than this many days ago"
    )


def load_privacy(path: Path) -> PrivacyOptions:
    try:
        section = (yaml.safe_load(path.read_text()) or {}).get(PRIVACY_KEY)
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise PrivacyConfigError(f"{path}: cannot read the privacy section: {exc}") from None
    if section is None:
        return PrivacyOptions()
    if not isinstance(section, dict):
        raise PrivacyConfigError(f"{path}: {PRIVACY_KEY}: expected a mapping of options")
    try:
        return PrivacyOptions.model_validate(section)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "section"
            what = "unknown option" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{path}: {PRIVACY_KEY}.{field}: {what} (got {error.get('input')!r})")
        raise PrivacyConfigError("\n".join(problems)) from None
