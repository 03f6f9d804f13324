# LynSMS: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test check bench format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/lynsms db upgrade
	$(BIN)/lynsms bootstrap
	$(BIN)/lynsms serve

test: install
	bash scripts/services.sh
	$(BIN)/pytest -q -p no:cacheprovider

check: install
	$(BIN)/ruff format --check lynsms tests bench
	$(BIN)/ruff check lynsms tests bench
	$(BIN)/mypy lynsms
	$(MAKE) test

format: install
	$(BIN)/ruff format lynsms tests bench
	$(BIN)/ruff check --fix lynsms tests bench

bench: install
	bash scripts/install-wrk.sh
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) lynsms.db lynsms.db-wal lynsms.db-shm .pytest_cache .mypy_cache .ruff_cache
