"""The sources file: what to collect on each platform.

    reddit:
      defaults: {post_limit: 100, collect_comments: true, comment_depth: 10, sort: new}
      sources:
        - subreddit: dataengineering
        - user: brand_official
          post_limit: 50

Each platform section has optional `defaults` (applied to each of its sources) and a list of
`sources`; the entries' fields are the platform's `source_type` (see its client.py). Any
mistake is reported as `SourcesConfigError` naming the file, the entry and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import SourceConfig

SECTION_KEYS = {"defaults", "sources"}
# Top-level keys that are not platforms: `brands` groups sources (read by brands.py).
NOT_PLATFORMS = {"brands"}


class SourcesConfigError(ValueError):
    pass


def load_sources(path: Path) -> dict[str, list[SourceConfig]]:
    """Every configured source, by platform (platforms absent from the file get [])."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SourcesConfigError(f"{path}: sources file not found") from None
    except yaml.YAMLError as exc:
        raise SourcesConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SourcesConfigError(f"{path}: expected a mapping of platform names, got {type(raw).__name__}")

    result: dict[str, list[SourceConfig]] = {name: [] for name in PLATFORMS}
    for platform_name, section in raw.items():
        if platform_name in NOT_PLATFORMS:
            continue
        where = f"{path}: {platform_name}"
        if platform_name not in PLATFORMS:
            known = ", ".join(sorted(PLATFORMS))
            raise SourcesConfigError(f"{where}: unknown platform {platform_name!r} (known: {known})")
        result[platform_name] = _load_section(where, PLATFORMS[platform_name].source_type, section)
    return result


def _load_section(where: str, source_type: type[SourceConfig], section: Any) -> list[SourceConfig]:
    if section is None:
        return []
    if not isinstance(section, dict):
        raise SourcesConfigError(f"{where}: expected a mapping with 'defaults' and 'sources'")
    unknown = set(section) - SECTION_KEYS
    if unknown:
        raise SourcesConfigError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: defaults, sources)")
    defaults = section.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise SourcesConfigError(f"{where}.defaults: expected a mapping of options")
    not_options = set(defaults) - set(SourceConfig.OPTION_NAMES)
    if not_options:
        raise SourcesConfigError(
            f"{where}.defaults: unknown option(s) {sorted(not_options)} "
            f"(options: {', '.join(SourceConfig.OPTION_NAMES)})"
        )
    entries = section.get("sources") or []
    if not isinstance(entries, list):
        raise SourcesConfigError(f"{where}.sources: expected a list of sources")

    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        entry_where = f"{where}.sources[{index}]"
        if not isinstance(entry, dict):
            raise SourcesConfigError(f"{entry_where}: expected a mapping, got {entry!r}")
        try:
            source = source_type.model_validate({**defaults, **entry})
        except ValidationError as exc:
            raise SourcesConfigError(f"{entry_where} {_describe(entry)}: {_first_problem(exc)}") from None
        if source.account_id in seen:
            raise SourcesConfigError(
                f"{entry_where}: {source.account_id} is already listed at sources[{seen[source.account_id]}]"
            )
        seen[source.account_id] = index
        sources.append(source)
    return sources


def _describe(entry: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in list(entry.items())[:2])
    return f"({shown})"


def _first_problem(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "entry"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown option {field!r}")
        elif error["type"] == "missing":
            problems.append(f"{field}: required")
        else:
            problems.append(f"{field}: {error['msg']} (got {error.get('input')!r})")
    return "; ".join(problems)
