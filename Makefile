# django-toopher: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install demo test test-postgres lint bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,scale]"
	touch $@

install: $(VENV)/.installed

demo: install
	PORT=$(PORT) $(PY) example_project/manage.py demo --port $(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test-postgres: install
	bash scripts/test-postgres.sh

# About 10 minutes on 2 cores, 13 when they are busy (the cluster figure starts
# PostgreSQL and Redis with scripts/services.sh); writes benchmarks/results.md.
# BENCH_ARGS="--smoke" for a quick check.
bench: install
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
