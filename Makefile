# The README's commands: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup test demo bench lint contract mutate clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/readiness demo

bench: $(STAMP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_data.py
	$(PY) scripts/bench_profile.py
	$(PY) scripts/bench_outbox.py
	$(PY) scripts/bench_evidence.py

# Mutation testing of the pure core's rules (slow; not part of `make test` or CI). See the README's Testing section.
mutate: $(STAMP)
	$(PY) scripts/mutate.py $(MUTATE_ARGS)

# Regenerate the Slack contract data from the method reference beside the project (not read at run time).
contract: $(STAMP)
	$(PY) scripts/derive_slack_contract.py ../shared/slack-api-ref

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache mutants mutants.log
