"""`archc sweep`: a spec at every point of a grid of its model parameters, evaluated in worker
processes (or on Dask), each point a row of numbers or of the diagnostic that refused it; results
streamed to a resume file; the Pareto plot."""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

from archc.backends import pareto
from archc.backends.sweep import Settings, evaluate, grid, point_key, render, sweep, training_memory_available
from archc.cli import main
from archc.errors import SpecError, SpecErrors
from archc.ops.base import Word

ROOT = Path(__file__).resolve().parents[2]
MOBILENET = str(ROOT / "specs" / "mobilenet_v2.arch")
UNET = str(ROOT / "specs" / "unet_keras.arch")

# torchvision 0.29.1: sum(p.numel() for p in mobilenet_v2(width_mult=w, num_classes=n).parameters()),
# counted in the reference environment (torch 2.14.1)
TORCHVISION_MOBILENET_V2 = {(0.5, 10): 700_490, (0.5, 1000): 1_968_680,
                            (1.0, 10): 2_236_682, (1.0, 1000): 3_504_872}

TINY = """\
model Tiny
param width = 8
param blocks = 1
input x: [N, 3, 32, 32]

block Unit(c)(x) {
  return x -> conv2d(c, 3, padding=1) -> relu
}

h = x -> repeat(blocks, Unit(width))
output y = h -> global_avgpool -> linear(10)
"""


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    path = tmp_path / "tiny.arch"
    path.write_text(TINY)
    return str(path)


def tiny_params(width: int, blocks: int) -> int:
    """Counted by hand: the first conv 3→width, each further conv width→width, the linear width→10."""
    first = 3 * width * 9 + width
    others = (blocks - 1) * (width * width * 9 + width)
    return first + others + width * 10 + 10


def test_grid_is_every_combination_last_axis_fastest():
    assert grid({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]
    assert point_key({"b": 1, "a": 0.5}) == point_key({"a": 0.5, "b": 1})


def test_mobilenet_width_sweep_matches_torchvision():
    result = sweep(MOBILENET, {"width": [0.5, 1.0], "num_classes": [10, 1000]}, jobs=1)
    assert [r["point"] for r in result.records] == grid({"width": [0.5, 1.0], "num_classes": [10, 1000]})
    for record in result.records:
        point = record["point"]
        assert record["status"] == "ok"
        assert record["params"] == TORCHVISION_MOBILENET_V2[(point["width"], point["num_classes"])]
        assert record["min_input_size"] == {} and record["constraints"] == []
    # more width costs more MACs; the classifier's size barely moves them
    macs = {(r["point"]["width"], r["point"]["num_classes"]): r["macs"] for r in result.records}
    assert macs[(0.5, 1000)] < macs[(1.0, 1000)]
    assert macs[(1.0, 1000)] - macs[(1.0, 10)] == 1280 * (1000 - 10)  # the last linear layer's MACs


def test_invalid_points_are_rows_with_their_diagnostic():
    """U-Net's skip concatenations need H % 16 == 0: 17 is refused, the symbolic H is valid with
    its constraints and minimum size, 64 is valid."""
    from archc.ops.base import Word
    result = sweep(UNET, {"size": [Word("H"), 17, 64]}, jobs=1)
    symbolic, bad, good = result.records
    assert symbolic["status"] == "ok"
    assert symbolic["min_input_size"] == {"H": 16}
    assert symbolic["constraints"] == ["H % 16 == 0", "H >= 16"]
    assert symbolic["macs"] == "46275*H**2"
    assert bad["status"] == "invalid" and bad["error"]["code"] == "E-SHAPE-CONCAT"
    assert bad["error"]["location"] == f"{UNET}:17:10"  # the concat in the spec
    assert good["status"] == "ok" and good["macs"] == 46275 * 64 * 64
    assert result.invalid == 1
    text = render(result, "text")
    assert "E-SHAPE-CONCAT: concat" in text and "H=16" in text and "H % 16 == 0, H >= 16" in text
    rows = list(csv.DictReader(io.StringIO(render(result, "csv"))))
    assert [r["status"] for r in rows] == ["ok", "invalid", "ok"]
    assert rows[1]["code"] == "E-SHAPE-CONCAT" and rows[1]["params"] == ""
    data = json.loads(render(result, "json"))
    assert data["axes"] == ["size"] and len(data["points"]) == 3


def test_sizes_given_with_at_are_counted_and_checked_per_point():
    from archc.ops.base import Word
    result = sweep(UNET, {"size": [Word("H")]}, at={"H": 64}, jobs=1)
    assert result.records[0]["macs"] == 46275 * 64 * 64
    refused = sweep(UNET, {"size": [Word("H")]}, at={"H": 65}, jobs=1).records[0]
    assert refused["error"]["code"] == "E-CLI-SIZE-CONSTRAINT"


def test_an_unknown_parameter_is_refused_before_any_work(tiny):
    with pytest.raises(SpecErrors) as caught:
        sweep(tiny, {"widht": [8, 16]}, defines={"block": 2}, jobs=1)
    first, second = caught.value.errors
    assert first.code == second.code == "E-PARAM-UNKNOWN"
    assert first.message.startswith("-p widht") and first.hint == "did you mean 'width'?"
    assert (first.loc.line, first.loc.col) == (2, 7)  # at `width`'s declaration
    assert [r.message for r in first.related] == ["'blocks' is declared here"]
    assert second.message.startswith("-D block") and second.loc.line == 3


def test_a_parameter_swept_and_set_is_refused(tiny):
    with pytest.raises(SpecError) as caught:
        sweep(tiny, {"width": [8]}, defines={"width": 4}, jobs=1)
    assert caught.value.code == "E-SWEEP-PARAM-TWICE"


def test_worker_pool_gives_the_same_records(tiny):
    axes = {"width": [4, 8, 16], "blocks": [1, 2]}
    pooled = sweep(tiny, axes, jobs=2)
    assert [r["params"] for r in pooled.records] == [tiny_params(w, b) for w in (4, 8, 16) for b in (1, 2)]
    alone = sweep(tiny, axes, jobs=1)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in alone.records]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in pooled.records] == strip


