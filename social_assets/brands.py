"""Brands: one brand's accounts across platforms, aggregated together in
`analytics.brand_rollups_*`. They are listed in the `brands` section of the sources file:

    brands:
      acme: [r/acme, UCxxxxxxxxxxxxxxxxxxxxxx]
      acme_eu: [u/acme_eu, youtube:UCyyyyyyyyyyyyyyyyyyyyyy]

Each entry is the `account_id` of a source of the same file (`r/<subreddit>`, `u/<user>`, a
YouTube channel id, ...); `platform:account_id` picks the platform when two platforms have a
source with that id. A source may belong to no brand, or to several. Every mistake of the
section is reported at once, naming the file, the brand and the entry.

The pipeline writes the mapping to `ops.brand_accounts` right before dbt builds the analytics
tables, so the brand rollups always follow the sources file as it is when they are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import duckdb
import pandas as pd
import yaml

from social_assets.platforms.base import SourceConfig
from social_assets.sources import SourcesConfigError, load_sources
from social_assets.warehouse.tables import BRAND_ACCOUNTS, ensure_schema

BRANDS_KEY = "brands"


class BrandsConfigError(SourcesConfigError):
    """The `brands` section of the sources file is wrong; the message lists every problem."""


@dataclass(frozen=True, order=True)
class BrandAccount:
    brand: str
    platform: str
    account_id: str


def load_brands(path: Path, sources: Mapping[str, list[SourceConfig]] | None = None) -> list[BrandAccount]:
    """Every (brand, platform, account) of the sources file at `path`, sorted. `sources` is the
    file's sources when the caller has them already (they are loaded otherwise)."""
    if sources is None:
        sources = load_sources(path)
    section = (yaml.safe_load(path.read_text()) or {}).get(BRANDS_KEY)
    if section is None:
        return []
    if not isinstance(section, dict):
        raise BrandsConfigError(f"{path}: {BRANDS_KEY}: expected a mapping of brand names to lists of account ids")

    platforms_of: dict[str, list[str]] = {}
    for platform, configured in sources.items():
        for source in configured:
            platforms_of.setdefault(source.account_id, []).append(platform)

    problems: list[str] = []
    accounts: list[BrandAccount] = []
    for brand, entries in section.items():
        where = f"{path}: {BRANDS_KEY}.{brand}"
        if not isinstance(brand, str) or not brand.strip():
            problems.append(f"{path}: {BRANDS_KEY}: a brand name must be non-empty text, got {brand!r}")
            continue
        if not isinstance(entries, list) or not entries:
            problems.append(f"{where}: expected a non-empty list of account ids, got {entries!r}")
            continue
        seen: set[tuple[str, str]] = set()
        for index, entry in enumerate(entries):
            resolved = _resolve(entry, platforms_of, f"{where}[{index}]")
            if isinstance(resolved, str):
                problems.append(resolved)
            elif resolved in seen:
                problems.append(f"{where}[{index}]: {entry!r} is listed twice")
            else:
                seen.add(resolved)
                accounts.append(BrandAccount(brand, *resolved))
    if problems:
        raise BrandsConfigError("\n".join(problems))
    return sorted(accounts)


def _resolve(entry: Any, platforms_of: Mapping[str, list[str]], where: str) -> tuple[str, str] | str:
    """(platform, account_id) for a brand entry, or the problem with it."""
    if not isinstance(entry, str) or not entry.strip():
        return f"{where}: expected an account id, got {entry!r}"
    platform, separator, account_id = entry.partition(":")
    if separator and platform in _platform_names():
        if platform in platforms_of.get(account_id, []):
            return platform, account_id
        return f"{where}: unknown account_id {account_id!r}: no {platform} source of the file has it"
    matches = platforms_of.get(entry, [])
    if not matches:
        return f"{where}: unknown account_id {entry!r}: no source of the file has it (see README, Sources)"
    if len(matches) > 1:
        options = ", ".join(f"{p}:{entry}" for p in sorted(matches))
        return f"{where}: {entry!r} is a source of several platforms; write one of {options}"
    return matches[0], entry


def _platform_names() -> set[str]:
    from social_assets.platforms import PLATFORMS

    return set(PLATFORMS)


def write_brand_accounts(con: duckdb.DuckDBPyConnection, accounts: list[BrandAccount]) -> None:
    """Make `ops.brand_accounts` hold exactly `accounts`, in one transaction."""
    ensure_schema(con)
    rows = pd.DataFrame([vars(a) for a in accounts], columns=BRAND_ACCOUNTS.column_names)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {BRAND_ACCOUNTS.qualified}")
        if len(rows):
            con.register("brand_rows", rows)
            con.execute(f"INSERT INTO {BRAND_ACCOUNTS.qualified} SELECT brand, platform, account_id FROM brand_rows")
            con.unregister("brand_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
