"""Headless Chromium for tests: the DOM of a page after it rendered, and screenshots kept as artifacts.

Uses Debian's `chromium` (installed by `.ci/run`). Without it, a test that needs a browser is skipped, or
fails with a clear message when CI or REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import contextlib
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


class Page:
    """A headless Chromium driven over the Chrome DevTools Protocol (a websocket): navigate, read, click.

    A click is a real one: the element's box is measured and Chromium gets a mouse press and release at its
    centre (``Input.dispatchMouseEvent``), as if a person clicked there.
    """

    def __init__(self) -> None:
        import re
        import time

        from websockets.sync.client import connect

        # Chromium's helper processes may still be writing the profile when it is removed: never an error
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True)
        command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--remote-debugging-port=0", f"--user-data-dir={self._profile.name}",
                   "about:blank"]
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline, url = time.monotonic() + 30, None
        assert self._proc.stderr is not None
        while url is None and time.monotonic() < deadline:
            line = self._proc.stderr.readline()
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            url = found[1] if found else None
            if not line and self._proc.poll() is not None:
                break
        if url is None:
            self.close()
            raise AssertionError("chromium did not open its DevTools port")
        self._stack = contextlib.ExitStack()
        self._browser = self._stack.enter_context(connect(url, max_size=None, open_timeout=10))
        self._id = 0
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self._call("Page.enable", session=True)

    def _call(self, method: str, session: bool = False, **params: object) -> dict:
        import json

        self._id += 1
        message: dict = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        self._browser.send(json.dumps(message))
        while True:
            answer = json.loads(self._browser.recv(timeout=TIMEOUT))
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression: str) -> object:
        result = self._call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def goto(self, url: str) -> None:
        self._call("Page.navigate", session=True, url=url)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    def wait_for(self, condition: str, timeout: float = 20.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"Boolean({condition})"):
                return
            time.sleep(0.1)
        raise AssertionError(f"waited {timeout:.0f}s for {condition!r}; the page is {self.url}: {self.text[:500]}")

    def click(self, selector: str) -> None:
        import json

        box = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2, r.width]; })()")
        assert isinstance(box, list) and box[2] > 0, f"{selector} is not visible on {self.url}"
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self._call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1], button="left",
                       clickCount=1)

    @property
    def url(self) -> str:
        return str(self.evaluate("location.href"))

    @property
    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def screenshot(self, name: str) -> Path:
        import base64

        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(self._call("Page.captureScreenshot", session=True)["data"]))
        return path

    def close(self) -> None:
        stack = getattr(self, "_stack", None)
        if stack is not None:
            with contextlib.suppress(Exception):  # ask the browser to quit, helpers and all
                self._browser.send('{"id": 999999, "method": "Browser.close"}')
            stack.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=10)
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._profile.cleanup()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
