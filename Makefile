# The two Quick start commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck venv clean scenarios bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,resco]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/trafficai gui

lint: $(STAMP)
	$(BIN)/ruff check trafficai tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/trafficai bench sim grid4x4
	$(BIN)/trafficai bench sim city

scenarios: $(STAMP)
	$(BIN)/python scenarios/generate.py

clean:
	rm -rf $(VENV)
