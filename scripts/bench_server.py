"""A server process for `make bench`: the full Readiness app, or a bare bolt app that only acks.

Both are served the same way (waitress, same thread count). Prints the port on stdout, then serves
until killed.
"""

from __future__ import annotations

import argparse
import re
import sys

from pydantic import SecretStr
from slack_bolt import Ack, App

from bot.db import make_engine
from bot.settings import Settings
from bot.web.server import Server, WebApp


def bare_app(signing_secret: str, token: str, api_url: str) -> App:
    from slack_sdk import WebClient

    app = App(client=WebClient(token=token, base_url=api_url), signing_secret=signing_secret,
              token_verification_enabled=False)

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/readiness")(only_ack)
    app.action(re.compile(r"^mark_(no|partial|yes)$"))(only_ack)
    return app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["full", "bare"], required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    engine = make_engine(args.database_url)
    settings = Settings(slack_bot_token=SecretStr(args.token), slack_signing_secret=SecretStr(args.signing_secret),
                        slack_api_url=args.api_url, database_url=args.database_url)
    if args.mode == "bare":
        app = bare_app(args.signing_secret, args.token, args.api_url)
    else:
        from bot.app import build_app

        app = build_app(settings, engine=engine)
    server = Server(WebApp(app, engine, settings=settings), port=0, threads=args.threads)
    print(server.port, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
