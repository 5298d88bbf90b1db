"""Reading documents (checklists, policies, assessment files, evidence) within limits. Pure.

Files are read up to a size limit (never to the end of an endless file), text must be UTF-8 without NUL,
and parsed JSON or YAML is checked before anything looks at it: nesting depth, numbers of sane size,
strings without control characters or lone surrogates. Every refusal is a :class:`FileProblem` whose
message is one line naming the file and, where there is one, the place.

YAML is read with YAML 1.2 booleans and no implicit timestamps: only true/false are booleans, so the
marks no/partial/yes stay plain words; dates stay text and are parsed (and reported) by the reader
that expects them.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


MAX_YAML_BYTES = 2 * 1024 * 1024  # a checklist is about 10 KB; YAML this large is not one
MAX_DATA_BYTES = 10 * 1024 * 1024  # evidence files, as over HTTP
MAX_DEPTH = 32
MAX_INT_DIGITS = 30
MAX_KEY_SHOWN = 40
YAMLError = yaml.YAMLError


class FileProblem(ValueError):
    """A document that cannot be read; the message is one line naming the file."""


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def shown(value: object, limit: int = MAX_KEY_SHOWN) -> str:
    """A piece of a document (a key, a value) safe to put in a one-line message: printable and short."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_bytes(path: Any, source: str, limit: int = MAX_DATA_BYTES) -> bytes:
    """At most ``limit`` bytes of the file: a larger file, or an endless one, is refused, never read to its end."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileProblem(f"{source}: cannot read file ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise FileProblem(f"{source}: larger than {limit // (1024 * 1024)} MB; nothing was read past that")
    return data


def read_text(path: Any, source: str, limit: int = MAX_DATA_BYTES) -> str:
    """The file's text, read within ``limit`` bytes."""
    return decode(read_bytes(path, source, limit), source)


def decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{source}: not UTF-8 text (at byte {exc.start})") from None
    if "\x00" in text:
        raise FileProblem(f"{source}: not a text file (it holds a NUL byte)")
    return text


# what no stored or shown string may hold: C0 controls but tab, newline and return; DEL; lone surrogates
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored or shown (a control character, a lone surrogate), or None."""
    found = _BAD_CHAR.search(text)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return "holds a lone surrogate (not valid Unicode)"
    return f"holds a control character (U+{code:04X})"


def _place(path: tuple[Any, ...] | None) -> str:
    """A place in parsed data as a message names it (``a.b[2].c``), from the chain of keys that leads there."""
    keys: list[tuple[Any, bool]] = []
    while path is not None:
        path, key, is_index = path
        keys.append((key, is_index))
    where = ""
    for key, is_index in reversed(keys):
        where = f"{where}[{key}]" if is_index else f"{where}.{shown(key)}" if where else shown(key)
    return where or "the top level"


def tree_problem(data: Any, max_depth: int = MAX_DEPTH, *, check_text: bool = True,
                 allow_nan: bool = False) -> str | None:
    """The first place in parsed data that no reader should see: too deep, an outsize or non-finite number,
    a string with a control character (unless ``check_text`` is off: an eval tool's transcripts may hold
    them, and only the labels taken from them are stored). Shared containers (YAML aliases) are looked at
    once. (The place is named only when there is a problem: the path is kept as a chain of keys.)"""
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...] | None, int]] = [(data, None, 0)]
    search = _BAD_CHAR.search
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if check_text and search(value) is not None:
                return f"{_place(path)}: {text_problem(value)}"
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if value.bit_length() > MAX_INT_DIGITS * 3.33:
                return f"{_place(path)}: a number with more than {MAX_INT_DIGITS} digits"
        elif isinstance(value, float):
            if not math.isfinite(value) and not (allow_nan and math.isnan(value)):
                return f"{_place(path)}: a number that is not finite"
        elif isinstance(value, dict):
            if depth >= max_depth:
                return f"{_place(path)}: nested more than {max_depth} levels deep"
            if id(value) in seen:
                continue
            seen.add(id(value))
            for key, child in value.items():
                if check_text and isinstance(key, str) and search(key) is not None:
                    return f"{_place(path)}: a key that {text_problem(key)}"
                stack.append((child, (path, key, False), depth + 1))
        elif isinstance(value, list):
            if depth >= max_depth:
                return f"{_place(path)}: nested more than {max_depth} levels deep"
            if id(value) in seen:
                continue
            seen.add(id(value))
            for index, child in enumerate(value):
                stack.append((child, (path, index, True), depth + 1))
    return None


def _checked(data: Any, source: str, **limits: Any) -> Any:
    problem = tree_problem(data, **limits)
    if problem:
        raise FileProblem(f"{source}: {problem}")
    return data


def parse(text: str, source: str) -> Any:
    """YAML text to data, checked."""
    try:
        data = safe_load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise FileProblem(f"{source}: not valid YAML{where}") from None
    except RecursionError:
        raise FileProblem(f"{source}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except (ValueError, OverflowError):  # an integer of thousands of digits, a float beyond range
        raise FileProblem(f"{source}: holds a number too large to read") from None
    return _checked(data, source)


def _refuse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number with more than {MAX_INT_DIGITS} digits")
    return int(text)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number this reader accepts")


def _nan(name: str) -> float:
    return math.nan  # Python's json writes NaN and Infinity for non-finite floats: read them as missing


def parse_json(text: str, source: str, *, max_depth: int = MAX_DEPTH, check_text: bool = True,
               allow_nan: bool = False) -> Any:
    """JSON text to data, checked; numbers are refused before they are built when they are outsize.

    ``allow_nan`` reads NaN/Infinity as not-a-number (an eval tool's own output), instead of refusing them."""
    try:
        data = json.loads(text, parse_int=_refuse_int, parse_constant=_nan if allow_nan else _refuse_constant)
    except json.JSONDecodeError as exc:
        raise FileProblem(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise FileProblem(f"{source}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise FileProblem(f"{source}: {exc}") from None
    return _checked(data, source, max_depth=max_depth, check_text=check_text, allow_nan=allow_nan)
