"""Slack listeners, one module per surface, each with ``register(app)`` (``bot.app`` calls them all).

``handlers/blocks/`` holds the pure Block Kit builders and ``handlers/ids.py`` every Slack id.
"""
