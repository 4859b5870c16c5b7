# Two entry points: `make train` (the main job on the embedded default) and `make test` (what CI runs).
# Both create the virtual environment first. torch is pinned to the CPU wheel so no CUDA packages are pulled.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
# Tests run in one worker per core, at most four (pytest-xdist; most tests are one-thread subprocesses): on two
# cores beside a one-thread job, 1,004 tests took 32.5 min in two workers where they took 53 min in one process.
# An idle worker takes tests from a busy one's queue (worksteal). WORKERS= runs them in one process.
WORKERS ?= -n auto --maxprocesses 4 --dist worksteal

.PHONY: venv train test test-all lint format clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

train: venv
	$(PY) src/run.py $(ARGS)

lint: venv
	$(VENV)/bin/ruff check src tests analysis experiments studies
	$(VENV)/bin/ruff format --check src tests analysis experiments studies

format: venv
	$(VENV)/bin/ruff format src tests analysis experiments studies
	$(VENV)/bin/ruff check --fix src tests analysis experiments studies

test: lint
	$(PY) -m pytest -q -m "not slow" --timeout 900 --durations 15 $(WORKERS)

test-all: lint
	$(PY) -m pytest -q --timeout 1800 --durations 15 $(WORKERS)

clean:
	rm -rf $(VENV) artifacts runs multirun
