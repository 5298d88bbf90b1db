"""The minimum rollout packet: data model, pure builders, Markdown/HTML rendering and signed links.

Pure core: standard library, pydantic and jinja2 only (no Slack, database or scheduler code).
"""

from bot.core.packet.compare import checklist_diff, checklist_rows, compare, gate_policy, item_status
from bot.core.packet.links import LinkRefused, sign_packet_link, verify_packet_link
from bot.core.packet.model import Packet, PersonRef, person
from bot.core.packet.render import render_html, render_markdown

__all__ = [
    "LinkRefused",
    "Packet",
    "PersonRef",
    "checklist_diff",
    "checklist_rows",
    "compare",
    "gate_policy",
    "item_status",
    "person",
    "render_html",
    "render_markdown",
    "sign_packet_link",
    "verify_packet_link",
]
