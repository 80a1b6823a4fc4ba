"""Catalogue entries of the language server (`archc lsp`, archc/lsp/): see archc.codes."""
from archc.codes.entry import Code


def _model(body: str) -> str:
    return f"model Tiny\ninput x: [N, 3, 32, 32]\n{body}"


# The example runs a check as the server does, in a process of its own with its memory capped
_CHECK_AS_THE_SERVER_DOES = """\
    from pathlib import Path
    from archc.errors import SpecErrors
    from archc.lsp import worker
    from archc.lsp.analysis import ParseCache
    job = worker.Job(worker.check_job, (Path(spec).read_text(), "arch", spec, ParseCache(), None),
                     memory=worker.memory_allowance())
    result, _ = job.wait(60)
    if result.errors:
        raise SpecErrors(result.errors)
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
        example=_model("n = len([range(1000000) for j in range(8)])\n"
                       "output y = x -> conv2d(n % 7 + 1, 3, padding=1)\n"),
        env={"ARCHC_LSP_CHECK_MEMORY": "32"},
        api=_CHECK_AS_THE_SERVER_DOES,
        fix=_model("n = len([range(1000) for j in range(8)])\n"
                   "output y = x -> conv2d(n % 7 + 1, 3, padding=1)\n"),
    ),
]
