"""Catalogue entries of the limits on what values cost (archc/limits.py, archc/ir/evaluate.py):
see archc.codes."""
from archc.codes.entry import Code, tiny_model

CODES: list[Code] = [
    Code(
        "E-LIMIT-STRING-LENGTH", "A string would be longer than the limit",
        "A string a spec builds (with +, an f-string or str()) has at most 1,000,000 characters by "
        "default (ARCHC_MAX_STRING): names and labels are tens of characters, and doubling a string "
        "33 times would make 64 GiB. The length is checked before the string is built, and the "
        "error is reported where it would be.",
        "names and labels are short; to build longer strings anyway, raise the limit with the "
        "environment variable ARCHC_MAX_STRING",
        example=tiny_model('s0 = "block"\ns1 = s0 + s0\n'
                       'output y = x -> conv2d(8, 3, name=s1 + s1)\n'),
        env={"ARCHC_MAX_STRING": "12"},
        fix=tiny_model('s0 = "block"\ns1 = s0 + s0\n'
                   'output y = x -> conv2d(8, 3, name=s1 + s1)\n'),
        fix_env={"ARCHC_MAX_STRING": "20"},
    ),
]
