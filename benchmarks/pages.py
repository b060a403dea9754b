"""Response pages for the benchmarks, made from the shapes of real recorded API responses
(/work/shared/realdata, or BENCH_REALDATA): the recorded items are repeated with fresh ids
until a page holds `per_page` items, so the normalizers see real field sets and text sizes."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

REALDATA = Path(os.environ.get("BENCH_REALDATA", "/work/shared/realdata"))


@dataclass(frozen=True)
class Kind:
    """One (platform, resource) page shape: the recorded response it copies and how to find
    the ids of an item (every string equal to one of them is renamed in a copy)."""

    platform: str
    resource: str
    recording: str
    items: Callable[[dict], list]  # the list of items inside a body
    ids: Callable[[dict], list[str]]  # the ids an item defines (not the ones it refers to)
    per_page: int


def _reddit_ids(thing: dict) -> list[str]:
    data = thing["data"]
    return [data["id"], data["name"]]


def _youtube_thread_ids(item: dict) -> list[str]:
    top = item["snippet"]["topLevelComment"]
    return [item["id"], top["id"], *(reply["id"] for reply in item.get("replies", {}).get("comments", []))]


KINDS = {
    ("reddit", "posts"): Kind("reddit", "posts", "reddit/praw__r_askreddit_new_2016.json",
                              lambda body: body["data"]["children"], _reddit_ids, 100),
    ("reddit", "comments"): Kind("reddit", "comments", "reddit/praw__r_askreddit_comments_stream.json",
                                 lambda body: body["data"]["children"], _reddit_ids, 100),
    ("youtube", "comments"): Kind("youtube", "comments", "youtube/python-youtube__comment_threads_by_video_p1.json",
                                  lambda body: body["items"], _youtube_thread_ids, 100),
}


def recorded_body(kind: Kind) -> dict:
    path = REALDATA / kind.recording
    try:
        return json.loads(path.read_text())["body"]
    except OSError as exc:
        raise SystemExit(f"benchmarks need the recorded responses: cannot read {path} ({exc.strerror}); "
                         "set BENCH_REALDATA to the realdata directory") from None


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def pages(kind: Kind, total_items: int) -> Iterator[str]:
    """JSON bodies of `kind` holding `total_items` items in all (the last page may be short).
    Copy n of a recorded item has every id suffixed with n, also where another item of the
    same page refers to it (a reply's parent), so the copies are distinct items."""
    template = recorded_body(kind)
    recorded = kind.items(template)
    made = 0
    copy_no = 0
    while made < total_items:
        body = copy.deepcopy(template)
        page: list = []
        while len(page) < kind.per_page and made + len(page) < total_items:
            copy_no += 1
            names = {i: f"{i}c{copy_no}" for item in recorded for i in kind.ids(item)}
            # Reddit refers to a parent by fullname (t1_<id>): rename those along with the ids.
            page += _renamed(recorded, names)[: min(kind.per_page - len(page), total_items - made - len(page))]
        kind.items(body)[:] = page
        made += len(page)
        yield json.dumps(body)


# Wide enough for every recorded item: the pipeline drops posts published outside the window,
# and the benchmarks want them all.
WHOLE_TIME = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
