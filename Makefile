# Every target bootstraps .venv itself: a fresh clone needs only Python 3.10+ and make.
PYTHON ?= python3
# Another Python gets a venv of its own (CI does this for the oldest one promised):
#   make test PYTHON=python3.10 VENV=.venv310
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= $(or $(WORKSHOP_PORT),4580)
# The SAM CLI pins an older boto3 than the workshop, so it gets a tool environment of its
# own, shared by every VENV (CI's second Python run reuses it). A first install takes
# about a minute; `sam` is then found there by workshop.sam_cli.
SAM_PYTHON  ?= python3
SAM_VERSION ?= 1.170.0
SAM_DIR     := .tools/sam
SAM_STAMP   := $(SAM_DIR)/.installed-$(SAM_VERSION)
# Jupyter refuses to start as root (containers, some cloud IDEs) unless told it may.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test demo bench lint cloud down clean sam

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Python 3.10+ is needed: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(SAM_STAMP):
	@$(SAM_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "the SAM CLI needs Python 3.10+: make sam SAM_PYTHON=python3.11")'
	test -x $(SAM_DIR)/bin/python || $(SAM_PYTHON) -m venv $(SAM_DIR)
	$(SAM_DIR)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_DIR)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_VERSION)'
	rm -f $(SAM_DIR)/.installed-*
	touch $@

## sam: install the AWS SAM CLI into its own tool environment (.tools/sam)
sam: $(SAM_STAMP)

## lab: start the local cloud, open JupyterLab on the labs (and your mygame/ folder)
lab: $(STAMP) $(SAM_STAMP)
	$(BIN)/python -m workshop up --port $(PORT)
	$(BIN)/jupyter lab --notebook-dir=. \
	  --ServerApp.default_url=/lab/tree/notebooks/00_setup.ipynb $(AS_ROOT) $(JUPYTER_ARGS)

## cloud: only start the local cloud (and deploy template.yaml)
cloud: $(STAMP)
	$(BIN)/python -m workshop up --port $(PORT)
	@if [ -f template.yaml ]; then $(BIN)/python -m workshop deploy --port $(PORT); fi

## test: the whole test suite, notebooks included, against a private local cloud
test: $(STAMP) $(SAM_STAMP)
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
	rm -rf $(VENV) $(SAM_DIR) .pytest_cache
