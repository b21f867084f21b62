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

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var .pytest_cache build *.egg-info
