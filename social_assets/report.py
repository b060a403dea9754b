"""`social-assets report`: one self-contained HTML page for the social-media lead.

Per platform and per brand: followers over time, engagement rate over time and the top posts
of the last N days (the days up to the newest data in the warehouse, so a report of a
backfilled or sandbox warehouse is not empty). Everything comes from the analytics tables,
read-only. The charts are Vega-Altair specs rendered in the browser by the Vega libraries,
which are inlined (vl-convert ships them): the page needs no network.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd

TOP_POSTS = 5
CHART_WIDTH = 420
CHART_HEIGHT = 200


class ReportError(ValueError):
    """The report cannot be made (no warehouse, no analytics tables, unknown brand); the
    message is one line fit to show as is."""


@dataclass(frozen=True)
class Window:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())


def write_report(warehouse: Path, out: Path, brand: str | None = None, days: int = 30) -> Path:
    page = build_report(warehouse, brand=brand, days=days)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def build_report(warehouse: Path, brand: str | None = None, days: int = 30) -> str:
    if days < 1:
        raise ReportError(f"--days must be at least 1, got {days}")
    if not warehouse.exists():
        raise ReportError(f"{warehouse}: no warehouse there (run `social-assets run` first)")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return _build(con, warehouse, brand, days)
    finally:
        con.close()


def _build(con: duckdb.DuckDBPyConnection, warehouse: Path, brand: str | None, days: int) -> str:
    built = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'analytics'").fetchall()}
    needed = {"posts", "profiles", "follower_snapshots", "rollups_daily", "brand_rollups_daily"}
    if not needed <= built:
        raise ReportError(f"{warehouse}: the analytics tables are not built (missing {', '.join(sorted(needed - built))})")
    brands = [b for (b,) in con.execute("SELECT DISTINCT brand FROM analytics.brand_rollups_daily ORDER BY 1").fetchall()]
    if brand is not None and brand not in brands:
        raise ReportError(f"unknown brand {brand!r} (brands in the warehouse: {', '.join(brands) or 'none'})")
    (newest,) = con.execute(
        "SELECT greatest((SELECT max(published_at) FROM analytics.posts), "
        "(SELECT max(collected_at) FROM analytics.follower_snapshots))"
    ).fetchone()
    if newest is None:
        raise ReportError(f"{warehouse}: the analytics tables hold no posts or followers yet")
    window = Window(newest.date() - timedelta(days=days - 1), newest.date())

    accounts = _accounts(con, brand)
    specs: list[dict] = []  # every chart of the page, in order
    sections = [_platform_section(con, specs, platform, members, window) for platform, members in accounts.items()]
    brand_sections = [_brand_section(con, specs, name, window) for name in ([brand] if brand else brands)]
    title = f"Social report: {brand}" if brand else "Social report"
    return _page(title, window, warehouse, specs, sections, brand_sections)


def _accounts(con, brand: str | None) -> dict[str, pd.DataFrame]:
    """The accounts shown per platform: every profiled account, or the brand's."""
    frame = con.execute(
        """
        SELECT p.platform, p.account_id, p.account_name FROM analytics.profiles p
        WHERE ? IS NULL OR EXISTS (SELECT 1 FROM ops.brand_accounts b
                                   WHERE b.brand = ? AND b.platform = p.platform AND b.account_id = p.account_id)
        ORDER BY 1, 2
        """,
        [brand, brand],
    ).df()
    return {platform: group for platform, group in frame.groupby("platform", sort=True)}


# -- sections ---------------------------------------------------------------------------------


def _platform_section(con, specs: list[dict], platform: str, members: pd.DataFrame, window: Window) -> str:
    keys = list(zip(members.platform, members.account_id))
    followers = con.execute(
        """
        SELECT f.collected_at AS moment, p.account_name AS account, f.followers
        FROM analytics.follower_snapshots f JOIN analytics.profiles p USING (platform, account_id)
        WHERE list_contains(?::STRUCT(p VARCHAR, a VARCHAR)[], {'p': f.platform, 'a': f.account_id})
          AND f.followers IS NOT NULL AND f.collected_at >= ? AND f.collected_at < ?
        ORDER BY 1
        """,
        [_pairs(keys), window.start, window.end],
    ).df()
    rates = con.execute(
        """
        SELECT r.period_start AS day, p.account_name AS account, r.avg_engagement_rate AS rate, r.posts
        FROM analytics.rollups_daily r JOIN analytics.profiles p USING (platform, account_id)
        WHERE list_contains(?::STRUCT(p VARCHAR, a VARCHAR)[], {'p': r.platform, 'a': r.account_id})
          AND r.avg_engagement_rate IS NOT NULL AND r.period_start BETWEEN ? AND ?
        ORDER BY 1
        """,
        [_pairs(keys), window.first, window.last],
    ).df()
    charts = [
        _chart_card(specs, "Followers", _small_multiples(followers, "moment", "followers", "account", "Followers")),
        _chart_card(specs, "Engagement rate per day (%)", _line(rates, "day", "rate", "account", "Engagement rate (%)")),
    ]
    return _section(platform.capitalize(), ", ".join(members.account_name), charts, _top_posts(con, keys, window))


