"""OAuth mode end to end: two workspaces installed through the sandbox's OAuth flow run reviews side by side.

Everything goes over real HTTP: "Add to Slack" on the app, Allow on the sandbox's authorize page, back to the
app's redirect, then signed Slack requests of each workspace's people. The sandbox knows which workspace
every token, channel and user belongs to: a call with another workspace's token is a contract violation.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import db_now, session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, TEAM, Conversation, LocalSlack
from bot.services import outbox, workspaces
from models import AuditEvent, OutboxMessage, Workspace, slack_bots
from scheduler.delivery import keys_of

OTHER = "T0OTHER"
OTHER_REVIEW, OTHER_RELEASE = "C1REVIEW", "C1RELEASE"
OTHER_LEAD, OTHER_OWNER = "U1LEE", "U1OMAR"
ALWAYS = {"working_hours": "00:00-23:59:59", "working_days": "mon,tue,wed,thu,fri,sat,sun"}


class Clock:
    """A month back, so every planned reminder is due by the database's clock."""

    def __init__(self) -> None:
        self.now = (datetime.now(UTC) - timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def day(self, offset: int) -> str:
        return (self.now + timedelta(days=offset)).date().isoformat()


class OtherConversation(Conversation):
    """The scripted steps, by the people of the second workspace in its own channels."""

    def __init__(self, local: LocalSlack, driver) -> None:
        super().__init__(local)
        self._driver = driver

    @property
    def driver(self):
        return self._driver


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def two(engine, clock):
    with LocalSlack(engine=engine, clock=clock, oauth=True, **ALWAYS) as local:
        driver = local.add_workspace(OTHER, "Other Corp", {OTHER_REVIEW: "ai-rollout", OTHER_RELEASE: "releases"},
                                     {OTHER_LEAD: ("lee", "UTC"), OTHER_OWNER: ("omar", "UTC")})
        yield local, OtherConversation(local, driver)
        assert local.sandbox.violations == [], "the bot broke Slack's contract"


def sweep(local: LocalSlack) -> int:
    local.settle()
    return local.delivery.deliverer.sweep()


def reminder_keys(messages: list[dict]) -> list[str]:
    keys = [k for m in messages for k in keys_of(m.get("metadata"))]
    return [k for k in keys if k.startswith("gap:")]


def test_nothing_works_before_the_install_and_the_install_page_is_self_contained(two):
    local, _ = two
    with pytest.raises(AssertionError):
        Conversation(local).start_review(local.people.lead, "copilot", "1.0")
    assert local.sandbox.calls_to("views.open") == []
    import urllib.request

    with urllib.request.urlopen(local.server.url + "/slack/install", timeout=10) as response:
        page = response.read().decode()
        cookie = response.headers.get("Set-Cookie") or ""
    assert 'id="add-to-slack"' in page and "slack-edge.com" not in page and "<script" not in page
    assert "slack-app-oauth-state=" in cookie and "HttpOnly" in cookie
    assert local.sandbox.url + "/oauth/v2/authorize?" in page and "client_id=1111.2222" in page


def test_two_workspaces_run_reviews_side_by_side_each_with_its_own_token(two, clock):
    local, other = two
    p = local.people
    for team in (TEAM, OTHER):
        page = local.install(team)
        assert page.status == 200 and "Thank you" in page.text, page.text[:500]
    provider = local.sandbox.oauth
    with session_scope(local.sessions) as s:
        stored = {r.team_id: r.bot_token for r in s.execute(select(slack_bots))}
        installs = s.scalars(select(AuditEvent.team_id).where(AuditEvent.action == "app.installed")).all()
    assert set(stored) == {TEAM, OTHER} and sorted(installs) == [OTHER, TEAM]
    # at rest, the tokens are Fernet ciphertext: neither the token nor its prefix is in the database
    assert all(value.startswith("gAAAA") and "xoxb" not in value for value in stored.values())

    mine = Conversation(local)
    thread = mine.start_review(p.lead, "copilot", "2.0")
    mine.mark(p.lead, thread, "s1", "yes", owner=p.quality, due=clock.day(1), note="mine")
    theirs = other.start_review(OTHER_LEAD, "assistant", "1.0", channel=OTHER_REVIEW, release_channel=OTHER_RELEASE)
    other.mark(OTHER_LEAD, theirs, "s2", "partial", owner=OTHER_OWNER, due=clock.day(1), note="theirs",
               channel=OTHER_REVIEW)
    assert sweep(local) > 0

    # reminders reached each workspace's owner, each posted with that workspace's own token
    assert reminder_keys(local.sandbox.dm_messages(p.quality)) and reminder_keys(local.sandbox.dm_messages(OTHER_OWNER))
    for team, owner in ((TEAM, p.quality), (OTHER, OTHER_OWNER)):
        posts = [a for m, a in provider.calls_by(team) if m == "chat.postMessage"]
        assert any(a.get("channel") in (owner, local.sandbox.dm_channel(owner)) for a in posts), (team, posts)
    other_channels = {OTHER_REVIEW, OTHER_RELEASE, OTHER_LEAD, OTHER_OWNER, local.sandbox.dm_channel(OTHER_OWNER)}
    assert not any(a.get("channel") in other_channels for _, a in provider.calls_by(TEAM))

    # the second workspace's data stays invisible to the first
    listing = local.driver.slash_command("/readiness", "list", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    shown = json.dumps(listing.json or {}) + json.dumps([c.args for c in local.sandbox.calls_to("chat.postEphemeral")])
    assert "copilot" in shown and "assistant" not in shown
    status = other.driver.slash_command("/readiness", "status copilot", user=OTHER_LEAD, channel=OTHER_REVIEW)
    local.settle()
    assert "copilot 2.0" not in json.dumps(status.json or {})

def _a_gap_in_each_workspace(local, other, clock):  # type: ignore[no-untyped-def]
    """Both workspaces installed, each with a review holding one gap whose reminders are owed; returns the
    other workspace's review thread."""
    p = local.people
    local.install(TEAM)
    local.install(OTHER)
    mine = Conversation(local)
    thread = mine.start_review(p.lead, "copilot", "2.0")
    mine.mark(p.lead, thread, "s1", "yes", owner=p.quality, due=clock.day(45), note="later")
    theirs = other.start_review(OTHER_LEAD, "assistant", "1.0", channel=OTHER_REVIEW, release_channel=OTHER_RELEASE)
    other.mark(OTHER_LEAD, theirs, "s2", "partial", owner=OTHER_OWNER, due=clock.day(45), note="later",
               channel=OTHER_REVIEW)
    sweep(local)
    return theirs


def test_uninstall_stops_that_workspace_at_once_and_only_that_one(two, clock):
    local, other = two
    theirs = _a_gap_in_each_workspace(local, other, clock)
    with session_scope(local.sessions) as s:
        owed = s.scalar(select(OutboxMessage.id).where(OutboxMessage.team_id == TEAM, OutboxMessage.status == "pending"))
    assert owed is not None, "the later reminders are owed"

    local.sandbox.oauth.revoke(TEAM)  # what Slack does on an uninstall, before telling the app
    event = {"type": "app_uninstalled"}
    assert local.driver.event(event, event_id="EvUNINSTALL1").status == 200
    assert local.driver.event(event, event_id="EvUNINSTALL1", retry_num=1).status == 200  # a retry: once
    local.settle()
    with session_scope(local.sessions) as s:
        mine_open = s.scalars(select(OutboxMessage).where(OutboxMessage.team_id == TEAM,
                                                          OutboxMessage.status.in_(("pending", "unknown")))).all()
        cancelled = s.scalars(select(OutboxMessage.last_error).where(OutboxMessage.team_id == TEAM,
                                                                     OutboxMessage.status == "cancelled")).all()
        theirs_open = s.scalar(select(OutboxMessage.id).where(OutboxMessage.team_id == OTHER,
                                                              OutboxMessage.status == "pending"))
        audited = s.scalars(select(AuditEvent).where(AuditEvent.team_id == TEAM,
                                                     AuditEvent.action == workspaces.APP_UNINSTALLED)).all()
        workspace = s.get(Workspace, TEAM)
        bots = s.scalars(select(slack_bots.c.team_id)).all()
    assert mine_open == [] and cancelled and all(e == "cancelled: app.uninstalled" for e in cancelled)
    assert theirs_open is not None, "the other workspace still gets its reminders"
    assert len(audited) == 1 and audited[0].after["outbox_cancelled"] >= 1
    assert workspace.uninstalled_at is not None and bots == [OTHER]

    # the reconcile owes the uninstalled workspace nothing, and a row that comes due anyway is cancelled
    calls_before = len(local.sandbox.oauth.calls_by(TEAM))
    local.delivery.reconciler.run()
    with session_scope(local.sessions) as s:
        revived = s.scalar(select(OutboxMessage.id).where(OutboxMessage.team_id == TEAM,
                                                          OutboxMessage.status == "pending"))
        outbox.enqueue(s, TEAM, dedupe_key="late:notice", kind="blocker_alert", recipient=RELEASE_CHANNEL,
                       due_at=db_now(s), assessment_id=None)
    assert revived is None
    sweep(local)
    with session_scope(local.sessions) as s:
        late = s.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "late:notice"))
    assert (late.status, late.last_error) == ("cancelled", "cancelled: uninstalled")
    assert len(local.sandbox.oauth.calls_by(TEAM)) == calls_before

    # the other workspace goes on: a new gap's owner hears of it at once, with that workspace's token
    other.mark(OTHER_LEAD, theirs, "s3", "yes", owner=OTHER_OWNER, due=clock.day(45), note="more", channel=OTHER_REVIEW)
    sweep(local)
    assert any(m == "chat.postMessage" and a.get("channel") in (OTHER_OWNER, local.sandbox.dm_channel(OTHER_OWNER))
               for m, a in local.sandbox.oauth.calls_by(OTHER))


