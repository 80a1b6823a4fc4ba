"""What values really cost (issue 24): a list that shares references, a string that doubles, a
chunk into a million parts and a non-finite number each end in a located diagnostic with a code,
in seconds and under 2 GB. Each spec runs `archc check` in a child process with a memory limit
(RLIMIT_AS) and a time limit; before these limits the shared-list spec walked 10 ** 21 numbers
and the doubled string reached 64 GiB."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

if sys.platform != "linux":  # pragma: no cover - RLIMIT_AS is what bounds the child's memory
    pytest.skip("the memory limit needs Linux", allow_module_level=True)

MEMORY = 2 * 1024 ** 3
SECONDS = 20  # each case finishes in about half a second; far above, so a loaded machine passes

HEAD = "model M\ninput x: [N, 3, 8, 8]\n"


def _limit_memory() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _check(tmp_path: Path, text: str) -> tuple[str, float]:
    spec = tmp_path / "hostile.arch"
    spec.write_text(text)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in [k for k in env if k.startswith("ARCHC_MAX_")]:
        del env[name]
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "archc", "check", str(spec)], capture_output=True,
                          text=True, timeout=SECONDS, env=env, preexec_fn=_limit_memory)
    elapsed = time.monotonic() - start
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-2000:]
    assert "Traceback" not in out and "out of memory" not in out, out[-2000:]
    return out, elapsed


def _located(out: str, code: str, line: int) -> None:
    assert re.search(rf"hostile\.arch:{line}:\d+: error\[{code}\]", out), out[-2000:]


def _shared_lists(n: int, literal: bool) -> str:
    lines = [HEAD, "a0 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"]
    for k in range(1, n + 1):
        inner = ", ".join([f"a{k - 1}"] * 10) if literal else f"a{k - 1} for i in range(10)"
        lines.append(f"a{k} = [{inner}]\n")
    return "".join(lines)


@pytest.mark.parametrize("use", [
    "output y = x -> conv2d(a20, 3)\n",                 # the value printed in an error
    "c = constant(a20)\noutput y = x + c\n",           # walked into a tensor
    "block B(v)(x) { return x -> relu }\noutput y = x -> B(v=a20)\n",  # frozen as a block argument
])
@pytest.mark.parametrize("literal", [False, True], ids=["comprehension", "literal"])
def test_shared_reference_lists_cost_what_they_denote(tmp_path, use, literal):
    """Twenty lines, 200 items written, 10 ** 21 denoted: refused where the list passes the item
    budget (a6: 11,111,110 items), counted without expanding it."""
    out, elapsed = _check(tmp_path, _shared_lists(20, literal) + use)
    _located(out, "E-LIMIT-LIST-SIZE", 9)
    assert "11,111,110 items" in out
    assert elapsed < SECONDS


def test_shared_lists_within_the_budget_are_walked_once(tmp_path):
    """A list sharing references within the budget (a5: 1,111,110 items) given to a block many
    times and printed in an error: the message shows its start and size, not the whole value."""
    use = ("block B(v)(x) { return x -> relu }\n"
           + "".join(f"y{k} = x -> B(v=a5)\n" for k in range(30))
           + "output y = x -> conv2d(a5, 3)\n")
    out, elapsed = _check(tmp_path, _shared_lists(5, False) + use)
    assert "(a list of 10 items)" in out, out[-2000:]
    assert max(len(line) for line in out.splitlines()) < 1000
    assert elapsed < SECONDS


@pytest.mark.parametrize("form", ["s{k} = s{j} + s{j}", 's{k} = f"{{s{j}}}{{s{j}}}"'])
def test_doubling_a_string_stops_at_the_limit(tmp_path, form):
    """33 doublings would make 64 GiB: refused at the 19th, before the string is built."""
    lines = [HEAD, 's0 = "ab"\n'] + [form.format(k=k, j=k - 1) + "\n" for k in range(1, 34)]
    out, elapsed = _check(tmp_path, "".join(lines) + "output y = x -> conv2d(8, 3, name=s33)\n")
    _located(out, "E-LIMIT-STRING-LENGTH", 22)
    assert "1,048,576 characters" in out


def test_chunk_into_a_million_parts_is_checked_before_building(tmp_path):
    text = "model M\ninput x: [N, 1000000, 8, 8]\noutput y = x -> concat(x -> chunk(1000000))\n"
    out, elapsed = _check(tmp_path, text)
    _located(out, "E-LIMIT-LAYERS", 3)
    assert elapsed < 5, elapsed


@pytest.mark.parametrize("body", [
    "v = sum([1e308, 1e308])\nc = constant([v, 1.0, 2.0], shape=[3, 1, 1])\noutput y = x + c\n",
    "v = sum([1e308, 1e308]) - sum([1e308, 1e308])\nc = constant(v, shape=[3, 1, 1])\noutput y = x + c\n",
])
def test_non_finite_numbers_never_enter_a_tensor(tmp_path, body):
    out, _ = _check(tmp_path, HEAD + body)
    _located(out, "E-VALUE-FLOAT-OVERFLOW", 3)


def test_unpack_hint_names_the_pieces(tmp_path):
    text = ("model M\ninput x: [N, 40, 8, 8]\nt4 = x -> chunk(1)\nt5 = x -> chunk(4)\n"
            "t6 = x -> chunk(40)\noutput y = x\n")
    out, _ = _check(tmp_path, text)
    assert "t40" not in out
    assert "`t5_0, t5_1, t5_2, t5_3 = ...`" in out
    assert "`t6_0, t6_1, …, t6_39 = ...`" in out
    assert "a single piece is the whole tensor" in out


def test_copies_through_distinct_wrappers_are_counted(tmp_path):
    """Ten one-item wrappers of the same list, then a list of the wrappers: each wrapper is a new
    list, but the list inside is placed ten times, and that copy costs its size."""
    lines = [HEAD, "a0 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"]
    for k in range(1, 21):
        lines += [f"b{k}_{i} = [a{k - 1}]\n" for i in range(10)]
        lines.append(f"a{k} = [{', '.join(f'b{k}_{i}' for i in range(10))}]\n")
    out, elapsed = _check(tmp_path, "".join(lines) + "output y = x -> conv2d(a20, 3)\n")
    assert "error[E-LIMIT-LIST-SIZE]" in out, out[-2000:]
    assert elapsed < SECONDS


def test_deep_nesting_costs_its_items_once(tmp_path):
    """`[[[...]]]` places each list once: 2,000 levels are 2,000 items, not 2,000,000."""
    text = HEAD + "".join(f"l{k} = [l{k - 1}]\n" if k else "l0 = [1]\n" for k in range(2000))
    out_path = tmp_path / "deep.arch"
    out_path.write_text(text + "output y = x -> relu\n")
    done = subprocess.run([sys.executable, "-m", "archc", "check", str(out_path)], capture_output=True,
                          text=True, timeout=SECONDS, preexec_fn=_limit_memory)
    assert "E-LIMIT-LIST-SIZE" not in done.stdout + done.stderr
