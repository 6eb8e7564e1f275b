# Two commands on a fresh machine:
#   make run    installs everything into .venv and serves the provider with demo data
#               (SQLite) at http://127.0.0.1:5000
#   make test   installs everything (Chromium too, when missing) and runs the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench clean system-packages

$(STAMP): setup.cfg pyproject.toml rp/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -e './rp[flask]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/idp init
	$(BIN)/idp demo --if-empty
	$(BIN)/idp run --host 127.0.0.1 --port 5000

system-packages:
	bash .ci/system-packages

test: install system-packages
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

test-fast: install
	$(BIN)/python -m pytest -n auto -p no:cacheprovider -m "not browser"

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) instance test-artifacts
