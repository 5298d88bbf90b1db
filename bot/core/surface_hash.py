"""What a Slack surface shows, as one digest: equal digests mean an update would change nothing. Pure."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
