"""Behaviour the performance changes after d6f09d5 must keep, found by running the same specs
through d6f09d5 and the changed tree and comparing every output (graphs, summaries, JSON,
generated source, diagnostics). Each test is the minimal spec of one difference; the reference
outcome is d6f09d5's (and PyTorch's, where that decides)."""
from __future__ import annotations

import pytest

import archc
from archc.errors import SpecErrors


def _errors(text: str) -> list:
    with pytest.raises(SpecErrors) as info:
        archc.loads(text, file="<spec>.arch")
    return info.value.errors


def _row(summary: str, layer: str) -> str:
    return next(line for line in summary.splitlines() if line.split(" ", 1)[0] == layer)


# ----------------------------------------------------------------------------- merges (archc/ops/merge.py)

def test_concat_of_inputs_of_different_ranks_along_the_last_axis_is_a_rank_error():
    """_check_same's same-shape fast path compared the shapes without the joined axis: [N, 3, 8, 8]
    and [N, 3, 8] without axis 3 are both [N, 3, 8], so the rank check was skipped and the sum of
    the last axis read past the shorter shape (IndexError; fixed in 81b4c83). torch.cat refuses
    tensors of different ranks."""
    errors = _errors("""\
model M
input x: [N, 3, 8, 8]
input y: [N, 3, 8]
output z = concat(x, y, axis=3)
""")
    assert [(e.code, e.message, e.loc.line, e.loc.col) for e in errors] == [
        ("E-SHAPE-CONCAT", "concat at line 4: ranks differ, [N, 3, 8, 8] vs [N, 3, 8]", 4, 12)]


def test_concat_of_inputs_of_different_ranks_along_axis_minus_one_is_a_rank_error():
    errors = _errors("""\
model M
input x: [N, 4, 6]
input y: [N, 4]
output z = concat(x, y, x, axis=-1)
""")
    assert [(e.code, e.message) for e in errors] == [
        ("E-SHAPE-CONCAT", "concat at line 4: ranks differ, [N, 4, 6] vs [N, 4] (input 1 vs input 2)")]


# ----------------------------------------------------------------------------- layer kinds (archc/analysis/metrics.py)

def test_a_frozen_merge_and_a_merge_of_more_inputs_are_different_kinds():
    """LayerKinds appended a flagged layer's flags (shared, unused, frozen, training-only: bools)
    to its key; a merge of four more inputs whose shape numbers are 0 and 1 in those places had
    the same key (False == 0, True == 1), and took the frozen layer's row ("Add (frozen)").
    Fixed in 8ab8442 (the flags are one tuple item of the key)."""
    model = archc.loads("""\
model M
input x: [N, 4, 8, 8]
input y: [1, 4, 1, 1]
a = add(x, y, frozen=true)
b = add(x, y, x, x, y, x)
output o = a + b
""", file="<spec>.arch")
    summary = model.summary()
    assert "Add (frozen)" in _row(summary, "a")
    assert "(frozen)" not in _row(summary, "b")


def test_a_training_only_merge_does_not_take_an_inference_merge_out_of_the_activations():
    """The same key collision with a training-only layer: the inference output's six-input add
    was counted as training-only, its activation (1 KiB a sample) left out of the total."""
    model = archc.loads("""\
model M
input x: [N, 4, 8, 8]
input y: [1, 4, 1, 1]
training output t = add(x, y)
output o = add(x, y, x, x, x, y)
""", file="<spec>.arch")
    assert model.metrics.totals.activation_bytes == 4 * 8 * 8 * 4
    assert "Activation memory per sample (float32): 1.00 KiB" in model.summary()


def test_the_model_output_is_not_an_unused_layers_kind():
    """And with an unused layer: the model's output, a six-input add, was shown "Add (unused)"
    and its activation left out."""
    model = archc.loads("""\
model M
input x: [N, 4, 8, 8]
input y: [1, 4, 1, 1]
unused a = add(x, y)
output o = add(x, y, x, y, x, x)
""", file="<spec>.arch")
    summary = model.summary()
    assert "(unused)" not in _row(summary, "o") and "Add (unused)" in _row(summary, "a")
    assert model.metrics.totals.activation_bytes == 4 * 8 * 8 * 4
