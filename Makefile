# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_LETTERS ?= 5000
DEMO_SEED ?= 2013
DEMO_DB ?= data/warehouse/demo.duckdb
PORT ?= 8501

.PHONY: setup demo demo-data test lint typecheck unit browser bench screenshot clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Build the demo warehouse (seed letters, samples of every layout, synthetic corpus), then serve it.
# `imr demo` does both; installed without a checkout, `imr demo` alone builds the synthetic part.
DEMO_FLAGS = data/samples --db $(DEMO_DB) --corpus data/demo/letters --letters $(DEMO_LETTERS) --seed $(DEMO_SEED)

demo: setup
	$(BIN)/imr demo $(DEMO_FLAGS) --port $(PORT)

demo-data: setup
	$(BIN)/imr demo $(DEMO_FLAGS) --no-serve

test: setup lint typecheck unit browser

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy etl dashboard benchmarks

# Everything but the browser tests (a real server driven by Debian's Chromium), on every core
# (pytest-xdist; JOBS=1 runs them in one process).
JOBS ?= auto
unit: setup
	$(BIN)/pytest -q -m "not browser" -n $(JOBS)

browser: setup
	$(BIN)/pytest -q -m browser

# Rewrites docs/screenshot.png from the demo-like test warehouse (tests never write it otherwise).
screenshot: setup
	IMR_SCREENSHOT=1 $(BIN)/pytest -q tests/browser/test_screenshot.py

bench: setup
	$(BIN)/python benchmarks/ingest_speed.py

clean:
	rm -rf $(VENV) data/warehouse data/demo .pytest_cache .mypy_cache .ruff_cache
