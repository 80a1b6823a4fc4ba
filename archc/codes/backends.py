"""Catalogue entries of archc/backends: see archc.codes.

The back ends' diagnostics: output files (OUTPUT), ONNX export and PyTorch code generation
(EXPORT), diagrams (DRAW), the Python API's arguments (API), command-line option values (CLI),
and the model size limits of archc/analysis/metrics.py (E-/W-LIMIT-PARAMS, -ACTIVATIONS)."""
from archc.codes.entry import TINY, Code

# a model with symbolic sizes and a constraint on them (pooled then upsampled: H and W even)
SYMBOLIC = """\
model Net
input x: [N, 3, H, W]
h = x -> conv2d(8, 3, padding=1)
output y = h + (h -> maxpool2d(2) -> upsample(2))
"""

CLASSIFIER = """\
model Classifier
param num_classes = 10
input x: [N, 3, 32, 32]
output y = x -> conv2d(16, 3, padding=1) -> relu -> global_avgpool -> linear(num_classes)
"""

# a stand-in for Graphviz's `dot`, for the entries about what dot says
FAILING_DOT = """\
#!/bin/sh
while read -r line; do :; done  # the DOT text
echo 'Format: "svg" not recognized. No formats found. Perhaps "dot -c" needs to be run (with installer'"'"'s privileges) to register the plugins?' >&2
exit 1
"""
WARNING_DOT = """\
#!/bin/sh
while read -r line; do :; done  # the DOT text
echo 'Warning: graph is too large for cairo-renderer bitmaps. Scaling by 0.42 to fit' >&2
printf 'PNG'
"""