def test_doctor_lists_each_workspace_and_those_without_a_valid_installation(two):
    from bot.cli.doctor import run

    local, other = two
    local.install(TEAM)
    local.install(OTHER)
    settings = local.settings.model_copy(update={
        "database_url": local.engine.url.render_as_string(hide_password=False)})
    lines, healthy = run(settings)
    assert healthy, lines
    assert any(line.startswith(f"workspace ok    {TEAM}") for line in lines), lines
    local.sandbox.oauth.revoke(OTHER)  # revoked at Slack, but the app was never told
    with session_scope(local.sessions) as s:
        from bot.services.workspaces import ensure_workspace

        ensure_workspace(s, "T0NEVER")  # data, but no installation
    lines, healthy = run(settings)
    assert not healthy
    assert any(line.startswith(f"workspace FAIL  {OTHER}: auth.test: token_revoked") for line in lines), lines
    assert any(line.startswith("workspace FAIL  T0NEVER: no installation") for line in lines), lines


def test_rotating_tokens_are_refreshed_before_they_expire(engine, clock):
    with LocalSlack(engine=engine, clock=clock, oauth=True, token_ttl=3600, **ALWAYS) as local:
        local.install(TEAM)
        provider = local.sandbox.oauth
        (installed_token,) = provider.tokens
        convo, p = Conversation(local), local.people
        thread = convo.start_review(p.lead, "copilot", "2.0")
        convo.mark(p.lead, thread, "s1", "yes", owner=p.quality, due=clock.day(1), note="a")
        local.sandbox.advance(3601)  # every token issued so far has expired, by Slack's clock
        assert sweep(local) > 0
        assert reminder_keys(local.sandbox.dm_messages(p.quality))
        assert provider.refreshed >= 2  # at the requests (bolt's authorize) and at the delivery
        assert local.sandbox.violations == [], "an expired token was used"
        with session_scope(local.sessions) as s:
            stored = s.execute(select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)).one()
        cipher = local.delivery.deliverer.workspaces.store.cipher
        token, refresh = (cipher.decrypt(v.encode()).decode() for v in stored)
        assert token != installed_token and provider.team_of(token) == TEAM
        assert provider.refusal(token) is None and refresh in provider.refresh_tokens


