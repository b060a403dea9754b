"""The production package does not load the sandbox when every platform is live: the
emulations live in `social_assets.sandbox`, which only a platform in sandbox mode imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from social_assets.platforms import PLATFORMS

PROBE = """
import json, sys
import social_assets.definitions
print(json.dumps(sorted(name for name in sys.modules if name == "social_assets.sandbox"
                        or name.startswith("social_assets.sandbox."))))
"""


def loaded_sandbox_modules(env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_live_mode_imports_no_emulation_code(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOCIAL_SANDBOX")}
    # Live by the explicit mode, and by credentials (every variable of every platform set).
    env |= {"SOCIAL_API_MODE": "live", "DAGSTER_HOME": str(tmp_path)}
    env |= {name: f"planted-{name.lower()}" for platform in PLATFORMS.values() for name in platform.credentials}
    assert loaded_sandbox_modules(env) == []


def test_the_probe_sees_the_sandbox_when_something_imports_it():
    # The same probe lists the sandbox once something imports it: the check above can fail.
    probe = PROBE.replace("import social_assets.definitions", "import social_assets.connections as c; c.shared_sandbox()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"social_assets.sandbox.app", "social_assets.sandbox.engine"} <= set(json.loads(done.stdout.strip().splitlines()[-1]))
