"""The manifest and the code agree: the bot scopes asked for at install, the events the app listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.installs.oauth import BOT_SCOPES

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yaml"


def test_the_install_asks_for_the_manifests_bot_scopes():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]


def test_the_manifest_subscribes_to_uninstalls():
    events = yaml.safe_load(MANIFEST.read_text())["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked"} <= set(events)
