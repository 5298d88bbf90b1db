"""The pure core imports no Slack, SQLAlchemy or scheduler code."""

from __future__ import annotations

import subprocess
import sys

CORE = ["bot.checklist", "bot.scoring", "bot.marking", "bot.assessment_file", "bot.yamlio", "bot.canonical",
        "bot.reminder_plan", "bot.review",
        "bot.evidence", "bot.evidence.metrics", "bot.evidence.evidence_set", "bot.evidence.policy",
        "bot.evidence.stats", "bot.evidence.judge", "bot.evidence.suggest", "bot.evidence.picture",
        "bot.packet", "bot.packet.model", "bot.packet.compare", "bot.packet.assemble", "bot.packet.render",
        "bot.packet.chart", "bot.packet.links"]
# no Slack, database or scheduler code, and no numeric libraries (the statistics are written out)
FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "alembic", "scipy", "numpy", "PIL")


def test_core_modules_import_nothing_impure():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
