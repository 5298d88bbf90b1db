"""What people type after `/readiness <sub>`, read as they mean it. Pure.

`/readiness start Support Copilot 2.4.0` names a system of several words and a version: the last word is the
version when it looks like one; quotes group words (`"Support Copilot" next`). Nothing here refuses: what
cannot be read is left for the form to ask.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

VERSION = re.compile(r"^v?\d[\w.+-]*$|^(?:rc|beta|alpha)[\w.+-]*$", re.IGNORECASE)
MAX_SYSTEM, MAX_VERSION = 120, 80


def words(text: str) -> list[str]:
    """Words, with quoted groups kept together; an unbalanced quote is taken as a plain character."""
    try:
        return shlex.split(text or "")
    except ValueError:
        return (text or "").split()


@dataclass(frozen=True)
class Named:
    system: str = ""
    version: str = ""


def system_and_version(args: list[str]) -> Named:
    """The system (several words allowed) and the version (the last word, when it looks like one)."""
    if not args:
        return Named()
    if len(args) > 1 and VERSION.match(args[-1]):
        return Named(" ".join(args[:-1])[:MAX_SYSTEM], args[-1][:MAX_VERSION])
    return Named(" ".join(args)[:MAX_SYSTEM])


def looks_like_version(word: str) -> bool:
    return bool(VERSION.match(word))
