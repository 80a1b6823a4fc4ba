"""Catalogue entries of the language server (`archc lsp`, archc/lsp/): see archc.codes."""
from archc.codes.entry import Code, tiny_model

# The example runs a check as the server does, in a process of its own with its memory capped,
# forked from a fresh interpreter as small as the server: the cap bounds the growth of the
# address space beyond the forking process's, and a long-lived process (a test session that
# freed a large model) has free address space a check may take without growing it
_CHECK_AS_THE_SERVER_DOES = """\
    import pickle
    import subprocess
    import sys
    from archc.errors import SpecErrors
    server = (
        "import pickle, sys\\n"
        "from pathlib import Path\\n"
        "from archc.lsp import worker\\n"
        "from archc.lsp.analysis import ParseCache\\n"
        "spec = sys.argv[1]\\n"
        "job = worker.Job(worker.check_job, (Path(spec).read_text(), 'arch', spec, ParseCache(), None),\\n"
        "                 memory=worker.memory_allowance())\\n"
        "result, _ = job.wait(60)\\n"
        "sys.stdout.buffer.write(pickle.dumps(result.errors))\\n")
    done = subprocess.run([sys.executable, "-c", server, spec], capture_output=True, check=True)
    errors = pickle.loads(done.stdout)
    if errors:
        raise SpecErrors(errors)
    """

CODES: list[Code] = [
    Code(
        "E-LIMIT-MEMORY", "A check in the language server ran out of the memory it may use",
        "The language server checks each document in a process of its own, which may grow by "
        "2 GiB of memory by default beyond the server's own size (the environment variable "
        "ARCHC_LSP_CHECK_MEMORY, in MiB, given to the server). A check that needs more is stopped "
        "with this diagnostic, at the part of the spec being evaluated when memory ran out, "
        "instead of taking the machine's memory from the editor; the server and the other "
        "documents carry on. A real spec needs a few MB: this one builds very large values.",
        "a value here is very large (a list, a string, a repeat count); the language server's cap on "
        "one check's memory is the environment variable ARCHC_LSP_CHECK_MEMORY (MiB)",
        example=tiny_model("n = len([range(1000000) for j in range(8)])\n"
                       "output y = x -> conv2d(n % 7 + 1, 3, padding=1)\n"),
        env={"ARCHC_LSP_CHECK_MEMORY": "32"},
        api=_CHECK_AS_THE_SERVER_DOES,
        fix=tiny_model("n = len([range(1000) for j in range(8)])\n"
                   "output y = x -> conv2d(n % 7 + 1, 3, padding=1)\n"),
    ),
]