def _brand_section(con, specs: list[dict], brand: str, window: Window) -> str:
    per_platform = con.execute(
        """
        SELECT period_start AS day, s.platform, s.followers_end AS followers, s.posts, s.engagement
        FROM analytics.brand_rollups_daily, unnest(platforms) AS t(s)
        WHERE brand = ? AND period_start BETWEEN ? AND ?
        ORDER BY 1, 2
        """,
        [brand, window.first, window.last],
    ).df()
    totals = con.execute(
        """
        SELECT period_start AS day, 'all platforms' AS series, avg_engagement_rate AS rate
        FROM analytics.brand_rollups_daily
        WHERE brand = ? AND period_start BETWEEN ? AND ? AND avg_engagement_rate IS NOT NULL
        ORDER BY 1
        """,
        [brand, window.first, window.last],
    ).df()
    keys = [tuple(r) for r in con.execute(
        "SELECT platform, account_id FROM ops.brand_accounts WHERE brand = ? ORDER BY 1, 2", [brand]).fetchall()]
    followers = per_platform.dropna(subset=["followers"])
    charts = [
        _chart_card(specs, "Followers across platforms (end of day)", _stacked_area(followers, "followers", "Followers")),
        _chart_card(specs, "Engagement rate per day (%)", _line(totals, "day", "rate", "series", "Engagement rate (%)")),
        _chart_card(specs, "Posts per day by platform", _stacked_bars(per_platform, "posts", "Posts")),
    ]
    names = ", ".join(f"{p}:{a}" for p, a in keys)
    return _section(f"Brand {brand}", names, charts, _top_posts(con, keys, window))


def _top_posts(con, keys: list[tuple[str, str]], window: Window) -> pd.DataFrame:
    return con.execute(
        f"""
        SELECT platform, account_name, published_at, text, likes, comments, views, engagement_rate, permalink,
               CASE WHEN coalesce(likes, comments, shares) IS NOT NULL
                    THEN coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) END AS engagement
        FROM analytics.posts
        WHERE list_contains(?::STRUCT(p VARCHAR, a VARCHAR)[], {{'p': platform, 'a': account_id}})
          AND published_at >= ? AND published_at < ?
        ORDER BY engagement DESC NULLS LAST, published_at DESC, post_id
        LIMIT {TOP_POSTS}
        """,
        [_pairs(keys), window.start, window.end],
    ).df()


def _pairs(keys: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"p": platform, "a": account} for platform, account in keys]


# -- charts -----------------------------------------------------------------------------------


_DAY_AXIS = alt.Axis(format="%b %d", labelAngle=0, labelOverlap=True, grid=False)
_LEGEND = alt.Legend(orient="bottom", title=None)


def _line(frame: pd.DataFrame, x: str, y: str, series: str, y_title: str):
    """One line per series over days."""
    if frame.empty:
        return None
    return (
        alt.Chart(_plain(frame))
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=None, axis=_DAY_AXIS),
            y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=alt.Color(f"{series}:N", legend=_LEGEND),
            tooltip=[alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{x}:T"), alt.Tooltip(f"{y}:Q", format=",.2f")],
        )
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT)
    )


def _small_multiples(frame: pd.DataFrame, x: str, y: str, series: str, y_title: str):
    """One small chart per series, each with its own scale: accounts of very different sizes
    all show their trend."""
    if frame.empty:
        return None
    columns = min(2, frame[series].nunique())
    return (
        alt.Chart(_plain(frame))
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=None, axis=_DAY_AXIS),
            y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=",.0f")),
            color=alt.Color(f"{series}:N", legend=None),
            tooltip=[alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{x}:T", format="%Y-%m-%d %H:%M"), alt.Tooltip(f"{y}:Q", format=",")],
        )
        .properties(width=(CHART_WIDTH - 60 * (columns - 1)) // columns, height=CHART_HEIGHT - 40)
        .facet(facet=alt.Facet(f"{series}:N", title=None), columns=columns)
        .resolve_scale(y="independent")
    )


def _stacked_area(frame: pd.DataFrame, y: str, y_title: str):
    if frame.empty:
        return None
    return (
        alt.Chart(_plain(frame))
        .mark_area(line=True, point=True, opacity=0.7)
        .encode(
            x=alt.X("day:T", title=None, axis=_DAY_AXIS),
            y=alt.Y(f"{y}:Q", title=y_title, stack="zero", axis=alt.Axis(format=",.0f")),
            color=alt.Color("platform:N", legend=_LEGEND),
            tooltip=["platform:N", alt.Tooltip("day:T"), alt.Tooltip(f"{y}:Q", format=",")],
        )
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT)
    )


