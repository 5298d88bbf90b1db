#!/usr/bin/env bash
# Regenerate tests/fixtures/eval/<tool>/ from the REAL eval tools, offline.
#
#   usage (from the project root):  scripts/make_eval_fixtures.sh [promptfoo] [inspect] [lm_eval]
#   (no arguments = all three tools)
#
# The tools are installed into a cache directory, never into the project's
# .venv:  $EVAL_FIXTURES_CACHE  (default: ${XDG_CACHE_HOME:-~/.cache}/readiness-eval-fixtures)
#   .node-promptfoo/   npm prefix with promptfoo@$PROMPTFOO_VERSION
#   .venv-inspect/     python venv with inspect_ai==$INSPECT_AI_VERSION
#   .venv-lmeval/      python venv with lm_eval==$LM_EVAL_VERSION   (no torch needed)
# An install is reused when its marker file matches the pinned version, so a
# second run only re-runs the evals.
#
# Each tool then runs with a local deterministic model (no network, no model
# weights) for three variants: baseline, candidate-noise, candidate-regression.
# Configs/task files are static files in scripts/eval_fixtures/; the datasets
# are written by scripts/eval_fixtures/gen_inputs.py from fixture_spec.py
# (deterministic), into a temporary work dir that is a copy of that folder.
# When we are root and `unshare -n` works, the eval runs happen inside a fresh
# network namespace (loopback only), which proves they are offline; otherwise
# only the tools' offline switches are set.  EVAL_FIXTURES_NO_NET=0 disables it.
#
# Outputs: tests/fixtures/eval/<tool>/<variant>/...  Text outputs (.json/.jsonl)
# are stored gzip-compressed (gzip -n -9, the uncompressed bytes are exactly
# what the tool wrote; their sha256 is listed in the tool's README.md);
# set EVAL_FIXTURES_GZIP=0 to store them uncompressed.  Inspect .eval logs are
# stored as written (they are already zstd-compressed zips).
# Every run replaces tests/fixtures/eval/<tool>/ completely and verifies the
# per-cohort counts against fixture_spec.py (exit 1 on mismatch).
set -euo pipefail

PROMPTFOO_VERSION="${PROMPTFOO_VERSION:-0.121.20}"   # last release whose engines allow Node 20 (^20.20.0 || >=22.22.0)
INSPECT_AI_VERSION="${INSPECT_AI_VERSION:-0.3.285}"
LM_EVAL_VERSION="${LM_EVAL_VERSION:-0.4.13}"
VARIANTS=(baseline candidate-noise candidate-regression)

ROOT="$(pwd)"
HELPERS="$ROOT/scripts/eval_fixtures"
OUT="$ROOT/tests/fixtures/eval"
CACHE="${EVAL_FIXTURES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/readiness-eval-fixtures}"
PYTHON="${PYTHON:-python3}"
GZIP_OUT="${EVAL_FIXTURES_GZIP:-1}"
NO_NET="${EVAL_FIXTURES_NO_NET:-auto}"
# Inspect logs are big (~2.4 KB per sample even zstd-compressed), so by default
# the --log-format json log is made for the baseline only; "all" makes it for
# every variant too (+~320 KB).  The .eval log is always made for every variant.
INSPECT_JSON="${EVAL_FIXTURES_INSPECT_JSON:-baseline}"

