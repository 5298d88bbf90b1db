"""The README's "From your eval tool" CI examples, run as written: every ``sh`` block of that section with its
files, in a shell, against the committed outputs of the real tools. The tools themselves are stood in for by
small scripts that write those outputs where the tool would (so an example that stops working fails here)."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.checklist import Mark, load_checklist
from bot.db import make_engine, session_factory, session_scope, upgrade
from bot.services import signoff
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.marks import record_mark

ROOT = Path(__file__).parents[1]
EVAL = ROOT / "tests" / "fixtures" / "eval"
SYSTEM, TEAM = "support-bot", "T0123"
ROLES = {"quality": "U_Q", "policy": "U_P", "operations": "U_O"}

# Stand-ins for the tools: each writes the committed output of the real tool (variant $FIXTURE_VARIANT) where
# the real one would write it, and exits as it would.
STUBS = {
    "promptfoo": '''
import gzip, sys, os
args, root = sys.argv[1:], os.path.join(os.environ["FIXTURES"], "promptfoo", os.environ["FIXTURE_VARIANT"])
assert args[0] == "eval", args
for i, arg in enumerate(args):
    if arg == "-o":
        name = "results.jsonl" if args[i + 1].endswith(".jsonl") else "results.json"
        open(args[i + 1], "wb").write(gzip.open(os.path.join(root, name + ".gz")).read())
sys.exit(100)  # promptfoo's exit when some test failed
''',
    "inspect": '''
import glob, os, shutil, sys
args = sys.argv[1:]
assert args[0] == "eval", args
log_dir = args[args.index("--log-dir") + 1]
os.makedirs(log_dir, exist_ok=True)
[log] = glob.glob(os.path.join(os.environ["FIXTURES"], "inspect", os.environ["FIXTURE_VARIANT"], "*.eval"))
shutil.copy(log, log_dir)
''',
    "lm_eval": '''
import glob, gzip, os, sys
args = sys.argv[1:]
assert args[0] == "run" and "--log_samples" in args, args
task, out = args[args.index("--tasks") + 1], args[args.index("--output_path") + 1]
model = args[args.index("--model_args") + 1].split("=", 1)[1].strip("./").replace("/", "__")
root = os.path.join(os.environ["FIXTURES"], "lm_eval", os.environ["FIXTURE_VARIANT"])
os.makedirs(os.path.join(out, model), exist_ok=True)
[samples] = glob.glob(os.path.join(root, "samples_*.jsonl.gz"))
stamp = samples.rsplit("_", 1)[1][: -len(".jsonl.gz")]
open(os.path.join(out, model, f"samples_{task}_{stamp}.jsonl"), "wb").write(gzip.open(samples).read())
''',
    "my-evals": '''
import csv, gzip, json, os, sys
args = sys.argv[1:]
out = args[args.index("--out") + 1]
path = os.path.join(os.environ["FIXTURES"], "promptfoo", os.environ["FIXTURE_VARIANT"], "results.jsonl.gz")
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["item", "tenant", "passed", "error", "latency_ms", "faithfulness"])
    for line in gzip.open(path, "rt"):
        r = json.loads(line)
        error = r.get("error", "") if r["failureReason"] == 2 else ""
        # a per-sample score for the mapping's faithfulness entry (promptfoo's named score; none when errored)
        score = (r.get("namedScores") or {}).get("correct", "")
        w.writerow([r["testCase"]["description"], r["metadata"].get("tenant", ""), str(r["success"]).lower(),
                    error, r["latencyMs"], score])
''',
}


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### From your eval tool")
    return text[start : text.index("\n### ", start + 1)]


def fenced(kind: str) -> list[str]:
    return [m.group(1) for m in re.finditer(rf"```{kind}\n(.*?)```", section(), re.S)]


def files() -> dict[str, str]:
    """The section's YAML files, named by their first line (``# release-policy.yaml``)."""
    return {block.splitlines()[0].removeprefix("# ").strip(): block for block in fenced("yaml")}


def examples() -> dict[str, str]:
    return {block.splitlines()[0].removeprefix("# CI: ").split(" (")[0]: block for block in fenced("sh")
            if block.startswith("# CI:")}


def setup_blocks() -> list[str]:
    return [block for block in fenced("sh") if block.startswith("# once:")]


def test_the_section_has_an_example_for_each_tool_and_the_files_they_name():
    assert set(examples()) == {"promptfoo", "Inspect", "lm-evaluation-harness", "a per-sample export"}
    assert set(files()) == {"release-policy.yaml", "eval-map.yaml"} and len(setup_blocks()) == 1
    for block in examples().values():
        assert "readiness evidence import" in block and "readiness gate --system" in block


