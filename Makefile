# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_LETTERS ?= 5000
DEMO_SEED ?= 2013
DEMO_DB ?= data/warehouse/demo.duckdb
PORT ?= 8501

.PHONY: setup demo demo-data test lint typecheck unit browser bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Build the demo warehouse (seed letters, samples of every layout, synthetic corpus), then serve it.
demo: demo-data
	$(BIN)/imr dashboard --db $(DEMO_DB) --port $(PORT)

demo-data: setup
	$(BIN)/imr demo-corpus --letters $(DEMO_LETTERS) --seed $(DEMO_SEED) --out data/demo/letters
	$(BIN)/imr ingest data/samples data/demo/letters --db $(DEMO_DB) --quiet

test: setup lint typecheck unit

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy etl dashboard

unit: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python benchmarks/ingest_speed.py

clean:
	rm -rf $(VENV) data/warehouse data/demo .pytest_cache .mypy_cache .ruff_cache
