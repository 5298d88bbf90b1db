"""Count per-cohort pass/fail/error straight from raw eval-tool output files.

usage: python count_cohorts.py [--check] FILE...

Reads (optionally .gz-wrapped) promptfoo results.json / results.jsonl,
Inspect .eval / .json logs and lm-eval samples_*.jsonl.  The reading code uses
only the files themselves (it does not import fixture_spec), so it is an
independent check of what the tools wrote.  Reading .eval needs the
`zstandard` module (the Inspect venv has it) unless Python's zipfile knows zstd.

--check additionally compares the counts with fixture_spec.expected_counts()
for the variant named by the file's parent directory and exits 1 on mismatch.
"""

import collections
import gzip
import io
import json
import os
import sys
import zipfile

COHORT_KEY = "tenant"


def _open_text(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8")
    return open(path, encoding="utf-8")


def _eval_members(path):
    """Yield (name, bytes) for samples/*.json in an Inspect .eval zip."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not (info.filename.startswith("samples/") and info.filename.endswith(".json")):
                continue
            if info.compress_type == 93:  # zstd: stdlib zipfile < 3.14 cannot inflate it
                import zstandard

                z.fp.seek(info.header_offset + 26)
                name_len, extra_len = int.from_bytes(z.fp.read(2), "little"), int.from_bytes(z.fp.read(2), "little")
                z.fp.seek(info.header_offset + 30 + name_len + extra_len)
                raw = zstandard.ZstdDecompressor().decompressobj().decompress(z.fp.read(info.compress_size))
            else:
                raw = z.read(info)
            yield info.filename, raw


def rows(path):
    """Yield (cohort or None, status) with status in pass/fail/error."""
    base = os.path.basename(path)
    if base.endswith(".eval"):  # Inspect binary log
        for _, raw in _eval_members(path):
            s = json.loads(raw)
            yield _inspect_row(s)
    elif base.startswith("samples_"):  # lm-eval per-doc samples
        with _open_text(path) as f:
            for line in f:
                d = json.loads(line)
                yield d["doc"].get(COHORT_KEY), ("pass" if d["exact_match"] == 1.0 else "fail")
    elif ".jsonl" in base:  # promptfoo jsonl: one EvaluateResult per line
        with _open_text(path) as f:
            for line in f:
                yield _promptfoo_row(json.loads(line))
    else:
        with _open_text(path) as f:
            d = json.load(f)
        if "results" in d and isinstance(d["results"], dict) and d["results"].get("version") == 3:
            for r in d["results"]["results"]:  # promptfoo results.json
                yield _promptfoo_row(r)
        elif "samples" in d and "eval" in d:  # Inspect JSON log
            for s in d["samples"]:
                yield _inspect_row(s)
        else:
            raise SystemExit(f"{path}: unrecognised format")


def _promptfoo_row(r):
    cohort = (r.get("metadata") or {}).get(COHORT_KEY)
    if r.get("failureReason") == 2:
        return cohort, "error"
    return cohort, ("pass" if r["success"] else "fail")


def _inspect_row(s):
    cohort = (s.get("metadata") or {}).get(COHORT_KEY)
    if s.get("error"):
        return cohort, "error"
    return cohort, ("pass" if s["scores"]["match"]["value"] == "C" else "fail")


def count(path):
    out = collections.OrderedDict()
    for cohort, status in rows(path):
        c = out.setdefault(cohort or "<none>", {"n": 0, "passed": 0, "failed": 0, "errored": 0})
        c["n"] += 1
        c[{"pass": "passed", "fail": "failed", "error": "errored"}[status]] += 1
    return out


def main(argv):
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    bad = 0
    for path in paths:
        got = count(path)
        print(path)
        for cohort, c in got.items():
            rate = c["passed"] / c["n"]
            print(f"  {cohort:<13} n={c['n']:>3} passed={c['passed']:>3} failed={c['failed']:>3} errored={c['errored']} pass_rate={rate:.3f}")
        if check:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import fixture_spec

            variant = os.path.basename(os.path.dirname(os.path.abspath(path)))
            lm_eval = os.path.basename(path).startswith("samples_")
            want = fixture_spec.expected_counts(variant, fault_is_error=not lm_eval)
            if dict(got) != want:
                print(f"  MISMATCH: expected {want}")
                bad += 1
            else:
                print("  (matches fixture_spec)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
