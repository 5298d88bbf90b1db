"""Reading HTTP request bodies the way Slack's Web API does.

Slack accepts ``application/x-www-form-urlencoded``, ``multipart/form-data``, and (for
methods that support it) ``application/json``; a GET carries its arguments in the query
string. This module turns a raw request into one argument mapping plus what the contract
checks need to know (was it JSON? where did the token come from?).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class WireRequest:
    verb: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    content_type: str = ""
    form: dict[str, Any] = field(default_factory=dict)
    json_body: Any = None
    is_json: bool = False
    uploads: dict[str, bytes] = field(default_factory=dict)
    parse_error: str | None = None
    received: float = 0.0  # time.monotonic() when the body had been read

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def bearer_token(self) -> str | None:
        value = self.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def api_args(self) -> dict[str, Any]:
        """All arguments of an API call: query string, then body (the body wins on a clash)."""
        args: dict[str, Any] = dict(self.query)
        if self.verb == "POST":
            if self.is_json and isinstance(self.json_body, dict):
                args.update(self.json_body)
            else:
                args.update(self.form)
        return args

    def body_token(self) -> str | None:
        """A token sent as a form field (Slack accepts it there, but not in JSON bodies or the query)."""
        if self.verb == "POST" and not self.is_json:
            token = self.form.get("token")
            return token if isinstance(token, str) and token else None
        return None


def _multipart(content_type_header: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    raw = f"Content-Type: {content_type_header}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message: Message = BytesParser(policy=HTTP).parsebytes(raw)
    fields: dict[str, Any] = {}
    uploads: dict[str, bytes] = {}
    if not message.is_multipart():
        raise ValueError("multipart body without parts")
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            uploads[str(name)] = payload
        else:
            fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8")
    return fields, uploads


def parse_request(verb: str, target: str, headers: dict[str, str], body: bytes) -> WireRequest:
    split = urlsplit(target)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type_header = lowered.get("content-type", "")
    content_type = content_type_header.split(";", 1)[0].strip().lower()
    request = WireRequest(verb=verb.upper(), path=split.path, query=query, headers=lowered, body=body,
                          content_type=content_type)
    if not body:
        return request
    try:
        if content_type == "application/json":
            request.is_json = True
            request.json_body = json.loads(body.decode("utf-8"))
        elif content_type == "multipart/form-data":
            request.form, request.uploads = _multipart(content_type_header, body)
        elif content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
            request.form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            request.parse_error = f"unsupported Content-Type {content_type!r}"
    except (ValueError, UnicodeDecodeError) as exc:
        request.parse_error = f"unreadable {content_type or 'request'} body: {exc}"
    return request
