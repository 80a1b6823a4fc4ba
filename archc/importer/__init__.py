"""`archc import`: an existing PyTorch model becomes a readable archc spec (docs/import.md).

    text = archc.from_torch(torchvision.models.resnet50(), [torch.randn(1, 3, 224, 224)])

trace.py captures the model with torch.fx (one graph per module), table.py maps modules and
functions to archc ops, emit.py writes each graph as statements, blocks.py merges the instances
of a module class into one block definition, api.py assembles and checks the spec, command.py is
the CLI command. Importing this package does not import torch.
"""
from __future__ import annotations

from typing import Any


def from_torch(module: Any, example_inputs: Any, *, name: str | None = None, lang: str = "arch") -> str:
    from archc.importer.api import from_torch as run
    return run(module, example_inputs, name=name, lang=lang)


__all__ = ["from_torch"]
