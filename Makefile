# gpuplan: two commands on a fresh machine with Python 3.11+ and make.
#   make demo   set up .venv from the lock file, then plan the bundled default scenario
#   make test   set up .venv, then run the whole test suite (notebooks included), in two pytest-xdist
#               workers; --dist loadfile keeps each file's module fixtures (plan runs) in one worker
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out/demo

.PHONY: demo test lint typecheck bench lock clean help

help:
	@echo "make demo      plan the bundled default scenario; prints where the report is"
	@echo "make test      ruff, mypy, then the whole test suite (notebooks included)"
	@echo "make lint      ruff; make typecheck: mypy"
	@echo "make bench     run the benchmarks under benchmarks/ (minutes; prints what it measured)"
	@echo "make lock      re-resolve requirements.in into requirements.lock"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gpuplan plan default --out $(OUT)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Refresh the lock: resolve requirements.in in a throw-away venv and freeze it.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -r requirements.in
	.lock-venv/bin/python -m pip freeze --exclude-editable > requirements.lock
	rm -rf .lock-venv
	@echo "requirements.lock refreshed; commit it"

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
