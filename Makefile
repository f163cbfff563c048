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
# Every install is from a lock file with hashes (`make lock` writes them from the *.in files); this machine's pip
# configuration names local indexes that may not exist, whose warnings are noise.
PIP_INSTALL = -m pip install --quiet --require-hashes
QUIET_PIP = 2>&1 | { grep -v '^WARNING: Location' || true; }
LOCKS := layers/common/requirements requirements-dev requirements-pip requirements-sam requirements-checkov requirements-bench requirements-lock
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# sam build needs the runtime's interpreter (python3.13) on PATH; pyenv keeps it out of PATH unless selected.
PY313_DIR := $(shell if python3.13 -V >/dev/null 2>&1; then dirname "$$(command -v python3.13)"; else ls -d $$HOME/.pyenv/versions/3.13*/bin 2>/dev/null | tail -n1; fi)

.PHONY: help venv sam-cli lock lint typecheck template security build pytest test demo sandbox bench generate clean

help:
	@echo "make demo   - play the sample data through the local sandbox (moto + emulators)"
	@echo "make test   - ruff, mypy, template checks (cfn-lint, sam validate), bandit, checkov, sam build, pytest"
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

$(CHECKOV_VENV)/.installed: requirements-pip.txt requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-pip.txt $(QUIET_PIP)
	$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-checkov.txt $(QUIET_PIP)
	$(CHECKOV_VENV)/bin/checkov --version
	touch $@

security: venv $(CHECKOV_VENV)/.installed
	$(BIN)/bandit -q -r layers functions sandbox --severity-level medium
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

pytest: venv
	$(BIN)/pytest

test: lint typecheck template security build pytest

sandbox: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m sandbox

bench: venv build
	$(BIN)/python $(PIP_INSTALL) -r requirements-bench.txt $(QUIET_PIP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

generate: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m sandbox.generate

demo: venv
	PYTHONPATH=.:layers/common $(BIN)/python -m sandbox.demo

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
