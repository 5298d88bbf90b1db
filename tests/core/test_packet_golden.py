"""The rollout packet rendered from fixed data: a Markdown golden file, HTML structure, escaping, hash.

Regenerate the golden file with ``UPDATE_GOLDEN=1 pytest tests/core/test_packet_golden.py``.
"""

from __future__ import annotations

import copy
import os
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.core.checklist import Checklist, Mark, load_checklist, parse_checklist
from bot.core.packet import checklist_rows, compare, gate_policy, person, render_html, render_markdown
from bot.core.packet.model import (
    ApproverEntry,
    Checkin,
    CheckinDay,
    CohortEvidence,
    CohortRow,
    DecisionEvent,
    History,
    MarkChangeEvent,
    MonitoringPlan,
    Packet,
    ReleasePolicy,
    TraceExample,
    TraceKind,
    Waiver,
)
from bot.core.scoring import MarkEntry

GOLDEN = Path(__file__).parent / "golden" / "packet.md"
TODAY = date(2026, 12, 14)
GENERATED = datetime(2026, 12, 14, 9, 30, tzinfo=UTC)
NAMES = {"U0DANA01": "Dana Kim", "U0INES01": "Ines Duarte", "U0SAM001": "Sam Okafor", "U0LEE001": "Lee Park"}
EVIL = "<script>alert(1)</script> <!channel> <@U0EVIL01> *bold* [x](javascript:alert(1))\n| row |"


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def baseline_checklist(data: dict[str, Any]) -> Checklist:
    """The shipped checklist as an older version: s21 not there yet, a retired item, a renamed title."""
    data = copy.deepcopy(data)
    data["version"] = "2026.08.1"
    for section in data["sections"]:
        if section["id"] == "observability":
            section["items"] = [i for i in section["items"] if i["id"] != "s21"]
        if section["id"] == "release":
            section["items"].append(
                {
                    "id": "legacy-signoff",
                    "title": "Release notes are signed off by legal",
                    "question": "Can a release ship without legal sign-off on its notes?",
                    "evidence": "Signed release notes for the last three releases.",
                    "flags": [],
                }
            )
        for item in section["items"]:
            if item["id"] == "s4":
                item["title"] = "Manual checking is rare"
            if item["id"] == "s17":
                item["flags"] = ["critical"]
    return parse_checklist(data, "baseline")


def candidate_marks(note: str = "jp-support success is 9 points under the rest") -> dict[str, MarkEntry]:
    marks = {
        item_id: MarkEntry(mark=Mark.NO, evidence=f"Evidence for {item_id}")
        for item_id in ([f"s{n}" for n in range(1, 22)] + ["data-boundary"])
    }
    marks |= {
        "s1": MarkEntry(mark=Mark.PARTIAL, owner="U0DANA01", due=date(2026, 12, 18), note=note),
        "s4": MarkEntry(
            mark=Mark.PARTIAL, owner="lee", due=date(2026, 12, 20), note="Support re-checks refunds"
        ),
        "s5": MarkEntry(mark=Mark.PARTIAL, owner="U0NOBODY", due=date(2026, 12, 15)),
        "s10": MarkEntry(
            mark=Mark.YES, owner="U0SAM001", due=date(2026, 12, 19), note="p99 at 5x load is 9 s"
        ),
        "s11": MarkEntry(mark=Mark.PARTIAL, owner="U0SAM001", due=date(2026, 12, 12)),
        "s14": MarkEntry(mark=Mark.NO, evidence="CI job eval_gate | blocks *all* prompt changes"),
        "s19": MarkEntry(mark=Mark.PARTIAL, owner="U0LEE001", due=date(2026, 12, 19)),
    }
    return marks


def baseline_marks() -> dict[str, MarkEntry]:
    ids = [f"s{n}" for n in range(1, 21)] + ["data-boundary", "legacy-signoff"]
    marks = {item_id: MarkEntry(mark=Mark.NO, evidence="ok") for item_id in ids}
    for item_id, mark in {
        "s1": Mark.YES,
        "s4": Mark.PARTIAL,
        "s5": Mark.YES,
        "s10": Mark.YES,
        "s11": Mark.PARTIAL,
        "s16": Mark.PARTIAL,
        "s19": Mark.PARTIAL,
        "legacy-signoff": Mark.PARTIAL,
    }.items():
        marks[item_id] = MarkEntry(mark=mark, owner="U0DANA01", due=date(2026, 9, 30))
    return marks


