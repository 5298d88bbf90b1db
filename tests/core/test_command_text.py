"""Commands read as people type them."""

from __future__ import annotations

import pytest

from bot.core.command_text import Named, system_and_version, words


@pytest.mark.parametrize(("typed", "expected"), [
    ("", Named()),
    ("copilot", Named("copilot")),
    ("copilot 2.0", Named("copilot", "2.0")),
    ("Support Copilot 2.4.0", Named("Support Copilot", "2.4.0")),
    ("Support Copilot v3", Named("Support Copilot", "v3")),
    ("Support Copilot 2.4.0-rc1", Named("Support Copilot", "2.4.0-rc1")),
    ("Support Copilot", Named("Support Copilot")),
    ('"Support Copilot" 2.4.0', Named("Support Copilot", "2.4.0")),
    ('"Support 2 Copilot"', Named("Support 2 Copilot")),
    ("search assistant next", Named("search assistant next")),
    ('unbalanced "quote 1.0', Named('unbalanced "quote', "1.0")),
])
def test_the_last_word_is_the_version_when_it_looks_like_one(typed, expected):
    assert system_and_version(words(typed)) == expected


def test_what_is_too_long_is_cut_to_what_the_form_takes():
    named = system_and_version(["x" * 300, "1." + "9" * 200])
    assert len(named.system) == 120 and len(named.version) == 80
