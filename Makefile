# One task runner. Every target installs what it needs into .venv/ from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint fmt clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[local,cli,dev]'
	touch $(STAMP)

run: $(STAMP)  ## start the whole system locally (API on http://127.0.0.1:8080)
	$(BIN)/python -m local_system

test: $(STAMP)  ## every test: unit, integration, infra, e2e
	$(BIN)/pytest

bench: $(STAMP)  ## benchmarks (all suites, or SUITES="ingest loyalty")
	$(BIN)/python -m benchmarks $(SUITES)

lint: $(STAMP)
	$(BIN)/ruff check functions local_system fraudctl tests benchmarks
	$(BIN)/ruff format --check functions local_system fraudctl tests benchmarks

fmt: $(STAMP)
	$(BIN)/ruff format functions local_system fraudctl tests benchmarks
	$(BIN)/ruff check --fix functions local_system fraudctl tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info infra/cdk.out
