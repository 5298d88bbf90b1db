"""Starting the app: in single-token mode bolt gets the token and no second client, so it has nothing to warn
about, and its client is shaped as ours are (the API address, a 10 s timeout, only 429s retried, counted)."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.app import build_app
from bot.observe.metrics import RateLimitCounter
from bot.settings import Settings


def test_a_single_token_start_logs_no_warning_and_shapes_bolts_client(engine, monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture):
    """Regression: every single-token start logged bolt's "As you gave `client` as well, `token` will be unused"
    (bolt reads SLACK_BOT_TOKEN from the environment, and the app also gave it a client)."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with caplog.at_level(logging.DEBUG, logger="slack_bolt"):
        app = build_app(settings, engine=engine)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    client = app.client
    assert client.token == "xoxb-from-the-environment"
    assert (client.base_url, client.timeout) == ("http://127.0.0.1:9/api/", 10)
    assert [type(h) for h in client.retry_handlers] == [RateLimitCounter, RateLimitErrorRetryHandler]