def test_resume_skips_done_points_and_drops_a_cut_line(tiny, tmp_path):
    log = tmp_path / "out" / "sweep.jsonl"
    first = sweep(tiny, {"width": [4, 8]}, resume=str(log), jobs=1)
    assert first.evaluated == 2
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])["archc_sweep"] == 1 and len(lines) == 3
    # an interruption in the middle of a write: the last line is cut short
    log.write_text("\n".join(lines[:2]) + "\n" + lines[2][:15])
    seen = []
    second = sweep(tiny, {"width": [4, 8, 16]}, resume=str(log), jobs=1,
                   on_progress=lambda done, total, bad: seen.append((done, total)))
    assert second.evaluated == 2  # width 8 (cut) and 16; width 4 came from the file
    assert seen == [(2, 3), (3, 3)]
    assert [r["params"] for r in second.records] == [tiny_params(w, 1) for w in (4, 8, 16)]
    records = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    assert sorted(r["point"]["width"] for r in records) == [4, 8, 16]
    assert "from the resume file" in render(second, "text")


def test_resume_refuses_another_sweeps_file(tiny, tmp_path):
    log = tmp_path / "sweep.jsonl"
    sweep(tiny, {"width": [4]}, resume=str(log), jobs=1, batch=8)
    with pytest.raises(SpecError) as caught:
        sweep(tiny, {"width": [4]}, resume=str(log), jobs=1, batch=16)
    assert caught.value.code == "E-SWEEP-RESUME-MISMATCH" and "batch: 8 there, 16 now" in caught.value.message
    other = tmp_path / "notes.jsonl"
    other.write_text('{"hello": 1}\n')
    with pytest.raises(SpecError, match="not a results file"):
        sweep(tiny, {"width": [4]}, resume=str(other), jobs=1)


def test_dask_local_cluster_streams_to_the_resume_file(tiny, tmp_path):
    distributed = pytest.importorskip("distributed")
    log = tmp_path / "dask.jsonl"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        result = sweep(tiny, {"width": [4, 8], "blocks": [1, 3]}, engine="dask", client=client, resume=str(log))
    assert [r["params"] for r in result.records] == [tiny_params(w, b) for w in (4, 8) for b in (1, 3)]
    assert len(log.read_text().splitlines()) == 1 + 4
    again = sweep(tiny, {"width": [4, 8], "blocks": [1, 3]}, resume=str(log), jobs=1)
    assert again.evaluated == 0


def test_pareto_front_keeps_the_undominated():
    points = [(1.0, 5.0), (2.0, 3.0), (2.5, 4.0), (3.0, 1.0), (4.0, 1.0), (0.5, 9.0)]
    assert pareto.front(points) == [5, 0, 1, 3]
    # more parameters for the MACs is better: each point beats those left of it with fewer
    assert pareto.front(points, "higher") == [5]
    assert pareto.front([(1, 1), (2, 3), (3, 2), (4, 5)], "higher") == [0, 1, 3]
    assert pareto.front([]) == []


