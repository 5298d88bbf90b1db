#!/usr/bin/env python3
"""Derive the Slack Web API contract the local sandbox enforces.

Reads a machine-readable copy of Slack's method reference (by default
``../shared/slack-api-ref`` relative to the repository root) and writes
``bot/sandbox/contract.json``: one compact entry per method with the HTTP verb,
the required arguments (the token is reported separately, it travels in the
Authorization header), the argument groups, the rate-limit tier, whether JSON
bodies are accepted and whether the method is deprecated.

The reference is laid out as:

* ``methods/<method>.json``: ``http_method``, ``args`` (a JSON Schema whose
  ``required`` list names the mandatory arguments), ``json_input_supported``,
  ``rate_limits`` (``t1`` .. ``t5``; a few methods carry free text instead);
* ``by-group/<group>/<method>.json``: the same arguments with per-argument
  ``required`` flags, ``deprecated`` and ``arg_groups``;
* ``by-group/_patches/<group>/<method>.json``: corrections the reference's
  maintainers layer on top of the generated ``by-group`` entries.

Corrections applied here, each reported on stderr and listed under ``notes``:

* patches are deep-merged into the ``by-group`` entry (objects merge, lists and
  scalars replace), as the maintainers intend;
* an argument group naming an argument the method does not document is trimmed;
* an argument group left with a single argument expresses no choice (whether
  that argument is mandatory is already stated by the method's required list),
  so it is dropped rather than silently turning an optional argument into a
  required one;
* a required argument that the method does not document is dropped;
* free-text rate limits become tier ``special`` (the text is kept).

Besides the methods it writes:

* ``errors``: per method, the error codes the reference documents for it (``methods/<method>.json``
  ``errors``), and ``common_errors``, the ones every method can answer (``by-group/_errors/common.json``);
  the sandbox answers no error that is not listed for the method (it checks itself on every call);
* ``rules``: the behaviours of Slack the sandbox reproduces (channel membership, archived channels, trigger
  expiry, message metadata), each with the method, the error it answers and the reference page and
  description it comes from. A rule whose error the reference does not document for its method stops the
  script, so the list cannot drift from the reference.

The run is deterministic: sorted keys, no timestamps, no absolute paths.
The application never reads the reference at run time; only this script does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "slack-api-ref"
DEFAULT_OUTPUT = REPO_ROOT / "bot" / "sandbox" / "contract.json"
TIERS = ("t1", "t2", "t3", "t4", "t5")

# (rule, method, error, what the sandbox does): Slack's behaviours that matter for a first real workspace
RULES: tuple[tuple[str, str, str, str], ...] = (
    ("history-needs-membership", "conversations.history", "not_in_channel",
     "a public channel's history is readable only by members"),
    ("history-private-hidden", "conversations.history", "channel_not_found",
     "a private channel or DM the bot is not in does not exist for it"),
    ("replies-private-hidden", "conversations.replies", "channel_not_found",
     "a thread in a channel the bot is not in cannot be read; Slack answers channel_not_found"),
    ("post-private-hidden", "chat.postMessage", "channel_not_found",
     "chat:write.public covers public channels only: a private channel or another DM is not found"),
    ("post-archived", "chat.postMessage", "is_archived", "nothing can be posted in an archived channel"),
    ("ephemeral-needs-membership", "chat.postEphemeral", "not_in_channel",
     "an ephemeral message needs the bot in the channel"),
    ("upload-needs-membership", "files.completeUploadExternal", "not_in_channel",
     "sharing a file into a channel needs membership"),
    ("join-public-only", "conversations.join", "method_not_supported_for_channel_type",
     "a bot can join public channels only; private ones need an invitation"),
    ("join-archived", "conversations.join", "is_archived", "an archived channel cannot be joined"),
    ("info-private-hidden", "conversations.info", "channel_not_found",
     "a private channel the bot is not in does not exist for it"),
    ("trigger-expires", "views.open", "expired_trigger_id", "a trigger_id lives three seconds"),
    ("trigger-single-use", "views.open", "exchanged_trigger_id", "a trigger_id opens one view"),
    ("metadata-schema", "chat.postMessage", "invalid_metadata_schema",
     "event_payload values are strings, numbers, booleans, flat objects or arrays of flat objects; other "
     "metadata is dropped and the post answers with this warning"),
)


def deep_merge(base: Any, patch: Any) -> Any:
    """Merge ``patch`` into ``base``: objects merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return patch


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_reference(ref: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, Any]]:
    """Return (method schemas, by-group entries, patches), each keyed by method name."""
    methods_dir = ref / "methods"
    if not methods_dir.is_dir():
        raise SystemExit(f"not a Slack method reference (no methods/ directory): {ref}")
    methods: dict[str, dict[str, Any]] = {}
    for path in sorted(methods_dir.glob("*.json")):
        data = read_json(path)
        if isinstance(data, dict) and "http_method" in data:  # methods.json is an index list
            methods[path.stem] = data
    grouped: dict[str, dict[str, Any]] = {}
    patches: dict[str, Any] = {}
    by_group = ref / "by-group"
    for path in sorted(by_group.glob("*/*.json")):
        group = path.parent.name
        if not group.startswith("_"):
            grouped[path.stem] = read_json(path)
    for path in sorted((by_group / "_patches").glob("*/*.json")):
        patches[path.stem] = read_json(path)
    return methods, grouped, patches


