"""Reading Graph response bodies, for the Instagram and Facebook normalizers.

A Graph answer holds its objects in one of three ways: a list page `{"data": [...],
"paging": {...}}`, one object (`GET /{id}`), or a map by id (`GET /?ids=a,b`). An error is
`{"error": {...}}`, at any status. Times are ISO 8601 with a `+0000` zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from social_assets.core.records import ApiErrorBody, NotAResponse, Unusable

def raise_error(platform: str, body: Any) -> None:
    """`ApiErrorBody` naming the Graph error (type, code, subcode) for an error envelope."""
    error = body.get("error") if isinstance(body, dict) else None
    if error is None:
        return
    if not isinstance(error, dict):
        raise ApiErrorBody(platform, "(malformed error)", str(error)[:200])
    code, subcode, kind = error.get("code"), error.get("error_subcode"), error.get("type")
    name = " ".join(str(p) for p in (kind if isinstance(kind, str) else "GraphError", f"code {code}",
                                      f"subcode {subcode}" if subcode is not None else "") if p)
    message = error.get("message")
    raise ApiErrorBody(platform, name, message if isinstance(message, str) else "(no message)")


def objects(platform: str, body: Any, looks_right: Callable[[dict], bool], what: str) -> list[Any]:
    """The objects of a list page, a single object or an `?ids=` map; `NotAResponse` when the
    body holds none of `what` (`looks_right` tells an object of the resource)."""
    raise_error(platform, body)
    if not isinstance(body, dict):
        raise NotAResponse(f"expected a Graph object or page of {what}, found {kind_of(body)}")
    if isinstance(body.get("data"), list):
        items = body["data"]
        if items and not any(isinstance(i, dict) and looks_right(i) for i in items):
            raise NotAResponse(f"expected a page of {what}, found a page of objects with keys {keys_of(items[0])}")
        return items
    if looks_right(body):
        return [body]
    values = list(body.values())
    if values and all(isinstance(v, dict) for v in values) and all(k == v.get("id") for k, v in body.items()):
        if any(looks_right(v) for v in values):
            return values  # GET /?ids=a,b: objects keyed by their ids
    raise NotAResponse(f"expected {what}, found an object with keys {keys_of(body)}")


def obj(item: Any) -> dict:
    if not isinstance(item, dict):
        raise Unusable(f"expected a JSON object, found {kind_of(item)}")
    return item


def required_id(item: dict, what: str) -> str:
    value = item.get("id")
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
        raise Unusable(f"{what} has no id (ask for fields=id; Graph withholds some ids from tokens without access)")
    return str(value)


def timestamp(item: dict, name: str) -> datetime:
    value = item.get(name)
    if not isinstance(value, str):
        raise Unusable(f"{name} is missing (ask for fields={name})" if value is None else f"{name} is not a string")
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        raise Unusable(f"{name} {value[:40]!r} is not a Graph time (2019-04-05T07:56:32+0000)") from None
    return moment


def count(value: Any, name: str) -> int | None:
    """A count as Graph gives it, None when absent; anything but a whole number rejects the item."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unusable(f"{name} is not a whole number: {str(value)[:40]!r}")
    return value


def text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Unusable(f"{name} is not a string")
    return value


def summary_total(item: dict, edge: str) -> int | None:
    """`reactions.summary.total_count` and the like; None when the edge was not asked for."""
    node = item.get(edge)
    summary = node.get("summary") if isinstance(node, dict) else None
    return count(summary.get("total_count"), f"{edge}.summary.total_count") if isinstance(summary, dict) else None


def insight_totals(item: dict) -> dict[str, int]:
    """Lifetime insights expanded into an object (`insights{data: [{name, values: [{value}]}]}`)
    by metric name. A metric Graph does not give is absent (unavailable data is an empty list,
    never 0)."""
    node = item.get("insights")
    rows = node.get("data") if isinstance(node, dict) else None
    found: dict[str, int] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            continue
        values = row.get("values")
        if isinstance(values, list) and values and isinstance(values[-1], dict):
            value = count(values[-1].get("value"), f"insights {row['name']}")
            if value is not None:
                found[row["name"]] = value
    return found


def item_id(item: Any) -> str | None:
    return str(item["id"]) if isinstance(item, dict) and item.get("id") is not None else None


def keys_of(value: Any) -> str:
    return ", ".join(sorted(map(str, value))[:6]) if isinstance(value, dict) else kind_of(value)


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    return "a JSON array" if isinstance(value, list) else f"a JSON {type(value).__name__}"