def test_cli_table_csv_and_plot(tiny, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "pareto.svg"
    table = tmp_path / "table.csv"
    status = main(["sweep", tiny, "-p", "width=4,8,16", "-p", "blocks=1,2", "--format", "csv",
                   "-o", str(table), "--plot", str(plot), "-j", "1"])
    assert status == 0, capsys.readouterr().err
    rows = list(csv.DictReader(table.open()))
    assert [int(r["params"]) for r in rows] == [tiny_params(w, b) for w in (4, 8, 16) for b in (1, 2)]
    svg = plot.read_text()
    assert svg.startswith("<?xml") and "Pareto front" in svg and "width=4, blocks=1" in svg
    assert "<dc:date>" not in svg  # reproducible: no date in the file


def test_cli_plot_of_symbolic_sizes_asks_for_at(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    status = main(["sweep", UNET, "-p", "size=H", "--plot", str(tmp_path / "p.svg"), "-j", "1"])
    assert status == 1 and "E-SWEEP-PLOT-SYMBOLIC" in capsys.readouterr().err
    assert not (tmp_path / "p.svg").exists()


def test_cli_progress_lines_when_forced(tiny, capsys, monkeypatch):
    monkeypatch.setenv("ARCHC_PROGRESS", "1")
    assert main(["sweep", tiny, "-p", "width=4,8", "-j", "1"]) == 0
    captured = capsys.readouterr()
    assert "archc sweep: 1/2 points evaluated..." in captured.err
    assert "archc sweep: 2/2 points evaluated..." in captured.err
    assert captured.out.splitlines()[0].split()[:3] == ["width", "params", "MACs"]


def test_cli_usage_errors(tiny, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["sweep", tiny, "-p", "width"])
    assert caught.value.code == 2
    assert main(["sweep", tiny, "-p", "width=4", "-p", "width=8"]) == 1
    assert "E-SWEEP-PARAM-TWICE" in capsys.readouterr().err


@pytest.mark.skipif(not training_memory_available(), reason="archc.analysis.training is not there yet")
def test_training_memory_column(tiny):
    import archc
    from archc.analysis.training import training_memory
    from archc.ops.base import Word
    record = evaluate(Settings(tiny, batch=4), {"width": 8})
    expected = training_memory(archc.load(tiny, {"width": 8}), batch=4)
    assert record["training_bytes"] == expected.peak > 0
    symbolic = evaluate(Settings(UNET, batch=2), {"size": Word("H")})
    assert symbolic["status"] == "ok" and symbolic["training_bytes"] is None  # no H: no number
    at = evaluate(Settings(UNET, batch=2, at={"H": 32}), {"size": Word("H")})
    assert at["training_bytes"] == training_memory(archc.load(UNET, {"size": 32}), batch=2).peak


def test_no_torch_on_the_sweep_path(tiny):
    import subprocess
    code = ("import sys; from archc.cli import main; "
            f"main(['sweep', {tiny!r}, '-p', 'width=4,8', '-j', '1', '--format', 'json']); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["points"][1]["params"] == tiny_params(8, 1)


def test_a_killed_sweep_resumes_where_it_stopped(tmp_path):
    """`kill` (SIGTERM) while the pool works: the command ends as Ctrl-C ends it (exit 130), the
    points finished so far are in the resume file, and a rerun evaluates only the others."""
    import os
    import signal
    import subprocess
    log = tmp_path / "sweep.jsonl"
    values = ",".join(str(n) for n in range(1, 401))
    process = subprocess.Popen([sys.executable, "-m", "archc.cli", "sweep", str(ROOT / "specs" / "resnet50.arch"),
                                "-p", f"num_classes={values}", "-j", "2", "--resume", str(log)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "ARCHC_PROGRESS": "1", "OMP_NUM_THREADS": "1"})
    for line in process.stderr:
        if "3/400 points evaluated" in line:
            process.send_signal(signal.SIGTERM)
            break
    process.stderr.read()
    assert process.wait(timeout=60) == 130
    done = {json.loads(line)["point"]["num_classes"] for line in log.read_text().splitlines()[1:]}
    assert 3 <= len(done) < 400
    first = list(range(1, 6))
    again = sweep(str(ROOT / "specs" / "resnet50.arch"), {"num_classes": first}, resume=str(log), jobs=1)
    assert again.evaluated == len([n for n in first if n not in done])
    # torchvision's resnet50 has 25,557,032 parameters at 1000 classes, fc 2048·1000 + 1000 of them
    assert [r["params"] for r in again.records] == [25_557_032 - 2049 * 1000 + 2049 * n for n in first]


def test_spec_text_and_strict():
    """A spec given as text (standard input) sweeps as a file does; --strict makes a point with a
    warning invalid, and without it the warning's code is in the record."""
    text = ("model Tiny\nparam width = 8\ninput x: [N, 3, 32, 32]\n"
            "output y = x -> conv2d(width, 3) -> relu -> linear(10)\n")  # linear on a feature map: a warning
    lenient = sweep("<stdin>", {"width": [4, 8]}, text=text, jobs=1)
    assert [r["status"] for r in lenient.records] == ["ok", "ok"]
    assert lenient.records[0]["warnings"] == ["W-SHAPE-LINEAR-FEATURE-MAP"]
    strict = sweep("<stdin>", {"width": [4]}, text=text, strict=True, jobs=1)
    assert strict.records[0]["error"]["code"] == "W-SHAPE-LINEAR-FEATURE-MAP"


def test_cli_sweep_of_standard_input(monkeypatch, capsys, tiny):
    monkeypatch.setattr(sys, "stdin", io.StringIO(Path(tiny).read_text()))
    assert main(["sweep", "-", "-p", "width=4,8", "-j", "2", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["spec"] == "<stdin>" and [p["params"] for p in data["points"]] == [tiny_params(4, 1), tiny_params(8, 1)]


# ------------------------------------------------------------------ hostile use (issue 24's standards)
def test_resume_never_wipes_a_file_that_is_not_a_results_file(tiny, tmp_path):
    """A file without a whole line (a binary, a note without a newline) was taken for a header cut
    short, emptied and reused; it is refused and left as it was. A header really cut short is
    still dropped."""
    for content in (bytes(range(256)) * 4, b"no newline at all"):
        other = tmp_path / "other.bin"
        other.write_bytes(content)
        with pytest.raises(SpecError) as caught:
            sweep(tiny, {"width": [4]}, resume=str(other), jobs=1)
        assert caught.value.code == "E-SWEEP-RESUME-MISMATCH"
        assert other.read_bytes() == content
    cut = tmp_path / "cut.jsonl"
    cut.write_text('{"archc_sw')
    assert sweep(tiny, {"width": [4]}, resume=str(cut), jobs=1).evaluated == 1
    assert json.loads(cut.read_text().splitlines()[0])["archc_sweep"] == 1


def test_resume_records_this_version_cannot_show_are_run_again(tiny, tmp_path):
    """Records without a status, an ok one without its numbers, an invalid one without its error,
    numbers of the wrong type, an internal error: each point is evaluated again instead of
    ending the command with a KeyError or TypeError."""
    log = tmp_path / "sweep.jsonl"
    sweep(tiny, {"width": [4]}, resume=str(log), jobs=1)
    header = log.read_text().splitlines()[0]
    broken = [{"point": {"width": 4}}, {"point": {"width": 8}, "status": "ok"},
              {"point": {"width": 16}, "status": "invalid"},
              {"point": {"width": 32}, "status": "ok", "params": "x", "trainable": 1, "macs": [1],
               "activation_bytes": None},
              {"point": {"width": 64}, "status": "internal error", "error": {"message": "bug"}}, [1, 2], "text"]
    log.write_text(header + "\n" + "".join(json.dumps(r) + "\n" for r in broken))
    result = sweep(tiny, {"width": [4, 8, 16, 32, 64]}, resume=str(log), jobs=1)
    assert result.evaluated == 5
    assert [r["params"] for r in result.records] == [tiny_params(w, 1) for w in (4, 8, 16, 32, 64)]
    render(result, "text")
    render(result, "csv")


def test_cli_outputs_that_clash_or_cannot_be_written_are_refused_before_the_work(tiny, tmp_path, capsys):
    spec_text = Path(tiny).read_text()
    table = tmp_path / "table.txt"
    cases = [(["-o", tiny], "E-SWEEP-OUTPUT-CLASH"),
             (["--resume", str(Path(tiny).parent / "." / "tiny.arch")], "E-SWEEP-OUTPUT-CLASH"),
             (["-o", str(table), "--plot", str(table)], "E-SWEEP-OUTPUT-CLASH"),
             (["--resume", str(tmp_path)], "E-OUTPUT-IS-DIRECTORY"),
             (["-o", str(tmp_path)], "E-OUTPUT-IS-DIRECTORY"),
             (["-o", f"{tiny}/deeper/table.txt"], "E-OUTPUT-NOT-A-DIRECTORY")]
    if pareto.FORMATS:
        cases.append((["--plot", f"{tiny}/pareto.svg"], "E-OUTPUT-NOT-A-DIRECTORY"))
    for options, code in cases:
        if "--plot" in options:
            pytest.importorskip("matplotlib")
        assert main(["sweep", tiny, "-p", "width=4,8", "-j", "1", *options]) == 1, options
        captured = capsys.readouterr()
        assert code in captured.err and captured.out == "", (options, captured)
        assert Path(tiny).read_text() == spec_text
    assert not table.exists()


def test_absurd_sizes_and_batches_are_diagnostics_not_overflows(tiny, capsys):
    """--at H=10**36 (past the activation limit) is that point's E-LIMIT-ACTIVATIONS, as
    `-D size=10**36` is; a batch past a billion is E-SWEEP-BATCH; the largest allowed batch
    prints in exponent form instead of a 20-digit GiB count or an OverflowError."""
    huge = 10 ** 36
    record = evaluate(Settings(UNET, at={"H": huge}), {"size": Word("H")})
    assert record["status"] == "invalid" and record["error"]["code"] == "E-LIMIT-ACTIVATIONS"
    with pytest.raises(SpecError) as caught:
        sweep(tiny, {"width": [4]}, batch=10 ** 400, jobs=1)
    assert caught.value.code == "E-SWEEP-BATCH"
    assert main(["sweep", tiny, "-p", "width=4", "-j", "1", "--batch", "1" + "0" * 12]) == 1
    assert "E-SWEEP-BATCH" in capsys.readouterr().err
    assert main(["sweep", UNET, "-p", f"size={10 ** 100}", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert "(101 chars)" in out and "0" * 60 not in out.splitlines()[2]  # the value elided in its cell
    if training_memory_available():
        result = sweep(UNET, {"size": [2 ** 14]}, batch=10 ** 9, jobs=1)
        line = render(result, "text").splitlines()[2]
        assert "e+" in line and "GiB" in line


def test_plot_of_memory_without_sizes_asks_for_at(tmp_path):
    """--y memory (or any axis) where a point's training memory waits for --at: the plot's
    diagnostic, not a TypeError on None."""
    pytest.importorskip("matplotlib")
    if not training_memory_available():
        pytest.skip("archc.analysis.training is not there")
    result = sweep(UNET, {"size": [Word("H"), 64]}, jobs=1)
    with pytest.raises(SpecError) as caught:
        pareto.plot(result, x="params", y="memory")
    assert caught.value.code == "E-SWEEP-PLOT-SYMBOLIC"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_processes_ignore_sigint(tmp_path):
    """A Ctrl-C (the whole process group) while the fork server imported archc printed that
    interpreter's KeyboardInterrupt traceback: the fork server starts with SIGINT ignored, which
    the workers it forks inherit (the sweeping process handles it and shuts the pool down), and
    the sweeping process keeps its own handler. Run in a fresh process: a fork server is one
    per process."""
    import subprocess
    code = f"""
import os, signal
from pathlib import Path
from functools import partial
from archc.backends.sweep import Settings, evaluate, run_local

def descendants(pid):
    for child in Path(f"/proc/{{pid}}/task/{{pid}}/children").read_text().split():
        yield child
        yield from descendants(child)

def ignores_sigint(pid):
    status = Path(f"/proc/{{pid}}/status").read_text()
    return bool(int(next(l for l in status.splitlines() if l.startswith("SigIgn:")).split()[1], 16) & 2)

workers = []
def arrived(record):
    assert record["status"] == "ok"
    workers.extend(ignores_sigint(p) for p in descendants(os.getpid())
                   if "forkserver" in Path(f"/proc/{{p}}/cmdline").read_text()
                   and Path(f"/proc/{{p}}/stat").read_text().split()[3] != str(os.getpid()))

if __name__ == "__main__":
    run_local(partial(evaluate, Settings({str(ROOT / "specs" / "lenet5.arch")!r})), [{{"num_classes": 4}}, {{"num_classes": 8}}], 2, arrived)
    assert workers and all(workers), workers
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    print("ok", len(workers))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr


def test_a_scheduler_address_that_reaches_no_cluster_is_a_diagnostic(tiny):
    """--scheduler garbage was an internal ValueError, an unreachable one 'archc: error: Timed
    out' with a hint about file permissions; --scheduler without --engine dask was ignored."""
    pytest.importorskip("distributed")
    for engine in ("dask", "local"):
        with pytest.raises(SpecError) as caught:
            sweep(tiny, {"width": [4]}, engine=engine, scheduler="no-port-here", jobs=1)
        assert caught.value.code == "E-SWEEP-SCHEDULER" and "no-port-here" in caught.value.message
