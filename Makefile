# The two commands of the README: `make run` and `make test`. Everything else is for operators.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Defined before any rule names it: make expands prerequisites when it reads the rule.
NODE_STAMP := node_modules/.installed
STAGE ?= dev

.PHONY: run test test-sqlite test-postgres test-webhooks lint typecheck package bench clean check-config rehearse node soak webhooks-bundle

$(STAMP): requirements/*.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

# The stack builds the webhooks bundle (functions/webhooks/dist) itself when its sources changed.
run: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m infra.local

test: $(STAMP) $(NODE_STAMP) lint test-webhooks test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy django_app contracts functions infra

# functions/webhooks (TypeScript): tsc, eslint, then node's test runner (the generated contract types
# are current, the Standard Webhooks vectors, token refusals, the bundle's size).
test-webhooks: $(NODE_STAMP)
	npm run -w functions/webhooks typecheck
	npm run -w functions/webhooks lint
	npm run -w functions/webhooks test

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

# osls, serverless-python-requirements and the functions/webhooks workspace's packages, exactly as
# package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json functions/webhooks/package.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

# Both artifacts of a stage: the Django function (build/zappa-$(STAGE).zip, for
# `zappa update $(STAGE) --zip ...`) and the osls package (build/osls-$(STAGE), for
# `npx osls deploy --stage $(STAGE) --package build/osls-$(STAGE)`).
package: $(STAMP) $(NODE_STAMP) webhooks-bundle
	$(BIN)/python -m infra.package --stage $(STAGE)
	rm -rf build/osls-$(STAGE)
	AWS_ACCESS_KEY_ID=package-only AWS_SECRET_ACCESS_KEY=package-only AWS_EC2_METADATA_DISABLED=true \
	  npx --no-install osls package --stage $(STAGE) --package build/osls-$(STAGE)

# The Node functions' one file (esbuild): what osls packages and the local stack runs.
webhooks-bundle: $(NODE_STAMP)
	npm run --silent -w functions/webhooks build

# serverless.yml and zappa_settings.json agree, and every handler imports (docs/operations.md).
check-config: $(STAMP) webhooks-bundle
	$(BIN)/python -m infra.check

# Deploys the osls stack to MiniStack and runs one job end to end through it (docs/operations.md).
rehearse: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m infra.rehearse --stage $(STAGE)

bench: $(STAMP)
	$(BIN)/python -m bench

# The full soak on PostgreSQL (docs/reliability.md): 5,000 jobs, 500 WebSocket clients, faults on.
# Its CI-sized twin (tests/soak/test_soak.py) runs in `make test`.
soak: $(STAMP)
	$(BIN)/python -m tests.soak

clean:
	rm -rf build staticfiles .pytest_cache .mypy_cache .ruff_cache functions/webhooks/build functions/webhooks/dist
