"""Catalogue entries of `archc import` / `archc.from_torch` (archc/importer/): see archc.codes.

Each example is a small Python file with a model, imported as a user would:
`archc import net.py:make --input x=1,3,8,8`."""
from archc.codes.entry import Code

_NET = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x))


def make():
    return Net()
"""


def _net(forward: str, init: str = "self.conv = nn.Conv2d(3, 8, 3, padding=1)") -> dict:
    return {"net.py": f"""\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        {init}

{forward}

def make():
    return Net()
"""}


def _import(*args: str) -> tuple[str, ...]:
    return ("import", "{spec}:make", "--input", "x=1,3,8,8", *args)


CODES: list[Code] = [
    Code(
        "E-TORCH-FACTORY", "The model's factory cannot be found or called",
        "`archc import PACKAGE.MODULE:FACTORY` imports the module (or runs the Python file FILE.py), "
        "takes FACTORY from it and calls it with `--kwargs` to build the torch.nn.Module. The module "
        "must import, FACTORY must be a callable in it, and it must return a torch.nn.Module.",
        "name a function or class that builds the model: torchvision.models:resnet50, net.py:make",
        example={"net.py": _NET},
        argv=("import", "{spec}:build", "--input", "x=1,3,8,8"),
        fix={"net.py": _NET},
        fix_argv=_import(),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-ARGUMENT", "An --input or --kwargs argument is malformed",
        "`--input NAME=SIZES` gives one example input of the model's forward, in order: a name "
        "(the spec's input name, each given once) and positive sizes separated by commas. "
        "`--kwargs` is a JSON object of the factory's keyword arguments.",
        "e.g. --input x=1,3,224,224 --kwargs '{\"num_classes\": 10}'",
        example={"net.py": _NET},
        argv=("import", "{spec}:make", "--input", "x=1,3,eight,8"),
        fix={"net.py": _NET},
        fix_argv=_import(),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-INPUT-SIZE", "The example inputs are too large to trace",
        "The import runs the model once on random inputs of the sizes given. Together they may "
        "have at most 268,435,456 elements (2^28, 1 GiB of float32): a batch of 1 at the model's "
        "usual size is all an import needs, and the sizes other inputs may take are derived by "
        "archc. Larger inputs are refused before anything is allocated; where the model itself "
        "runs out of memory on them, the import stops with this code too.",
        "an import traces one forward pass: a batch of 1 at the model's usual size is enough "
        "(e.g. --input x=1,3,224,224)",
        example={"net.py": _NET},
        argv=("import", "{spec}:make", "--input", "x=1,3,100000,100000"),
        fix={"net.py": _NET},
        fix_argv=_import(),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-INPUT", "from_torch is given something other than a module and tensors",
        "`archc.from_torch(module, example_inputs)` takes a torch.nn.Module and its example inputs: "
        "one tensor or a list of tensors, as its forward takes them.",
        "e.g. archc.from_torch(model, [torch.randn(1, 3, 224, 224)])",
        example={"net.py": _NET},
        api="import torch\narchc.from_torch(torch.nn.ReLU(), ['x'])",
        needs=("torch",),
    ),
    Code(
        "E-TORCH-RUN", "The model does not run on the example inputs",
        "The import starts with one forward pass of the model in eval mode on random inputs of the "
        "sizes given; it failed, so the sizes are not what the model takes (a convolution over 3 "
        "channels given 4, say).",
        "give inputs of the shape the model expects: --input x=1,3,224,224",
        example={"net.py": _NET},
        argv=("import", "{spec}:make", "--input", "x=1,4,8,8"),
        fix={"net.py": _NET},
        fix_argv=_import(),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-DYNAMIC", "The forward branches on a tensor's values",
        "A spec describes one static graph; torch.fx traces the forward with symbolic tensors, and "
        "an `if` or a loop that depends on a tensor's values (not on its sizes or the module's "
        "attributes) has no single graph. The report names the module and the Python line.",
        "make the branch static (decided by a module attribute), or move it out of the model",
        example=_net("    def forward(self, x):\n        y = self.conv(x)\n"
                     "        if y.sum() > 0:\n            return torch.relu(y)\n        return y\n"),
        argv=_import(),
        fix=_net("    def forward(self, x):\n        return torch.relu(self.conv(x))\n"),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-TRACE", "The forward cannot be traced",
        "torch.fx traces each module's forward with symbolic tensors; some Python cannot run on "
        "them, such as iterating over a tensor's rows or converting a tensor to a Python number.",
        "write the forward with tensor operations on whole tensors (torch.fx.symbolic_trace must accept it)",
        example=_net("    def forward(self, x):\n        return torch.stack([torch.relu(r) for r in self.conv(x)])\n"),
        argv=_import(),
        fix=_net("    def forward(self, x):\n        return torch.relu(self.conv(x))\n"),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-UNSUPPORTED", "A module or call uses an option archc's op does not have",
        "The module or function maps to an archc op, but one of its settings has no archc "
        "equivalent (a convolution's padding_mode='reflect', an Upsample to a fixed size, a "
        "buffer read in forward): the import says so rather than approximate it.",
        "write the setting as archc can: e.g. reflection padding as its own layer, nn.ReflectionPad2d",
        example=_net("    def forward(self, x):\n        return self.conv(x)\n",
                     init="self.conv = nn.Conv2d(3, 8, 3, padding=1, padding_mode='reflect')"),
        argv=_import(),
        fix=_net("    def forward(self, x):\n        return self.conv(self.pad(x))\n",
                 init="self.pad = nn.ReflectionPad2d(1)\n        self.conv = nn.Conv2d(3, 8, 3)"),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-FUNCTION", "A function or tensor method has no archc op",
        "Every call in a traced forward must map to an archc op (docs/import.md lists the table). "
        "A function without one (torch.cumsum, a custom autograd function) cannot be imported.",
        "use a function archc has an op for, or propose the op (ARCHITECTURE.md, 'How to add an op')",
        example=_net("    def forward(self, x):\n        return torch.cumsum(self.conv(x), 1)\n"),
        argv=_import(),
        fix=_net("    def forward(self, x):\n        return torch.relu(self.conv(x))\n"),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-UNCALLED", "A module with weights never runs",
        "The spec describes the graph the model runs in eval mode on the example inputs, with the "
        "auxiliary outputs its forward computes in training as training outputs. A module holding "
        "weights that runs in neither (left over, or needing a larger input than the example's) "
        "has no place in that graph, so its weights could not be loaded.",
        "build the model without it, or give an input size at which it runs",
        example=_net("    def forward(self, x):\n        return self.conv(x)\n",
                     init="self.conv = nn.Conv2d(3, 8, 3, padding=1)\n        self.unused = nn.Conv2d(8, 2, 1)"),
        argv=_import(),
        fix=_net("    def forward(self, x):\n        return self.conv(x)\n"),
        needs=("torch",),
    ),
    Code(
        "E-TORCH-INEXPRESSIBLE", "The imported graph is not a valid spec",
        "The model traced and every call mapped to an op, but archc refuses the spec it makes "
        "(archc's own error follows): e.g. an input the forward never reads, which a spec must "
        "use.",
        "change the model as archc's error says",
        example=_net("    def forward(self, x, unused):\n        return self.conv(x)\n"),
        argv=_import("--input", "unused=1,3,8,8"),
        fix_argv=_import(),
        fix=_net("    def forward(self, x):\n        return self.conv(x)\n"),
        needs=("torch",),
    ),
]
