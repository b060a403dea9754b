"""Platform registry: every sub-package that exposes `PLATFORM` is a platform.

Adding a platform means adding a folder here; nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil

from social_assets.platforms.base import Platform


def _discover() -> dict[str, Platform]:
    found: dict[str, Platform] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        platform = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PLATFORM", None)
        if isinstance(platform, Platform):
            found[platform.name] = platform
    return found


PLATFORMS: dict[str, Platform] = _discover()
