# `make serve` runs Casework; `make test` runs the tests. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: serve test check install clean bench bench-quick screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Casework needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/casework serve

# Lint, formatting and types; CI runs it before the tests.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP)
	CASEWORK_TEST_POSTGRES_URL=$${CASEWORK_TEST_POSTGRES_URL-$(TEST_POSTGRES_URL)} $(BIN)/python -m pytest $(PYTEST_ARGS)

# The bench extra (py-spy) on top of what `test` needs; see docs/benchmarks.md.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

# PNGs of the console (queue, case page, wallboard) in docs/screenshots/, from a throw-away
# `casework serve` with a few seeded cases; needs /usr/bin/chromium (see .ci/run).
screenshots: $(STAMP)
	$(BIN)/python -m tests.console.screenshots $(SCREENSHOTS_ARGS)

clean:
	rm -rf $(VENV) .casework .pytest_cache
