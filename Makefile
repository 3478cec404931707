# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_LETTERS ?= 5000
DEMO_SEED ?= 2013
DEMO_DB ?= data/warehouse/demo.duckdb
PORT ?= 8501

.PHONY: setup native demo demo-data test lint typecheck unit browser bench screenshot clean

setup: $(VENV)/.installed native

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# The parser compiled by mypyc into .native/ (etl/native.py): about 20 s when a source changed,
# nothing otherwise. Without a C compiler it says so and the parser stays pure Python.
native: $(VENV)/.installed
	$(BIN)/python -m etl.native build

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
# The parser's own tests then run again on its pure-Python modules (the wheel's).
PURE_TESTS = tests/classify tests/test_golden_real.py tests/test_golden_samples.py \
	tests/reliability/test_parser_properties.py tests/reliability/test_bad_inputs.py
unit: setup
	$(BIN)/pytest -q -m "not browser" -n $(JOBS)
	IMR_NATIVE=off $(BIN)/pytest -q -m "not browser" -n $(JOBS) $(PURE_TESTS)

browser: setup
	$(BIN)/pytest -q -m browser

# Rewrites docs/screenshot.png from the demo-like test warehouse (tests never write it otherwise).
screenshot: setup
	IMR_SCREENSHOT=1 $(BIN)/pytest -q tests/browser/test_screenshot.py

bench: setup
	$(BIN)/python benchmarks/ingest_speed.py

clean:
	rm -rf $(VENV) .native data/warehouse data/demo .pytest_cache .mypy_cache .ruff_cache
