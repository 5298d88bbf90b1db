"""Replica processes for the chaos test: start, SIGKILL, restart, and notice when one dies by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPLICA_SCRIPT = Path(__file__).with_name("replica.py")
SERVING = "serving Slack requests on"
CRASH_EXIT = 137  # os._exit(137) at a READINESS_CRASH_AT point; a SIGKILL shows as -9


@dataclass
class Event:
    at: float  # time.time()
    replica: str
    what: str  # started, serving, killed, died
    detail: str = ""


@dataclass
class Replica:
    name: str
    crash_at: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    incarnation: int = 0
    started_at: float = 0.0
    serving_at: float | None = None
    stdout_path: Path | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def serving(self) -> bool:
        return self.alive and self.serving_at is not None


@dataclass
class Fleet:
    """Three (or more) `readiness serve` processes sharing one database and one sandbox."""

    env: dict[str, str]
    workdir: Path
    replicas: dict[str, Replica] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def start(self, name: str, crash_at: str | None = None) -> Replica:
        replica = self.replicas.setdefault(name, Replica(name))
        if replica.alive:
            raise RuntimeError(f"{name} is still running")
        replica.crash_at = crash_at
        replica.incarnation += 1
        env = dict(self.env)
        env.pop("READINESS_CRASH_AT", None)
        if crash_at:
            env["READINESS_CRASH_AT"] = crash_at
        stem = f"{name}-{replica.incarnation}"
        replica.stdout_path = self.workdir / f"{stem}.out"
        with open(replica.stdout_path, "wb") as out, open(self.workdir / f"{stem}.err", "wb") as err:
            replica.proc = subprocess.Popen(
                [sys.executable, str(REPLICA_SCRIPT), "--host", "127.0.0.1", "--port", "0", "--threads", "2"],
                cwd=self.workdir, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        replica.started_at, replica.serving_at = time.time(), None
        self.events.append(Event(replica.started_at, name, "started", crash_at or ""))
        return replica

    def kill(self, name: str) -> None:
        """SIGKILL, by pid, a replica this fleet started."""
        replica = self.replicas[name]
        if replica.proc is not None and replica.proc.poll() is None:
            os.kill(replica.proc.pid, signal.SIGKILL)
            replica.proc.wait(timeout=10)
            self.events.append(Event(time.time(), name, "killed", "SIGKILL"))

    def terminate(self, name: str, timeout: float = 60.0) -> int:
        """SIGTERM, by pid, a replica this fleet started, and wait for it to exit; returns its exit code."""
        replica = self.replicas[name]
        assert replica.proc is not None and replica.proc.poll() is None, f"{name} is not running"
        os.kill(replica.proc.pid, signal.SIGTERM)
        self.events.append(Event(time.time(), name, "terminated", "SIGTERM"))
        code = replica.proc.wait(timeout=timeout)
        self.events.append(Event(time.time(), name, "exited", str(code)))
        replica.proc = None
        return code

    def pid_of(self, name: str) -> int | None:
        replica = self.replicas[name]
        return replica.proc.pid if replica.proc is not None else None

    def poll(self) -> list[tuple[Replica, int]]:
        """Note replicas that started serving; return (replica, exit code) of those that died by themselves."""
        died = []
        for replica in self.replicas.values():
            if replica.proc is None:
                continue
            code = replica.proc.poll()
            if code is not None:
                self.events.append(Event(time.time(), replica.name, "died", str(code)))
                died.append((replica, code))
                replica.proc = None
                continue
            if replica.serving_at is None and replica.stdout_path is not None:
                try:
                    text = replica.stdout_path.read_text(errors="replace")
                except OSError:
                    text = ""
                if SERVING in text:
                    replica.serving_at = time.time()
                    self.events.append(Event(replica.serving_at, replica.name, "serving"))
        return died

    def wait_serving(self, names: list[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            died = self.poll()
            if died:
                replica, code = died[0]
                raise RuntimeError(f"{replica.name} exited with {code} while starting: {self.stderr_tail(replica)}")
            if all(self.replicas[n].serving for n in names):
                return
            time.sleep(0.05)
        raise TimeoutError(f"replicas {names} did not start serving within {timeout:.0f}s")

    def stderr_tail(self, replica: Replica, lines: int = 15) -> str:
        path = self.workdir / f"{replica.name}-{replica.incarnation}.err"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop_all(self) -> None:
        for name in list(self.replicas):
            self.kill(name)

    def count(self, what: str, detail: str | None = None) -> int:
        return sum(1 for e in self.events if e.what == what and (detail is None or e.detail == detail))