def signed_off_review(url: str, version: str) -> None:
    """A review of the version, every item marked No, each role approved (the gate's verdict part passes)."""
    checklist = load_checklist()
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with session_scope(sessions) as s:
        aid = start_assessment(s, checklist, StartRequest(team_id=TEAM, system=SYSTEM, version=version,
                                                          started_by="U_LEAD", channel_id="C1")).id
    for item_id in checklist.item_ids:
        with session_scope(sessions) as s:
            record_mark(s, TEAM, aid, MarkRequest(item_id=item_id, mark=Mark.NO, evidence="proof"), actor="U1",
                        today=date.today(), now=now)
    with session_scope(sessions) as s:
        signoff.name_approvers(s, TEAM, aid, ROLES, actor="U_LEAD")
        for role, user in ROLES.items():
            signoff.decide(s, TEAM, aid, role=role, user=user, decision="approve", reason=None, now=now)
    engine.dispose()


class Workspace:
    def __init__(self, tmp_path: Path, name: str) -> None:
        self.dir = tmp_path / name
        bin_dir = self.dir / "bin"
        bin_dir.mkdir(parents=True)
        for tool, code in STUBS.items():
            stub = bin_dir / tool
            stub.write_text(f"#!{sys.executable}\n{code}")
            stub.chmod(0o755)
        for name_, text in files().items():
            (self.dir / name_).write_text(text)
        self.url = f"sqlite:///{self.dir / 'readiness.db'}"
        readiness = shutil.which("readiness", path=str(Path(sys.executable).parent))
        assert readiness, "the readiness command is installed beside the interpreter"
        env = {k: v for k, v in os.environ.items() if k not in ("POLICY_PATH", "DATABASE_URL")}
        self.env = {**env, "PATH": f"{bin_dir}{os.pathsep}{Path(readiness).parent}{os.pathsep}{env.get('PATH', '')}",
                    "DATABASE_URL": self.url, "FIXTURES": str(EVAL), "PYTHONDONTWRITEBYTECODE": "1"}
        for version in ("1.0", "1.1"):
            signed_off_review(self.url, version)
        for block in setup_blocks():
            assert self.run(block, "1.0", "baseline").returncode == 0

    def copy(self, name: str) -> Workspace:
        """The same folder and database as they are now, elsewhere (what a next CI run finds)."""
        other = object.__new__(Workspace)
        other.dir = self.dir.parent / name
        shutil.copytree(self.dir, other.dir)
        other.url = f"sqlite:///{other.dir / 'readiness.db'}"
        other.env = {**self.env, "DATABASE_URL": other.url}
        return other

    def run(self, block: str, version: str, variant: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "VERSION": version, "FIXTURE_VARIANT": variant}
        return subprocess.run(["bash", "-e", "-c", block], cwd=self.dir, env=env, capture_output=True, text=True,
                              timeout=300, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["promptfoo", "Inspect", "lm-evaluation-harness", "a per-sample export"])
def test_the_readme_ci_example_runs_as_written(tmp_path, tool):
    block = examples()[tool]
    released = Workspace(tmp_path, "baseline")
    baseline = released.run(block, "1.0", "baseline")
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    assert f"PASS {SYSTEM} 1.0" in baseline.stdout and "(none)" in baseline.stdout
    for variant, passes in (("candidate-noise", True), ("candidate-regression", False)):
        candidate = released.copy(variant).run(block, "1.1", variant)
        output = candidate.stdout + candidate.stderr
        if passes:
            assert candidate.returncode == 0 and f"PASS {SYSTEM} 1.1" in candidate.stdout, output
        else:
            assert candidate.returncode == 1 and f"FAIL {SYSTEM} 1.1" in candidate.stdout, output
            assert "cohort eu-legal, task_success_rate: regression" in candidate.stdout, output
        assert "Baseline 1.0" in candidate.stdout


def test_the_stand_ins_write_the_real_tools_files(tmp_path):
    """The promptfoo stand-in writes the fixture's bytes unchanged (the others copy files the same way)."""
    here = tmp_path / "w"
    here.mkdir()
    script = here / "promptfoo"
    script.write_text(STUBS["promptfoo"])
    env = {**os.environ, "FIXTURES": str(EVAL), "FIXTURE_VARIANT": "baseline"}
    done = subprocess.run([sys.executable, str(script), "eval", "-c", "x.yaml", "-o", "results.json"], cwd=here,
                          env=env, check=False)
    assert done.returncode == 100
    original = gzip.decompress((EVAL / "promptfoo" / "baseline" / "results.json.gz").read_bytes())
    assert (here / "results.json").read_bytes() == original
    assert json.loads(original)["metadata"]["promptfooVersion"] == "0.121.20"
