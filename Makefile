# The two commands of the README: `make run` and `make test`. Everything else is for operators.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test test-sqlite test-postgres lint typecheck package bench clean

$(STAMP): requirements/*.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m infra.local

test: $(STAMP) lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy django_app contracts functions infra

test-sqlite: $(STAMP)
	$(BIN)/pytest

# The API tests again, on PostgreSQL. Locally a missing PostgreSQL is a warning; under CI=true a failure.
test-postgres: $(STAMP)
	@url=$$(bash infra/scripts/postgres.sh) ; status=$$? ; \
	if [ $$status -ne 0 ]; then \
	  if [ "$$CI" = "true" ]; then echo "PostgreSQL is required in CI" >&2; exit 1; fi ; \
	  echo "WARNING: PostgreSQL unavailable, PostgreSQL tests not run" >&2; exit 0 ; \
	fi ; \
	DATABASE_URL=$$url $(BIN)/pytest -m "django_db or postgres" -p no:cacheprovider

package: $(STAMP)
	$(BIN)/python -m infra.package --stage $(STAGE)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf build staticfiles .pytest_cache .mypy_cache .ruff_cache
