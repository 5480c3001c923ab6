# The two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes (a new top-level package is a pyproject change).
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/oo dev

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# The browser tests drive Debian's Chromium; install it when missing (it needs root).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
		apt-get install -y -q chromium >/dev/null; }

unit: $(VENV)/.dev-installed chromium
	$(BIN)/python -m pytest

test: lint typecheck unit

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.agents
	$(BIN)/python -m bench.sweep
	$(BIN)/python -m bench.tip_generate
	$(BIN)/python -m bench.tip_read

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
