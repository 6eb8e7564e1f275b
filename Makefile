# Two commands on a fresh machine:
#   make run    installs everything into .venv and serves the provider with demo data
#               (SQLite) at http://127.0.0.1:5000
#   make test   installs everything (Chromium too, when missing) and runs the whole suite
#   make demo   the provider, two demo relying sites and the events delivery (README, « Demo »)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run demo test test-fast bench clean system-packages translations

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

# The provider, the two demo relying sites (examples/) and the events delivery, on 5000-5002.
demo: install
	$(BIN)/python examples/run_demo.py

system-packages:
	bash .ci/system-packages

test: install system-packages
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

test-fast: install
	$(BIN)/python -m pytest -n auto -p no:cacheprovider -m "not browser"

bench: install
	bash .ci/system-packages --bench
	$(BIN)/python benchmarks/run.py

# The English catalogue: extract every _() of idp/ (babel.cfg), merge into the .po, compile the .mo
# (both committed; nothing compiles at install). No fuzzy matching: Babel's guesses pair unrelated
# sentences, and a fuzzy entry is never shown anyway; new strings come out empty, to be translated.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project=Comptexpert -o $(VENV)/messages.pot idp
	$(BIN)/pybabel update -N --ignore-obsolete -i $(VENV)/messages.pot -d idp/translations -l en
	$(BIN)/pybabel compile --statistics -d idp/translations

clean:
	rm -rf $(VENV) instance test-artifacts
