# emr-autoscaler developer tasks. `make` (or `make help`) lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: help setup test lint fmt demo bench docker-lint docker-build deploy-lint

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## create .venv and install the package with its dev extra (editable)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'

# Every check runs even when an earlier one fails, so one run shows all problems; the target
# then fails with the first failing tool's exit status (pytest's when pytest failed).
test: ## run the test suite, then ruff, mypy and the import-layer contracts
	@status=0; \
	$(PY) -m pytest -q || status=$$?; \
	$(BIN)/ruff check . || { r=$$?; [ $$status -ne 0 ] || status=$$r; }; \
	$(BIN)/mypy || { r=$$?; [ $$status -ne 0 ] || status=$$r; }; \
	$(BIN)/lint-imports || { r=$$?; [ $$status -ne 0 ] || status=$$r; }; \
	exit $$status

lint: ## ruff (lint + format check), mypy strict, import-linter, hadolint, deploy-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	$(MAKE) --no-print-directory deploy-lint

# The same checks run as tests in `make test` (tests/deploy/test_deploy_tools.py); this is the CLI form.
deploy-lint: ## deploy/ with its users' tools: cfn-lint, parliament, kubernetes-validate, docker-compose, promtool
	$(BIN)/cfn-lint deploy/cloudformation/*.yaml deploy/dynamodb/*.yaml
	for policy in deploy/iam/*.json; do $(BIN)/parliament --include-community-auditors < $$policy || exit 1; done
	$(BIN)/kubernetes-validate --strict --quiet $$(ls deploy/k8s/*.yaml | grep -v kustomization.yaml)
	docker-compose -f deploy/compose.yaml --profile live config -q
	promtool check rules deploy/prometheus/alerts.yml
	cd tests/deploy && promtool test rules alerts_test.yml

fmt: ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: ## the emulated EMR cluster driven by the real daemon (no AWS account needed)
	$(BIN)/emr-autoscaler demo

bench: ## benchmarks (pytest-benchmark), see BENCHMARKS.md
	$(PY) -m pytest -q --benchmark-enable --benchmark-only

docker-lint: ## hadolint the Dockerfile (no Docker engine needed)
	$(BIN)/hadolint Dockerfile

docker-build: ## build the image (needs a Docker engine)
	docker build -t emr-autoscaler:dev .
