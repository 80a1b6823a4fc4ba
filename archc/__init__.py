"""archc: a declarative architecture compiler for convolutional neural networks.

    model = archc.load("specs/resnet18.arch")
    model.params, model.macs, model.shapes, model.summary()

Importing archc is cheap: the pipeline's modules load on first use, and torch only when a
model is lowered to PyTorch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["load", "loads", "Model", "SpecError", "SpecErrors", "build", "load_weights", "LoadReport",
           "from_torch"]

if TYPE_CHECKING:
    from archc.errors import SpecError, SpecErrors
    from archc.model import Model, build, load, loads
    from archc.lower.build import LoadReport, load_weights
    from archc.importer import from_torch


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])


def __getattr__(name: str) -> Any:
    if name in ("load", "loads", "Model", "build"):
        from archc import model
        return getattr(model, name)
    if name in ("load_weights", "LoadReport"):  # imports torch when weights are loaded
        from archc.lower import build
        return getattr(build, name)
    if name == "from_torch":  # a PyTorch model -> spec text (imports torch when called)
        from archc import importer
        return importer.from_torch
    if name in ("SpecError", "SpecErrors"):
        from archc import errors
        return getattr(errors, name)
    raise AttributeError(f"module 'archc' has no attribute {name!r}")