CODES: list[Code] = [
    # ------------------------------------------------------------------ output files
    Code(
        code="E-OUTPUT-IS-DIRECTORY",
        title="The output path names a folder",
        explanation="`-o` (or `--onnx`, or `Model.draw(path)`) names the file to write; archc "
                    "never writes into a folder under a name of its own choosing, nor replaces "
                    "a folder with a file.",
        hint="name a file, not a folder: e.g. -o out/model.py (a missing folder is created)",
        example=TINY,
        fix=TINY,
        argv=("compile", "{spec}", "-o", "{dir}"),
        fix_argv=("compile", "{spec}", "-o", "{dir}/tiny.py"),
    ),
    Code(
        code="E-OUTPUT-PERMISSION-DENIED",
        title="The output file cannot be written: permission denied",
        explanation="The system refused to create or replace the output file (the folder is "
                    "not writable by you, or on a read-only file system). Nothing is written.",
        hint="write into a folder you may write to, or change the folder's permissions; "
             "-o - writes to standard output",
        example=TINY,
        fix=TINY,
        argv=("summary", "{spec}", "-o", "/sys/tiny-summary.txt"),
        fix_argv=("summary", "{spec}", "-o", "{dir}/tiny-summary.txt"),
    ),
    Code(
        code="E-OUTPUT-NOT-A-DIRECTORY",
        title="A folder in the output path is a file",
        explanation="A name before the last `/` of the output path is an existing file, so the "
                    "folder the output should go into cannot exist there.",
        hint="fix the path so that every name before the last / is a folder (missing folders "
             "are created)",
        example=TINY,
        fix=TINY,
        argv=("compile", "{spec}", "-o", "{dir}/model.arch/tiny.py"),
        fix_argv=("compile", "{spec}", "-o", "{dir}/out/tiny.py"),
    ),
    Code(
        code="E-OUTPUT-WRITE-FAILED",
        title="The output file cannot be written",
        explanation="Writing the output file failed for the reason the system gives (a name "
                    "too long, a full disk, a device error). archc writes to a temporary file "
                    "and renames it, so nothing partial is left behind.",
        hint="see the system's reason in the message: keep each name in the path under 255 "
             "bytes, free some disk space, or write elsewhere",
        example=TINY,
        fix=TINY,
        argv=("compile", "{spec}", "-o", "{dir}/" + "tiny" * 64 + ".py"),
        fix_argv=("compile", "{spec}", "-o", "{dir}/tiny.py"),
    ),
    # ------------------------------------------------------------------ export
    Code(
        code="E-EXPORT-PACKAGES-MISSING",
        title="ONNX export needs packages that are not installed",
        explanation="archc exports through torch's ONNX exporter, which needs PyTorch, onnx and "
                    "onnxscript; they are optional extras of archc, not installed with it.",
        hint="pip install -e '.[torch,onnx]' in archc's checkout (or pip install torch onnx onnxscript)",
        example=TINY,
        api="""\
            import sys
            from archc.lower.export import export_onnx
            model = archc.load(spec)
            installed = sys.modules.pop("onnxscript", None)
            sys.modules["onnxscript"] = None  # `import onnxscript` fails, as if not installed
            try:
                export_onnx(model, folder + "/tiny.onnx")
            finally:
                del sys.modules["onnxscript"]
                if installed is not None:
                    sys.modules["onnxscript"] = installed
            """,
        # without torch or onnx as well, the message names them too
        printed="error[E-EXPORT-PACKAGES-MISSING]: ONNX export needs onnxscript, which is not "
                "installed\n  hint: pip install -e '.[onnx]' in archc's checkout (or pip install onnx onnxscript)\n",
        printed_with=("torch", "onnx"),
    ),
    Code(
        code="E-EXPORT-FAILED",
        title="torch's ONNX exporter failed",
        explanation="The spec is valid and the PyTorch module runs, but torch's exporter cannot "
                    "write some layer as ONNX at the sizes given, e.g. an adaptive pooling whose "
                    "output size does not divide its input size (ONNX has no such operator). "
                    "The message is the exporter's own.",
        hint="change the layer the message names (an adaptive pooling's output size should "
             "divide its input size), try --static for symbolic sizes, or report it with the "
             "spec and torch's version",
        example="""\
            model Pooled
            input x: [N, 3, 33, 33]
            output y = x -> conv2d(8, 3, padding=1) -> adaptive_maxpool2d(7)
            """,
        fix="""\
            model Pooled
            input x: [N, 3, 35, 35]
            output y = x -> conv2d(8, 3, padding=1) -> adaptive_maxpool2d(7)
            """,
        argv=("export", "{spec}", "--onnx", "{dir}/pooled.onnx"),
        needs=("torch", "onnx", "onnxscript"),
    ),
    Code(
        code="E-EXPORT-WEIGHTS-MISMATCH",
        title="The weights do not fit the model",
        explanation="`archc export --weights FILE` exports trained weights, so every tensor of the "
                    "model must come from the file, by its state_dict name and with its shape, "
                    "and the file may hold nothing else: a missing key, a key the model does not "
                    "have or a tensor of another shape is an error (listed, with the shapes "
                    "expected and found, at the spec's layer), and no file is written. (`archc."
                    "build(spec, weights=...)` loads what fits and reports the rest, for transfer "
                    "learning; `load_weights(..., strict=True)` checks as export does.)",
        hint="build the spec as the weights were trained: the same parameters (-D num_classes=...) "
             "and layer names (name=...); `archc summary` lists the model's layers",
        example=CLASSIFIER,
        api="""\
            import torch
            from archc.lower.build import load_weights
            trained = archc.build(spec, params={"num_classes": 100})  # trained with 100 classes
            torch.save(trained.state_dict(), folder + "/classifier.pt")
            model = archc.load(spec)
            load_weights(archc.build(model), folder + "/classifier.pt", strict=True, model=model)
            """,
        fix="""\
            model Classifier
            param num_classes = 100
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> global_avgpool -> linear(num_classes)
            """,
        needs=("torch",),
    ),
    Code(
        code="E-EXPORT-UNSUPPORTED-LAYER",
        title="A layer cannot be written as PyTorch code",
        explanation="`archc check` accepts the layer, but `archc compile` (and `archc.build`, "
                    "`archc export`) cannot write it as PyTorch code as specified: e.g. a reshape "
                    "to several sizes known only at run time, which `Tensor.reshape` cannot "
                    "infer, or bias_init=orthogonal (torch's orthogonal_ needs a matrix; a bias "
                    "is a vector).",
        hint="change the layer as the message says: e.g. give a reshape at most one size known "
             "only at run time, or give the input concrete sizes",
        example="""\
            model Regroup
            input x: [N, 4, H, W]
            output y = x -> reshape([2, 2 * x.height, x.width])
            """,
        fix="""\
            model Regroup
            input x: [N, 4, 32, 32]
            output y = x -> reshape([2, 2 * x.height, x.width])
            """,
        argv=("compile", "{spec}"),
    ),
    # ------------------------------------------------------------------ diagrams
    Code(
        code="E-DRAW-DOT-MISSING",
        title="Drawing SVG, PNG or PDF needs Graphviz, which is not installed",
        explanation="archc writes diagrams in Graphviz's DOT language and renders them with "
                    "Graphviz's `dot` program, which must be on PATH for .svg, .png and .pdf "
                    "output. A .dot file needs nothing.",
        hint="install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
             "(macOS), `conda install graphviz`; or write the diagram as .dot and render it elsewhere",
        example=TINY,
        fix=TINY,
        argv=("draw", "{spec}", "-o", "{dir}/tiny.svg"),
        env={"PATH": ""},
        fix_argv=("draw", "{spec}", "-o", "{dir}/tiny.dot"),
    ),
    Code(
        code="E-DRAW-UNKNOWN-FORMAT",
        title="Unknown diagram format",
        explanation="`archc draw` and `Model.draw` write DOT, SVG, PNG or PDF, chosen by "
                    "`--format` or by the output file's suffix.",
        hint="use a file name ending in .dot, .svg, .png or .pdf, or pass --format",
        example=TINY,
        fix=TINY,
        argv=("draw", "{spec}", "-o", "{dir}/tiny.jpg"),
        fix_argv=("draw", "{spec}", "-o", "{dir}/tiny.dot"),
    ),
    Code(
        code="E-DRAW-UNKNOWN-RANKDIR",
        title="Unknown diagram reading direction",
        explanation="A diagram reads top to bottom (`TB`) or left to right (`LR`); `Model.draw` "
                    "takes no other `rankdir`.",
        hint='use rankdir="TB" (top to bottom) or rankdir="LR" (left to right)',
        example=TINY,
        api='archc.load(spec).draw(format="dot", rankdir="BT")',
    ),
    Code(
        code="E-DRAW-RENDER-FAILED",
        title="Graphviz's dot failed to render the diagram",
        explanation="archc's DOT text went to Graphviz's `dot`, which exited with an error; its "
                    "message is quoted. A Graphviz installation whose plugins are not registered "
                    "fails this way for every format.",
        hint="if dot says no formats are found, run `dot -c` as the user who installed Graphviz; "
             "otherwise write .dot instead and report this as a bug",
        example={"model.arch": TINY, "bin/dot": FAILING_DOT},
        api="""\
            import os, unittest.mock
            os.chmod(folder + "/bin/dot", 0o755)
            with unittest.mock.patch.dict(os.environ, {"PATH": folder + "/bin"}):  # this dot first
                archc.load(spec).draw(format="svg")
            """,
    ),
    Code(
        code="W-DRAW-GRAPHVIZ",
        title="Graphviz said something while rendering",
        explanation="What Graphviz's `dot` prints while rendering reaches the user instead of "
                    "being swallowed: most often that a drawing too large for a bitmap (over "
                    "32767 pixels a side) was scaled down. The file is still written.",
        hint="the diagram was still drawn; a bitmap too large for Graphviz is scaled down: draw "
             ".svg or .pdf (no size limit), or fold blocks with --depth",
        example={"model.arch": TINY, "bin/dot": WARNING_DOT},
        api="""\
            import os, unittest.mock
            from archc.cli import main
            os.chmod(folder + "/bin/dot", 0o755)
            with unittest.mock.patch.dict(os.environ, {"PATH": folder + "/bin"}):  # this dot first
                main(["draw", spec, "-o", folder + "/tiny.png"])
            """,
    ),
    # ------------------------------------------------------------------ the Python API
    Code(
        code="E-API-SPEC-TYPE",
        title="The spec argument has the wrong type",
        explanation="`archc.load` and `archc.build` take a spec file's path (a str or a "
                    "pathlib.Path; `build` also an `archc.Model`); `archc.loads` takes the "
                    "spec's text as a str.",
        hint="archc.load(path) for a file, archc.loads(text) for spec text (a str: decode bytes "
             "first)",
        example=TINY,
        api='archc.loads(open(spec, "rb").read())',
    ),
    Code(
        code="E-API-LANGUAGE",
        title="Unknown spec language",
        explanation='`archc.loads(text, language)` reads the `.arch` language ("arch") or YAML '
                    '("yaml").',
        hint='use language="arch" or language="yaml"',
        example=TINY,
        api='archc.loads(open(spec).read(), "dsl")',
    ),
    Code(
        code="E-API-HYPERPARAMS",
        title="hyperparams is not a mapping of parameter names to values",
        explanation="The model parameters given to `archc.load`/`loads` (as `-D` gives them on "
                    "the command line) are a dict from each `param`'s name to its value.",
        hint='e.g. archc.load("net.arch", {"num_classes": 10})',
        example=CLASSIFIER,
        api='archc.load(spec, "num_classes=100")',
    ),
    Code(
        code="E-API-ARGUMENT-CONFLICT",
        title="Two arguments that cannot be given together",
        explanation="`hyperparams=` and its earlier name `params=` say the same thing, so only "
                    "one may be given; and `archc.build` applies `params` only to a spec path, "
                    "not to an `archc.Model` already loaded with its own.",
        hint="give hyperparams= only; to build a loaded Model with other values, load it with them",
        example=CLASSIFIER,
        api='archc.load(spec, hyperparams={"num_classes": 100}, params={"num_classes": 100})',
    ),
    Code(
        code="E-API-WEIGHTS-TYPE",
        title="weights is neither a checkpoint path nor a state_dict",
        explanation="`archc.build(spec, weights=...)` and `load_weights` load a checkpoint by "
                    "name and shape: a path to a file torch.save wrote, or a state_dict (a "
                    "mapping of names to tensors).",
        hint='e.g. weights="resnet18.pth" or weights=model.state_dict()',
        example=TINY,
        api='archc.build(spec, weights=["tiny.pth"])',
        needs=("torch",),
    ),
    Code(
        code="E-API-CHECKPOINT-NOT-FOUND",
        title="The checkpoint file does not exist",
        explanation="The `weights` path given to `archc.build` or `load_weights` (or `archc "
                    "export --weights`) names no file.",
        hint="give the path of a .pt/.pth file that torch.save wrote, a .safetensors file, or a state_dict",
        example=TINY,
        api='archc.build(spec, weights=folder + "/tiny.pth")',
        needs=("torch",),
    ),
    Code(
        code="E-API-CHECKPOINT-UNREADABLE",
        title="The checkpoint file cannot be read",
        explanation="archc reads checkpoints with `torch.load(weights_only=True)`: files that "
                    "torch.save wrote, holding tensors and plain containers only (never code); "
                    "and `.safetensors` files (by the suffix or their header). Anything else, or "
                    "a damaged file, is refused.",
        hint="archc reads files written by torch.save (tensors and plain containers only) and "
             ".safetensors files",
        example=TINY,
        api="archc.build(spec, weights=spec)",
        needs=("torch",),
    ),
    Code(
        code="E-API-CHECKPOINT-NOT-STATE-DICT",
        title="The checkpoint holds no state_dict",
        explanation="A checkpoint is loaded by the names of its tensors: it must hold a "
                    'state_dict (a dict of tensors), itself or under a "state_dict", '
                    '"model_state_dict" or "model" key, not a list, a single tensor or a dict '
                    "without tensors.",
        hint="save model.state_dict(), a dict of tensors",
        example=TINY,
        api="""\
            import torch
            torch.save([torch.zeros(8, 3, 3, 3), torch.zeros(8)], folder + "/tiny.pth")
            archc.build(spec, weights=folder + "/tiny.pth")
            """,
        needs=("torch",),
    ),
    Code(
        code="E-API-CHECKPOINT-AMBIGUOUS",
        title="The checkpoint holds several state_dicts, or one under an unknown name",
        explanation="A training checkpoint is a dict; archc takes the state_dict it holds under "
                    '"state_dict", "model_state_dict" or "model" (and says so: `archc export` '
                    "prints where the weights came from). When it holds several (timm's "
                    '"state_dict" and "state_dict_ema"), or its only one under another name, '
                    "archc does not guess which are the model's weights: the message names them.",
        hint="save the one to use on its own: torch.save(torch.load(FILE)[KEY], 'weights.pt')",
        example=TINY,
        api="""\
            import torch
            weights = archc.build(spec).state_dict()
            torch.save({"state_dict": weights, "state_dict_ema": weights}, folder + "/tiny.pth")
            archc.build(spec, weights=folder + "/tiny.pth")
            """,
        needs=("torch",),
    ),
    Code(
        code="E-API-SAFETENSORS-MISSING",
        title="Reading a .safetensors file needs the safetensors package",
        explanation="Weights in a `.safetensors` file (`archc export --weights`, `archc.build(spec, "
                    "weights=...)`) are read with the safetensors package, an optional "
                    "dependency that archc's torch extra installs.",
        hint="pip install safetensors (the torch extra brings it: pip install -e '.[torch]' in a checkout)",
        example=TINY,
        api="""\
            import sys
            from safetensors.torch import save_file
            save_file(archc.build(spec).state_dict(), folder + "/tiny.safetensors")
            saved = {m: sys.modules.pop(m) for m in list(sys.modules) if m.split(".")[0] == "safetensors"}
            sys.modules["safetensors"] = None  # `import safetensors` fails, as if not installed
            try:
                archc.build(spec, weights=folder + "/tiny.safetensors")
            finally:
                del sys.modules["safetensors"]
                sys.modules.update(saved)
            """,
        needs=("torch", "safetensors"),
    ),
    Code(
        code="E-API-TORCH-MISSING",
        title="Building a PyTorch module needs torch, which is not installed",
        explanation="`archc.build` and `Model.to_torch` make a `torch.nn.Module`; PyTorch is an "
                    "optional extra of archc. Checking, summaries, diagrams and `archc compile` "
                    "need no torch.",
        hint="pip install -e '.[torch]' in archc's checkout (or pip install torch); archc check, summary, draw and "
             "compile work without it",
        example=TINY,
        api="""\
            import sys
            model = archc.load(spec)
            installed = sys.modules.pop("torch", None)
            sys.modules["torch"] = None  # `import torch` fails, as if not installed
            try:
                archc.build(model)
            finally:
                del sys.modules["torch"]
                if installed is not None:
                    sys.modules["torch"] = installed
            """,
    ),
    Code(
        code="E-API-SUMMARY-FORMAT",
        title="Unknown summary format",
        explanation='`Model.summary(format=...)` writes "text", "markdown" or "json" (as '
                    "`archc summary --format`).",
        hint='use format="text", "markdown" or "json"',
        example=TINY,
        api='archc.load(spec).summary(format="html")',
    ),
    Code(
        code="E-API-SIZE-NOT-POSITIVE",
        title="A size given for a symbolic input size is not a positive integer",
        explanation="`Model.summary(at={...})` evaluates MACs and shapes at the given values of "
                    "symbolic sizes; each is a size, a whole number of at least 1.",
        hint='give each symbolic size a positive integer, e.g. at={"H": 224}',
        example=SYMBOLIC,
        api='archc.load(spec).summary(at={"H": 0})',
    ),
    # ------------------------------------------------------------------ command-line values
    Code(
        code="E-CLI-UNKNOWN-SYMBOL",
        title="--at or --input-size names a size the inputs do not have",
        explanation="`summary --at` and `export --input-size` give values to the symbolic sizes "
                    "of the model's inputs (such as H in `input x: [N, 3, H, W]`); another name "
                    "is most likely a typo.",
        hint="name one of the symbolic sizes of the inputs, e.g. --at H=224",
        example=SYMBOLIC,
        fix=SYMBOLIC,
        argv=("summary", "{spec}", "--at", "S=224"),
        fix_argv=("summary", "{spec}", "--at", "H=224"),
    ),
    Code(
        code="E-CLI-SIZE-CONSTRAINT",
        title="The sizes given do not meet the input size constraints",
        explanation="archc derives what the symbolic input sizes must satisfy for every layer to "
                    "fit (e.g. `H % 2 == 0` after a pooling that is upsampled back); PyTorch "
                    "would fail on other sizes, so `--at` and `--input-size` refuse them.",
        hint="choose sizes that meet the constraints `archc check` prints, e.g. the one the "
             "message suggests",
        example=SYMBOLIC,
        fix=SYMBOLIC,
        argv=("summary", "{spec}", "--at", "H=225"),
        fix_argv=("summary", "{spec}", "--at", "H=224"),
    ),
    # ------------------------------------------------------------------ model size limits
    Code(
        code="E-LIMIT-PARAMS",
        title="The model has an absurd number of parameters",
        explanation="Past 10^12 parameters (4 TB of float32) a model fits in no machine's "
                    "memory; a size is almost certainly mistyped. The error points at the layer "
                    "where the total crosses the limit.",
        hint="a size is probably mistyped (channels, features or a kernel)",
        example="""\
            model Wide
            input x: [N, 1000000]
            output y = x -> linear(2000000)
            """,
        fix="""\
            model Wide
            input x: [N, 1000000]
            output y = x -> linear(2000)
            """,
    ),
    Code(
        code="E-LIMIT-ACTIVATIONS",
        title="The activations of one sample need an absurd amount of memory",
        explanation="The outputs of the layers for one sample, summed, need over 1 PiB: more "
                    "than any cluster's memory; an input or channel size is almost certainly "
                    "mistyped. The error points at the layer where the total crosses the limit.",
        hint="an input or output size is probably mistyped (channels or spatial sizes)",
        example="""\
            model Huge
            input x: [N, 3, 16777216, 16777216]
            output y = x -> conv2d(8, 3, padding=1)
            """,
        fix="""\
            model Huge
            input x: [N, 3, 1024, 1024]
            output y = x -> conv2d(8, 3, padding=1)
            """,
    ),
    Code(
        code="W-LIMIT-PARAMS",
        title="The model has over 10 billion parameters",
        explanation="Valid, but larger than most models ever trained (40 GB of float32 and "
                    "more): worth a second look at the channel and feature sizes.",
        hint="check the channel and feature sizes",
        example="""\
            model Wide
            input x: [N, 200000]
            output y = x -> linear(100000)
            """,
        fix="""\
            model Wide
            input x: [N, 200000]
            output y = x -> linear(1000)
            """,
    ),
    Code(
        code="W-LIMIT-ACTIVATIONS",
        title="The activations of one sample need over 1 TiB",
        explanation="Valid, but more memory than any accelerator holds for one sample (a 3-d "
                    "U-Net at 512³ needs tens of GB): worth a second look at the input and "
                    "channel sizes.",
        hint="check the input and channel sizes",
        example="""\
            model Huge
            input x: [N, 3, 262144, 262144]
            output y = x -> conv2d(8, 3, padding=1)
            """,
        fix="""\
            model Huge
            input x: [N, 3, 1024, 1024]
            output y = x -> conv2d(8, 3, padding=1)
            """,
    ),
]
