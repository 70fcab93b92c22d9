# django-toopher: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install demo test test-postgres test-faults lint docs dist bench clean

# Quiet on purpose: the demo's directions must be the first thing a newcomer reads.
# Errors still print (and stop make); PIP_QUIET= make install shows pip's progress.
PIP_QUIET ?= -qq
$(VENV)/.installed: setup.cfg pyproject.toml
	@echo "Installing into $(VENV) (a minute on a fresh clone)..."
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	@$(PY) -m pip install $(PIP_QUIET) -e ".[test,scale,sandbox,docs]"
	@touch $@

install: $(VENV)/.installed

demo: install
	PORT=$(PORT) $(PY) example_project/manage.py demo --port $(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The documentation site (Sphinx + MyST, docs/conf.py) into docs/_build/html; any
# warning (a broken link, reference or docstring) fails the build.
docs: install
	$(VENV)/bin/sphinx-build -q -W --keep-going -n -b html docs docs/_build/html

# The sdist and the wheel into dist/, checked by twine (what PyPI would accept).
dist: install
	rm -rf dist
	$(PY) -m build -q --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

test-postgres: install
	bash scripts/test-postgres.sh

# Faults injected into the two-instance cluster (tests/faults): about 5 minutes; writes
# docs/reliability.md. FAULTS_ARGS=--quick for the shorter run CI does.
test-faults: install
	bash scripts/test-faults.sh $(FAULTS_ARGS)

# About 12 minutes on 2 cores, 15 when they are busy (the cluster figure starts
# PostgreSQL and Redis with scripts/services.sh); writes benchmarks/results.md.
# BENCH_ARGS="--smoke" for a quick check.
bench: install
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache docs/_build
