# The project's entry points. Each target creates the virtual environment first if needed.
#   make run    collect yesterday (UTC) from the sandbox and build the warehouse (DATE=, or FROM= [TO=])
#   make test   the whole test suite (what CI runs)
#   make bench  the benchmarks of issue #11 as one table beside their baselines (BENCH_FULL=1: 1M comments)
#   make lines  each platform's production lines (its folder and sandbox module) beside the goal of issue #7
#   make dev    the Dagster UI on this project; prints its URL (http://127.0.0.1:3000, PORT=... to change)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lines dev install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/social-assets prepare
	touch $@

run: install
	$(BIN)/social-assets run $(if $(DATE),--date $(DATE)) $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO))

# The suite runs in parallel (pytest-xdist): three workers on two cores, because much of its
# time is spent waiting (on runs in subprocesses, backoffs, the UI) rather than computing.
# worksteal: a worker that runs out of tests takes queued ones from the others, so a queue
# behind a long test does not leave the rest idle. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 3

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: install
	nice $(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lines: install
	$(BIN)/python benchmarks/platform_lines.py

dev: install
	$(BIN)/social-assets dev $(if $(PORT),--port $(PORT))

clean:
	rm -rf data .dagster_home dbt_transforms/target dbt_transforms/logs