log() { printf '[make_eval_fixtures %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -f "$HELPERS/fixture_spec.py" ]] || die "run from the project root (no scripts/eval_fixtures/fixture_spec.py in $ROOT)"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found"

TOOLS=("$@")
[[ ${#TOOLS[@]} -gt 0 ]] || TOOLS=(promptfoo inspect lm_eval)
for t in "${TOOLS[@]}"; do
  case "$t" in promptfoo|inspect|lm_eval) ;; *) die "unknown tool '$t' (promptfoo|inspect|lm_eval)";; esac
done

START_S=$SECONDS
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/eval-fixtures.XXXXXX")"
if [[ "${EVAL_FIXTURES_KEEP_WORK:-0}" == 1 ]]; then
  trap 'log "work dir kept: $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
RUN_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# ---------------------------------------------------------------- offline env
# Set for every tool *run* (not for the installs, so pip/npm keep their caches).
OFFLINE_ENV=(
  PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_SHARING=1
  PROMPTFOO_DISABLE_REMOTE_GENERATION=true PROMPTFOO_CACHE_ENABLED=false
  PROMPTFOO_CONFIG_DIR="$WORK/promptfoo-home" PROMPTFOO_PYTHON="$(command -v "$PYTHON")"
  DO_NOT_TRACK=1
  HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
  HF_HOME="$WORK/hf-home"
  XDG_DATA_HOME="$WORK/xdg-data" XDG_CACHE_HOME="$WORK/xdg-cache"
  PYTHONDONTWRITEBYTECODE=1
)

USE_NETNS=0
if [[ "$NO_NET" != 0 ]] && [[ "$(id -u)" == 0 ]] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  USE_NETNS=1
elif [[ "$NO_NET" == 1 ]]; then
  die "EVAL_FIXTURES_NO_NET=1 but 'unshare -n' is not available (needs root)"
fi
offline() {  # run "$@" with the offline env, and without network access if we can
  if [[ $USE_NETNS == 1 ]]; then
    env "${OFFLINE_ENV[@]}" unshare -n -- sh -c '(ip link set lo up || true) 2>/dev/null; exec "$@"' offline-sh "$@"
  else
    env "${OFFLINE_ENV[@]}" "$@"
  fi
}
log "cache: $CACHE   work: $WORK   network namespace: $([[ $USE_NETNS == 1 ]] && echo yes || echo 'no (offline flags only)')"

# -------------------------------------------------------------- tool installs
ensure_venv() {  # ensure_venv DIR "pip requirement..."   (marker = requirement string)
  local dir="$1"; shift
  local want="$*"
  if [[ -x "$dir/bin/python" && -f "$dir/.readiness-installed" && "$(cat "$dir/.readiness-installed")" == "$want" ]]; then
    log "reusing $dir ($want)"; return
  fi
  log "installing $want into $dir"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  # None of the three tools needs torch.  If something ever pulls it in,
  # install torch==2.13.0 (CPU wheel) first so pip never picks a CUDA build.
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  printf '%s' "$want" > "$dir/.readiness-installed"
}

ensure_promptfoo() {
  local dir="$CACHE/.node-promptfoo" want="promptfoo@$PROMPTFOO_VERSION"
  command -v node >/dev/null && command -v npm >/dev/null || die "promptfoo needs node + npm"
  # promptfoo 0.121.20 declares engines.node '^20.20.0 || >=22.22.0'; 0.122+ need >=22.22.0.
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit((a===20&&b>=20)||a>22||(a===22&&b>=22)?0:1)' \
    || die "promptfoo $PROMPTFOO_VERSION needs Node ^20.20.0 or >=22.22.0 (found $(node --version))"
  if [[ -x "$dir/node_modules/.bin/promptfoo" && -f "$dir/.readiness-installed" && "$(cat "$dir/.readiness-installed")" == "$want" ]]; then
    log "reusing $dir ($want)"; return
  fi
  log "installing $want into $dir"
  rm -rf "$dir"; mkdir -p "$dir"
  printf '{"name":"readiness-eval-fixture-tools","private":true}\n' > "$dir/package.json"
  # --omit=optional skips ~1.1 GB of optional provider SDKs (playwright, aws, ...);
  # the one optional dep promptfoo cannot run without is libsql's native binding.
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --omit=optional "$want" >&2)
  local native
  native="$(cd "$dir" && node -e '
    const p = require("./node_modules/libsql/package.json");
    let libc = "";
    if (process.platform === "linux") libc = process.report.getReport().header.glibcVersionRuntime ? "-gnu" : "-musl";
    const name = `@libsql/${process.platform}-${process.arch}${libc}`;
    const v = (p.optionalDependencies || {})[name];
    if (v) console.log(`${name}@${v}`);')" || true
  if [[ -n "$native" ]]; then
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --omit=optional "$want" "$native" >&2)
  fi
  if ! (cd "$dir" && node -e 'require("libsql")' 2>/dev/null); then
    log "libsql native binding missing; falling back to a full install (with optional deps)"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$want" >&2)
  fi
  [[ "$(offline "$dir/node_modules/.bin/promptfoo" --version 2>/dev/null | tail -n1)" == "$PROMPTFOO_VERSION" ]] || die "promptfoo install failed"
  printf '%s' "$want" > "$dir/.readiness-installed"
}

