"""Slack listeners, one module per surface. ``register(app)`` wires them all."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    actions,
    commands,
    config,
    events,
    evidence,
    packet,
    reminder_actions,
    signoff,
    views,
    waivers,
    watch,
)


def register(app: App) -> None:
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    reminder_actions.register(app)
    watch.register(app)
    signoff.register(app)
    waivers.register(app)
    config.register(app)
    packet.register(app)
    evidence.register(app)
