"""The file readers and the command line: bad input is exit 2 with one line naming the file, never a crash."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import documents
from bot.core.assessment_file import AssessmentFileError, parse_assessment
from bot.core.checklist import ChecklistError, load_checklist, parse_checklist
from bot.core.evidence import EvidenceError, PolicyError, parse_evidence
from bot.core.evidence.policy import policy_from_data
from tests.hostile.conftest import tried

CHECKLIST = load_checklist()


def readiness(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


CASES = {
    "deep.yaml": "system: x\nversion: '1'\nmarks: " + "[" * 3000 + "]" * 3000,
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "digits.yaml": "system: x\nversion: " + "9" * 5000 + "\nmarks: {}\n",
    "digits.json": '{"rows": [{"cohort": "a", "metric": "task_success_rate", "value": 0.5, "n": ' + "7" * 5000 + "}]}",
    "huge.json": '{"rows": [{"cohort": "a", "metric": "task_success_rate", "value": 0.5, "n": 1' + "0" * 400 + "}]}",
    "nul.yaml": "system: x\x00\nversion: '1'\nmarks: {}\n",
    "unknown.yaml": "system: x\nversion: '1'\nmarks: {}\n" + "k" * 900 + ": 1\n",
    "aliases.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
}
COMMANDS = {
    ".yaml": [["score"], ["checklist", "validate"], ["policy", "validate"], ["packet"]],
    ".json": [["evidence", "push", "--system", "s", "--version", "1", "--team", "T1"], ["checklist", "validate"]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_files_exit_2_with_one_line_naming_the_file(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(CASES[name].encode("utf-8", "surrogatepass"))
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"}
    for command in COMMANDS[path.suffix]:
        result = readiness(*command, str(path), env=env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (command, result.stderr)
        assert lines[0].startswith(f"readiness: {path}"), result.stderr
        assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr) < 600  # nothing of the file's content is echoed at length


def test_an_endless_file_is_refused_quickly(tmp_path: Path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"}
    endless = tmp_path / "zero.json"
    endless.symlink_to("/dev/zero")
    started = time.monotonic()
    for command, path in ((["score"], "/dev/zero"),
                          (["evidence", "push", "--system", "s", "--version", "1", "--team", "T1"], str(endless))):
        result = readiness(*command, path, env=env, timeout=30)
        assert result.returncode == 2 and "larger than" in result.stderr, result.stderr
    assert time.monotonic() - started < 30


def test_a_large_yaml_file_is_refused_before_parsing(tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_text("system: x\nversion: '1'\nmarks:\n" + "  # padding\n" * 400_000)
    result = readiness("score", str(path))
    assert result.returncode == 2 and "larger than 2 MB" in result.stderr


def test_text_on_the_command_line_must_be_storable():
    result = readiness("gate", "--system", "a\udcff", "--version", "1")
    assert result.returncode == 2 and "lone surrogate" in result.stderr


documents_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(data=documents_data)
def test_fuzz_the_readers_refuse_with_their_own_errors(data):
    tried("file readers (parsed data)")
    for read, errors in ((lambda d: parse_checklist(d, "f"), ChecklistError),
                         (lambda d: parse_assessment(d, CHECKLIST, "f"), AssessmentFileError),
                         (lambda d: policy_from_data(d, "f"), PolicyError),
                         (lambda d: parse_evidence(json.dumps(d, allow_nan=True), "json", source="f"), EvidenceError)):
        with contextlib.suppress(errors):
            read(data)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | st.builds(lambda d: yaml.safe_dump(d), documents_data))
def test_fuzz_yaml_and_json_text_give_a_file_problem_or_data(text: str):
    tried("file readers (text)")
    for parse in (documents.parse, documents.parse_json):
        try:
            parse(text, "f")
        except documents.FileProblem as problem:
            assert str(problem).startswith("f: ") and "\n" not in str(problem)
