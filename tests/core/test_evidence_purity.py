"""The evidence core imports no Slack, database, scheduler or numeric libraries."""

from __future__ import annotations

import subprocess
import sys

EVIDENCE_CORE = [
    "bot.evidence",
    "bot.evidence.metrics",
    "bot.evidence.evidence_set",
    "bot.evidence.policy",
    "bot.evidence.stats",
    "bot.evidence.judge",
    "bot.evidence.suggest",
    "bot.evidence.picture",
]
FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "alembic", "scipy", "numpy", "PIL")


def test_evidence_modules_import_nothing_impure():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in EVIDENCE_CORE)
        + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
