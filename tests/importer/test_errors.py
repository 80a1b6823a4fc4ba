"""What cannot be imported is said, located, never guessed: the module path, the Python file and
line, the code; the CLI exits 1 and writes no file."""
from __future__ import annotations

import inspect

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import archc  # noqa: E402
from archc.cli import main  # noqa: E402


class Cumulative(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return torch.cumsum(self.conv(x), 1)


class Inner(nn.Module):
    def forward(self, x):
        if x.mean() > 0:  # data-dependent
            return x * 2
        return x


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.body = nn.Sequential(nn.ReLU(), Inner())

    def forward(self, x):
        return self.body(self.conv(x))


class Reflecting(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"))

    def forward(self, x):
        return self.stem(x)


def _line_of(cls: type, text: str) -> int:
    lines, start = inspect.getsourcelines(cls)
    return start + next(k for k, line in enumerate(lines) if text in line)


def _error(module: nn.Module) -> archc.SpecError:
    with pytest.raises(archc.SpecError) as info:
        archc.from_torch(module, [torch.randn(1, 3, 8, 8)])
    return info.value


def test_unsupported_function_is_located_at_its_line():
    error = _error(Cumulative())
    assert error.code == "E-TORCH-FUNCTION" and "cumsum" in error.message
    assert error.loc.file == __file__ and error.loc.line == _line_of(Cumulative, "torch.cumsum")


def test_data_dependent_control_flow_names_the_module_and_line():
    error = _error(Outer())
    assert error.code == "E-TORCH-DYNAMIC"
    assert error.loc.line == _line_of(Inner, "if x.mean() > 0")
    assert any("module 'body.1'" in note for note in error.notes)


def test_unsupported_module_option_is_said():
    error = _error(Reflecting())
    assert error.code == "E-TORCH-UNSUPPORTED" and "padding_mode='circular'" in error.message
    assert any("stem" in note for note in error.notes) or "stem.0" in error.message


def test_cli_exits_1_and_writes_no_file(tmp_path, capsys):
    source = tmp_path / "nets.py"
    source.write_text(inspect.getsource(Inner) + "\n\ndef make():\n    return Inner()\n"
                      .replace("Inner", "Inner"), encoding="utf-8")
    source.write_text("import torch\nfrom torch import nn\n\n\n" + source.read_text(), encoding="utf-8")
    out = tmp_path / "out.arch"
    status = main(["import", f"{source}:make", "--input", "x=1,3,8,8", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 1 and not out.exists()
    assert "error[E-TORCH-DYNAMIC]" in err and "nets.py:" in err and "Traceback" not in err


def test_cli_writes_the_spec_and_prints_the_constraints(tmp_path, capsys):
    source = tmp_path / "small.py"
    source.write_text("import torch\nfrom torch import nn\n\n\ndef make(width=4):\n"
                      "    return nn.Sequential(nn.Conv2d(3, width, 3, stride=2), nn.ReLU())\n", encoding="utf-8")
    out = tmp_path / "small.yaml"
    status = main(["import", f"{source}:make", "--kwargs", '{"width": 6}', "--input", "img=1,3,9,9", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 0, err
    model = archc.load(out)
    assert list(model.graph.inputs) == ["img"] and model.state_dict_shapes()["0.weight"] == (6, 3, 3, 3)
    assert err == f"archc: imported {source}:make to {out}: img: [N, 3, H, W] (inputs must satisfy H >= 3, W >= 3)\n"


def test_cli_argument_errors_are_diagnostics(capsys):
    assert main(["import", "no_such_module_here:make", "--input", "x=1,3,8,8"]) == 1
    assert "E-TORCH-FACTORY" in capsys.readouterr().err
    assert main(["import", "torch.nn:ReLU", "--input", "x=1,3,a"]) == 1
    assert "E-TORCH-ARGUMENT" in capsys.readouterr().err


def test_cli_refuses_inputs_too_large_to_trace_before_allocating(capsys):
    """--input x=1,3,100000,100000 was an internal RuntimeError (can't allocate 120 GB)."""
    import tracemalloc
    tracemalloc.start()
    try:
        assert main(["import", "torch.nn:ReLU", "--input", "x=1,3,100000,100000"]) == 1
        assert tracemalloc.get_traced_memory()[1] < 64 * 2 ** 20
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert "error[E-TORCH-INPUT-SIZE]" in err and "30,000,000,000 elements" in err and "internal" not in err
    assert main(["import", "torch.nn:ReLU", "--input", "x=1,3,16384,16384", "--input", "y=1,3,16384,16384"]) == 1
    assert "E-TORCH-INPUT-SIZE" in capsys.readouterr().err  # the inputs together


class Blowup(nn.Module):
    def forward(self, x):
        return x.repeat(1, 1, 2 ** 24, 2 ** 24)  # 3 * 2**54 elements: the allocator refuses


def test_running_out_of_memory_in_the_trace_is_said_as_such():
    error = _error(Blowup())
    assert error.code == "E-TORCH-INPUT-SIZE" and "ran out of memory" in error.message
    assert "smaller example inputs" in error.hint


def test_an_input_given_twice_is_refused(capsys):
    """--input x=... --input x=... ran the model with two inputs (E-TORCH-RUN: 'takes 2 positional
    arguments but 3 were given')."""
    assert main(["import", "torch.nn:ReLU", "--input", "x=1,3,8,8", "--input", "x=1,3,8,8"]) == 1
    err = capsys.readouterr().err
    assert "error[E-TORCH-ARGUMENT]" in err and "--input x is given twice" in err and "E-TORCH-RUN" not in err
