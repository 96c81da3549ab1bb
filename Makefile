# The two set-up commands of the README:
#   make run    set up a virtual environment and build the graph (dist/) on the embedded store
#   make test   install the Debian packages the tests use, set up, and run the whole test suite
# .ci/run calls `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test setup setup-test debian-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

setup-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

run: setup
	$(BIN)/coopgraph build

debian-packages:
	./.ci/install-debian-packages

test: debian-packages setup-test
	$(BIN)/python -m pytest -n auto

clean:
	rm -rf $(VENV) dist .pytest_cache test-artifacts
