# Two entry points: `make demo` (tutorials in JupyterLab against the embedded emulator)
# and `make test` (lint, types, the whole suite). Both create .venv if it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8888

.PHONY: demo test lint typecheck pytest notebooks bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[demo]' jupyterlab
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,demo]'
	touch $@

demo: $(VENV)/.demo-installed
	cd notebooks && YJ_DEMO=1 ../$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir=.

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check yjnb tests benchmarks
	$(BIN)/ruff format --check yjnb tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval -p no:cacheprovider notebooks
	rm -rf notebooks/media

# Re-execute the tutorials so the outputs nbval compares are current.
notebooks: $(VENV)/.dev-installed
	cd notebooks && for nb in *.ipynb; do \
		../$(BIN)/jupyter execute --inplace "$$nb" || exit 1; done
	rm -rf notebooks/media

test: lint typecheck pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/emulator.py
	$(BIN)/python benchmarks/client.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
