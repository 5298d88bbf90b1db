"""`make demo`: a complete scripted review through the real app over HTTP against the local Slack sandbox.

It needs no Slack account and no network, uses the embedded SQLite default (DATABASE_URL), and prints
what each person would have seen in Slack, ending with the scorecard. It also writes slack-surfaces.html, one
page that draws every Slack surface of the run (bot/sandbox/slack_html), and prints its path.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path

from bot.core.slack_ids import is_user_id
from bot.sandbox.local import REVIEW_CHANNEL, Conversation, FlowError, LocalSlack
from bot.sandbox.transcript import blocks_to_lines, indent, mrkdwn_to_text
from bot.settings import Settings, load_settings

YES, PARTIAL, NO = "yes", "partial", "no"
SURFACES_PAGE = Path("slack-surfaces.html")  # in the working directory, like the demo's SQLite file


class Narrator:
    """Prints the new sandbox calls after each step, as the people in the channel would read them."""

    def __init__(self, local: LocalSlack) -> None:
        self.local = local
        self.seen = 0
        self.names = {uid: name for uid, (name, _tz) in local.people.names.items()}
        self.names.update({"C0REVIEW": "ai-rollout", "C0RELEASE": "release-approvals"})

    def name(self, slack_id: str) -> str:
        return self.names.get(slack_id, slack_id)

    def say(self, line: str) -> None:
        print(f"\n> {line}")

    def show(self, focus_item: str | None = None) -> None:
        calls = self.local.sandbox.calls[self.seen :]
        self.seen += len(calls)
        for call in calls:
            if not call.ok:
                continue
            self._render(call.method, call.args, focus_item)

    def _where(self, args: dict[str, object]) -> str:
        channel = str(args.get("channel", ""))
        place = f"DM to @{self.name(channel)}" if is_user_id(channel) else f"#{self.name(channel)}"
        return place + (" (thread)" if args.get("thread_ts") else "")

    def _render(self, method: str, args: dict[str, object], focus_item: str | None) -> None:
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if method == "chat.postMessage":
            print(f"  [{self._where(args)}] Readiness:")
            print(indent(blocks_to_lines(blocks, self.name) if blocks else [str(args.get("text"))]))
        elif method == "chat.update":
            status = [b for b in blocks if b.get("block_id") == f"item:{focus_item}" and b.get("type") == "section"]
            if status:
                print(f"  [#{self.name(str(args['channel']))} thread, item updated] "
                      + blocks_to_lines(status, self.name)[0].strip())
            else:
                print(f"  [#{self.name(str(args['channel']))}, review message updated] "
                      + mrkdwn_to_text(str(args.get("text", "")), self.name))
        elif method == "views.open":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            assert isinstance(view, dict)
            print(f"  [modal] {view['title']['text']}")
            print(indent(blocks_to_lines(view.get("blocks", []), self.name), prefix="      "))
        elif method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            assert isinstance(view, dict)
            print(f"  [App Home of @{self.name(str(args.get('user_id')))}]")
            print(indent(blocks_to_lines(view.get("blocks", []), self.name)))


def _ephemeral(narrator: Narrator, body: str | None) -> None:
    data = json.loads(body) if body else {}
    if data.get("blocks"):
        lines = blocks_to_lines(data["blocks"], narrator.name)
    else:
        lines = [mrkdwn_to_text(str(data.get("text", "")), narrator.name)]
    print("  [only visible to you]")
    print(indent(lines))


def script(local: LocalSlack) -> int:
    c, n, p = Conversation(local), Narrator(local), local.people
    due = lambda days: (date.today() + timedelta(days=days)).isoformat()  # noqa: E731
    evidence = {
        "s2": "Escalation eval run 8812: 96% of out-of-scope prompts handed off",
        "s3": "Per-workflow success report, all five workflows above 92%",
        "s6": "Citation validity 97% on the grounded set (run 8812)",
        "s7": "Tool timeout and partial-data runbook, exercised on chaos day",
        "s8": "Workflow completion dashboard: 97% over 30 days",
        "s9": "Best-effort answers are labelled; grounded-mode tests pass",
        "s10": "p95 2.1 s and p99 4.8 s at 3x pilot load (load test LT-44)",
        "s12": "Retry and fallback budgets in the service runbook",
        "s13": "Stage-level latency spans for model, retrieval, rerank and tools",
        "s14": "CI job eval-gate blocks prompt, model and index changes",
        "s15": "Canary at 5%, then 25% per tenant group",
        "s17": "Sign-off model: quality dana, policy ines, operations sam",
        "s18": "One trace per request: retrieval, tools, output, timing",
        "s20": "On-call rota and weekly reliability review, owned by search",
        "s21": "Rollout packet drafted for the EU customer council",
        "data-boundary": "Tenant isolation suite and policy review, 2026-11-18",
    }
    gaps = {
        "s1": (PARTIAL, p.quality, 21, "jp-support success trails the other cohorts by 9 points"),
        "s4": (PARTIAL, p.operations, 23, "Support still re-checks refund answers by hand"),
        "s5": (PARTIAL, p.engineer, 18, "SKU lookups miss on versioned catalogues"),
        "s19": (PARTIAL, p.quality, 22, "Groundedness and drift are not yet tracked per cohort"),
    }

    n.say("@alex runs `/readiness start support-search-assistant 2.4.0` in #ai-rollout and fills in the form")
    thread = c.start_review(p.lead, "support-search-assistant", "2.4.0", cohorts="eu-legal, jp-support, us-enterprise")
    n.show()

    n.say("@sam marks s11 (capacity) Yes: expansion traffic was never tested")
    c.mark(p.operations, thread, "s11", YES, owner=p.operations, due=due(14), note="Load-tested at 3x pilot; expansion is 5x")
    n.show("s11")

    n.say("@dana marks s16 (rollback rehearsal) Partial: a blocker under the override rule")
    c.mark(p.quality, thread, "s16", PARTIAL, owner=p.operations, due=due(7), note="Rollback flipped in staging only")
    n.show("s16")

    n.say("@priya tries to mark s2 No with blank evidence")
    response = c.mark(p.engineer, thread, "s2", NO, evidence="   ")
    n.show("s2")
    refused = json.loads(response.body or "{}")  # type: ignore[attr-defined]
    print(f"  [modal stays open, under Evidence] {'; '.join(refused.get('errors', {}).values())}")
    local.driver.close_view(p.engineer, c.last_view_id())  # type: ignore[union-attr]

    n.say("The team works through the checklist")
    for item_id in local_items(local):
        if item_id in ("s11", "s16"):
            continue
        if item_id in gaps:
            mark, owner, days, note = gaps[item_id]
            c.mark(p.quality, thread, item_id, mark, owner=owner, due=due(days), note=note)
        else:
            c.mark(p.engineer, thread, item_id, NO, evidence=evidence[item_id])
        n.show(item_id)

    n.say("@sam rehearses the rollback in production and re-marks s16 No")
    c.mark(p.operations, thread, "s16", NO, evidence="Rollback rehearsed 2026-11-26: 6 minutes back to 2.3.2",
           reason="Rehearsed in production")
    n.show("s16")

    n.say("@sam re-marks s11 Partial after a 5x load test on two of three cohorts")
    c.mark(p.operations, thread, "s11", PARTIAL, owner=p.operations, due=due(10),
           note="5x load passes for eu-legal and us-enterprise; jp-support pending", reason="New load test")
    n.show("s11")

    signoff(local, c, n)

    n.say("@alex records the go-live with `/readiness golive` and fills in the monitoring plan")
    local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)  # type: ignore[union-attr]
    local.settle()
    n.show()
    local.driver.submit_view(p.lead, c.last_view_id(), {  # type: ignore[union-attr]
        "alerts": "p99 latency over 6 s for 10 minutes; escalation rate over 8% in any cohort",
        "cadence": "daily check-in for a week, then the weekly reliability review",
        "escalation_owner": p.operations,
        "watch_items": "jp-support task success\nrefund tool timeouts\ncitation validity on eu-legal",
    })
    local.settle()
    n.show()
    print("  (for the next seven days a check-in is posted in that thread; the escalation owner is nudged")
    print("   at the end of the working day if nobody answers, and a summary follows day seven)")

    n.say("@alex runs `/readiness status support-search-assistant`")
    _ephemeral(n, local.driver.slash_command("/readiness", "status support-search-assistant",  # type: ignore[union-attr]
                                             user=p.lead, channel=REVIEW_CHANNEL).body)
    n.say("@dana runs `/readiness gaps`")
    _ephemeral(n, local.driver.slash_command("/readiness", "gaps", user=p.quality,  # type: ignore[union-attr]
                                             channel=REVIEW_CHANNEL).body)
    n.say("@dana opens the Readiness App Home")
    local.driver.app_home_opened(p.quality)  # type: ignore[union-attr]
    local.settle()
    n.show()

    final_scorecard(local)
    rollout_packet(local, c, n)
    problems = local.sandbox.violations
    print(f"\nSlack calls made: {len(local.sandbox.calls)}; contract violations: {len(problems)}")
    for v in problems:
        print(f"  ! {v}")
    return 0 if not problems else 1


def signoff(local: LocalSlack, c: Conversation, n: Narrator) -> None:
    """The approvers named in s17's evidence decide on the card; the verdict (narrow) allows a staged rollout."""
    from bot.sandbox.local import RELEASE_CHANNEL

    p, driver = local.people, local.driver
    assert driver is not None
    n.say("@alex asks for sign-off with `/readiness signoff`: @dana for quality, @ines for policy, @sam for "
          "operations")
    driver.slash_command("/readiness", "signoff", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    driver.submit_view(p.lead, c.last_view_id(), {"role:quality": p.quality, "role:policy": p.policy,
                                                  "role:operations": p.operations})
    local.settle()
    n.show()
    card = next(m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Sign-off for"))
    reasons = {"quality": (p.quality, "EU tenants first; jp-support after the 5x load test"),
               "policy": (p.policy, "Staged per tenant group, as in the rollout plan"),
               "operations": (p.operations, "Canary first; on-call briefed")}
    for role, (user, reason) in reasons.items():
        n.say(f"@{n.name(user)} approves a staged rollout for {role}: {reason}")
        driver.click(user, RELEASE_CHANNEL, str(card["ts"]), "signoff_staged", block_id=f"decide:{role}")
        local.settle()
        driver.submit_view(user, c.last_view_id(user), {"reason": reason})
        local.settle()
        n.show()


def final_scorecard(local: LocalSlack) -> None:
    from bot.core.scorecard_view import scorecard_text
    from bot.db import session_scope
    from bot.sandbox.local import TEAM
    from bot.services.assessments import current_marks, find_latest
    from bot.services.reviews import load_review

    with session_scope(local.sessions) as session:
        assessment = find_latest(session, TEAM, "support-search-assistant", "2.4.0")
        assert assessment is not None
        review = load_review(session, TEAM, assessment.id)
        marks = current_marks(session, assessment)
    print("\n== Scorecard (what `/readiness status` and `readiness score` report) ==\n")
    names = {uid: name for uid, (name, _tz) in local.people.names.items()}
    print(scorecard_text(review.label, review.checklist, marks, review.card, names), end="")


def rollout_packet(local: LocalSlack, c: Conversation, n: Narrator) -> None:
    """The demo ends with the minimum rollout packet: trace examples, the rollout plan, then the packet."""
    import urllib.request

    p = local.people
    n.say("@priya adds three trace examples with `/readiness trace` (good, bad and escalation path)")
    for kind, url, text in (
        ("good", "https://traces.example.com/t/8812", "Refund question answered with two valid citations"),
        ("bad", "https://traces.example.com/t/9120", "SKU lookup on a versioned catalogue quotes the old price"),
        ("escalation", "https://traces.example.com/t/9301", "Contract question handed to a support lead"),
    ):
        c.add_trace(p.engineer, kind, url, text)
    n.show()
    n.say("@alex writes the rollout plan with `/readiness rollout`")
    c.rollout_plan(p.lead, "1. Canary at 5% of EU tenants for 48 hours\n2. 25% per tenant group\n3. All tenants",
                   "1. Turn flag search.v24 off\n2. Point the index alias back to 2.3.2\n3. Confirm on the dashboard")
    n.show()
    assert local.delivery is not None  # what the scheduler's reconcile does: people's names and time zones
    local.delivery.reconciler.fetch_people()
    n.say("@alex runs `/readiness packet`")
    link = c.packet(p.lead)
    for record in sorted(local.sandbox.files.values(), key=lambda f: f["name"]):
        print(f"  [#{n.name(REVIEW_CHANNEL)} (thread), file] {record['title']}: {record['name']}, "
              f"{len(record['content'] or b'')} bytes")
    n.show()
    with urllib.request.urlopen(link) as page:  # noqa: S310 - the local server
        print(f"  [browser] GET {link.split('?')[0]}?… answered {page.status} {page.headers['Content-Type']} "
              "(the link is signed and served only while the demo runs)")


def local_items(local: LocalSlack) -> list[str]:
    assert local.app is not None
    from bot.core.checklist import load_checklist

    return list(load_checklist(Settings().checklist_path).item_ids)


def run_demo(_args: argparse.Namespace) -> int:
    settings = load_settings()
    print("Readiness demo: a full review through the real app over HTTP, against the local Slack sandbox.")
    print(f"Database: {settings.database_url}  (no Slack account or network needed)")
    with LocalSlack(settings.database_url) as local:
        try:
            return script(local)
        except FlowError as exc:
            print(f"\ndemo failed: {exc}")
            return 1
        finally:
            write_surfaces(local)


def write_surfaces(local: LocalSlack, path: Path = SURFACES_PAGE) -> Path:
    """One HTML page that draws every Slack surface of the run as Slack would; prints where it is."""
    from bot.sandbox.slack_html import render_workspace

    page = path.resolve()
    page.write_text(render_workspace(local.sandbox, title="Readiness demo: every Slack surface"), encoding="utf-8")
    print(f"\nEvery Slack surface of the run, drawn as Slack would show it: {page}")
    return page
