"""Slack's ids as plain text: who or what an id names. Pure.

Users are ``U…``, or ``W…`` on Enterprise Grid; channels ``C…``, older private channels ``G…`` and direct
messages ``D…``; workspaces ``T…`` and organisations ``E…``.
"""

from __future__ import annotations

import re

USER_ID = re.compile(r"^[UW][A-Z0-9]{1,30}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{1,30}$")


def is_user_id(value: str | None) -> bool:
    return bool(value) and USER_ID.match(value or "") is not None


def is_channel_id(value: str | None) -> bool:
    return bool(value) and CHANNEL_ID.match(value or "") is not None
