"""`make demo`: score the sample assessment shipped with the product."""

from __future__ import annotations

import argparse
from importlib import resources

from bot.assessment_file import load_assessment
from bot.checklist import load_checklist
from bot.scorecard_view import scorecard_text
from bot.scoring import score


def run_demo(_args: argparse.Namespace) -> int:
    checklist = load_checklist()
    with resources.as_file(resources.files("bot.samples").joinpath("search-assistant.yaml")) as path:
        assessment = load_assessment(path, checklist)
    card = score(checklist, assessment.marks)
    print(scorecard_text(f"{assessment.system} {assessment.version}", checklist, assessment.marks, card), end="")
    return 0
