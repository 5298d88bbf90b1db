"""YAML reading with YAML 1.2 booleans and no implicit timestamps.

Only true/false are booleans, so the marks no/partial/yes stay plain words; dates stay text
and are parsed (and reported) by the reader that expects them.
"""

from __future__ import annotations

import re
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


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


YAMLError = yaml.YAMLError


class FileProblem(ValueError):
    """A file that cannot be read as YAML text; the message is one line naming the file."""


def read_text(path: Any, source: str) -> str:
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FileProblem(f"{source}: cannot read file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise FileProblem(f"{source}: not a UTF-8 text file") from None


def parse(text: str, source: str) -> Any:
    try:
        return safe_load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise FileProblem(f"{source}: not valid YAML{where}") from None
