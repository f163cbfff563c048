# Courier: `make demo` plays the sample data through the sandbox; `make test` runs every check CI runs.
SHELL := /bin/bash
# A failing pip fails the recipe even though its output is filtered.
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .tools/checkov
LOCK_VENV := .tools/lock
DOCS_VENV := .tools/docs
# Every install is from a lock file with hashes (`make lock` writes them from the *.in files); this machine's pip
# configuration names local indexes that may not exist, whose warnings are noise.
PIP_INSTALL = -m pip install --quiet --require-hashes
QUIET_PIP = 2>&1 | { grep -v '^WARNING: Location' || true; }
LOCKS := layers/common/requirements tests/built/runtime requirements-dev requirements-pip requirements-sam requirements-checkov requirements-bench requirements-lock requirements-docs
export SAM_CLI_TELEMETRY := 0
export NO_MKDOCS_2_WARNING := 1
export AWS_DEFAULT_REGION ?= us-east-1
# sam build needs the runtime's interpreter (python3.13) on PATH; pyenv keeps it out of PATH unless selected.
PY313_DIR := $(shell if python3.13 -V >/dev/null 2>&1; then dirname "$$(command -v python3.13)"; else ls -d $$HOME/.pyenv/versions/3.13*/bin 2>/dev/null | tail -n1; fi)

.PHONY: help venv sam-cli lock lint typecheck template security build built pytest complexity generated test test-fast docs docs-serve demo sandbox bench generate clean

help:
	@echo "make demo   - play the sample data through the local sandbox (moto + emulators)"
	@echo "make test   - everything CI runs: ruff, mypy, xenon, template checks, bandit, checkov, sam build, docs, pytest with coverage"
	@echo "make test-fast - the edit loop: ruff, mypy and the unit tests (about a minute)"
	@echo "make docs   - the documentation site into out/site (--strict); make docs-serve serves it on 127.0.0.1:8000"
	@echo "make bench  - the benchmarks (bench/RESULTS.md, bench/throughput.png); BENCH_ARGS=--sizes=10000,100000"
	@echo "make lock   - rewrite the hashed lock files (*.txt) from the requirements' *.in files"
	@echo "make generate - rewrite the per-endpoint parts of template.yaml and README.md from the endpoint registry"
	@echo "make sandbox - the sandbox in the foreground: moto on :4566, routes on :3000, emulators on :8701 and :8702"

$(BIN)/.installed: requirements-pip.txt requirements-dev.txt layers/common/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_INSTALL) -r requirements-pip.txt $(QUIET_PIP)
	$(BIN)/python $(PIP_INSTALL) -r requirements-dev.txt $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . $(QUIET_PIP)
	$(BIN)/python -m pip check >/dev/null
	$(BIN)/python -c "import aws_lambda_powertools, moto, pytest_socket, cfnlint"
	touch $@

venv: $(BIN)/.installed

$(SAM_VENV)/.installed: requirements-pip.txt requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python $(PIP_INSTALL) -r requirements-pip.txt $(QUIET_PIP)
	$(SAM_VENV)/bin/python $(PIP_INSTALL) -r requirements-sam.txt $(QUIET_PIP)
	$(SAM) --version
	touch $@

sam-cli: $(SAM_VENV)/.installed

# Rewrites every lock file from its .in file: all versions pinned with hashes, resolved for Python 3.11 and later
# (the tests' 3.11 and Lambda's 3.13). CI only installs from the locks.
lock:
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python $(PIP_INSTALL) -r requirements-lock.txt $(QUIET_PIP)
	for lock in $(LOCKS); do \
		$(LOCK_VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
			--custom-compile-command "make lock" $$lock.in -o $$lock.txt || exit 1; \
	done

$(DOCS_VENV)/.installed: requirements-pip.txt requirements-docs.txt
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python $(PIP_INSTALL) -r requirements-pip.txt $(QUIET_PIP)
	$(DOCS_VENV)/bin/python $(PIP_INSTALL) -r requirements-docs.txt $(QUIET_PIP)
	touch $@

# The documentation site (docs/, mkdocs.yml): --strict fails on a broken link, a missing page or an unlisted one.
docs: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/mkdocs build --strict --site-dir out/site

docs-serve: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

$(CHECKOV_VENV)/.installed: requirements-pip.txt requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-pip.txt $(QUIET_PIP)
	$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-checkov.txt $(QUIET_PIP)
	$(CHECKOV_VENV)/bin/checkov --version
	touch $@

security: venv $(CHECKOV_VENV)/.installed
	$(BIN)/bandit -q -r layers functions cli infra demo sandbox --severity-level medium
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

template: venv sam-cli
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint

build: sam-cli
	@test -n "$(PY313_DIR)" || { echo "sam build needs python3.13 (the Lambda runtime) on PATH"; exit 1; }
	PATH="$(PY313_DIR):$$PATH" $(SAM) build --build-dir .aws-sam/build

# The floor is the coverage measured when it was set, rounded down (93 % on 2026-12-06, branches included, in the
# suite's own process: fault tests' invocations run in processes of their own). Raise it when coverage rises; never
# lower it to let a change in.
COVERAGE_FLOOR := 92

FAST_TESTS := tests/unit tests/test_generated.py tests/test_template.py tests/test_webhook_template.py tests/test_monitoring.py

# What ships is what is tested: the template's x86_64 variant built (the arm64 layer's pydantic-core cannot load on
# an x86 machine), then every function run from it on python3.13 with the runtime's boto3 only (tests/built).
X86_TEMPLATE := .aws-sam/x86_64/template.yaml
built: venv sam-cli
	@test -n "$(PY313_DIR)" || { echo "the built functions run on python3.13 (the Lambda runtime): put it on PATH"; exit 1; }
	mkdir -p $(dir $(X86_TEMPLATE))
	sed -e 's/\barm64\b/x86_64/g' -e 's#CodeUri: functions/#CodeUri: ../../functions/#' \
		-e 's#ContentUri: layers/#ContentUri: ../../layers/#' template.yaml > $(X86_TEMPLATE)
	PATH="$(PY313_DIR):$$PATH" $(SAM) build --template-file $(X86_TEMPLATE) --build-dir .aws-sam/build-x86_64
	rm -rf .aws-sam/runtime
	$(BIN)/python $(PIP_INSTALL) --no-deps --target .aws-sam/runtime -r tests/built/runtime.txt $(QUIET_PIP)
	COURIER_PYTHON313="$(PY313_DIR)/python3.13" $(BIN)/pytest -q -p no:cacheprovider tests/built

# Unit tests on both cores (nothing in them depends on time); the integration suite serially, its timings are real;
# coverage over both, then the fault suite without it (its invocations run in processes of their own).
pytest: venv
	$(BIN)/pytest -q -n 2 --cov --cov-report= $(FAST_TESTS)
	$(BIN)/pytest -q --cov --cov-append --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) tests/integration
	$(BIN)/pytest -q tests/faults

# No function of the layer rates D or worse (radon's cyclomatic complexity).
complexity: venv
	$(BIN)/xenon --max-absolute C layers/common/courier

# The generated files first: a stale table fails in seconds, not after the whole suite.
generated: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m infra.generate --check

test: lint typecheck complexity generated template security build built docs pytest

# The edit loop: no template tools, no build, no sandbox or fault suites.
test-fast: lint typecheck complexity
	$(BIN)/pytest -q -n 2 $(FAST_TESTS)

sandbox: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m sandbox

bench: venv build
	$(BIN)/python $(PIP_INSTALL) -r requirements-bench.txt $(QUIET_PIP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

generate: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m infra.generate

demo: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m demo

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache out/site
