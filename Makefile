# Two entry points: `make run` (the study) and `make test`. Both build .venv from the pins.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.supviz-installed
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export MPLBACKEND := Agg

.PHONY: run test tutorial venv bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,gpu,text]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/supviz run

# ruff (the house's lint and line length, pyproject.toml) first: a lint failure fails the suite
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

# docs/tutorial.py executed as a notebook (outputs into build/, never committed); `make test` runs
# it too (tests/docs/test_tutorial.py), so CI fails when a cell fails.
tutorial: $(STAMP)
	$(PY) docs/run_tutorial.py build/tutorial.ipynb

bench: $(STAMP)
	$(PY) benchmarks/train_grid.py
	$(PY) benchmarks/mds.py
	$(PY) benchmarks/first_call.py

clean:
	rm -rf $(VENV) .cache results build