def build_packet(
    checklist_data: dict[str, Any],
    *,
    evil: str | None = None,
    marks: dict[str, MarkEntry] | None = None,
    generated_at: datetime = GENERATED,
    traces: bool = True,
) -> Packet:
    candidate = load_checklist()
    text = lambda plain: evil if evil is not None else plain  # noqa: E731 - swap user text for attacks
    cand_marks = marks or candidate_marks(note=text("jp-support success is 9 points under the rest"))
    waiver = Waiver(
        item_id="s10",
        granted_by=person("U0INES01", NAMES),
        expires_at=at(20, 17),
        reason=text("p99 fix ships in 2.4.1; canary capped at 5%"),
        granted_at=at(11, 15),
    )
    card = compare(
        candidate, cand_marks, baseline_checklist(checklist_data), baseline_marks(), waived={"s10"}
    )
    return Packet(
        system="support-search-assistant",
        version="2.4.0",
        baseline_version="2.3.0",
        cohorts=("eu-legal", "jp-support", "us-enterprise"),
        scorecard=card,
        items=checklist_rows(candidate, cand_marks, today=TODAY, waivers={"s10": waiver}, names=NAMES),
        traces=(
            TraceExample(
                kind="good",
                url="https://traces.example.com/t/8812?span=all&view=tree",
                description=text("Refund question answered with two valid citations"),
                added_by=person("U0DANA01", NAMES),
            ),
            TraceExample(
                kind="bad",
                url="https://traces.example.com/t/9120",
                description="SKU lookup on a versioned catalogue returns the old price",
            ),
        )
        if traces
        else (),
        policy=ReleasePolicy(
            gates=gate_policy(candidate),
            staged_rollout=text(
                "1. Canary at 5% of EU tenants for 48 hours\n2. 25% per tenant group\n3. All tenants"
            ),
            rollback="- Flip flag search.v24 off\n- Re-point the index alias to 2.3.0\n- Confirm in the dashboard",
            approvers=(
                ApproverEntry(role="quality", approver=person("U0DANA01", NAMES)),
                ApproverEntry(
                    role="policy",
                    approver=person("U0INES01", NAMES),
                    decision="staged",
                    reason=text("Staged only, EU legal first"),
                    decided_at=at(12, 11),
                ),
                ApproverEntry(
                    role="operations",
                    approver=person("U0SAM001", NAMES),
                    decision="staged",
                    reason="Canary first",
                    decided_at=at(12, 14, 5),
                ),
            ),
        ),
        monitoring=MonitoringPlan(
            alerts=text("Task success below 90% for any cohort\np99 above 6 s for 15 minutes"),
            cadence="Daily at 10:00 CET in week one, then weekly",
            escalation_owner=person("U0SAM001", NAMES),
            watch_items=("jp-support task success", "SKU lookups on versioned catalogues"),
            started_at=at(12, 9),
            checkins=(
                Checkin(day=2, by=person("U0SAM001", NAMES), answer="clear", at=at(14, 9, 12)),
                Checkin(
                    day=2,
                    by=person("U0LEE001", NAMES),
                    answer="issue",
                    text=text("Two re-asks on refund answers in jp-support"),
                    link="https://traces.example.com/t/9301",
                    at=at(14, 9, 40),
                ),
            ),
            # day 1 was asked and nobody answered; day 3 onwards are still to come
            schedule=tuple(
                CheckinDay(day=n, due_at=at(12 + n, 9), asked=12 + n <= 14) for n in range(1, 8)
            ),
        ),
        cohort=CohortEvidence(
            svg='<svg xmlns="http://www.w3.org/2000/svg" class="cohort-chart" width="10" height="10"></svg>',
            rows=(
                CohortRow(
                    cohort="jp-support",
                    metric="task_success_rate",
                    baseline="0.81",
                    candidate="0.83",
                    delta="+0.02",
                    outcome="below target",
                    rule="at least 0.90",
                ),
                CohortRow(
                    cohort="eu-legal",
                    metric="task_success_rate",
                    baseline="0.93",
                    candidate="0.94",
                    delta="+0.01",
                    outcome="meets target",
                    rule="at least 0.90",
                ),
            ),
            contradicted=("s3",),
        ),
        history=History(
            mark_changes=(
                MarkChangeEvent(
                    at=at(10, 16),
                    by=person("U0SAM001", NAMES),
                    item_id="s10",
                    before=Mark.NO,
                    after=Mark.YES,
                    reason=text("Load test LT-51 at 5x: p99 9 s"),
                ),
                MarkChangeEvent(
                    at=at(9, 11),
                    by=person("U0DANA01", NAMES),
                    item_id="s16",
                    before=Mark.PARTIAL,
                    after=Mark.NO,
                    reason="Rollback drill on 2026-12-08",
                ),
                MarkChangeEvent(
                    at=at(9, 10), by=person("U0DANA01", NAMES), item_id="s1", before=None, after=Mark.PARTIAL
                ),
            ),
            decisions=(
                DecisionEvent(at=at(9, 12), by=person("U0DANA01", NAMES), kind="approve", role="quality"),
                DecisionEvent(
                    at=at(10, 16),
                    by=person("U0DANA01", NAMES),
                    kind="void",
                    role="quality",
                    text="A mark changed after the decision",
                ),
                DecisionEvent(
                    at=at(11, 15),
                    by=person("U0INES01", NAMES),
                    kind="waive",
                    item_id="s10",
                    text=text("p99 fix ships in 2.4.1; canary capped at 5%"),
                ),
                DecisionEvent(
                    at=at(12, 11),
                    by=person("U0INES01", NAMES),
                    kind="staged",
                    role="policy",
                    text="Staged only, EU legal first",
                ),
            ),
        ),
        generated_at=generated_at,
    )


