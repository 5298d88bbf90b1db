"""Evidence straight from the eval tools: promptfoo, Inspect, lm-evaluation-harness and per-sample exports.

Pure core. :func:`import_bytes` reads a tool's file (gzip-compressed or not) and counts its samples into the
rows ``evidence_from_data`` takes, so validation, judging and storage are the evidence set's own. The format
is recognised from the content unless it is named:

* ``promptfoo``: ``results.json`` (``results.results``) or ``results.jsonl``;
* ``inspect``: a ``.eval`` log (a ZIP) or a ``--log-format json`` log;
* ``lm-eval``: ``samples_<task>_<date>.jsonl`` or ``results_<date>.json``;
* ``samples``: CSV, JSON Lines or a JSON array of per-sample records (columns named by the options).
"""

from __future__ import annotations

from typing import Any, Literal

from bot.core.evidence.evidence_set import EvidenceError, EvidenceSet, evidence_from_data
from bot.core.evidence.importers import inspect_log, lm_eval, promptfoo, samples
from bot.core.evidence.importers.counting import NO_COHORT, Imported
from bot.core.evidence.importers.mapping import MappingFile, Options, load_mapping, options_from
from bot.core.evidence.importers.reading import (
    ZIP_MAGIC,
    Archive,
    ImportProblem,
    csv_records,
    gunzipped,
    json_lines,
    parse_json,
    read_file,
    text_of,
)

Tool = Literal["promptfoo", "inspect", "lm-eval", "samples"]
TOOLS: tuple[str, ...] = ("promptfoo", "inspect", "lm-eval", "samples")

__all__ = ["NO_COHORT", "TOOLS", "ImportProblem", "Imported", "MappingFile", "Options", "import_bytes",
           "import_file", "load_mapping", "options_from", "to_evidence"]


def _json_or_lines(text: str, source: str) -> tuple[str, Any]:
    """("json", the document) or ("jsonl", [(where, line)]) or ("csv", None)."""
    start = text.lstrip()[:1]
    if start not in ("{", "["):
        return "csv", None
    try:
        return "json", parse_json(text, source)
    except ImportProblem as whole:
        lines = text.strip().splitlines()
        if len(lines) < 2:
            raise
        try:
            parse_json(lines[0], source)
        except ImportProblem:
            raise whole from None
        return "jsonl", [(f"{source}, line {n}", value) for n, value in json_lines(text, source)]


def _guess(kind: str, data: Any) -> str:
    if kind == "zip":
        return "inspect"
    if kind == "json":
        if promptfoo.is_results(data) or promptfoo.is_record(data):
            return "promptfoo"
        if inspect_log.is_log(data):
            return "inspect"
        if lm_eval.is_results(data) or lm_eval.is_sample(data):
            return "lm-eval"
        return "samples"
    if kind == "jsonl":
        first = data[0][1] if data else None
        if promptfoo.is_record(first):
            return "promptfoo"
        if lm_eval.is_sample(first):
            return "lm-eval"
    return "samples"


def import_bytes(data: bytes, source: str, options: Options | None = None, tool: str | None = None) -> Imported:
    """Read one eval-tool file. ``tool``: one of :data:`TOOLS`, or None to recognise it. Raises ImportProblem."""
    options = options or Options()
    if tool is not None and tool not in TOOLS:
        raise ImportProblem(f"{source}: unknown format {tool!r} (expected {', '.join(TOOLS)})")
    data = gunzipped(data, source)
    if data.startswith(ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        if tool not in (None, "inspect"):
            raise ImportProblem(f"{source}: a ZIP archive, not a {tool} file (only Inspect writes .eval ZIPs)")
        return inspect_log.from_archive(Archive(data, source), options)
    text = text_of(data, source)
    if not text.strip():
        raise ImportProblem(f"{source}: the file is empty")
    kind, parsed = _json_or_lines(text, source)
    chosen = tool or _guess(kind, parsed)
    if kind == "json" and chosen in ("promptfoo", "lm-eval") and (promptfoo.is_record(parsed) or
                                                                   lm_eval.is_sample(parsed)):
        kind, parsed = "jsonl", [(f"{source}, line 1", parsed)]  # a JSON Lines file of one line
    return _read(chosen, kind, parsed, text, source, options)


# tool -> (the reader of its JSON document, the reader of its JSON Lines, what its files are)
_JSON_TOOLS = {
    "promptfoo": (promptfoo.from_results, promptfoo.read, "a promptfoo results.json or results.jsonl"),
    "lm-eval": (lm_eval.from_results, lm_eval.from_samples, "an lm-eval samples_*.jsonl or results_*.json"),
}


def _read(chosen: str, kind: str, parsed: Any, text: str, source: str, options: Options) -> Imported:
    if chosen in _JSON_TOOLS:
        document, lines, files = _JSON_TOOLS[chosen]
        if kind == "csv":
            raise ImportProblem(f"{source}: not {files} (not JSON)")
        return document(parsed, source, options) if kind == "json" else lines(parsed, source, options)
    if chosen == "inspect":
        if kind != "json":
            raise ImportProblem(f"{source}: not an Inspect log (an .eval ZIP or a --log-format json log)")
        return inspect_log.from_json(parsed, source, options)
    if kind == "csv":
        return samples.read(samples.csv_samples(csv_records(text, source)[1], source), source, options, "csv")
    if kind == "jsonl":
        return samples.read(parsed, source, options, "jsonl")
    if not isinstance(parsed, list):
        raise ImportProblem(f"{source}: not a file of a known eval tool, nor a list of per-sample records")
    return samples.read(((f"{source}, [{i}]", r) for i, r in enumerate(parsed)), source, options, "json")


def import_file(path: Any, options: Options | None = None, tool: str | None = None,
                source: str | None = None) -> Imported:
    source = source or str(path)
    return import_bytes(read_file(path, source), source, options, tool)


def to_evidence(found: Imported, *, system: str | None, version: str | None, source: str) -> EvidenceSet:
    """The evidence set of an import, validated as ``evidence push`` validates a file. Raises ImportProblem
    with the first problem (the importer writes rows, so a problem here is one of the file's names)."""
    try:
        return evidence_from_data(found.evidence_data(system, version), source=source)
    except EvidenceError as exc:
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise ImportProblem(f"{source}: {first}{more}") from None
