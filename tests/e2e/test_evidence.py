"""Evidence end to end through the sandbox, on SQLite and PostgreSQL: pushes over HTTP, suggestions in the
thread (applied, dismissed), the gate on cohort regressions, `/readiness evidence`, watch-list breaches."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, timedelta
from importlib import resources

from sqlalchemy import func, select

from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, TEAM, Conversation, LocalSlack
from bot.services import tokens
from models import AuditEvent, EvidenceRecord, ItemMark, MarkSuggestion, OutboxMessage
from tests.e2e.conftest import allow_golive_before_signoff
from tests.e2e.test_signoff import _get, click

SYSTEM, VERSION = "support-search-assistant", "2.4.0"
DUE = (date.today() + timedelta(days=10)).isoformat()


def sample(name: str) -> bytes:
    return resources.files("bot.samples").joinpath("evidence", name).read_bytes()


def post(local: LocalSlack, body: bytes, token: str | None, *, content_type: str = "application/json",
         query: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{local.server.url}/api/v1/evidence{query}", data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def token_for(local: LocalSlack, team: str = TEAM) -> str:
    with session_scope(local.sessions) as s:
        return tokens.create(s, team, f"ci-{team}", actor="test")


def review_all_no(local: LocalSlack, convo: Conversation, system: str = SYSTEM, version: str = VERSION) -> str:
    p = local.people
    thread = convo.start_review(p.lead, system, version)
    for item_id in local.app_checklist_ids():
        convo.mark(p.engineer, thread, item_id, "no", evidence=f"proof {item_id}")
    local.drain()
    return thread


def evidence_messages(local: LocalSlack, thread: str) -> list[dict]:
    return [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if m["text"].startswith("Cohort evidence for")]


def suggestion_id(session, item_id: str, status: str = "open") -> int:
    return session.scalar(select(MarkSuggestion.id).where(MarkSuggestion.item_id == item_id,
                                                          MarkSuggestion.status == status))


def sign_off(local: LocalSlack, convo: Conversation) -> None:
    p = local.people
    local.driver.slash_command("/readiness", "signoff", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    local.driver.submit_view(p.lead, convo.last_view_id(), {
        "role:quality": p.quality, "role:policy": p.policy, "role:operations": p.operations})
    local.settle()
    card = next(m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Sign-off for"))
    for user, role in ((p.quality, "quality"), (p.policy, "policy"), (p.operations, "operations")):
        click(local, user, card, "signoff_approve", role)


def gate(local: LocalSlack, token: str) -> dict:
    status, body = _get(f"{local.server.url}/api/v1/gate?system={SYSTEM}&version={VERSION}", token)
    assert status == 200
    return body


def test_pushes_suggest_marks_and_the_gate_follows_the_cohorts(local, convo):
    p = local.people
    token = token_for(local)
    thread = review_all_no(local, convo)

    status, body = post(local, sample("baseline.json"), token)
    assert status == 201 and body["duplicate"] is False and body["assessment_id"] is None
    status, body = post(local, sample("candidate.csv"), token, content_type="text/csv")
    assert status == 201 and body["assessment_id"] == 1 and body["suggestions"] >= 1
    assert body["scorecard"]["counts"] == {"pass": 106, "regression": 1, "fail": 1, "not-enough-evidence": 0}
    local.drain()
    [message] = evidence_messages(local, thread)
    shown = json.dumps(message["blocks"])
    assert "eu-legal below the floor for task_success_rate" in shown and "jp-support" in shown
    assert "the numbers contradict that" in shown  # s1 is marked No
    s1 = local.sandbox.thread(REVIEW_CHANNEL, thread)
    s1_line = json.dumps([m["blocks"] for m in s1 if any(b.get("block_id") == "item:s1" for b in m["blocks"])])
    assert "contradicted by the cohort numbers" in s1_line

    # the same set again: stored once, nothing new in the thread
    status, body = post(local, sample("candidate.csv"), token, content_type="text/csv")
    assert status == 200 and body["duplicate"] is True
    local.drain()
    assert len(evidence_messages(local, thread)) == 1

    # apply s1's suggestion: the usual mark modal, prefilled; the mark settles the suggestion
    with session_scope(local.sessions) as s:
        s1_id, s3_id = suggestion_id(s, "s1"), suggestion_id(s, "s3")
    local.driver.click(p.engineer, REVIEW_CHANNEL, message["ts"], "evidence_apply", block_id=f"suggestion:{s1_id}")
    local.settle()
    view = local.sandbox.view(convo.last_view_id())
    assert view["title"]["text"] == "Partial: s1"
    assert "eu-legal below the floor" in json.dumps(view["blocks"])
    response = local.driver.submit_view(p.engineer, convo.last_view_id(), {"owner": p.quality, "due": DUE})
    local.settle()
    assert response.status == 200 and not response.body.strip()

    # dismiss s3's, with a reason (a blank one is refused)
    local.driver.click(p.engineer, REVIEW_CHANNEL, message["ts"], "evidence_dismiss", block_id=f"suggestion:{s3_id}")
    local.settle()
    refused = json.loads(local.driver.submit_view(p.engineer, convo.last_view_id(), {"reason": "  "}).body)
    assert "reason" in refused["errors"]
    local.driver.submit_view(p.engineer, convo.last_view_id(), {"reason": "jp-support is out of scope"})
    local.settle()
    with session_scope(local.sessions) as s:
        mark = s.scalar(select(ItemMark).where(ItemMark.item_id == "s1"))
        statuses = {r.item_id: (r.status, r.decided_by) for r in s.scalars(select(MarkSuggestion))}
        actions = list(s.scalars(select(AuditEvent.action)))
    assert mark.mark == "partial" and mark.owner == p.quality
    assert statuses["s1"] == ("applied", p.engineer) and statuses["s3"] == ("dismissed", p.engineer)
    assert {"evidence.pushed", "suggestion.applied", "suggestion.dismissed"} <= set(actions)
    updated = json.dumps(local.sandbox.find_message(REVIEW_CHANNEL, message["ts"])["blocks"])
    assert "Applied by" in updated and "jp-support is out of scope" in updated

    # sign-off complete, verdict go: the gate still fails on the cohort regression and says where
    sign_off(local, convo)
    body = gate(local, token)
    assert body["passed"] is False and body["verdict"] == "go" and body["signoff"] == "approved"
    assert any("cohort eu-legal, task_success_rate: fail" in r for r in body["reasons"])
    assert any("cohort jp-support, task_success_rate: regression" in r for r in body["reasons"])
    assert body["cohort"]["counts"]["fail"] == 1 and body["cohort"]["baseline_version"] == "2.3.0"

    # a better candidate of the same version: the gate passes, and the thread hears of it
    status, body = post(local, sample("candidate-fixed.json"), token, query=f"?system={SYSTEM}&version={VERSION}")
    assert status == 201 and body["scorecard"]["passed"] is True
    local.drain()
    assert len(evidence_messages(local, thread)) == 2
    body = gate(local, token)
    assert body["passed"] is True and body["cohort"]["passed"] is True and body["reasons"] == []
    with session_scope(local.sessions) as s:
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 3
        superseded = s.scalar(select(func.count()).select_from(MarkSuggestion).where(
            MarkSuggestion.status == "superseded"))
    assert superseded >= 1


def test_bad_pushes_store_nothing(local, monkeypatch):
    good = token_for(local)
    body = sample("candidate.json")
    for token in (None, "rdy_wrong", "not-a-token"):
        status, answer = post(local, body, token)
        assert status == 401 and set(answer) == {"error"}
    with session_scope(local.sessions) as s:
        revoked = tokens.create(s, TEAM, "old", actor="test")
    with session_scope(local.sessions) as s:
        from datetime import UTC, datetime

        tokens.revoke(s, TEAM, "old", actor="test", now=datetime.now(UTC))
    assert post(local, body, revoked)[0] == 401

    rows = json.loads(body)
    rows["rows"][2]["value"] = 1.7
    rows["rows"][5]["n"] = 0
    rows["rows"][7]["metric"] = "made_up_metric"
    status, answer = post(local, json.dumps(rows).encode(), good)
    assert status == 422
    assert {p["row"] for p in answer["problems"]} == {3, 6, 8}
    assert {(3, "value"), (6, "n"), (8, "metric")} <= {(p["row"], p["field"]) for p in answer["problems"]}
    status, answer = post(local, body, good, query="?version=9.9")
    assert status == 422 and answer["problems"][0]["field"] == "version"
    assert post(local, b"cohort,metric\n", good, content_type="text/csv")[0] == 422
    assert post(local, body, good, content_type="application/xml")[0] == 415
    monkeypatch.setattr("bot.web.evidence.MAX_BODY", 1000)
    assert post(local, body, good)[0] == 413
    with session_scope(local.sessions) as s:
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def table_messages(local: LocalSlack) -> list[dict]:
    return [m for m in local.sandbox.messages(REVIEW_CHANNEL)
            if any(b.get("type") == "table" for a in m.get("attachments", []) for b in a.get("blocks", []))]


def test_slash_command_answers_with_the_scorecard_and_posts_the_grid_as_a_table(local, convo):
    p = local.people
    token = token_for(local)
    convo.start_review(p.lead, SYSTEM, VERSION)
    none = local.driver.slash_command("/readiness", "evidence", user=p.lead, channel=REVIEW_CHANNEL)
    assert "No evidence is stored" in none.body
    post(local, sample("baseline.json"), token)
    post(local, sample("candidate.json"), token)
    local.drain()
    answer = local.driver.slash_command("/readiness", "evidence", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    text = json.dumps(json.loads(answer.body))
    assert "Cohort scorecard" in text and "eu-legal" in text and "Baseline 2.3.0" in text
    [grid] = table_messages(local)  # checked by the sandbox against the table block's limits
    assert not [m for m in local.sandbox.messages(REVIEW_CHANNEL) if m.get("files")]  # no picture any more
    [table] = grid["attachments"][0]["blocks"]
    cohorts = [row[0]["text"] for row in table["rows"][1:]]
    assert "eu-legal" in cohorts and "jp-support" in cohorts
    by_name = local.driver.slash_command("/readiness", f"evidence {SYSTEM} 2.3.0", user=p.lead,
                                         channel=REVIEW_CHANNEL)
    assert "No baseline" in by_name.body
    usage = local.driver.slash_command("/readiness", "evidence a b c", user=p.lead, channel=REVIEW_CHANNEL)
    assert "Usage" in usage.body

    rows = [{"cohort": name, "metric": "task_success_rate", "value": 0.9, "n": 300, "count": 270}
            for name in ("日本-サポート", "Zürich")]
    status, _ = post(local, json.dumps({"system": SYSTEM, "version": "3.0", "rows": rows}).encode(), token)
    assert status == 201
    local.driver.slash_command("/readiness", f"evidence {SYSTEM} 3.0", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    newest = table_messages(local)[-1]["attachments"][0]["blocks"][0]
    assert [row[0] for row in newest["rows"][1:]] == [{"type": "raw_text", "text": "Zürich"},
                                                      {"type": "raw_text", "text": "日本-サポート"}]


def test_a_watch_list_breach_is_alerted_once(local, convo):
    p = local.people
    token = token_for(local)
    convo.start_review(p.lead, SYSTEM, VERSION)
    allow_golive_before_signoff(local)
    local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    refused = json.loads(local.driver.submit_view(p.lead, convo.last_view_id(), {
        "alerts": "a", "cadence": "daily", "escalation_owner": p.operations,
        "watch_items": "escalation_rate >= 0.1"}).body)
    assert "lower is better" in refused["errors"]["watch_items"]
    local.driver.submit_view(p.lead, convo.last_view_id(), {
        "alerts": "p99 over 6 s", "cadence": "daily", "escalation_owner": p.operations,
        "watch_items": "jp-support answers\ntask_success_rate >= 90%\nlatency_p99_end_to_end <= 6 s"})
    local.settle()

    post(local, sample("candidate.json"), token)  # eu-legal 0.84 and jp-support 0.87 are below 0.90
    post(local, sample("candidate.json"), token)
    local.drain()
    alerts = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Watch-list breach")]
    dms = [m for m in local.sandbox.dm_messages(p.operations) if m["text"].startswith("Watch-list breach")]
    assert len(alerts) == 1 and len(dms) == 1
    assert "eu-legal" in json.dumps(alerts[0]["blocks"]) and "jp-support" in json.dumps(alerts[0]["blocks"])

    post(local, sample("candidate-fixed.json"), token)  # no breach in it
    later = json.loads(sample("candidate-fixed.json"))
    for row in later["rows"]:
        if row["cohort"] == "eu-legal" and row["metric"] == "task_success_rate":
            row.update(value=0.84, count=504)  # alerted already
        if row["cohort"] == "us-smb" and row["metric"] == "latency_p99_end_to_end":
            row["value"] = 7000  # new
    post(local, json.dumps(later).encode(), token)
    local.drain()
    alerts = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Watch-list breach")]
    assert len(alerts) == 2
    latest = json.dumps(alerts[-1]["blocks"])
    assert "us-smb" in latest and "latency_p99_end_to_end 7000 is above 6000" in latest and "eu-legal" not in latest
    assert len([m for m in local.sandbox.dm_messages(p.operations) if m["text"].startswith("Watch-list")]) == 2


SOURCE_ATTACK = ("https://evals.example.com/r/1|x> <!channel> *URGENT* <https://evil.example/login"
                 "|re-authenticate here")


def _unsafe(text: str) -> list[str]:
    """Mentions and links in Slack text that came from pushed evidence, not from us."""
    return [bad for bad in ("<!channel>", "<https://evil.example", "|re-authenticate", "<!here>") if bad in text]


def test_pushed_names_and_sources_cannot_ping_or_link_in_slack(local, convo):
    p = local.people
    token = token_for(local)
    thread = review_all_no(local, convo)

    def push_rows(n: int) -> dict:
        rows = [{"cohort": "<!channel>", "metric": "task_success_rate", "value": 0.5, "n": n, "count": n // 2,
                 "source": SOURCE_ATTACK},
                {"cohort": "<!here> *x*", "metric": "escalation_rate", "value": 0.01, "n": n, "count": n // 100}]
        status, body = post(local, json.dumps({"system": SYSTEM, "version": VERSION, "rows": rows}).encode(), token)
        assert status == 201
        local.drain()
        return body

    assert push_rows(1000)["suggestions"] >= 1  # suggestions in the review's thread
    [suggested] = evidence_messages(local, thread)
    shown = json.dumps(suggested["blocks"])
    assert _unsafe(shown) == [] and "&lt;!channel&gt;" in shown
    answer = local.driver.slash_command("/readiness", "evidence", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    shown = json.dumps(json.loads(answer.body))
    assert _unsafe(shown) == [] and "&lt;!channel&gt;" in shown and "eu-legal" in shown  # named, missing

    allow_golive_before_signoff(local)
    local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    local.driver.submit_view(p.lead, convo.last_view_id(), {
        "alerts": "a", "cadence": "daily", "escalation_owner": p.operations,
        "watch_items": "task_success_rate >= 0.90"})
    local.settle()
    assert push_rows(2000)["breaches"] == 1  # a breach alert in the release channel and to the owner
    [alert] = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Watch-list breach")]
    shown = json.dumps(alert["blocks"])
    assert _unsafe(shown) == [] and "&lt;!channel&gt;" in shown
    assert "<https://evals.example.com/r/1%7Cx%3E%20%3C!channel%3E" in shown and "|source>" in shown
    [dm] = [m for m in local.sandbox.dm_messages(p.operations) if m["text"].startswith("Watch-list breach")]
    assert _unsafe(json.dumps(dm["blocks"])) == []


def test_evidence_declared_otherwise_than_the_policy_is_stored_and_explained_never_a_crash(local, convo):
    from bot.core.evidence import parse_policy
    from bot.services import policies

    p = local.people
    token = token_for(local)
    convo.start_review(p.lead, SYSTEM, VERSION)
    with session_scope(local.sessions) as s:
        policies.store(s, TEAM, parse_policy("""
