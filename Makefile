# The two commands of the README. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck check-tests demo clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

## Start the server on http://127.0.0.1:8000 with ./liveticker.db and demo content.
run: $(STAMP)
	$(BIN)/liveticker serve --demo

## Lint, type check and the whole test suite.
test: $(TEST_STAMP) lint typecheck check-tests

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

check-tests: $(TEST_STAMP)
	$(BIN)/pytest

## Extract the reader pages' strings and merge them into every catalogue (docs/translating.md).
messages: $(STAMP)
	$(BIN)/python -m liveticker.web.catalogues update

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
