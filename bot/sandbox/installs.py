"""Installing the app to a sandbox workspace as a person's browser would: "Add to Slack", Allow, back.

Plain HTTP with a cookie jar (the state cookie bolt sets on the install page must come back with the
redirect); the Chromium test in ``tests/e2e/test_oauth_browser.py`` clicks through the same pages.
"""

from __future__ import annotations

import html
import http.cookiejar
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass

from bot.sandbox.oauth import OAuthProvider

CLIENT_ID, CLIENT_SECRET = "1111.2222", "sandbox-client-secret"
ENCRYPTION_KEY = "c2FuZGJveC1rZXktZm9yLXRlc3RzLW9ubHktMzJieXQ="  # 32 bytes; for the sandbox only


@dataclass
class Page:
    status: int
    url: str
    text: str


class _LoopbackIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Browsers treat http://127.0.0.1 as a secure context, so bolt's ``Secure`` state cookie comes back."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return urllib.parse.urlsplit(request.full_url).hostname in ("127.0.0.1", "localhost") or \
            super().return_ok_secure(cookie, request)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _open(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> Page:
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
            return Page(response.status, response.geturl(), response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return Page(error.code, error.headers.get("Location") or url, error.read().decode("utf-8", "replace"))


def install(app_url: str, provider: OAuthProvider, team_id: str) -> Page:
    """Open the install page, follow "Add to Slack", approve for ``team_id`` and come back to the app.

    Returns the page the app answered at its redirect URL (the success page, or a failure)."""
    jar = http.cookiejar.CookieJar(policy=_LoopbackIsSecure())
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    page = _open(browser, app_url + "/slack/install")
    found = re.search(r'id="add-to-slack" href="([^"]+)"', page.text)
    if page.status != 200 or found is None:
        raise AssertionError(f"no Add to Slack link on the install page ({page.status}): {page.text[:300]}")
    authorize = html.unescape(found[1])
    provider.sign_in(team_id)
    page = _open(browser, authorize)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    fields = {k: html.unescape(v) for k, v in fields.items()} | {"team": team_id}
    action = urllib.parse.urljoin(authorize, "/oauth/v2/authorize")
    page = _open(browser, action, urllib.parse.urlencode(fields).encode())
    if page.status != 302:
        raise AssertionError(f"the sandbox did not redirect after Allow ({page.status}): {page.text[:300]}")
    return _open(browser, page.url)
