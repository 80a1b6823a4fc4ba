"""Catalogue entries of `archc sweep` (archc/backends/sweep.py, pareto.py) and `archc diff`
(archc/backends/diff.py): see archc.codes."""
import hashlib
import json

from archc.codes.entry import Code

CLASSIFIER = """\
model Classifier
param num_classes = 10
input x: [N, 3, 32, 32]
output y = x -> conv2d(16, 3, padding=1) -> relu -> global_avgpool -> linear(num_classes)
"""

# symbolic input sizes: MACs are expressions in H and W
SYMBOLIC = """\
model Net
param width = 8
input x: [N, 3, H, W]
output y = x -> conv2d(width, 3, padding=1) -> relu
"""

# the first line of a resume file that `archc sweep CLASSIFIER -p ... --batch 64 --resume FILE` wrote
RESUME_HEADER = json.dumps({"archc_sweep": 1, "at": None, "batch": 64, "defines": {}, "dtype": None,
                            "optimizer": None, "spec": "model.arch", "strict": False,
                            "spec_sha256": hashlib.sha256(CLASSIFIER.encode()).hexdigest()}) + "\n"

CODES: list[Code] = [
    # ------------------------------------------------------------------ sweeps
    Code(
        code="E-SWEEP-PARAM-TWICE",
        title="A model parameter is both set and swept, or swept twice",
        explanation="`archc sweep` takes each model parameter one way: a fixed value with -D, or "
                    "the values to sweep with one -p NAME=V1,V2,...; given twice, one would "
                    "silently win.",
        hint="give each parameter one way: a fixed value with -D, or all its values in one -p",
        example=CLASSIFIER,
        fix=CLASSIFIER,
        argv=("sweep", "{spec}", "-p", "num_classes=10,100", "-D", "num_classes=5"),
        fix_argv=("sweep", "{spec}", "-p", "num_classes=5,10,100"),
    ),
    Code(
        code="E-SWEEP-ENGINE",
        title="Unknown sweep engine",
        explanation='`archc.backends.sweep.sweep(engine=...)` runs the points on "local" (a pool of '
                    'processes on this machine) or "dask" (Dask\'s distributed scheduler), as '
                    "`archc sweep --engine`.",
        hint='use engine="local" or engine="dask"',
        example=CLASSIFIER,
        api="""\
            from archc.backends.sweep import sweep
            sweep(spec, {"num_classes": [10, 100]}, engine="ray")
            """,
    ),
    Code(
        code="E-SWEEP-DASK-MISSING",
        title="The dask engine needs Dask's distributed scheduler",
        explanation="`archc sweep --engine dask` hands the points to Dask's distributed scheduler "
                    "(a LocalCluster, or an existing cluster with --scheduler); it is an optional "
                    "extra, not installed here.",
        hint="pip install -e '.[distributed]' in archc's checkout, or use --engine local",
        example=CLASSIFIER,
        api="""\
            import sys
            from archc.backends.sweep import sweep
            installed = sys.modules.pop("distributed", None)
            sys.modules["distributed"] = None  # `import distributed` fails, as if not installed
            try:
                sweep(spec, {"num_classes": [10, 100]}, engine="dask")
            finally:
                del sys.modules["distributed"]
                if installed is not None:
                    sys.modules["distributed"] = installed
            """,
    ),
    Code(
        code="E-SWEEP-SCHEDULER",
        title="No Dask cluster at the --scheduler address",
        explanation="`archc sweep --scheduler ADDRESS` hands the points to an existing Dask "
                    "cluster; the address could not be read (tcp://HOST:PORT) or no scheduler "
                    "answered there within 10 seconds.",
        hint="give the scheduler's address as it prints it, e.g. tcp://10.0.0.5:8786, and check "
             "that it runs; or leave out --scheduler for a local cluster",
        example=CLASSIFIER,
        fix=CLASSIFIER,
        argv=("sweep", "{spec}", "-p", "num_classes=10,100", "--engine", "dask", "--scheduler", "no-port-here"),
        fix_argv=("sweep", "{spec}", "-p", "num_classes=10,100", "-j", "1"),
        needs=("distributed",),
    ),
    Code(
        code="E-SWEEP-RESUME-MISMATCH",
        title="The resume file holds another sweep's results",
        explanation="`--resume FILE` appends each point's result to FILE and skips the points "
                    "already there. Its first line records what the results depend on besides "
                    "the point (the spec's content, -D, --batch, --at, --dtype, --optimizer); "
                    "results of another spec or other options would be silently mixed in, so "
                    "such a file (or one archc sweep did not write) is refused.",
        hint="rerun with the same spec and options, or give a new file name",
        example={"model.arch": CLASSIFIER, "results.jsonl": RESUME_HEADER},
        fix={"model.arch": CLASSIFIER, "results.jsonl": RESUME_HEADER},
        argv=("sweep", "{spec}", "-p", "num_classes=10,100", "--resume", "{dir}/results.jsonl"),
        fix_argv=("sweep", "{spec}", "-p", "num_classes=10,100", "--batch", "64", "--resume", "{dir}/results.jsonl"),
    ),
    Code(
        code="E-SWEEP-PLOT-FORMAT",
        title="The plot file's suffix names no image format",
        explanation="`archc sweep --plot FILE` draws the Pareto plot in the format its suffix "
                    "names: .svg, .png or .pdf.",
        hint="name a .svg, .png or .pdf file, e.g. --plot pareto.svg",
        example=CLASSIFIER,
        fix=CLASSIFIER,
        argv=("sweep", "{spec}", "-p", "num_classes=10,100", "--plot", "{dir}/pareto.jpg"),
        fix_argv=("sweep", "{spec}", "-p", "num_classes=10,100", "--plot", "{dir}/pareto.svg"),
    ),
    Code(
        code="E-SWEEP-PLOT-MATPLOTLIB",
        title="The Pareto plot needs matplotlib",
        explanation="`archc sweep --plot` draws with matplotlib, an optional extra (the `plot` "
                    "extra); it is not installed here. The table has the same numbers.",
        hint="pip install -e '.[plot]' in archc's checkout, or leave out --plot",
        example=CLASSIFIER,
        api="""\
            import sys
            from archc.backends import pareto
            from archc.backends.sweep import sweep
            result = sweep(spec, {"num_classes": [10, 100]}, jobs=1)
            installed = sys.modules.pop("matplotlib", None)
            sys.modules["matplotlib"] = None  # `import matplotlib` fails, as if not installed
            try:
                pareto.plot(result)
            finally:
                del sys.modules["matplotlib"]
                if installed is not None:
                    sys.modules["matplotlib"] = installed
            """,
    ),
    Code(
        code="E-SWEEP-PLOT-SYMBOLIC",
        title="The Pareto plot needs numbers, and the input sizes are symbolic",
        explanation="With symbolic input sizes (H, W) MACs and memory are expressions, which "
                    "cannot be placed on an axis; --at gives the sizes values at which they are "
                    "counted.",
        hint="give the symbolic sizes values with --at, e.g. --at H=224",
        example=SYMBOLIC,
        fix=SYMBOLIC,
        argv=("sweep", "{spec}", "-p", "width=8,16", "--plot", "{dir}/pareto.svg"),
        fix_argv=("sweep", "{spec}", "-p", "width=8,16", "--at", "H=224", "--at", "W=224",
                  "--plot", "{dir}/pareto.svg"),
        needs=("matplotlib",),
    ),
    Code(
        code="E-SWEEP-BATCH",
        title="The sweep's batch is not a whole number from 1 to 1,000,000,000",
        explanation="The training memory column of `archc sweep` is the peak of one training "
                    "step at --batch samples. A batch past a billion is a typo (no device holds "
                    "one); its numbers would also leave the range the table can print.",
        hint="give the samples of one forward pass, e.g. --batch 64",
        example=CLASSIFIER,
        api="""\
            from archc.backends.sweep import sweep
            sweep(spec, {"num_classes": [10, 100]}, batch=10 ** 12, jobs=1)
            """,
    ),
    Code(
        code="E-SWEEP-OUTPUT-CLASH",
        title="Two of the sweep's files are one file, or one is the spec",
        explanation="`archc sweep` writes the table (-o), the plot (--plot) and the resume file "
                    "(--resume). Naming one file twice, or the spec itself, would replace one "
                    "with another (the spec with the table, the table with the plot); this is "
                    "refused before any point is evaluated.",
        hint="give each of -o, --plot and --resume a file of its own, none of them the spec",
        example=CLASSIFIER,
        fix=CLASSIFIER,
        argv=("sweep", "{spec}", "-p", "num_classes=10,100", "-o", "{spec}"),
        fix_argv=("sweep", "{spec}", "-p", "num_classes=10,100", "-o", "{dir}/table.txt"),
    ),
    # ------------------------------------------------------------------ diffs
    Code(
        code="E-DIFF-NOTHING",
        title="archc diff was given one spec and no settings",
        explanation="`archc diff A B` compares two specs; `archc diff A --a NAME=VALUE --b "
                    "NAME=VALUE` compares one spec at two settings of its model parameters. One "
                    "spec without settings would be compared with itself.",
        hint="give a second spec (archc diff A B), or settings for one side: --a NAME=VALUE "
             "and/or --b NAME=VALUE",
        example=CLASSIFIER,
        fix=CLASSIFIER,
        argv=("diff", "{spec}"),
        fix_argv=("diff", "{spec}", "--b", "num_classes=100"),
    ),
    Code(
        code="E-DIFF-OUTPUT-CLASH",
        title="archc diff -o names one of the specs it compares",
        explanation="`archc diff A B -o FILE` writes the report to FILE; naming A or B there "
                    "would replace the spec with the report. It is refused before either spec "
                    "is loaded.",
        hint="write the diff to a file of its own, e.g. -o diff.md",
        example=CLASSIFIER,
        fix=CLASSIFIER,
        argv=("diff", "{spec}", "--b", "num_classes=100", "-o", "{spec}"),
        fix_argv=("diff", "{spec}", "--b", "num_classes=100", "-o", "{dir}/diff.md"),
    ),
]
