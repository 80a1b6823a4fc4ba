# Set-up is part of every target: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup graphviz demo test clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[torch,dev]'
	touch $(STAMP)

setup: $(STAMP) graphviz

# Graphviz's `dot` renders `archc draw` SVG/PNG/PDF (and the tests of them): installed on a fresh
# Debian/Ubuntu machine as root; elsewhere a notice (brew/conda install graphviz) and those tests skip.
graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; } \
	  || echo "note: Graphviz's dot is not installed (apt-get/brew/conda install graphviz): archc draw can write .dot only"

demo: setup
	$(VENV)/bin/archc check specs/*.arch specs/*.yaml specs/torchvision/*.arch
	$(VENV)/bin/archc summary specs/torchvision/convnext_tiny.arch --depth 0 --by-op
	$(VENV)/bin/archc summary specs/cifar10_lenet.arch
	$(VENV)/bin/archc summary specs/resnet18.arch --depth 1
	$(VENV)/bin/archc summary specs/unet_keras.arch --depth 0 -D size=H
	$(VENV)/bin/archc compile specs/resnet18.arch -o build/resnet18.py
	@echo "generated build/resnet18.py:" && head -40 build/resnet18.py
	@if command -v dot >/dev/null 2>&1; then \
	  $(VENV)/bin/archc draw specs/unet_keras.arch --depth 0 --rankdir LR -o build/unet_keras.svg && \
	  $(VENV)/bin/archc draw specs/resnet18.arch --depth 1 -o build/resnet18.svg && \
	  echo "diagrams: build/unet_keras.svg build/resnet18.svg"; \
	else $(VENV)/bin/archc draw specs/unet_keras.arch --depth 0 -o build/unet_keras.dot && \
	  echo "diagram: build/unet_keras.dot (install Graphviz for SVG)"; fi

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
