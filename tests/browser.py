"""Headless Chromium for tests: the DOM of a page after it rendered, and screenshots kept as artifacts.

Uses Debian's `chromium` (installed by `.ci/run`): one run a page (`dump_dom`, `screenshot`), or one browser for
many pages over the DevTools pipe (`Browser`: screenshots as tall as the content). Without it, a test that needs a browser is skipped, or
fails with a clear message when CI or REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
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


# -- one browser for many pages: the DevTools protocol on a pipe -----------------------------------------


def _high_copy(fd: int) -> int:
    """The same pipe end as a descriptor above 9 (the original is closed)."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return copy


class Browser:
    """One headless Chromium driven over the DevTools protocol (``--remote-debugging-pipe``).

    Pages are screenshotted at their content's height (no guessed window sizes, no cropping), and the DOM
    is read without running any script in the page. Standard library only.
    """

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the browser's stderr, kept while it runs
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        # Chromium reads the protocol on fd 3 and writes on fd 4; bash puts the pipe ends there (no preexec_fn in
        # a process with threads), from copies above fd 9 so that they never collide with 3 and 4
        to_child, from_child = (_high_copy(fd) for fd in (to_child, from_child))
        command = ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{to_child} 4>&{from_child} {to_child}<&- {from_child}>&-',
                   chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--hide-scrollbars", "--font-render-hinting=none",
                   f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe", "about:blank"]
        self._process = subprocess.Popen(command, pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self._log)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._events: list[dict] = []
        self._next_id = 0
        self._session = ""
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.call("Page.enable", session=True)
            self.call("DOM.enable", session=True)
        except BaseException:
            self.close()
            raise

    # -- the protocol ----------------------------------------------------------------------------------------

    def _fail(self, what: str) -> AssertionError:
        self._log.seek(0)
        return AssertionError(f"chromium: {what}: {self._log.read()[-2000:].decode('utf-8', 'replace')}")

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise self._fail("no answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise self._fail("the browser closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, *, session: bool = False) -> dict:
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise AssertionError(f"chromium: {method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self._events.append(answer)

    def _wait_event(self, name: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == name:
                    del self._events[: index + 1]
                    return
            self._events.append(self._read(deadline))

    # -- pages -------------------------------------------------------------------------------------------------

    def open(self, url: str, width: int = 1280, height: int = 800) -> None:
        """Load ``url`` in a window ``width`` CSS pixels wide and wait for its load event."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self._wait_event("Page.loadEventFired")

    def content_height(self) -> int:
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        return int(size["height"] + 0.999)

    def content_width(self) -> int:
        """How wide the loaded page's content is: wider than the window means it runs off the screen."""
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        return int(size["width"] + 0.999)

    def dom(self) -> str:
        """The loaded page's DOM, serialised (read through DevTools; no script runs in the page)."""
        root = self.call("DOM.getDocument", {"depth": -1}, session=True)["root"]["nodeId"]
        return self.call("DOM.getOuterHTML", {"nodeId": root}, session=True)["outerHTML"]

    def count(self, selector: str) -> int:
        """How many elements of the loaded page match a CSS selector."""
        root = self.call("DOM.getDocument", {"depth": 0}, session=True)["root"]["nodeId"]
        return len(self.call("DOM.querySelectorAll", {"nodeId": root, "selector": selector}, session=True)["nodeIds"])

    def screenshot(self, url: str, name: str, *, width: int = 1280, max_height: int = 16000) -> Path:
        """A PNG in test-artifacts/ of the whole page at ``width``, exactly as tall as its content."""
        self.open(url, width, height=16)  # a short window, so the content's height is not the window's
        height = min(max(self.content_height(), 1), max_height)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(data))
        if path.stat().st_size == 0:
            raise AssertionError(f"chromium wrote no screenshot to {path}")
        return path

    def screenshot_of(self, url: str, selector: str, name: str, *, width: int = 1280) -> Path:
        """A PNG in test-artifacts/ of one element of the page (its border box) at ``width``."""
        self.open(url, width, height=16)
        height = self.content_height()
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        box = self.boxes(selector)[0]
        clip = {"x": 0, "y": box["top"], "width": width, "height": box["height"], "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": clip}, session=True)["data"]
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(data))
        return path

    def boxes(self, selector: str) -> list[dict]:
        """Each element matching ``selector``: its border box (``top``, ``height`` in CSS pixels, from the top of
        the document) and its computed ``break-inside``; read through DevTools, no script runs in the page."""
        self.call("CSS.enable", session=True)
        root = self.call("DOM.getDocument", {"depth": 0}, session=True)["root"]["nodeId"]
        found = []
        for node in self.call("DOM.querySelectorAll", {"nodeId": root, "selector": selector}, session=True)["nodeIds"]:
            quad = self.call("DOM.getBoxModel", {"nodeId": node}, session=True)["model"]["border"]
            style = self.call("CSS.getComputedStyleForNode", {"nodeId": node}, session=True)["computedStyle"]
            ys = quad[1::2]
            found.append({"top": min(ys), "height": max(ys) - min(ys),
                          "break-inside": next((p["value"] for p in style if p["name"] == "break-inside"), "")})
        return found

    def emulate_media(self, media: str) -> None:
        """Lay pages out for ``print`` (or back to ``screen``), as Chromium does when it prints."""
        self.call("Emulation.setEmulatedMedia", {"media": media}, session=True)

    def print_pdf(self, url: str) -> bytes:
        """The page printed to PDF as a person's "Save as PDF" would: the page's own @page size and margins, its
        print stylesheet, backgrounds, no header or footer; tagged, so that its structure (table rows) can be
        read back (see tests/pdf.py)."""
        self.open(url)
        data = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                             "displayHeaderFooter": False, "generateTaggedPDF": True},
                         session=True)["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # the browser may close the pipe before it answers
            self.call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        os.close(self._out)
        os.close(self._in)
        self._log.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(f"{path} is not a PNG")
    return struct.unpack(">II", header[16:24])
