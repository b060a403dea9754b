"""Removing gone items from landed JSON bodies, whatever the platform's shape.

An item is found by its id in one of the keys platforms name their objects by
(`IDENTITY_KEYS`: Reddit's `id`, Bluesky's `uri`, YouTube's `videoId`, ...):
- an element of any list is removed when it is the item, or wraps it through objects only (a
  Reddit `{kind, data}` thing, a Bluesky thread node, a YouTube playlist item, a Mastodon boost),
  or holds one of the item's media URLs (X's `includes.media`). Lists inside an element are not
  looked into for this, so a comment is not removed because a reply under it is gone;
- an object that is the item and is not in a list (X's `{"data": tweet}`, a Bluesky thread's
  `post`) becomes null; a body that is the item as a whole (Mastodon's single status) becomes
  null.
A bare reference or placeholder, such as X's `{"type": "replied_to", "id": ...}` or Bluesky's
`notFoundPost`, is not the item: an object counts as the item when it has at least four keys,
or when it carries the item's content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

IDENTITY_KEYS = ("id", "name", "uri", "videoId", "id_str")
_MIN_ITEM_KEYS = 4


@dataclass(frozen=True)
class GoneContent:
    """What is known of the gone items: their ids, and their text and media where collected."""

    ids: frozenset[str]
    texts: tuple[str, ...] = ()
    media_urls: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, ids: Iterable[str], texts: Iterable[str | None] = (), media: Iterable[str | None] = ()) -> "GoneContent":
        return cls(frozenset(ids), tuple(t for t in texts if t), frozenset(u for u in media if u))


def scrub(body: Any, gone: GoneContent) -> tuple[Any, int]:
    """`body` without the gone items, and how many places were removed or nulled."""
    if isinstance(body, dict) and _is_item(body, gone):
        return None, 1
    removed = _walk(body, gone)
    return body, removed


def _walk(node: Any, gone: GoneContent) -> int:
    removed = 0
    if isinstance(node, list):
        kept = []
        for element in node:
            if isinstance(element, dict) and (_wraps_item(element, gone) or _holds_media(element, gone)):
                removed += 1
            else:
                kept.append(element)
        node[:] = kept
        for element in node:
            removed += _walk(element, gone)
    elif isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and _is_item(value, gone):
                node[key] = None
                removed += 1
            else:
                removed += _walk(value, gone)
    return removed


def _objects(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """`node` and every object under it reached through objects only (not through lists)."""
    yield node
    for value in node.values():
        if isinstance(value, dict):
            yield from _objects(value)


def _strings(node: dict[str, Any]) -> Iterable[str]:
    for obj in _objects(node):
        yield from (v for v in obj.values() if isinstance(v, str))


def _has_id(obj: dict[str, Any], gone: GoneContent) -> bool:
    return any(isinstance(obj.get(key), str) and obj[key] in gone.ids for key in IDENTITY_KEYS)


def _carries_content(node: dict[str, Any], gone: GoneContent) -> bool:
    for value in _strings(node):
        if value in gone.media_urls or (len(value) >= 4 and any(value in text for text in gone.texts)):
            return True
    return False


def _is_item(obj: dict[str, Any], gone: GoneContent) -> bool:
    return _has_id(obj, gone) and (len(obj) >= _MIN_ITEM_KEYS or _carries_content(obj, gone))


def _wraps_item(element: dict[str, Any], gone: GoneContent) -> bool:
    matches = [obj for obj in _objects(element) if _has_id(obj, gone)]
    if not matches:
        return False
    return any(len(obj) >= _MIN_ITEM_KEYS for obj in matches) or _carries_content(element, gone)


def _holds_media(element: dict[str, Any], gone: GoneContent) -> bool:
    return bool(gone.media_urls) and any(v in gone.media_urls for v in _strings(element))
