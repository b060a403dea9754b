"""The short report `social-assets run` prints: rows per table and the day's top posts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from social_assets.health import open_read_only


def print_summary(warehouse: Path, day: date, top: int = 3) -> None:
    """Raises health.WarehouseBusy when a writer keeps the file for long."""
    con = open_read_only(warehouse)
    if con is None:
        return
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'normalized', 'analytics', 'ops') ORDER BY 1, 2"
        ).fetchall()
        print(f"\nwarehouse {warehouse}")
        for schema, name in tables:
            (count,) = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()
            print(f"  {schema + '.' + name:<32} {count:>8} rows")
        if ("analytics", "posts") not in tables:
            return
        print(f"\ntop posts published {day} (by likes)")
        for (platform,) in con.execute("SELECT DISTINCT platform FROM analytics.posts ORDER BY 1").fetchall():
            rows = con.execute(
                """
                SELECT account_id, likes, comments, round(engagement_rate, 2), left(replace(text, chr(10), ' '), 60)
                FROM analytics.posts
                WHERE platform = ? AND published_at::date = ?
                ORDER BY likes DESC NULLS LAST, post_id
                LIMIT ?
                """,
                [platform, day, top],
            ).fetchall()
            print(f"  {platform}")
            if not rows:
                print("    (no posts that day)")
            for account, likes, comments, rate, text in rows:
                print(f"    {account:<22} likes {likes!s:>6}  comments {comments!s:>5}  rate {rate!s:>6}%  {text}")
    finally:
        con.close()
