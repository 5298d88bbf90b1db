"""The packet service on SQLite and PostgreSQL: inputs, the packet built from the database, generation,
links, and the same packet from an assessment file."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.core.assessment_file import parse_assessment
from bot.core.checklist import Checklist, Mark, parse_checklist
from bot.core.packet import render_markdown, verify_packet_link
from bot.core.packet.model import DecisionKind
from bot.db import session_factory, session_scope
from bot.services import packets, signoff, waivers
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.audit import events
from bot.services.errors import NotFound, ServiceError
from bot.services.marks import close_review, record_mark
from bot.settings import Settings
from models import PacketRecord, TraceExample

TEAM, OTHER = "T001", "T002"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
DUE = date(2026, 12, 10)


def start(sessions, checklist: Checklist, version: str = "2.0", baseline_id: int | None = None) -> int:
    with session_scope(sessions) as s:
        return start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version=version,
                                                           started_by="U_LEAD", cohorts=["eu"],
                                                           baseline_id=baseline_id)).id


def mark(sessions, aid: int, item_id: str, m: Mark, actor: str = "U_ENG", at: datetime = NOW, **kw) -> None:
    if m is Mark.NO:
        kw.setdefault("evidence", f"proof {item_id}")
    else:
        kw.setdefault("owner", "U_ENG")
        kw.setdefault("due", DUE)
    with session_scope(sessions) as s:
        record_mark(s, TEAM, aid, MarkRequest(item_id=item_id, mark=m, **kw), actor=actor, today=TODAY, now=at)


def mark_all(sessions, checklist: Checklist, aid: int, gaps: dict[str, Mark] | None = None) -> None:
    for item_id in checklist.item_ids:
        mark(sessions, aid, item_id, (gaps or {}).get(item_id, Mark.NO))


def build(sessions, aid: int, now: datetime = NOW):
    with session_scope(sessions) as s:
        return packets.build_packet(s, TEAM, aid, today=now.date(), now=now)


def older(checklist_data) -> Checklist:
    data = copy.deepcopy(checklist_data)
    data["version"] = "2026.08.1"
    for section in data["sections"]:
        section["items"] = [i for i in section["items"] if i["id"] != "s21"]
    return parse_checklist(data, "older")


def test_trace_examples_are_checked_and_kept_per_workspace(sessions, checklist):
    aid = start(sessions, checklist)
    assert set(packets.trace_errors("fine", "javascript:alert(1)", " ")) == {"kind", "url", "description"}
    assert packets.trace_errors("good", "https://t.example.com/1", "ok") == {}
    with pytest.raises(packets.InputRefused) as refused, session_scope(sessions) as s:
        packets.add_trace(s, TEAM, aid, kind="bad", url="ftp://t.example.com/1", description="x", actor="U1",
                          now=NOW)
    assert set(refused.value.errors) == {"url"}
    with pytest.raises(NotFound), session_scope(sessions) as s:
        packets.add_trace(s, OTHER, aid, kind="bad", url="https://t.example.com/1", description="x", actor="U1",
                          now=NOW)
    with session_scope(sessions) as s:
        packets.add_trace(s, TEAM, aid, kind="escalation", url=" https://t.example.com/9 ", description=" handed off ",
                          actor="U1", now=NOW)
    with session_scope(sessions) as s:
        row = s.scalars(select(TraceExample)).one()
        assert (row.kind, row.url, row.description, row.added_by) == ("escalation", "https://t.example.com/9",
                                                                      "handed off", "U1")
        assert [e.action for e in events(s, aid)][-1] == "trace.added"
    packet = build(sessions, aid)
    assert list(packet.missing_traces) == ["good", "bad"]


def test_the_rollout_plan_belongs_to_the_release_lead_and_the_approvers(sessions, checklist):
    aid = start(sessions, checklist)
    with pytest.raises(ServiceError, match="release lead"), session_scope(sessions) as s:
        packets.save_plan(s, TEAM, aid, staged_rollout="all at once", rollback="none", actor="U_ENG", now=NOW)
    with pytest.raises(packets.InputRefused) as refused, session_scope(sessions) as s:
        packets.save_plan(s, TEAM, aid, staged_rollout=" ", rollback="x" * 3001, actor="U_LEAD", now=NOW)
    assert set(refused.value.errors) == {"staged_rollout", "rollback"}
    with session_scope(sessions) as s:
        packets.save_plan(s, TEAM, aid, staged_rollout="canary", rollback="flag off", actor="U_LEAD", now=NOW)
        signoff.name_approvers(s, TEAM, aid, {"quality": "U_Q", "policy": "U_P", "operations": "U_O"},
                               actor="U_LEAD")
    with session_scope(sessions) as s:
        packets.save_plan(s, TEAM, aid, staged_rollout="canary 5%, then all", rollback="flag off\nalias back",
                          actor="U_P", now=NOW)
    packet = build(sessions, aid)
    assert (packet.policy.staged_rollout, packet.policy.rollback) == ("canary 5%, then all", "flag off\nalias back")
    with session_scope(sessions) as s:
        close_review(s, TEAM, aid, actor="U_LEAD", now=NOW)
    with pytest.raises(ServiceError, match="closed"), session_scope(sessions) as s:
        packets.save_plan(s, TEAM, aid, staged_rollout="a", rollback="b", actor="U_LEAD", now=NOW)


def test_history_holds_changed_marks_and_every_decision(engine, checklist):
    app_clock = {"now": NOW}
    sessions = session_factory(engine, clock=lambda: app_clock["now"])  # voids are stamped by the app's clock

    def at(hours: int) -> datetime:
        app_clock["now"] = NOW + timedelta(hours=hours)
        return app_clock["now"]

    aid = start(sessions, checklist)
    mark_all(sessions, checklist, aid)
    assert build(sessions, aid).history.mark_changes == ()  # first marks are the checklist result, not history
    assert build(sessions, aid).policy.approvers == ()  # nobody named yet
    with session_scope(sessions) as s:
        signoff.name_approvers(s, TEAM, aid, {"quality": "U_Q", "policy": "U_P", "operations": "U_O"},
                               actor="U_LEAD")
        signoff.decide(s, TEAM, aid, role="quality", user="U_Q", decision="approve", reason=None, now=at(1))
    mark(sessions, aid, "s14", Mark.YES, at=at(2), reason="gate found broken")
    with session_scope(sessions) as s:
        waivers.grant(s, TEAM, aid, "s14", user="U_P", reason="fix lands Monday", expires_on=TODAY + timedelta(days=3),
                      now=at(3))
    mark(sessions, aid, "s14", Mark.NO, actor="U_ENG2", at=at(4), reason="fixed")

    packet = build(sessions, aid, NOW + timedelta(hours=5))
    changes = [(e.item_id, e.before, e.after, e.by.display, e.reason) for e in packet.history.mark_changes]
    assert changes == [("s14", Mark.NO, Mark.YES, "U_ENG", "gate found broken"),
                       ("s14", Mark.YES, Mark.NO, "U_ENG2", "fixed")]
    decisions = [(e.kind, e.by.id, e.role or e.item_id) for e in packet.history.decisions]
    assert decisions == [(DecisionKind.APPROVE, "U_Q", "quality"), (DecisionKind.VOID, "U_Q", "quality"),
                         (DecisionKind.WAIVE, "U_P", "s14"), (DecisionKind.WAIVER_REMARKED, "U_ENG2", "s14")]
    assert [(a.role, a.approver.id, a.decision) for a in packet.policy.approvers] == [
        ("quality", "U_Q", None), ("policy", "U_P", None), ("operations", "U_O", None)]


def test_generate_keeps_the_rendered_packet_and_links_it(sessions, checklist):
    aid = start(sessions, checklist)
    mark_all(sessions, checklist, aid, {"s4": Mark.PARTIAL})
    with session_scope(sessions) as s:
        record = packets.generate(s, TEAM, aid, actor="U_LEAD", now=NOW)
        assert [e.action for e in events(s, aid)][-1] == "packet.generated"
    with session_scope(sessions) as s:
        stored = s.get(PacketRecord, record.id)
    assert stored.content_hash == build(sessions, aid).content_hash
    assert stored.markdown.startswith("# Rollout packet: copilot 2.0") and "<svg" in stored.html

    settings = Settings(slack_signing_secret=SecretStr("signing"), public_url="https://ready.example.com/")
    link = packets.packet_link(settings, record, NOW)
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert link.startswith(f"https://ready.example.com/packets/{record.id}?") and query["team"] == TEAM
    assert int(query["exp"]) == int((NOW + timedelta(days=14)).timestamp())
    secret = packets.link_secret(settings)
    assert secret != b"signing"  # derived, never the signing secret itself
    verify_packet_link(record.id, TEAM, query["exp"], query["sig"], secret, NOW.timestamp(), expected_team=TEAM)
    explicit = Settings(slack_signing_secret=SecretStr("signing"), packet_link_secret=SecretStr("links"))
    assert packets.link_secret(explicit) == b"links"
    with pytest.raises(ServiceError):
        packets.link_secret(Settings(slack_signing_secret=None, packet_link_secret=None))


def test_the_file_packet_equals_the_database_packet_for_the_same_data(sessions, checklist, checklist_data):
    base_list = older(checklist_data)
    base = start(sessions, base_list, version="1.9")
    mark_all(sessions, base_list, base, {"s1": Mark.YES, "s16": Mark.PARTIAL})
    cand = start(sessions, checklist, baseline_id=base)
    mark_all(sessions, checklist, cand, {"s4": Mark.PARTIAL})
    with session_scope(sessions) as s:
        for kind in ("bad", "good"):
            packets.add_trace(s, TEAM, cand, kind=kind, url=f"https://t.example.com/{kind}",
                              description=f"{kind} path", actor="U_ENG", now=NOW)
        packets.save_plan(s, TEAM, cand, staged_rollout="canary\nall", rollback="flag off", actor="U_LEAD", now=NOW)
    from_db = build(sessions, cand)
    assert from_db.scorecard.checklist_diff.added[0].id == "s21"

    def marks(ids, gaps):
        return {i: ({"mark": gaps[i], "owner": "U_ENG", "due": DUE} if i in gaps else
                    {"mark": "no", "evidence": f"proof {i}"}) for i in ids}

    cand_file = parse_assessment({
        "system": "copilot", "version": "2.0", "cohorts": ["eu"], "marks": marks(checklist.item_ids, {"s4": "partial"}),
        "traces": [{"kind": k, "url": f"https://t.example.com/{k}", "description": f"{k} path", "added_by": "U_ENG"}
                   for k in ("good", "bad")],
        "rollout": "canary\nall\n", "rollback": "flag off"}, checklist)
    base_file = parse_assessment({"system": "copilot", "version": "1.9", "cohorts": ["eu"],
                                  "marks": marks(base_list.item_ids, {"s1": "yes", "s16": "partial"})}, base_list)
    from_file = packets.packet_from_file(cand_file, checklist, baseline_file=base_file, baseline_checklist=base_list,
                                         now=NOW + timedelta(minutes=5))
    assert from_file.content_hash == from_db.content_hash
    changed = parse_assessment({**{"system": "copilot", "version": "2.0", "cohorts": ["eu"]},
                                "marks": marks(checklist.item_ids, {})}, checklist)
    assert packets.packet_from_file(changed, checklist, now=NOW).content_hash != from_db.content_hash


# People's names: users.info's display and real names, kept in `people` by the reconcile --------------------


class _Slack:
    """users.info as Slack documents it: ``user.tz``, ``user.profile.display_name`` and ``real_name``."""

    def __init__(self, profiles: dict[str, tuple[str, str, str]]) -> None:
        self.profiles, self.asked = profiles, []

    def users_info(self, user: str):
        from slack_sdk.errors import SlackApiError

        self.asked.append(user)
        if user not in self.profiles:
            raise SlackApiError("user_not_found", {"ok": False, "error": "user_not_found"})
        display, real, tz = self.profiles[user]
        return {"user": {"id": user, "name": display.lower(), "real_name": real, "tz": tz,
                         "profile": {"display_name": display, "real_name": real}}}


def test_the_reconcile_keeps_names_and_the_packet_shows_them(sessions, checklist):
    from bot.core.reminder_plan import ReminderPolicy
    from bot.services import people
    from models import Person
    from scheduler.jobs import Reconciler

    with session_scope(sessions) as s:
        aid = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="2.0",
                                                          started_by="U0LEAD", cohorts=[])).id
    for item_id in checklist.item_ids:
        gap = {"s1": "U0PRIYA", "s4": "U0GONE", "s5": "lee"}.get(item_id)
        if gap:
            mark(sessions, aid, item_id, Mark.PARTIAL, actor="U0LEAD", owner=gap)
        else:
            mark(sessions, aid, item_id, Mark.NO, actor="U0LEAD")
    with session_scope(sessions) as s:
        packets.add_trace(s, TEAM, aid, kind="good", url="https://t.example.com/1", description="ok",
                          actor="U0LEAD", now=NOW)
    with session_scope(sessions) as s:  # opening the App Home makes a row before users.info answered for them
        s.add(Person(team_id=TEAM, user_id="U0LEAD", tz=None, fetched_at=NOW, home_opened_at=NOW))
    before = build(sessions, aid)
    slack = _Slack({"U0PRIYA": ("priya", "Priya Raman", "Asia/Kolkata"), "U0LEAD": ("", "Alex Lee", "Europe/Paris")})
    clock = [NOW]
    reconciler = Reconciler(sessions, slack, ReminderPolicy(), lambda: clock[0])  # type: ignore[arg-type]

    assert reconciler.fetch_people() == 3 and sorted(slack.asked) == ["U0GONE", "U0LEAD", "U0PRIYA"]  # never "lee"
    with session_scope(sessions) as s:
        priya, gone = s.get(Person, (TEAM, "U0PRIYA")), s.get(Person, (TEAM, "U0GONE"))
        assert (priya.display_name, priya.real_name, priya.tz, priya.profile_at) == (
            "priya", "Priya Raman", "Asia/Kolkata", NOW)
        assert (gone.display_name, gone.tz, gone.profile_at, gone.lookup_failed_at) == (None, None, None, NOW)
        assert people.names(s, TEAM) == {"U0PRIYA": "priya", "U0LEAD": "Alex Lee"}  # no display name: real name
    after = build(sessions, aid)
    owners = {r.id: r.owner.display for r in after.items if r.owner}
    assert owners == {"s1": "priya", "s4": "U0GONE", "s5": "lee"}  # unknown ids as they are, never "@U0GONE"
    assert after.traces[0].added_by is not None and after.traces[0].added_by.display == "Alex Lee"
    assert after.content_hash == before.content_hash  # the names are how people are shown, not what happened
    markdown = render_markdown(after)
    assert "| priya |" in markdown and "@U0" not in markdown

    slack.asked.clear()
    assert reconciler.fetch_people() == 0 and slack.asked == []  # nothing is due yet
    clock[0] = NOW + people.RETRY_AFTER
    assert reconciler.fetch_people() == 1 and slack.asked == ["U0GONE"]  # a failed look-up, an hour later
    del slack.profiles["U0LEAD"]  # a look-up that fails on a refresh keeps what was known
    clock[0] = NOW + people.REFRESH_AFTER
    slack.asked.clear()
    reconciler.fetch_people()
    assert sorted(slack.asked) == ["U0GONE", "U0LEAD", "U0PRIYA"]  # a week on, everyone is looked up again
    assert reconciler.fetch_people() == 0  # and nobody again until a failure is an hour old
    with session_scope(sessions) as s:
        assert people.names(s, TEAM)["U0LEAD"] == "Alex Lee" and s.get(Person, (TEAM, "U0LEAD")).tz == "Europe/Paris"
    slack.profiles["U0PRIYA"] = ("Priya R.", "Priya Raman", "Europe/London")
    clock[0] = NOW + 2 * people.REFRESH_AFTER
    reconciler.fetch_people()
    with session_scope(sessions) as s:
        assert s.get(Person, (TEAM, "U0PRIYA")).tz == "Europe/London"  # the time zone follows, as names do
        close_review(s, TEAM, aid, actor="U0LEAD", now=clock[0])
    clock[0] += people.REFRESH_AFTER
    assert reconciler.fetch_people() == 0  # a closed review's people are not looked up any more
    assert {r.id: r.owner.display for r in build(sessions, aid).items if r.owner}["s1"] == "Priya R."
