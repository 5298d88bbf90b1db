"""The pure core imports no Slack, SQLAlchemy or scheduler code."""

from __future__ import annotations

import subprocess
import sys

CORE = ["bot.checklist", "bot.scoring", "bot.marking", "bot.assessment_file", "bot.yamlio", "bot.reminder_plan", "bot.review"]
FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "alembic")


def test_core_modules_import_nothing_impure():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