def test_doctor_shows_when_and_why_a_workspace_stopped_being_served(two):
    """The operator's retention period runs from the uninstall: the doctor says when it was, as in single-token
    mode."""
    from bot.cli.doctor import run

    local, _ = two
    local.install(TEAM)
    local.install(OTHER)
    local.sandbox.oauth.revoke(TEAM)
    assert local.driver.event({"type": "app_uninstalled"}, event_id="EvUNINSTALL2").status == 200
    local.settle()
    with session_scope(local.sessions) as s:
        at = s.get(Workspace, TEAM).uninstalled_at
    settings = local.settings.model_copy(update={
        "database_url": local.engine.url.render_as_string(hide_password=False)})
    lines, healthy = run(settings)
    assert healthy, lines  # an uninstall is not a fault
    assert f"workspace info  {TEAM}: app.uninstalled at {at:%Y-%m-%d %H:%M} UTC; nothing is delivered there" in lines


SHARED = "C0SHARED"


def _review_in_a_slack_connect_channel(local, clock, *, other_installed: bool) -> tuple[Conversation, str]:
    """TEAM's review in a channel TEAM shares with OTHER (Slack Connect); OTHER's owner takes part in it."""
    local.install(TEAM)
    if other_installed:
        local.install(OTHER)
    local.sandbox.add_channel(SHARED, "shared-rollout", bot_is_member=True)
    local.sandbox.oauth.add_channels(TEAM, SHARED)
    local.sandbox.oauth.share_channel(SHARED, OTHER, guests=(OTHER_OWNER,))
    mine = Conversation(local)
    thread = mine.start_review(local.people.lead, "copilot", "2.0", channel=SHARED)
    return mine, thread