def normalise_groups(name: str, groups: list[dict[str, Any]], documented: set[str], notes: list[str]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for group in groups:
        args = [str(a) for a in group.get("args", [])]
        unknown = [a for a in args if a not in documented]
        if unknown:
            notes.append(f"{name}: argument group names undocumented argument(s) {unknown}; trimmed")
            args = [a for a in args if a in documented]
        if len(args) < 2:
            notes.append(
                f"{name}: argument group {args} has fewer than two arguments and expresses no choice; dropped "
                "(the method's required list decides whether the argument is mandatory)"
            )
            continue
        entry = {
            "args": args,
            "mutually_exclusive": bool(group.get("mutually_exclusive", False)),
            "required": bool(group.get("required", True)),
        }
        if entry not in result:
            result.append(entry)
    return result


def derive_method(name: str, schema: dict[str, Any], grouped: dict[str, Any] | None, notes: list[str]) -> dict[str, Any]:
    args_schema = schema.get("args") or {}
    properties = set((args_schema.get("properties") or {}).keys())
    grouped_args = (grouped or {}).get("args") or {}
    documented = (properties | set(grouped_args)) - {"token"}

    declared = [str(a) for a in args_schema.get("required") or []]
    token_required = "token" in declared
    required: set[str] = set()
    for arg in declared:
        if arg == "token":
            continue
        if arg in documented:
            required.add(arg)
        else:
            notes.append(f"{name}: required argument {arg!r} is not a documented argument; dropped")

    tier_raw = schema.get("rate_limits")
    entry: dict[str, Any] = {
        "http_method": str(schema.get("http_method", "POST")).upper(),
        "required": sorted(required),
        "arg_groups": normalise_groups(name, list((grouped or {}).get("arg_groups") or []), documented, notes),
        "json_input_supported": schema.get("json_input_supported") is True,
        "deprecated": bool(schema.get("deprecated")) or bool((grouped or {}).get("deprecated")),
        "token_required": token_required,
    }
    if tier_raw in TIERS:
        entry["rate_tier"] = tier_raw
    elif isinstance(tier_raw, str) and tier_raw.strip():
        entry["rate_tier"] = "special"
        entry["rate_note"] = tier_raw.strip()
        notes.append(f"{name}: free-text rate limit {tier_raw.strip()!r} recorded as tier 'special'")
    else:
        entry["rate_tier"] = None
    return entry


def derive(ref: Path) -> dict[str, Any]:
    methods, grouped, patches = load_reference(ref)
    notes: list[str] = []
    for name, patch in sorted(patches.items()):
        if name not in grouped:
            notes.append(f"{name}: patch targets a method missing from by-group; ignored")
            continue
        grouped[name] = deep_merge(grouped[name], patch)
    for name in sorted(set(grouped) - set(methods)):
        notes.append(f"{name}: listed by group but has no method schema; skipped")
    contract_methods = {name: derive_method(name, methods[name], grouped.get(name), notes) for name in sorted(methods)}
    errors = {name: sorted((methods[name].get("errors") or {}).keys()) for name in sorted(methods)}
    common_path = ref / "by-group" / "_errors" / "common.json"
    common = sorted((read_json(common_path).get("errors") or {}).keys()) if common_path.exists() else []
    return {
        "about": "Slack Web API contract for the local sandbox; generated by scripts/derive_slack_contract.py. Do not edit.",
        "common_errors": common,
        "errors": {name: codes for name, codes in errors.items() if codes},
        "method_count": len(contract_methods),
        "methods": contract_methods,
        "notes": notes,
        "rules": derive_rules(methods, notes),
        "source": "slack-api-ref (methods/, by-group/ with by-group/_patches/ and _errors/ applied)",
    }


def derive_rules(methods: dict[str, dict[str, Any]], notes: list[str]) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for rule, method, error, does in RULES:
        if method not in methods:
            notes.append(f"rule {rule}: {method} is not in this reference; left out")
            continue
        documented = (methods.get(method, {}).get("errors") or {}).get(error)
        if documented is None:
            raise SystemExit(f"rule {rule}: the reference documents no error {error!r} for {method}")
        rules[rule] = {"method": method, "error": error, "sandbox": does,
                       "reference": f"methods/{method}.json#errors.{error}",
                       "documented": str(documented.get("desc", "")).strip()}
    return rules


def render(contract: dict[str, Any]) -> str:
    """Compact, stable JSON: sorted keys, one line per method (small diffs when the reference moves)."""

    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    lines = ["{"]
    keys = sorted(contract)
    for index, key in enumerate(keys):
        comma = "," if index < len(keys) - 1 else ""
        value = contract[key]
        if isinstance(value, dict) and value:
            lines.append(f"{dump(key)}:{{")
            names = sorted(value)
            for position, name in enumerate(names):
                tail = "," if position < len(names) - 1 else ""
                lines.append(f"{dump(name)}:{dump(value[name])}{tail}")
            lines.append("}" + comma)
        elif isinstance(value, list) and value:
            lines.append(f"{dump(key)}:[")
            lines.extend(f"{dump(item)}{',' if i < len(value) - 1 else ''}" for i, item in enumerate(value))
            lines.append("]" + comma)
        else:
            lines.append(f"{dump(key)}:{dump(value)}{comma}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == contract
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REFERENCE, help="reference directory")
    parser.add_argument("--output", "-o", type=Path, default=DEFAULT_OUTPUT, help="contract.json to write")
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file is not up to date")
    options = parser.parse_args(argv)

    contract = derive(options.reference)
    text = render(contract)
    for note in contract["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if options.check:
        current = options.output.read_text(encoding="utf-8") if options.output.exists() else ""
        if current != text:
            print(f"{options.output} is out of date; rerun {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{options.output} is up to date ({contract['method_count']} methods)")
        return 0
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    print(f"wrote {options.output} ({contract['method_count']} methods)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
