"""Catalogue entries of the whole-command budget (archc/limits.py `command_budget`, archc/cli.py
main): see archc.codes."""
from archc.codes.entry import Code, tiny_model

CODES: list[Code] = [
    Code(
        "E-LIMIT-COMMAND-TIME", "A command ran past its wall-clock budget",
        "An archc command that reads specs (check, summary, draw, compile, fmt; export too where "
        "ARCHC_MAX_SECONDS is set) stops after 10 seconds per spec it names by default "
        "(ARCHC_MAX_SECONDS). The budget covers every stage: reading, parsing, comments, "
        "evaluation, error reporting and printing, where ARCHC_MAX_EVAL_SECONDS counts evaluation "
        "steps only. The largest specs of archc's zoo (ResNet-152, RegNet-Y-128GF) check in about "
        "a second, so a command this slow is working on a hostile or runaway spec. It exits 1, and "
        "no output file is written (outputs are written atomically).",
        "a spec that takes this long is very large or hostile; to allow more time, set the "
        "environment variable ARCHC_MAX_SECONDS (seconds per spec)",
        example=tiny_model("output y = x -> conv2d(8, 3, padding=1)\n"),
        # a microsecond: no command finishes in it, however warm its caches (with 0.001, a check
        # of this spec already parsed and elaborated in the same process sometimes printed "ok")
        env={"ARCHC_MAX_SECONDS": "0.000001"},
        fix=tiny_model("output y = x -> conv2d(8, 3, padding=1)\n"),
        fix_env={"ARCHC_MAX_SECONDS": "10"},
    ),
]
