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
from social_assets.platforms.base import Platform, SourceConfig

SECTION_KEYS = {"defaults", "sources"}
# Top-level keys that are not platforms (brands group sources across platforms; privacy holds
# the pseudonymization and retention options, see privacy/options.py).
NON_PLATFORM_KEYS = {"brands", "privacy"}


class SourcesConfigError(ValueError):
    pass


def load_sources(path: Path) -> dict[str, list[SourceConfig]]:
    """Every configured source, by platform (platforms absent from the file get []).
    Every mistake in the file is reported at once, one line each."""
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
    problems: list[str] = []
    for platform_name, section in raw.items():
        if platform_name in NON_PLATFORM_KEYS:
            continue
        where = f"{path}: {platform_name}"
        if platform_name in NON_PLATFORM_KEYS:
            continue
        if platform_name not in PLATFORMS:
            known = ", ".join(sorted(PLATFORMS))
            problems.append(f"{where}: unknown platform {platform_name!r} (known: {known})")
            continue
        result[platform_name] = _load_section(where, PLATFORMS[platform_name], section, problems)
    if problems:
        raise SourcesConfigError("\n".join(problems))
    return result


def _load_section(where: str, platform: Platform, section: Any, problems: list[str]) -> list[SourceConfig]:
    if section is None:
        return []
    if not isinstance(section, dict):
        problems.append(f"{where}: expected a mapping with 'defaults' and 'sources'")
        return []
    unknown = set(section) - SECTION_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)} (allowed: defaults, sources)")
    defaults = section.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(f"{where}.defaults: expected a mapping of options")
        defaults = {}
    not_options = set(defaults) - set(SourceConfig.OPTION_NAMES)
    if not_options:
        problems.append(
            f"{where}.defaults: unknown option(s) {sorted(not_options)} "
            f"(options: {', '.join(SourceConfig.OPTION_NAMES)})"
        )
        defaults = {k: v for k, v in defaults.items() if k not in not_options}
    problems += [f"{where}.defaults: {p}" for p in _unsupported(platform, defaults)]
    entries = section.get("sources") or []
    if not isinstance(entries, list):
        problems.append(f"{where}.sources: expected a list of sources")
        return []

    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        entry_where = f"{where}.sources[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{entry_where}: expected a mapping, got {entry!r}")
            continue
        unsupported = _unsupported(platform, entry)
        try:
            source = platform.source_type.model_validate({**defaults, **entry})
        except ValidationError as exc:
            problems.append(f"{entry_where} {_describe(entry)}: {_first_problem(exc)}")
            continue
        if unsupported:
            problems.append(f"{entry_where} {_describe(entry)}: {'; '.join(unsupported)}")
            continue
        if source.account_id in seen:
            problems.append(f"{entry_where}: {source.account_id} is already listed at sources[{seen[source.account_id]}]")
            continue
        given = {**defaults, **entry}
        no_comments = platform.comments_unavailable(source) if platform.comments_unavailable else None
        if no_comments and given.get("collect_comments") is True:
            problems.append(f"{entry_where} {_describe(entry)}: collect_comments: {no_comments}")
            continue
        seen[source.account_id] = index
        if no_comments:
            source = source.model_copy(update={"collect_comments": False})
        sources.append(_fit_to(platform, source, given=given))
    return sources


def _unsupported(platform: Platform, options: dict[str, Any]) -> list[str]:
    """Options the platform's API cannot honour, each with what it does support."""
    can = platform.capabilities
    problems = []
    if "sort" in options and options["sort"] is not None and options["sort"] not in can.sorts:
        supported = f"supported: {', '.join(can.sorts)}" if can.sorts else f"{platform.name} takes no sort"
        problems.append(f"sort {options['sort']!r} is not possible ({supported})")
    depth = options.get("comment_depth")
    if can.max_depth is not None and isinstance(depth, int) and depth > can.max_depth:
        problems.append(
            f"comment_depth {depth} is not possible: {platform.name} comments go {can.max_depth} level(s) "
            f"below the top level (supported: 0..{can.max_depth})"
        )
    if options.get("collect_comments") is True and not can.comments:
        problems.append(f"collect_comments: {platform.name} gives no comments with these credentials")
    return problems


def _fit_to(platform: Platform, source: SourceConfig, given: dict[str, Any]) -> SourceConfig:
    """Defaults the user did not set, narrowed to what the platform can give."""
    can = platform.capabilities
    update: dict[str, Any] = {}
    if can.max_depth is not None and "comment_depth" not in given and source.comment_depth > can.max_depth:
        update["comment_depth"] = can.max_depth
    if not can.comments and "collect_comments" not in given:
        update["collect_comments"] = False
    return source.model_copy(update=update) if update else source


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
