"""`readiness run` (Socket Mode), stopped with a real SIGTERM mid-sweep, against the sandbox's Socket Mode.

The sandbox stands in for Slack's Socket Mode (``bot.sandbox.socket_mode``: apps.connections.open with the
app-level token, a WebSocket, hello, envelopes and their acknowledgements). The process connects, answers a
slash command over the socket, starts posting twelve escalations due at once (one a second, the channel's
pace), and gets SIGTERM after its third post: it disconnects from Slack, finishes the post it is making,
releases the rows it still holds (pending again, due now, for another replica), closes its pool and exits 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.db import session_factory, session_scope
from bot.sandbox.server import SlackSandbox
from models import OutboxMessage

from .fleet import REPLICA_SCRIPT
from .test_chaos import replica_env
from .test_sigterm import LEAD, LEASE, POSTS_BEFORE_SIGTERM, REVIEW, ROWS, SWEEP, TEAM, _posts, _setup, _wait

APP_TOKEN = "xapp-1-sandbox-sigterm"
# `readiness run` as the chaos replicas run it: its reconcile leaves the test's hand-written escalations alone,
# whenever it runs (a loaded machine may start it only after the set-up)
RUN = [sys.executable, str(REPLICA_SCRIPT), "run"]


def _command(sandbox: SlackSandbox) -> dict[str, str]:
    """A slash command as Socket Mode carries it: the fields of the HTTP form, as an object."""
    return {"token": "sandbox-verification-token", "team_id": TEAM, "team_domain": "sandbox", "channel_id": REVIEW,
            "channel_name": "review", "user_id": LEAD, "user_name": "lead", "command": "/readiness", "text": "help",
            "api_app_id": "A0READY", "is_enterprise_install": "false",
            "response_url": sandbox.new_response_url(REVIEW, LEAD), "trigger_id": sandbox.issue_trigger_id(LEAD)}


def test_socket_mode_run_stops_cleanly_on_sigterm(chaos_db, tmp_path: Path, checklist):
    db, url, engine = chaos_db
    sandbox = SlackSandbox(token="xoxb-sigterm", team_id=TEAM).start()
    hub = sandbox.enable_socket_mode(APP_TOKEN)
    sessions = session_factory(engine)
    env = replica_env(url, sandbox) | {"SLACK_APP_TOKEN": APP_TOKEN, "SWEEP_INTERVAL_SECONDS": str(SWEEP),
                                        "LEASE_SECONDS": str(LEASE), "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
    err_path = tmp_path / "run.err"
    with open(tmp_path / "run.out", "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(RUN, cwd=Path(__file__).resolve().parents[2], env=env,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert hub.wait_for(lambda: hub.connected == 1, timeout=60), err_path.read_text()[-2000:]
        _setup(sessions, sandbox, checklist)
        ack = hub.deliver("slash_commands", _command(sandbox), timeout=10)  # the app answers over the socket
        assert ack is not None and "Readiness help" in str(ack.get("payload")), ack
        _wait(lambda: len(_posts(sandbox)) >= POSTS_BEFORE_SIGTERM, 90, "the first posts")  # a loaded machine is slow
        signalled = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=30)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        sandbox.stop()
    stderr = err_path.read_text()
    assert code == 0, stderr[-2000:]
    assert hub.connected == 0 and hub.closed == 1, "the process did not disconnect from Slack"
    said = re.search(r'"time": "([^"]+)", "level": "INFO", "logger": "readiness", '
                     r'"message": "stopped: (\d+) claimed message\(s\) released', stderr)
    assert said is not None, stderr[-2000:]
    assert hub.closed_at[0] <= datetime.fromisoformat(said[1]).timestamp(), "disconnected only at the exit"
    posts = _posts(sandbox)
    with session_scope(sessions) as s:
        rows = {r.dedupe_key: r for r in s.scalars(select(OutboxMessage)
                                                   .where(OutboxMessage.dedupe_key.like("sigterm:%")))}
    released = {k: r for k, r in rows.items() if r.status == "pending"}
    assert len(rows) == ROWS and all(len(t) == 1 for t in posts.values()), posts  # nothing posted twice
    assert {k for k, r in rows.items() if r.status == "sent"} == set(posts)  # what was posted is recorded
    assert int(said[2]) == len(released) == ROWS - len(posts) > 0  # the rest given back, not left to the lease
    assert all(r.lease_owner is None and r.last_error == "released at shutdown" for r in released.values())
    assert took < 15, f"SIGTERM to exit took {took:.1f}s"
    assert sandbox.violations == []
