"""The brands section of the sources file: accounts across platforms, and every mistake named."""

from __future__ import annotations

import duckdb
import pytest

from social_assets.brands import BrandAccount, BrandsConfigError, load_brands, write_brand_accounts
from social_assets.sources import load_sources

SOURCES = """
reddit:
  sources:
    - subreddit: acme
    - user: acme_official
    - subreddit: unrelated
youtube:
  sources:
    - channel: UCacmeacmeacmeacmeacmeac
"""


def write(tmp_path, text: str):
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES + text)
    return path


def test_brands_group_accounts_across_platforms(tmp_path):
    path = write(tmp_path, """
brands:
  acme: [r/acme, UCacmeacmeacmeacmeacmeac, reddit:u/acme_official]
  acme_reddit: [r/acme]
""")
    assert load_brands(path) == [
        BrandAccount("acme", "reddit", "r/acme"),
        BrandAccount("acme", "reddit", "u/acme_official"),
        BrandAccount("acme", "youtube", "UCacmeacmeacmeacmeacmeac"),
        BrandAccount("acme_reddit", "reddit", "r/acme"),
    ]
    # The sources themselves are unchanged by the brands key; r/unrelated is in no brand.
    assert [s.account_id for s in load_sources(path)["reddit"]] == ["r/acme", "u/acme_official", "r/unrelated"]


def test_no_brands_section_means_no_brands(tmp_path):
    assert load_brands(write(tmp_path, "")) == []


def test_every_mistake_is_named_with_the_file_brand_and_entry(tmp_path):
    path = write(tmp_path, """
brands:
  acme: [r/acme, r/typo, r/acme, youtube:r/acme, 42]
  empty: []
""")
    with pytest.raises(BrandsConfigError) as raised:
        load_brands(path)
    lines = str(raised.value).splitlines()
    assert lines == [
        f"{path}: brands.acme[1]: unknown account_id 'r/typo': no source of the file has it (see README, Sources)",
        f"{path}: brands.acme[2]: 'r/acme' is listed twice",
        f"{path}: brands.acme[3]: unknown account_id 'r/acme': no youtube source of the file has it",
        f"{path}: brands.acme[4]: expected an account id, got 42",
        f"{path}: brands.empty: expected a non-empty list of account ids, got []",
    ]


def test_an_id_of_several_platforms_must_name_its_platform(tmp_path, monkeypatch):
    # Two platforms with a source of the same id (e.g. "@acme" on X and on Instagram).
    path = write(tmp_path, "brands:\n  acme: [r/acme]\n")
    sources = load_sources(path)
    sources["youtube"] = sources["youtube"] + [s for s in sources["reddit"] if s.account_id == "r/acme"]
    with pytest.raises(BrandsConfigError, match=r"'r/acme' is a source of several platforms; write one of reddit:r/acme, youtube:r/acme"):
        load_brands(path, sources)


def test_a_brands_section_that_is_not_a_mapping_is_refused(tmp_path):
    path = write(tmp_path, "brands: [r/acme]\n")
    with pytest.raises(BrandsConfigError, match="brands: expected a mapping of brand names"):
        load_brands(path)


def test_brand_accounts_are_replaced_as_a_whole(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        write_brand_accounts(con, [BrandAccount("a", "reddit", "r/x"), BrandAccount("b", "reddit", "r/y")])
        write_brand_accounts(con, [BrandAccount("b", "youtube", "UC1")])
        assert con.execute("SELECT * FROM ops.brand_accounts").fetchall() == [("b", "youtube", "UC1")]
        write_brand_accounts(con, [])
        assert con.execute("SELECT count(*) FROM ops.brand_accounts").fetchone() == (0,)
    finally:
        con.close()
