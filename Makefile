# Every target bootstraps .venv itself: a fresh clone needs only Python 3.10+ and make.
PYTHON ?= python3
# Another Python gets a venv of its own (CI does this for the oldest one promised):
#   make test PYTHON=python3.10 VENV=.venv310
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= $(or $(WORKSHOP_PORT),4580)
# Jupyter refuses to start as root (containers, some cloud IDEs) unless told it may.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test demo bench lint cloud down clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Python 3.10+ is needed: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## lab: start the local cloud, open JupyterLab on the labs (and your mygame/ folder)
lab: $(STAMP)
	$(BIN)/python -m workshop up --port $(PORT)
	$(BIN)/jupyter lab --notebook-dir=. \
	  --ServerApp.default_url=/lab/tree/notebooks/00_setup.ipynb $(AS_ROOT) $(JUPYTER_ARGS)

## cloud: only start the local cloud (and deploy template.yaml)
cloud: $(STAMP)
	$(BIN)/python -m workshop up --port $(PORT)
	@if [ -f template.yaml ]; then $(BIN)/python -m workshop deploy --port $(PORT); fi

## test: the whole test suite, notebooks included, against a private local cloud
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## demo: bots play the finished game (a battle, then a trivia game) on the local cloud
demo: $(STAMP)
	$(BIN)/python -m workshop up --port $(PORT)
	$(BIN)/python -m workshop demo --port $(PORT)

## bench: measure the local cloud and append the figures to benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## lint: ruff on the code, cfn-lint on the template
lint: $(STAMP)
	$(BIN)/ruff check workshop tests benchmarks solutions
	@if [ -f template.yaml ]; then $(BIN)/cfn-lint template.yaml website.yaml; fi

down: $(STAMP)
	$(BIN)/python -m workshop down --port $(PORT)

clean: down
	rm -rf $(VENV) .pytest_cache