# -------------------------------------------------------------------- helpers
store() {  # store SRC DEST_DIR  -> copies (gzip'd for json/jsonl), appends to $MANIFEST
  local src="$1" dest="$2" name sha_raw sha_out out
  name="$(basename "$src")"
  mkdir -p "$dest"
  sha_raw="$(sha256sum "$src" | cut -d' ' -f1)"
  if [[ "$GZIP_OUT" == 1 && ( "$name" == *.json || "$name" == *.jsonl ) ]]; then
    out="$dest/$name.gz"
    gzip -n -9 -c "$src" > "$out"
  else
    out="$dest/$name"
    cp "$src" "$out"
  fi
  sha_out="$(sha256sum "$out" | cut -d' ' -f1)"
  printf '| `%s` | %s | %s | `%s` |\n' "${out#"$STAGE"/}" "$(stat -c %s "$src")" "$(stat -c %s "$out")" "$sha_raw" >> "$MANIFEST"
}

begin_readme() {  # begin_readme TOOL VERSION
  STAGE="$WORK/stage/$1"; rm -rf "$STAGE"; mkdir -p "$STAGE"
  README="$STAGE/README.md"; MANIFEST="$WORK/manifest-$1.md"; : > "$MANIFEST"
  {
    echo "# $1 eval fixtures"
    echo
    echo "GENERATED by \`scripts/make_eval_fixtures.sh\` -- real output of the tool, do not edit."
    echo "Inputs: \`scripts/eval_fixtures/\` (fixture_spec.py defines the dataset and the deterministic local model)."
    echo
    echo "- tool: $1"
    echo "- version: $2"
    echo "- generated: $RUN_DATE (UTC)"
    echo "- host: $(uname -s) $(uname -m), $("$PYTHON" --version 2>&1), node $(node --version 2>/dev/null || echo n/a)"
    echo "- network during the eval runs: $([[ $USE_NETNS == 1 ]] && echo 'none (unshare -n network namespace, loopback only)' || echo 'not isolated; offline flags only')"
    echo "- compression: $([[ $GZIP_OUT == 1 ]] && echo '.json/.jsonl stored as .gz (gzip -n -9); gunzip gives the exact bytes the tool wrote' || echo 'none')"
  } > "$README"
}

finish_readme() {  # finish_readme TOOL  -- file table, then move staged dir into place
  {
    echo
    echo "## Files"
    echo
    echo "| file | bytes as written by the tool | bytes stored | sha256 of the bytes the tool wrote |"
    echo "| --- | ---: | ---: | --- |"
    cat "$MANIFEST"
  } >> "$README"
  mkdir -p "$OUT"
  rm -rf "${OUT:?}/$1"
  mv "$STAGE" "$OUT/$1"
}

