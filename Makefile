# Triangulum: `make demo` builds the environment and runs the demo; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
# The PostgreSQL server used for the second run of the suite (pytest-django creates
# and drops its own test database, test_triangulum, in it).
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/triangulum
# Two workers (the machine's two cores), each taking whole test files, so a module's shared
# demo build and a session's browser demo are built once per worker, not once per test.
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: demo test test-sqlite test-postgres lint serve clean bench

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund && touch $@; \
	else echo "npm not found: accessibility tests (axe-core) will skip"; fi

demo: .venv/.synced
	.venv/bin/triangulum demo

serve: .venv/.synced
	.venv/bin/triangulum serve

test: test-sqlite test-postgres

test-sqlite: .venv/.synced node_modules/.installed
	@echo "== test suite on SQLite"
	.venv/bin/pytest $(PYTEST_ARGS)

test-postgres: .venv/.synced node_modules/.installed
	@if TRIANGULUM_TEST_POSTGRES_URL=$(POSTGRES_URL:/triangulum=/postgres) .venv/bin/python scripts/check_postgres.py; then \
		echo "== test suite on PostgreSQL ($(POSTGRES_URL))"; \
		TRIANGULUM_DATABASE_URL=$(POSTGRES_URL) .venv/bin/pytest $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is required in CI"; exit 1; \
	else echo "== PostgreSQL not reachable: skipped the PostgreSQL run (start a server on 127.0.0.1:5432 or set POSTGRES_URL)"; fi

lint: .venv/.synced
	.venv/bin/ruff check src scripts $(wildcard bench)
	.venv/bin/ruff format --check src scripts $(wildcard bench)

bench: .venv/.synced
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/bench_*.py; do .venv/bin/python $$b; done || echo "no benchmarks yet"

clean:
	rm -rf .venv .tools node_modules triangulum-demo