@pytest.mark.parametrize(("payload_team", "other_installed"), [(OTHER, True), (OTHER, False), (TEAM, True)],
                         ids=["names-the-clickers-workspace", "clickers-workspace-not-installed",
                              "names-the-host-workspace"])
def test_a_click_from_another_workspace_in_a_slack_connect_channel_acts_on_the_review_it_was_made_on(
        two, clock, payload_team, other_installed):
    """A person of OTHER marks an item of TEAM's review in a channel the two workspaces share. Whichever
    workspace the payload names (the clicker's, or the host's with the clicker's as user.team_id), Readiness
    acts on the installed workspace whose review it is, with that workspace's token."""
    from bot.sandbox.driver import SlackDriver
    from bot.sandbox.local import SIGNING_SECRET
    from models import ItemMark

    local, _ = two
    mine, thread = _review_in_a_slack_connect_channel(local, clock, other_installed=other_installed)
    driver = SlackDriver(local.server.url + "/slack/events", SIGNING_SECRET, local.sandbox, team_id=payload_team)
    ts = mine.item_message(SHARED, thread, "s2")
    opened_before = len([m for m, _ in local.sandbox.oauth.calls_by(TEAM) if m == "views.open"])
    driver.click(OTHER_OWNER, SHARED, ts, "mark_no", block_id="item:s2")
    local.settle()
    assert local.sandbox.calls_to("response_url") == [], [c.args for c in local.sandbox.calls_to("response_url")]
    opened = [m for m, _ in local.sandbox.oauth.calls_by(TEAM) if m == "views.open"]
    assert len(opened) == opened_before + 1  # with the host's token
    view = mine.last_view()
    assert view["callback_id"] == "mark_item" and view["app_installed_team_id"] == TEAM
    answer = driver.submit_view(OTHER_OWNER, str(view["id"]), {"evidence": "the shared runbook"})
    local.settle()
    assert answer.status == 200 and not answer.body.strip(), answer.body
    with session_scope(local.sessions) as s:
        marked = s.execute(select(ItemMark.team_id, ItemMark.mark).where(ItemMark.item_id == "s2")).all()
    assert [(t, str(m)) for t, m in marked] == [(TEAM, "no")]


