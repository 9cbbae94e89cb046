# leadml — the menu of everything one can do. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR := false
# Test PostgreSQL (Debian's server on loopback; started by `make postgres`).
PG_PORT ?= 55432
# The registered model `make serve` serves (the demo's: its schema's name).
MODEL ?= synthetic-crm
export LEADML_TEST_POSTGRES_URL ?= postgresql+psycopg://leadml:leadml@127.0.0.1:$(PG_PORT)/leadml_test

.PHONY: help install demo test lint format bench mlflow-ui serve system-deps postgres docs clean

help:  ## this menu
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
	  | sed -e 's/\$$(PG_PORT)/$(PG_PORT)/g' -e 's/\$$(MODEL)/$(MODEL)/g' \
	  | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is needed ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install leadml with its test tools

demo: install  ## sample data → train → score → explain, end to end
	$(BIN)/leadml demo

system-deps:  ## Debian packages the tests need: headless chromium and PostgreSQL
	@need=""; \
	 [ -x /usr/bin/chromium ] || need="$$need chromium"; \
	 command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	 if [ -n "$$need" ]; then \
	   echo "Installing Debian packages:$$need"; \
	   SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	   $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null; \
	 fi

postgres: system-deps  ## start a throwaway PostgreSQL on 127.0.0.1:$(PG_PORT) for the tests
	@bash .ci/postgres.sh $(PG_PORT)

test: install system-deps postgres  ## install everything and run the test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=25

lint:  ## ruff check and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:  ## ruff format and autofix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: install  ## benchmarks: training, explaining, serving, Dask (minutes; prints ratios)
	$(BIN)/python bench/run_all.py

docs: install  ## the docs site into site/ (reference pages generated from the code)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict --site-dir site

mlflow-ui: install  ## the MLflow UI on http://127.0.0.1:5000 for the project's store
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db \
	  --default-artifact-root $(CURDIR)/mlruns --host 127.0.0.1 --port 5000

serve: install  ## serve the champion of $(MODEL) on http://127.0.0.1:8000
	$(BIN)/leadml serve --model models:/$(MODEL)@champion

clean:  ## remove sample data, bundles and the MLflow store (keeps .venv and the score history)
	rm -rf mlflow.db mlruns mlflow data/sample/*.csv
	find models -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
