"""Headless Chromium for tests: the DOM of a page after it rendered, and screenshots kept as artifacts.

Uses Debian's `chromium` (installed by `.ci/run`). Without it, a test that needs a browser is skipped, or
fails with a clear message when CI or REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
NAMES = ("chromium", "chromium-browser")
TIMEOUT = 90


def chromium() -> str:
    """The browser's path; skips (or, under CI / REQUIRE_BROWSER, fails) when it is not installed."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    reason = "headless Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"{reason}; CI or REQUIRE_BROWSER is set, so a browser test cannot be skipped")
    pytest.skip(reason)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def dump_dom(url: str) -> str:
    """The page's DOM, serialised after it loaded (scripts, had any been allowed, would have run)."""
    return _run("--dump-dom", url).stdout


def screenshot(url: str, name: str, *, width: int = 1280, height: int = 7200) -> Path:
    """A PNG of the page in test-artifacts/ (kept after the run)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    _run(f"--screenshot={path}", f"--window-size={width},{height}", url)
    if not path.exists() or path.stat().st_size == 0:
        raise AssertionError(f"chromium wrote no screenshot to {path}")
    return path
