# Set-up is part of every target: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup graphviz demo test clean

# Each step says what it does (pip stays quiet). The distribution is archc-cnn (the package
# index's archc is another project); a venv made before the rename still has the record of a
# distribution called archc, which is dropped. The editable install runs with -qq: setuptools
# prints an "Editable installation" notice (not a deprecation) for every editable install of a
# flat layout; errors still show.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> setting up the virtualenv $(VENV) ($(PYTHON) -m venv)"
	@$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip in $(VENV)"
	@$(PY) -m pip install -q --upgrade pip
	@if $(PY) -m pip show archc >/dev/null 2>&1; then \
	  echo "==> removing the old distribution name archc from $(VENV) (now archc-cnn)"; \
	  $(PY) -m pip uninstall -q -y archc; fi
	@echo "==> installing torch $$(sed -n 's/^torch==//p' constraints.txt) (pinned by constraints.txt; the longest step)"
	@$(PY) -m pip install -q -c constraints.txt torch
	@echo "==> installing archc-cnn from this checkout, editable, with the extras torch and dev (test tools, onnx, onnxruntime, pygls)"
	@$(PY) -m pip install -qq -c constraints.txt -e '.[torch,dev]'
	@touch $(STAMP)
	@echo "==> set-up done: $(VENV)/bin/archc"

setup: $(STAMP) graphviz

# Graphviz's `dot` renders `archc draw` SVG/PNG/PDF (and the tests of them): installed on a fresh
# Debian/Ubuntu machine as root; elsewhere a notice (brew/conda install graphviz) and those tests skip.
graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && echo "==> installing Graphviz (apt-get install graphviz)" \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; } \
	  || echo "note: Graphviz's dot is not installed (apt-get/brew/conda install graphviz): archc draw can write .dot only"

demo: setup
	@echo "==> checking every zoo spec (specs/, specs/torchvision/, specs/timm/)"
	$(VENV)/bin/archc check specs/*.arch specs/*.yaml specs/torchvision/*.arch specs/timm/*.arch
	@echo "==> ConvNeXt-T: parameters and MACs per op type"
	$(VENV)/bin/archc summary specs/torchvision/convnext_tiny.arch --depth 0 --by-op
	@echo "==> the seeds' CIFAR-10 net, every layer"
	$(VENV)/bin/archc summary specs/cifar10_lenet.arch
	@echo "==> ResNet-18 at depth 1"
	$(VENV)/bin/archc summary specs/resnet18.arch --depth 1
	@echo "==> U-Net with a symbolic input size H: the constraints on H"
	$(VENV)/bin/archc summary specs/unet_keras.arch --depth 0 -D size=H
	@echo "==> compiling ResNet-18 to a PyTorch file"
	$(VENV)/bin/archc compile specs/resnet18.arch -o build/resnet18.py
	@echo "generated build/resnet18.py:" && head -40 build/resnet18.py
	@echo "==> drawing diagrams"
	@if command -v dot >/dev/null 2>&1; then \
	  $(VENV)/bin/archc draw specs/unet_keras.arch --depth 0 --rankdir LR -o build/unet_keras.svg && \
	  $(VENV)/bin/archc draw specs/resnet18.arch --depth 1 -o build/resnet18.svg && \
	  echo "diagrams: build/unet_keras.svg build/resnet18.svg"; \
	else $(VENV)/bin/archc draw specs/unet_keras.arch --depth 0 -o build/unet_keras.dot && \
	  echo "diagram: build/unet_keras.dot (install Graphviz for SVG)"; fi

test: setup
	@echo "==> running the test suite (pytest; several minutes on 2 cores)"
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
