"""GET /slack/install ("Add to Slack") and GET /slack/oauth_redirect: bolt's OAuth flow, in OAuth mode only.

Both are plain GETs a person's browser makes, not Slack's signed requests, so they skip the signature check
of /slack/events and go straight to bolt's WSGI adapter, which runs the flow (state cookie and state store,
``oauth.v2.access``, the installation store).
"""

from __future__ import annotations

from collections.abc import Iterable

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.installs.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.web.http import Environ, Route, Site, StartResponse


def routes(bolt: SlackRequestHandler) -> list[Route]:
    def flow(site: Site, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return bolt(environ, start_response)

    return [Route("GET", INSTALL_PATH, flow), Route("GET", REDIRECT_PATH, flow)]