def test_a_slack_connect_click_never_reaches_a_workspace_that_is_not_installed_any_more(two, clock, monkeypatch):
    """The owner of a shared channel uninstalled Readiness: a click on its old message there is the clicker's
    workspace's, which has no such review, and nothing is read or sent with the old workspace's token."""
    import handlers.lazy
    from models import ItemMark

    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 2.0)  # a refusal found at once opens as the modal itself
    local, other = two
    mine, thread = _review_in_a_slack_connect_channel(local, clock, other_installed=True)
    ts = mine.item_message(SHARED, thread, "s2")
    local.sandbox.oauth.revoke(TEAM)
    assert local.driver.event({"type": "app_uninstalled"}, event_id="EvUNINSTALL3").status == 200
    local.settle()
    calls_before = len(local.sandbox.oauth.calls_by(TEAM))
    others_before = len(local.sandbox.oauth.calls_by(OTHER))
    other.driver.click(OTHER_OWNER, SHARED, ts, "mark_no", block_id="item:s2")
    local.settle()
    refused = json.dumps(mine.last_view())  # the modal opens with OTHER's token and says why there is no form
    assert "no assessment #" in refused.lower() and "in this workspace" in refused, refused
    assert [m for m, _ in local.sandbox.oauth.calls_by(OTHER)[others_before:] if m.startswith("views.")] == \
        ["views.open"]
    assert len(local.sandbox.oauth.calls_by(TEAM)) == calls_before
    with session_scope(local.sessions) as s:
        assert s.scalar(select(ItemMark.mark).where(ItemMark.item_id == "s2")) is None  # unmarked


def test_a_command_in_a_slack_connect_channel_stays_its_senders_workspaces(two, clock):
    """Only a click on a review's message is the review's workspace's: an admin of OTHER who types
    `/readiness config` in the shared channel gets OTHER's settings, never TEAM's."""
    local, other = two
    _review_in_a_slack_connect_channel(local, clock, other_installed=True)
    local.sandbox.add_user(OTHER_LEAD, "lee", tz="UTC", is_admin=True)  # an admin of OTHER, in the channel
    local.sandbox.oauth.share_channel(SHARED, OTHER, guests=(OTHER_LEAD,))
    team_calls = len(local.sandbox.oauth.calls_by(TEAM))
    other.driver.slash_command("/readiness", "config", user=OTHER_LEAD, channel=SHARED)
    local.settle()
    assert len(local.sandbox.oauth.calls_by(TEAM)) == team_calls
    assert "views.open" in [m for m, _ in local.sandbox.oauth.calls_by(OTHER)]


def test_tokens_revoked_for_the_bot_stops_that_workspace_with_the_reason_and_a_user_token_does_not(two, clock):
    local, other = two
    _a_gap_in_each_workspace(local, other, clock)

    def open_rows(team: str) -> list[OutboxMessage]:
        with session_scope(local.sessions) as s:
            return list(s.scalars(select(OutboxMessage).where(OutboxMessage.team_id == team,
                                                              OutboxMessage.status.in_(("pending", "unknown")))))

    owed = len(open_rows(TEAM))
    assert owed and open_rows(OTHER)
    # a person's own token revoked: the bot's still works, nothing stops
    user_only = {"type": "tokens_revoked", "tokens": {"oauth": [local.people.lead], "bot": []}}
    assert local.driver.event(user_only, event_id="EvREVOKEUSER").status == 200
    local.settle()
    assert len(open_rows(TEAM)) == owed

    local.sandbox.oauth.revoke(TEAM)  # what Slack does to the bot token, before telling the app
    bot = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [local.sandbox.bot_user_of(TEAM)]}}
    assert local.driver.event(bot, event_id="EvREVOKEBOT").status == 200
    assert local.driver.event(bot, event_id="EvREVOKEBOT", retry_num=1).status == 200  # a retry: once
    local.settle()
    with session_scope(local.sessions) as s:
        cancelled = s.scalars(select(OutboxMessage.last_error).where(OutboxMessage.team_id == TEAM,
                                                                     OutboxMessage.status == "cancelled")).all()
        audited = s.scalars(select(AuditEvent).where(AuditEvent.team_id == TEAM,
                                                     AuditEvent.action == workspaces.TOKENS_REVOKED)).all()
        workspace = s.get(Workspace, TEAM)
        bots = s.scalars(select(slack_bots.c.team_id)).all()
    assert open_rows(TEAM) == [] and len([e for e in cancelled if e == "cancelled: tokens.revoked"]) >= owed
    assert len(audited) == 1 and audited[0].after["outbox_cancelled"] >= owed and audited[0].actor == "slack"
    assert workspace.uninstall_reason == workspaces.TOKENS_REVOKED and workspace.uninstalled_at is not None
    assert bots == [OTHER] and open_rows(OTHER), "the other workspace goes on"