@pytest.fixture
def packet(checklist_data: dict[str, Any]) -> Packet:
    return build_packet(checklist_data)


def test_markdown_matches_golden(packet: Packet) -> None:
    text = render_markdown(packet)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


class _Strict(HTMLParser):
    """Collects start tags and checks that every element is closed in order."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "col"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Strict:
    parser = _Strict()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    return parser


def test_html_is_well_formed_and_self_contained(packet: Packet) -> None:
    doc = parse(render_html(packet))
    names = {tag for tag, _ in doc.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    assert all("src" not in attrs for _, attrs in doc.tags)
    ids = {attrs["id"] for _, attrs in doc.tags if attrs.get("id")}
    inside = [attrs["href"] for tag, attrs in doc.tags if tag == "a" and attrs["href"].startswith("#")]
    assert inside and all(href[1:] in ids for href in inside)  # every link inside the page has its target
    hrefs = [attrs["href"] for tag, attrs in doc.tags if tag == "a" and not attrs["href"].startswith("#")]
    assert hrefs == [
        "https://traces.example.com/t/8812?span=all&view=tree",
        "https://traces.example.com/t/9120",
        "https://traces.example.com/t/9301",
    ]


def test_html_chart_has_one_bar_per_section_per_assessment(packet: Packet) -> None:
    doc = parse(render_html(packet))
    bars = [a for tag, a in doc.tags if tag == "rect" and "bar" in (a.get("class") or "").split()]
    card = packet.scorecard
    assert card.baseline is not None
    for series, sections in (("baseline", card.baseline.sections), ("candidate", card.candidate.sections)):
        assert sorted(b["data-section"] for b in bars if b["data-series"] == series) == sorted(
            s.id for s in sections
        )
    assert len(bars) == len(card.baseline.sections) + len(card.candidate.sections)
    assert any(tag == "svg" and "cohort-chart" in (a.get("class") or "") for tag, a in doc.tags)


def test_every_item_appears_once(packet: Packet) -> None:
    """One row per item (the scorecard's comparison is folded into it), and the items only in the baseline."""
    md, html = render_markdown(packet), render_html(packet)
    current = [i.id for i in packet.items]
    removed = [i.id for i in packet.scorecard.items if i.id not in current]
    assert removed == ["legacy-signoff"] and "s21" in current
    for item_id in current:
        escaped = item_id.replace("-", "\\-") if item_id.startswith("-") else item_id
        assert md.count(f"\n| {escaped} |") == 1, item_id
        assert html.count(f'<tr id="item-{item_id}">') == 1, item_id
    for item_id in removed:
        assert md.count(f"- {item_id} ") == 1 and html.count(f'<li id="item-{item_id}">') == 1
    assert html.count("<tr id=\"item-") == len(current)
    assert "| s1 | Core tasks hold up across real cohorts | Partial (was Yes: better) |" in md


def test_the_cover_comes_first_and_holds_the_decision(packet: Packet) -> None:
    md, html = render_markdown(packet), render_html(packet)
    cover = md[: md.index("## 1. Scorecard")]
    for text in ("**Verdict: Narrow**", "**What to do now:** Narrow or phase the rollout",
                 "**Sign-off:** Waiting for 1 of 3 decisions", "| Quality | Dana Kim | Waiting for a decision |",
                 "| Policy | Ines Duarte | Approved for a staged rollout | 2026-12-12 11:00 UTC |",
                 "**Blockers:** None: every blocker is waived.",
                 "**Waivers:** s10 until 2026-12-20 17:00 UTC, by Ines Duarte: p99 fix ships in 2.4.1; canary capped",
                 "### Open gaps: 6, 1 overdue", "| s11 Capacity is planned for expansion traffic | Partial | Overdue "
                 "| Sam Okafor | 2026-12-12 |", f"sha256:{packet.content_hash}"):
        assert text in cover, text
    assert "No baseline" not in md and "compared with baseline 2.3.0" not in cover
    body = html[html.index("<body>"):]
    assert body.index('<section id="cover"') < body.index('<section id="scorecard"')
    assert body[: body.index('<section id="scorecard"')].count(f"sha256:{packet.content_hash}") == 1


def test_the_cover_names_blockers_and_caps_the_gaps(checklist_data: dict[str, Any]) -> None:
    marks = candidate_marks()
    for n in range(2, 17):
        marks[f"s{n}"] = MarkEntry(mark=Mark.PARTIAL, owner="U0LEE001", due=date(2026, 12, 30))
    packet = build_packet(checklist_data, marks=marks)
    md = render_markdown(packet)
    cover = md[: md.index("## 1. Scorecard")]
    assert list(packet.scorecard.candidate.blockers) == ["s14", "s16"]  # Partial blocks on the override items
    assert "**Blockers:** 2: s14, s16 (first among the open gaps below)" in cover
    rows = [line for line in cover.splitlines() if line.startswith("| s")]
    assert len(rows) == 10 and rows[0].startswith("| s14 ") and rows[1].startswith("| s16 ")
    assert "| s14 Regression gates on every change | Partial | Open, blocker | Lee Park | 2026-12-30 |" in cover
    assert "And 7 more: see the items." in cover


def test_the_cover_clips_long_texts_to_stay_one_page(checklist_data: dict[str, Any]) -> None:
    """Reasons run to 1,000 characters: the cover shows the start of each (all of it is in the history)."""
    packet = build_packet(checklist_data, evil="why " * 250)
    md, html = render_markdown(packet), render_html(packet)
    cover = md[: md.index("## 1. Scorecard")]
    approver = [line for line in cover.splitlines() if line.startswith("| Policy |")][0]
    assert len(approver) < 240 and "why…" in approver
    assert "why " * 200 in md[md.index("## 7. History"):]  # in full in the history
    cover_html = html[html.index('<section id="cover"'):html.index('<section id="scorecard"')]
    assert "why " * 40 not in cover_html and "…" in cover_html


def test_check_ins_asked_and_not_answered_are_shown(packet: Packet) -> None:
    md, html = render_markdown(packet), render_html(packet)
    assert "| Day 1 | **No answer** |  |  | asked 2026-12-13 09:00 UTC |" in md
    assert "| Days 3-7 | Not asked yet |  |  | from 2026-12-15 09:00 UTC |" in md  # the days to come, as one row
    assert html.count('class="unanswered">No answer</td>') == 1
    assert md.count("| Day 2 | ") == 2  # both answers of day 2


def test_people_show_by_name_or_by_their_id_and_names_leave_the_hash_alone(checklist_data: dict[str, Any],
                                                                            packet: Packet) -> None:
    md = render_markdown(packet)
    assert "U0NOBODY" in md and "@U" not in md  # an unknown id as it is, never as a would-be mention
    assert "U0DANA01" not in md and "Dana Kim" in md
    renamed = {"U0DANA01": "dana", "U0SAM001": "Sam O."}
    for name, ref in (("dana", person("U0DANA01", renamed)), ("U0DANA01", person("U0DANA01"))):
        assert ref.display == name
    other = packet.model_copy(update={"items": tuple(
        r.model_copy(update={"owner": person(r.owner.id, renamed) if r.owner and r.owner.id else r.owner})
        for r in packet.items)})
    assert "Sam O." in render_markdown(other) and other.content_hash == packet.content_hash
    moved = packet.model_copy(update={"items": tuple(
        r.model_copy(update={"owner": person("U0LEE001", NAMES)}) if r.id == "s1" else r for r in packet.items)})
    assert moved.content_hash != packet.content_hash  # who owns an item is content; the spelling is not


def test_labels_come_from_the_vocabulary(packet: Packet) -> None:
    from bot.core import words

    md = render_markdown(packet)
    for label in (words.DECISION["staged"], words.OUTCOME["approved-staged"], words.VERDICT["narrow"],
                  words.STATUS["overdue"], words.WAITING, words.CHECKIN["issue"], words.EVENT["void"]):
        assert label in md, label
    for old in ("approved-staged", "Approve staged rollout", "Allowed now", "Approved a staged rollout"):
        assert old not in md and old not in render_html(packet), old


def test_user_text_is_inert(checklist_data: dict[str, Any]) -> None:
    packet = build_packet(checklist_data, evil=EVIL)
    md, html = render_markdown(packet), render_html(packet)
    for out in (md, html):
        assert "<script" not in out
        assert "<!channel>" not in out
        assert "<@U0EVIL01>" not in out
        assert "&lt;script&gt;" in out
    assert "&lt;!channel&gt;" in md and "&lt;@U0EVIL01&gt;" in md
    assert "javascript:" not in [a.get("href", "") for _, a in parse(html).tags].__str__()
    assert "\\*bold\\*" in md and "\\[x\\]" in md
    # The newline and pipe in a note stay inside their table cell.
    row = [line for line in md.splitlines() if line.startswith("| s1 |")][-1]  # the item's row
    assert "\\| row \\|" in row and len(re.findall(r"(?<!\\)\|", row)) == 8  # 7 cells
    assert "\n| row |" not in md


def test_unsafe_trace_link_is_text_only(checklist_data: dict[str, Any]) -> None:
    packet = build_packet(checklist_data)
    bad = packet.traces[0].model_copy(update={"kind": TraceKind.ESCALATION, "url": "javascript:alert(1)"})
    packet = packet.model_copy(update={"traces": (*packet.traces, bad)})
    html = render_html(packet)
    assert "javascript:" not in "".join(a.get("href") or "" for _, a in parse(html).tags)
    assert "only http and https links are allowed" in html
    assert "](javascript" not in render_markdown(packet)


def test_hash_is_shared_stable_and_tracks_marks(checklist_data: dict[str, Any], packet: Packet) -> None:
    digest = packet.content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert f"sha256:{digest}" in render_markdown(packet)
    assert f"sha256:{digest}" in render_html(packet)
    later = build_packet(checklist_data, generated_at=datetime(2027, 1, 2, tzinfo=UTC))
    assert later.content_hash == digest
    changed = candidate_marks()
    changed["s19"] = MarkEntry(mark=Mark.NO, evidence="Per-cohort dashboards live")
    assert build_packet(checklist_data, marks=changed).content_hash != digest


def test_missing_trace_examples_are_listed(checklist_data: dict[str, Any], packet: Packet) -> None:
    assert [k.value for k in packet.missing_traces] == ["escalation"]
    assert "Missing: escalation path." in render_markdown(packet)
    none = build_packet(checklist_data, traces=False)
    assert "Missing: good path, bad path, escalation path." in render_markdown(none)
    assert "Missing: good path, bad path, escalation path." in render_html(none)


def test_check_in_rows_follow_the_days() -> None:
    from bot.core.packet.render import checkin_rows

    by = person("U0SAM001", NAMES)
    plan = MonitoringPlan(
        alerts="a", cadence="c", days=5,
        schedule=tuple(CheckinDay(day=n, due_at=at(n), asked=n <= 3) for n in range(1, 6)),
        checkins=(Checkin(day=2, by=by, answer="clear", at=at(2, 11)), Checkin(day=4, by=by, answer="issue",
                                                                               at=at(3, 23))),
    )
    assert [(r["days"], r["kind"]) for r in checkin_rows(plan)] == [
        ("Day 1", "unanswered"), ("Day 2", "answer"), ("Day 3", "unanswered"), ("Day 4", "answer"),
        ("Day 5", "upcoming")]  # a day answered before its question came counts as answered
    unplanned = plan.model_copy(update={"schedule": ()})  # a go-live whose questions are not known: answers only
    assert [(r["days"], r["kind"]) for r in checkin_rows(unplanned)] == [("Day 2", "answer"), ("Day 4", "answer")]
    assert checkin_rows(None) == []
