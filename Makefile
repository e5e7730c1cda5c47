# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

export DEBUG ?= true

.PHONY: install run test test-postgres bench lint format migrate oracle

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cue needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py sync_periodic_tasks

run: migrate
	$(BIN)/python manage.py seed_demo
	@echo "make run: the development server (runserver); production runs gunicorn (Procfile)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: install oracle
	@command -v chromium >/dev/null 2>&1 || echo "make test: chromium is missing, so the browser tests skip (Debian: apt-get install chromium)"
	$(BIN)/pytest

# Twilio's segment calculator, the oracle of the encoding tests: installed into tests/oracle
# with npm when npm exists (as CI does), so a newcomer's make test runs the same tests.
ORACLE_STAMP := tests/oracle/node_modules/.cue-installed

oracle: $(ORACLE_STAMP)

$(ORACLE_STAMP): tests/oracle/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/oracle --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "make test: npm is missing, so the Twilio segment-calculator oracle tests skip (install Node.js and npm)"; \
	fi

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
