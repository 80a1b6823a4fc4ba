"""Lowering to PyTorch: `codegen` turns the graph IR into the source of one Python module (a
class per block structure and one for the model, importing only torch); `build` executes that
same source to give `archc.build` / `Model.to_torch()` their `nn.Module`. Only `build` imports
torch."""
