"""Slack's Socket Mode, for the sandbox: the app opens a WebSocket instead of receiving HTTP requests.

What Slack does and the sandbox does too: ``apps.connections.open``, called with the app-level token
(``xapp-…``; a bot token is refused), answers with a WebSocket URL; the app connects to it, Slack sends
``{"type": "hello"}``, then delivers each request (a slash command, an interaction, an event) as an envelope
``{"envelope_id", "type", "payload", "accepts_response_payload"}`` that the app acknowledges by sending back
``{"envelope_id", "payload"?}``. Pings are answered with pongs. The URL is plain ``ws://`` on the sandbox's
own loopback port (slack_sdk's client connects without TLS to a port other than 443).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
LINK_PATH = "/link/"


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """One frame from the app (masked, as a client's always are); None when the connection ended."""
    head = stream.read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", stream.read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", stream.read(8))[0]
    mask = stream.read(4) if head[1] & 0x80 else b""
    data = stream.read(length)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


def frame(opcode: int, data: bytes) -> bytes:
    """A final, unmasked frame (a server's)."""
    size = len(data)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + data


@dataclass
class Link:
    """One connected app."""

    out: BinaryIO
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: bool = True

    def send(self, opcode: int, data: bytes) -> None:
        with self.lock:
            self.out.write(frame(opcode, data))
            self.out.flush()


class SocketModeHub:
    """The app-level token, the URLs handed out, the connections, and the acknowledgements received."""

    def __init__(self, app_token: str, app_id: str) -> None:
        self.app_token, self.app_id = app_token, app_id
        self.tickets: set[str] = set()
        self.links: list[Link] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.closed = 0  # connections the app ended
        self.closed_at: list[float] = []  # when (time.time()) each ended
        self._changed = threading.Condition()

    def open_url(self, base_url: str) -> str:
        """``apps.connections.open``: a single-use URL of a new connection."""
        ticket = secrets.token_hex(8)
        with self._changed:
            self.tickets.add(ticket)
        return base_url.replace("http://", "ws://", 1) + f"{LINK_PATH}?ticket={ticket}"

    def serve(self, path: str, headers: dict[str, str], rfile: BinaryIO, wfile: BinaryIO) -> None:
        """One connection, from the upgrade to its end (runs in the HTTP handler's own thread)."""
        ticket = path.partition("ticket=")[2]
        key = headers.get("Sec-WebSocket-Key") or headers.get("sec-websocket-key") or ""
        with self._changed:
            valid = ticket in self.tickets
            self.tickets.discard(ticket)
        if not valid or not key:
            wfile.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
            return
        accept = base64.b64encode(hashlib.sha1((key + ACCEPT_GUID).encode()).digest()).decode()  # noqa: S324 - RFC 6455
        wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        wfile.flush()
        link = Link(wfile)
        link.send(TEXT, json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": self.app_id}}).encode())
        with self._changed:
            self.links.append(link)
            self._changed.notify_all()
        try:
            self._receive(link, rfile)
        except OSError:  # the app went away without a closing frame (slack_sdk's client just closes its socket)
            pass
        finally:
            with self._changed:
                link.open = False
                self.closed += 1
                self.closed_at.append(time.time())
                self._changed.notify_all()

    def _receive(self, link: Link, rfile: BinaryIO) -> None:
        while (received := read_frame(rfile)) is not None:
            opcode, data = received
            if opcode == PING:
                link.send(PONG, data)
            elif opcode == CLOSE:
                link.send(CLOSE, data[:2])
                return
            elif opcode == TEXT:
                message = json.loads(data.decode("utf-8"))
                if isinstance(message, dict) and message.get("envelope_id"):
                    with self._changed:
                        self.acks[str(message["envelope_id"])] = message
                        self._changed.notify_all()

    # -- test-facing --------------------------------------------------------------------------------

    @property
    def connected(self) -> int:
        with self._changed:
            return sum(1 for link in self.links if link.open)

    def wait_for(self, condition: Any, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, timeout=timeout)

    def deliver(self, kind: str, payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any] | None:
        """Send a request to the connected app as an envelope; its acknowledgement (None if none came)."""
        envelope_id = secrets.token_hex(8)
        with self._changed:
            links = [link for link in self.links if link.open]
        if not links:
            raise RuntimeError("no app is connected over Socket Mode")
        links[-1].send(TEXT, json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                         "accepts_response_payload": kind != "events_api",
                                         "retry_attempt": 0, "retry_reason": ""}).encode())
        self.wait_for(lambda: envelope_id in self.acks, timeout)
        with self._changed:
            return self.acks.get(envelope_id)
