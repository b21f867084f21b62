# Onestop — two commands on a fresh Debian / Raspberry Pi OS machine:
#   make demo   set up everything and run the whole hall on http://127.0.0.1:8080
#   make test   set up everything (apt packages too, when run as root) and run the tests

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint system-deps install bench clean

demo: system-deps $(STAMP)
	$(BIN)/onestop demo

# The second run fakes the system's date and time (libfaketime) to a day years away at 23:59 in
# the hall's zone: a test of days and dates that passes only on the real date fails there.
FAKE_DATE ?= @2031-07-14 15:59:00

test: system-deps lint
	$(BIN)/pytest
	@command -v faketime >/dev/null || { echo "faketime is missing: apt-get install faketime" >&2; exit 1; }
	TZ=UTC faketime -f '$(FAKE_DATE)' $(BIN)/pytest -m dates -p no:cacheprovider -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

system-deps:
	@scripts/system-deps.sh

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The pages' JavaScript: eslint, pinned by package-lock.json, installed here (never globally).
ESLINT_STAMP := node_modules/.installed

.PHONY: eslint
lint test: eslint
eslint: $(ESLINT_STAMP)
	node_modules/.bin/eslint .

$(ESLINT_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: scripts/system-deps.sh installs it" >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var .pytest_cache build *.egg-info node_modules
