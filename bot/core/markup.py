"""Escaping for the SVG and HTML the core writes (the standard library's ``html.escape``)."""

from __future__ import annotations

from html import escape as _escape


def escape(text: str) -> str:
    """Text content: &, < and > escaped."""
    return _escape(text, quote=False)


def quoteattr(value: str) -> str:
    """An attribute value with its quotes: every character that could end or break it escaped."""
    return f'"{_escape(value, quote=True)}"'
