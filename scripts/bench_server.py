"""A server process for `make bench`: the full Readiness app (with its outbox delivery, as `readiness serve`
runs it), the plain bolt app that does the same Slack work with no database (`bench_plain_app.py`), or that
plain app keeping its marks in the database (`durable`).

Both are served the same way (waitress via bot.web.server.Server, same thread count). Prints the port on
stdout, then serves until terminated.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pydantic import SecretStr  # noqa: E402

from bot.db import make_engine  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.server import Server, WebApp  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["full", "plain", "durable"], required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--sizes", default="{}", help="plain mode: JSON sizes (characters) of what it shows")
    args = parser.parse_args()

    engine = make_engine(args.database_url)
    settings = Settings(slack_bot_token=SecretStr(args.token), slack_signing_secret=SecretStr(args.signing_secret),
                        slack_api_url=args.api_url, database_url=args.database_url)
    delivery = None
    if args.mode in ("plain", "durable"):
        from bench_plain_app import MarkStore, Sizes, plain_app

        store = MarkStore(engine) if args.mode == "durable" else None
        app = plain_app(args.signing_secret, args.token, args.api_url, Sizes(**json.loads(args.sizes)), store)
    else:
        from bot.app import build_app
        from bot.db import ensure_schema, session_factory
        from bot.executor import ListenerExecutor
        from scheduler import build_delivery

        ensure_schema(engine)
        delivery = build_delivery(settings, session_factory(engine))
        app = build_app(settings, engine=engine, kick=delivery.deliverer.kick, executor=ListenerExecutor())
        delivery.start()
    server = Server(WebApp(app, engine, settings=settings), port=0, threads=args.threads)

    def stop(*_: object) -> None:
        if delivery is not None:
            delivery.deliverer.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(server.port, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
