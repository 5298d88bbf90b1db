"""What a drawing needs to know besides the Block Kit JSON: names, the viewer's time zone, the view's state.

Plain frozen data, so every renderer stays a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Names:
    """Who and where an id is: user ids to display names, channel ids to channel names, and the time zone
    times and dates are shown in (the viewer's, as Slack shows them)."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    tz: str = "UTC"
    now: datetime | None = None  # for relative dates ("today", "3 minutes ago"); None: absolute dates only

    def user(self, user_id: str) -> str:
        return self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)


@dataclass(frozen=True)
class Ctx:
    """One drawing's context: names, and for a view the user's entries and the errors it was answered with.

    ``inert`` draws controls as not clickable (a message as first posted, a modal state that is gone).
    """

    names: Names = field(default_factory=Names)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    inert: bool = False

    def entry(self, block_id: Any, action_id: Any) -> Mapping[str, Any] | None:
        """What the user entered in an element (a ``state.values`` entry), when the view holds one."""
        if not isinstance(block_id, str) or not isinstance(action_id, str):
            return None
        found = (self.values.get(block_id) or {}).get(action_id)
        return found if isinstance(found, Mapping) else None

    def with_view(self, view: Mapping[str, Any], errors: Mapping[str, str] | None = None,
                  submitted: Mapping[str, Any] | None = None, inert: bool | None = None) -> Ctx:
        state = submitted if submitted is not None else view.get("state")
        values = state.get("values") if isinstance(state, Mapping) else None
        return replace(self, values=values if isinstance(values, Mapping) else {},
                       errors=errors if errors is not None else {},
                       inert=self.inert if inert is None else inert)
