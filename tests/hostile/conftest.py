"""Hostile input: what an attacker (or a broken client) sends, against the real server and readers.

The fuzz tests count what they tried; the figures are printed at the end of the run.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import clock, convo, local  # noqa: F401 - the end-to-end fixtures, shared

TRIED: Counter[str] = Counter()  # cases tried, per target
SERVER_ERRORS: Counter[str] = Counter()  # 5xx answers seen, per target


def tried(target: str, status: int | None = None) -> None:
    TRIED[target] += 1
    if status is not None and status >= 500:
        SERVER_ERRORS[target] += 1


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TRIED:
        return
    terminalreporter.section("hostile-input fuzzing")
    for target in sorted(TRIED):
        terminalreporter.write_line(f"{target:<40} cases tried {TRIED[target]:>6}   5xx seen: {SERVER_ERRORS[target]}")
    terminalreporter.write_line(f"{'all':<40} cases tried {sum(TRIED.values()):>6}   5xx seen: "
                                f"{sum(SERVER_ERRORS.values())}")
