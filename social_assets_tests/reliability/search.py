"""Searching everything a DuckDB file holds for strings: every table of every schema, every
column, each value as text."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import duckdb


def table_texts(path: Path) -> dict[str, str]:
    """Each table of the file (schema.table) as one text: its rows, values joined."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        texts = {}
        for schema, table in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            texts[f"{schema}.{table}"] = "\n".join("\x1f".join(str(value) for value in row) for row in rows)
        return texts
    finally:
        con.close()


def found_in_database(path: Path, needles: Mapping[str, set[str]], ignore_case: bool = False) -> dict[str, list[str]]:
    """{table: names of the needles found in it}; each needle name has a set of forms."""
    found = {}
    for table, text in table_texts(path).items():
        haystack = text.lower() if ignore_case else text
        hits = sorted(
            name for name, forms in needles.items()
            if any((form.lower() if ignore_case else form) in haystack for form in forms)
        )
        if hits:
            found[f"{path.name}:{table}"] = hits
    return found