def _stacked_bars(frame: pd.DataFrame, y: str, y_title: str):
    frame = frame[frame[y] > 0] if not frame.empty else frame
    if frame.empty:
        return None
    return (
        alt.Chart(_plain(frame))
        .mark_bar()
        .encode(
            x=alt.X("day:O", title=None, timeUnit="yearmonthdate", axis=alt.Axis(format="%b %d", labelAngle=0)),
            y=alt.Y(f"{y}:Q", title=y_title, stack="zero"),
            color=alt.Color("platform:N", legend=_LEGEND),
            tooltip=["platform:N", alt.Tooltip("day:T"), f"{y}:Q", alt.Tooltip("engagement:Q", format=",")],
        )
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT)
    )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO text (UTC, no zone), numbers as plain floats: what Vega reads safely."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]) or frame[column].map(type).eq(date).all():
            frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(float)
    return frame


# -- the page ---------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f4f5f7; color: #1f2933; }
header { background: #1f2933; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #cbd2d9; font-size: 13px; }
main { max-width: 1080px; margin: 0 auto; padding: 16px 24px 40px; }
section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); margin: 18px 0; padding: 16px 20px; }
section h2 { margin: 0; font-size: 18px; }
section .who { color: #616e7c; font-size: 12px; margin: 2px 0 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
.chart h3 { font-size: 13px; font-weight: 600; margin: 4px 0; color: #3e4c59; }
.empty { color: #9aa5b1; font-size: 13px; width: 420px; padding: 24px 0; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin-top: 10px; }
th { text-align: left; color: #616e7c; font-weight: 600; border-bottom: 1px solid #e4e7eb; padding: 6px 8px; }
td { border-bottom: 1px solid #f0f2f4; padding: 6px 8px; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.text { max-width: 430px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
h2.group { font-size: 15px; text-transform: uppercase; letter-spacing: .06em; color: #616e7c; margin: 28px 0 0; }
"""

def _chart_card(specs: list[dict], title: str, chart) -> str:
    """The card of one chart; its Vega-Lite spec is added to `specs`, rendered by the page's script."""
    if chart is None:
        return f'<div class="chart"><h3>{html.escape(title)}</h3><div class="empty">no data in this period</div></div>'
    spec = chart.configure_view(strokeWidth=0).configure_axis(labelFontSize=11, titleFontSize=11).to_dict()
    specs.append(spec)
    return f'<div class="chart"><h3>{html.escape(title)}</h3><div class="vis" id="chart-{len(specs)}"></div></div>'


def _section(title: str, who: str, charts: list[str], top: pd.DataFrame) -> str:
    return (
        f"<section><h2>{html.escape(title)}</h2><p class=\"who\">{html.escape(who)}</p>"
        f"<div class=\"charts\">{''.join(charts)}</div>{_posts_table(top)}</section>"
    )


def _posts_table(top: pd.DataFrame) -> str:
    if top.empty:
        return '<p class="empty">no posts in this period</p>'
    rows = []
    for post in top.itertuples():
        text = html.escape((post.text or "").replace("\n", " ")[:140])
        link = f'<a href="{html.escape(post.permalink)}">{text or "(no text)"}</a>' if post.permalink else text
        rows.append(
            "<tr>"
            f"<td>{html.escape(post.platform)}</td><td>{html.escape(str(post.account_name))}</td>"
            f"<td>{post.published_at:%Y-%m-%d %H:%M}</td><td class=\"text\">{link}</td>"
            f"<td class=\"n\">{_number(post.likes)}</td><td class=\"n\">{_number(post.comments)}</td>"
            f"<td class=\"n\">{_number(post.views)}</td><td class=\"n\">{_number(post.engagement_rate, '{:.2f} %')}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>platform</th><th>account</th><th>published (UTC)</th><th>top posts</th>"
        "<th>likes</th><th>comments</th><th>views</th><th>engagement rate</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _number(value, pattern: str = "{:,.0f}") -> str:
    return "–" if value is None or pd.isna(value) else pattern.format(value)


def _page(title: str, window: Window, warehouse: Path, specs: list[dict], sections: list[str], brand_sections: list[str]) -> str:
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    specs_json = json.dumps(specs).replace("</", "<\\/")
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    brands = (
        '<h2 class="group">Brands</h2>' + "".join(brand_sections)
        if brand_sections
        else '<h2 class="group">Brands</h2><section><p class="empty">No brands: group sources under '
        "<code>brands:</code> in the sources file.</p></section>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script>{vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())}</script>
</head>
<body>
<header><h1>{html.escape(title)}</h1>
<p>{window.first} to {window.last} (UTC) · generated {generated} from {html.escape(warehouse.name)}</p></header>
<main>
<h2 class="group">Platforms</h2>
{"".join(sections) or '<section><p class="empty">No accounts.</p></section>'}
{brands}
</main>
<script>
const specs = {specs_json};
Promise.all(specs.map((spec, i) => vegaEmbed("#chart-" + (i + 1), spec, {{renderer: "svg", actions: false}})))
  .then(() => document.body.setAttribute("data-charts-rendered", String(specs.length)))
  .catch((error) => {{ console.error(error); document.body.setAttribute("data-charts-failed", String(error)); }});
</script>
</body>
</html>
"""