# -------------------------------------------------------------------- inputs
cp -r "$HELPERS/." "$WORK/"
rm -rf "$WORK"/__pycache__ "$WORK"/*/__pycache__
PYTHONDONTWRITEBYTECODE=1 "$PYTHON" "$WORK/gen_inputs.py" "$WORK"

# ------------------------------------------------------------------ promptfoo
run_promptfoo() {
  ensure_promptfoo
  local pf="$CACHE/.node-promptfoo/node_modules/.bin/promptfoo" v rc
  begin_readme promptfoo "$PROMPTFOO_VERSION"
  {
    echo "- env: PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_SHARING=1 PROMPTFOO_DISABLE_REMOTE_GENERATION=true PROMPTFOO_CACHE_ENABLED=false PROMPTFOO_CONFIG_DIR=<tmp> PROMPTFOO_PYTHON=python3"
    echo "- provider: \`scripts/eval_fixtures/promptfoo/provider.py\` (python file provider; returns {error} for the fault item)"
    echo
    echo "## Commands (cwd = <work>/promptfoo/<variant>, a copy of scripts/eval_fixtures/promptfoo/<variant>/; tests.json written by gen_inputs.py)"
    echo
  } >> "$README"
  for v in "${VARIANTS[@]}"; do
    local cmd=(eval -c promptfooconfig.yaml --no-cache --no-share --no-write --no-table --no-progress-bar -o results.json -o results.jsonl)
    log "promptfoo $PROMPTFOO_VERSION: $v"
    set +e
    (cd "$WORK/promptfoo/$v" && offline "$pf" "${cmd[@]}") > "$WORK/promptfoo-$v.log" 2>&1
    rc=$?
    set -e
    # promptfoo exits 100 when some test failed (expected here), 0 if all passed.
    if [[ $rc != 0 && $rc != 100 ]] || [[ ! -s "$WORK/promptfoo/$v/results.json" ]]; then
      cat "$WORK/promptfoo-$v.log" >&2; die "promptfoo failed for $v (exit $rc)"
    fi
    echo "- $v: \`promptfoo ${cmd[*]}\` (exit $rc; 100 = some tests failed)" >> "$README"
    store "$WORK/promptfoo/$v/results.json" "$STAGE/$v"
    store "$WORK/promptfoo/$v/results.jsonl" "$STAGE/$v"
  done
  finish_readme promptfoo
}

# -------------------------------------------------------------------- inspect
run_inspect() {
  local venv="$CACHE/.venv-inspect" v fmt f
  ensure_venv "$venv" "inspect_ai==$INSPECT_AI_VERSION"
  begin_readme inspect "inspect_ai $INSPECT_AI_VERSION"
  {
    echo "- task: \`scripts/eval_fixtures/inspect/readiness_task.py\` (mockllm provider with a deterministic custom_outputs callable, fail_on_error=False)"
    echo "- python packages: $("$venv/bin/pip" freeze 2>/dev/null | grep -i -E '^(inspect.ai|zstandard|pydantic)==' | tr '\n' ' ')"
    echo "- formats: .eval (default) for every variant; --log-format json for $([[ $INSPECT_JSON == all ]] && echo 'every variant' || echo 'the baseline only (EVAL_FIXTURES_INSPECT_JSON=all adds the candidates)')"
    echo
    echo "## Commands (cwd = <work>/inspect, a copy of scripts/eval_fixtures/inspect/; dataset.jsonl written by gen_inputs.py)"
    echo
  } >> "$README"
  for v in "${VARIANTS[@]}"; do
    for fmt in eval json; do
      if [[ $fmt == json && $v != baseline && $INSPECT_JSON != all ]]; then continue; fi
      local cmd=(eval readiness_task.py -T "variant=$v" --log-dir "logs/$v-$fmt" --log-format "$fmt" --display plain --no-log-model-api)
      log "inspect_ai $INSPECT_AI_VERSION: $v ($fmt)"
      (cd "$WORK/inspect" && offline "$venv/bin/inspect" "${cmd[@]}") > "$WORK/inspect-$v-$fmt.log" 2>&1 \
        || { cat "$WORK/inspect-$v-$fmt.log" >&2; die "inspect failed for $v ($fmt)"; }
      echo "- $v ($fmt): \`inspect ${cmd[*]}\`" >> "$README"
      local n=0
      for f in "$WORK/inspect/logs/$v-$fmt"/*."$fmt"; do store "$f" "$STAGE/$v"; n=$((n + 1)); done
      [[ $n == 1 ]] || die "expected exactly one .$fmt log for $v, found $n"
    done
  done
  finish_readme inspect
}

# -------------------------------------------------------------------- lm_eval
run_lm_eval() {
  local venv="$CACHE/.venv-lmeval" v short f
  ensure_venv "$venv" "lm_eval==$LM_EVAL_VERSION"
  begin_readme lm_eval "lm_eval $LM_EVAL_VERSION"
  {
    echo "- model: lm-eval's built-in \`dummy\` model (generate_until always returns \"lol\"); tasks: \`scripts/eval_fixtures/lm_eval/<variant>/readiness_arith_*.yaml\` (local JSONL via dataset_path: json; data.jsonl written by gen_inputs.py)"
    echo "- env: HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HOME=<tmp>"
    echo "- python packages: $("$venv/bin/pip" freeze 2>/dev/null | grep -i -E '^(lm.eval|datasets|evaluate)==' | tr '\n' ' ')(torch not installed)"
    echo "- lm-eval writes <output_path>/<model_name_sanitized>/{results_<date>.json,samples_<task>_<date>.jsonl}; the two files are stored flat in <variant>/"
    echo
    echo "## Commands (cwd = <work>/lm_eval/<variant>, a copy of scripts/eval_fixtures/lm_eval/<variant>/)"
    echo
  } >> "$README"
  for v in "${VARIANTS[@]}"; do
    short="${v#candidate-}"; short="readiness_arith_${short//-/_}"
    # DummyLM ignores model_args; model=... only gives lm-eval a model_name
    # (else it makes up a random id such as "qdpv68r5" for the output subdir).
    local cmd=(run --model dummy --model_args "model=readiness-fixture-$v" --tasks "$short" --include_path . --log_samples --output_path out)
    log "lm_eval $LM_EVAL_VERSION: $v"
    (cd "$WORK/lm_eval/$v" && offline "$venv/bin/lm_eval" "${cmd[@]}") > "$WORK/lm_eval-$v.log" 2>&1 \
      || { cat "$WORK/lm_eval-$v.log" >&2; die "lm_eval failed for $v"; }
    echo "- $v: \`lm_eval ${cmd[*]}\`" >> "$README"
    local n=0
    for f in "$WORK/lm_eval/$v/out"/*/results_*.json "$WORK/lm_eval/$v/out"/*/samples_*.jsonl; do
      [[ -f "$f" ]] || die "lm_eval wrote no $(basename "$f") for $v"
      store "$f" "$STAGE/$v"; n=$((n + 1))
    done
    [[ $n == 2 ]] || die "expected results + samples for $v, found $n files"
  done
  finish_readme lm_eval
}

# ----------------------------------------------------------------------- main
for t in "${TOOLS[@]}"; do
  t0=$SECONDS
  "run_$t"
  log "$t done in $((SECONDS - t0)) s"
done

log "verifying per-cohort counts against fixture_spec.py"
CHECK_PY="$PYTHON"
[[ -x "$CACHE/.venv-inspect/bin/python" ]] && CHECK_PY="$CACHE/.venv-inspect/bin/python"  # has zstandard for .eval
check_files=()
for t in "${TOOLS[@]}"; do
  while IFS= read -r f; do check_files+=("$f"); done < <(find "$OUT/$t" -type f ! -name README.md ! -name 'results_*' | sort)
done
PYTHONDONTWRITEBYTECODE=1 "$CHECK_PY" "$HELPERS/count_cohorts.py" --check "${check_files[@]}" > "$WORK/counts.txt" || { cat "$WORK/counts.txt" >&2; die "per-cohort counts differ from fixture_spec.py"; }
cat "$WORK/counts.txt" >&2
log "all done in $((SECONDS - START_S)) s; outputs in ${OUT#"$ROOT"/}/"
du -ab "$OUT" | sort -k2 >&2
