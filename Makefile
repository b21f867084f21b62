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

test: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

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
