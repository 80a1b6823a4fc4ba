# Set-up is part of every target: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[torch,dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/archc check specs/*.arch specs/*.yaml
	$(VENV)/bin/archc summary specs/cifar10_lenet.arch
	$(VENV)/bin/archc summary specs/resnet18.arch --depth 1
	$(VENV)/bin/archc summary specs/unet_keras.arch --depth 0

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