id: custom
version: "1"
metrics: {custom_score: {unit: fraction, direction: higher, kind: rate}}
rules:
  - metric: custom_score
    floor: 0.5
"""), system=SYSTEM, actor="test")
    data = {"system": SYSTEM, "version": VERSION,
            "metrics": {"custom_score": {"unit": "points", "direction": "higher", "kind": "value"}},
            "rows": [{"cohort": "eu", "metric": "custom_score", "value": 95, "n": 100}]}
    status, body = post(local, json.dumps(data).encode(), token)
    why = "declares custom_score as value (points, higher is better) but policy custom declares it as rate"
    assert status == 201 and body["scorecard"] is None and body["suggestions"] == 0
    assert any("not judged" in n and why in n for n in body["notes"])
    answer = local.driver.slash_command("/readiness", "evidence", user=p.lead, channel=REVIEW_CHANNEL)
    assert "cannot be judged" in answer.body and "Something went wrong" not in answer.body
    body = gate(local, token)
    assert body["passed"] is False and any(why in r for r in body["reasons"])


def test_pushing_an_earlier_set_again_makes_it_current(local, convo):
    token = token_for(local)
    convo.start_review(local.people.lead, SYSTEM, VERSION)
    first = post(local, sample("candidate.json"), token)[1]
    post(local, sample("candidate-fixed.json"), token)
    assert gate(local, token)["cohort"]["evidence_id"] != first["evidence_id"]
    status, body = post(local, sample("candidate.json"), token)
    assert status == 200 and body["duplicate"] is True and body["current"] is True
    assert body["evidence_id"] == first["evidence_id"]
    assert gate(local, token)["cohort"]["evidence_id"] == first["evidence_id"]


def test_evidence_asked_in_a_private_channel_or_dm_the_bot_is_not_in_says_what_to_do(local, convo):
    """Slack delivers the command from any conversation, but the bot cannot post the grid where it is not a
    member: the person is told privately to invite it, never "something went wrong"."""
    p = local.people
    token = token_for(local)
    convo.start_review(p.lead, SYSTEM, VERSION)
    post(local, sample("baseline.json"), token)
    post(local, sample("candidate.json"), token)
    local.drain()
    local.sandbox.add_channel("G0SECRET", "secret-plans", is_private=True, members=[p.lead])
    local.sandbox.add_channel("D0LEADDANA", "lead-dana", is_im=True, members=[p.lead, p.quality])
    for where in ("G0SECRET", "D0LEADDANA"):  # a private channel; a direct message between two people
        before = len(local.sandbox.calls_to("response_url"))
        answer = local.driver.slash_command("/readiness", f"evidence {SYSTEM} {VERSION}", user=p.lead, channel=where)
        local.settle()
        assert "Cohort scorecard" in json.dumps(json.loads(answer.body))  # the scorecard itself, as always
        said = [c.args["text"] for c in local.sandbox.calls_to("response_url")[before:]]
        assert len(said) == 1 and "/invite @Readiness" in said[0] and "grid" in said[0], said
        assert "went wrong" not in said[0]
        assert local.sandbox.calls_to("response_url")[-1].args.get("response_type") == "ephemeral"
    assert table_messages(local) == []
