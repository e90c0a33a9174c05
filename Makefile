# Two entry points: `make demo` (tutorials in JupyterLab against the demo emulator)
# and `make test` (lint, types, the whole suite). Both create .venv if it is missing.
# VENV may be relative or absolute (`make demo VENV=/abs/path`): BIN is always absolute.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
PORT   ?= 8888
# Notebook runs under test get a fresh, private YJ_HOME (ledger, media), never the user's.
NB_HOME := $(CURDIR)/build/nb-home
# Demo emulators (detached processes, one per YJ_HOME) end 5 idle minutes after the run: the
# lessons with a throwaway YJ_HOME of their own start one each. NB_HOME's is stopped at once.
NB_ENV  := env -u YJ_API_KEY YJ_DEMO=1 YJ_HOME=$(NB_HOME) YJ_DEMO_IDLE_EXIT=300
NB_STOP := $(BIN)/python -m yjnb._demo stop $(NB_HOME)
# The tutorials keep beside them (notebooks/media, committed) only the files their saved
# outputs point at; whatever else a run saved there (nbval's, make demo's) is removed.
PRUNE_MEDIA := $(PYTHON) -c "import pathlib as p; refs = ''.join(n.read_text('utf-8') \
	for n in p.Path('notebooks').glob('*.ipynb')); m = p.Path('notebooks/media'); \
	[f.unlink() for f in (m.iterdir() if m.is_dir() else ()) if f.name not in refs]"

.PHONY: demo demo-stop test lint typecheck pytest postgres notebooks binder-check browser-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[demo]' jupyterlab
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,demo]'
	touch $@

# The demo emulator is one detached process per YJ_HOME, shared by every kernel (tasks survive
# a kernel restart); it is started here so the first cell does not wait, and keeps running
# after JupyterLab stops: `make demo-stop` ends it.
demo: $(VENV)/.demo-installed
	YJ_DEMO=1 $(BIN)/python -m yjnb._demo start
	cd notebooks && YJ_DEMO=1 $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir=. --allow-root

demo-stop:
	$(BIN)/python -m yjnb._demo stop

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check yjnb tests benchmarks
	$(BIN)/ruff format --check yjnb tests benchmarks
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# The team ledger's tests start a real PostgreSQL server of their own (tests/pg_server.py):
# Debian's package, installed if missing (CI runs as root).
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		postgresql >/dev/null; }

pytest: $(VENV)/.dev-installed postgres
	$(BIN)/python -m pytest tests --ignore=tests/browser
	$(NB_STOP); rm -rf $(NB_HOME)
	$(NB_ENV) $(BIN)/python -m pytest --nbval -p no:cacheprovider \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks; \
		status=$$?; $(NB_STOP); $(PRUNE_MEDIA); exit $$status

# Re-execute the tutorials so the outputs nbval compares are current; then commit the media
# they point at: git add -f notebooks/media (tests/notebook/test_committed_notebooks.py checks).
notebooks: $(VENV)/.dev-installed
	$(NB_STOP); rm -rf $(NB_HOME) notebooks/media
	cd notebooks && for nb in *.ipynb; do \
		$(NB_ENV) $(BIN)/jupyter execute --inplace "$$nb" || { $(NB_STOP); exit 1; }; done
	$(NB_STOP)
	# Widget state holds random model ids and hundreds of KB: not worth saving.
	$(BIN)/python -c "import glob, nbformat as nbf; \
	[nbf.write(nb, p) for p in glob.glob('notebooks/*.ipynb') \
	 for nb in [nbf.read(p, 4)] if nb.metadata.pop('widgets', None) is not None]"
	$(PRUNE_MEDIA)

# Binder, checked the only way possible here: a fresh venv built from binder/ alone (as
# repo2docker would), then the tutorials under nbval through binder/start.
BINDER_VENV := build/binder-venv
binder-check: $(BIN)/python
	rm -rf $(BINDER_VENV)
	$(PYTHON) -m venv $(BINDER_VENV)
	$(BINDER_VENV)/bin/pip install --quiet --upgrade pip
	$(BINDER_VENV)/bin/pip install --quiet -r binder/requirements.txt
	PATH="$(CURDIR)/$(BINDER_VENV)/bin:$$PATH" bash binder/postBuild
	$(BINDER_VENV)/bin/pip install --quiet nbval pytest-timeout
	$(NB_STOP); rm -rf $(NB_HOME)
	env -u YJ_API_KEY YJ_HOME=$(NB_HOME) YJ_DEMO_IDLE_EXIT=300 PATH="$(CURDIR)/$(BINDER_VENV)/bin:$$PATH" binder/start \
		python -m pytest --nbval -p no:cacheprovider \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks; \
		status=$$?; $(BINDER_VENV)/bin/python -m yjnb._demo stop $(NB_HOME); $(PRUNE_MEDIA); \
		exit $$status

test: lint typecheck pytest binder-check

$(VENV)/.browser-installed: $(VENV)/.dev-installed
	$(BIN)/pip install --quiet -e '.[dev,demo,browser]'
	touch $@

# The tutorials in a real browser: Debian's chromium driven by Playwright (no browser download).
browser-test: $(VENV)/.browser-installed
	command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

bench: $(VENV)/.dev-installed postgres
	$(BIN)/python benchmarks/emulator.py
	$(BIN)/python benchmarks/client.py
	$(BIN)/python benchmarks/chat_magic.py
	$(BIN)/python benchmarks/markdown.py
	$(BIN)/python benchmarks/tasks.py
	$(BIN)/python benchmarks/ledger.py
	$(BIN)/python benchmarks/ledger_postgres.py
	$(BIN)/python benchmarks/load_ext.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
