"""Adversarial specs for patterns (archc.ir.patterns, archc.ir.numbers): numbers flowing through
every construct of the language into blocks instantiated again and again with other numbers. Each
spec is elaborated with reuse off (every instance evaluated) and on (patterns recorded from the
second evaluated instance of a kind and used for the later ones): the graphs (layers, attributes
with their types, shapes, names, scopes, edges, the `unused` mark), the summary, the warnings and
the errors must be the same. Where a spec is meant to exercise patterns, it also checks that some
instance was built from one.

The cases under a letter (A-H) were bugs found here, each a pattern-built graph that differed from
evaluation (the comment above each says how); all are fixed, and these tests keep them so."""
from __future__ import annotations

import random
from typing import Any

import pytest

import archc
from archc.errors import SpecErrors
from archc.ir import instances, numbers, patterns
from test_instances import _assert_same, _layer_fields, _load
from test_patterns import UNIT_BLOCK, _count_served


def _chain(block: str, calls_: list[str], shape: str = "N, 8, 8, 8") -> str:
    """A model applying `block(args)` for each args in a chain on one input."""
    return f"input x: [{shape}]\noutput y = x -> " + " -> ".join(f"{block}({a})" for a in calls_) + "\n"


def _outcome(text: str, reuse: bool, monkeypatch, language: str, **kwargs):
    try:
        return _load(text, reuse, monkeypatch, language=language, **kwargs)
    except SpecErrors as e:
        return [str(d) for d in e.errors]


def _strict_fields(model) -> list:
    """What `_assert_same` compares, with the types of numbers (3 and 3.0 are equal in Python, not in
    a spec's output), and each layer's `unused` mark."""
    nodes = [model.graph.dag.nodes[n]["layer"] for n in model.graph.dag.nodes]
    return [repr(f) for f in _layer_fields(model)] + [(n.id, n.unused, n.shares) for n in nodes]


def _assert_outcomes_alike(evaluated, built) -> None:
    """Two outcomes (a model, or the errors' texts) of one spec, evaluated and built with reuse."""
    if isinstance(evaluated, list) or isinstance(built, list):
        assert built == evaluated
    else:
        _assert_same(evaluated, built)
        assert _strict_fields(built) == _strict_fields(evaluated)
        assert built.summary("json") == evaluated.summary("json")
        assert (built.params, built.state_dict_shapes()) == (evaluated.params, evaluated.state_dict_shapes())


def _assert_alike(text: str, monkeypatch, served_at_least: int = 0, language: str = "arch", **kwargs) -> None:
    evaluated = _outcome(text, False, monkeypatch, language, **kwargs)
    served = _count_served(monkeypatch)
    built = _outcome(text, True, monkeypatch, language, **kwargs)
    _assert_outcomes_alike(evaluated, built)
    assert len(served) >= served_at_least, served


# ----------------------------------------------------------------------------- cases that hold
# (name, spec, the fewest instances built from patterns: 0 where the numbers decide every instance's
# structure or names, or patterns do not apply by design)
CASES: list[tuple[str, str, int]] = [
    # arithmetic with the number on the left or both numbers recorded
    ("float_plus_recorded_quotient", """
block B(a)(x) { return x -> dropout(0.05 + a / 100) -> conv2d(8, 1) }
""" + _chain("B", ["1", "2", "3", "4", "5"]), 2),
    ("negation_abs", """
block B(a)(x) { return x -> conv2d(-a + 20, 1) -> conv2d(abs(-a), 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"]), 2),
    ("int_float_round_floor_ceil", """
block B(r)(x) { return x -> conv2d(int(r * 10), 1) -> conv2d(round(r * 7), 1) -> conv2d(floor(r * 9) + ceil(r), 1) }
""" + _chain("B", ["0.5", "0.7", "0.9", "1.3", "2.5"]), 2),
    ("round_digits_from_a_parameter", """
block B(r, d)(x) { return x -> dropout(round(r, d)) -> conv2d(8, 1) }
""" + _chain("B", ["0.123, 1", "0.456, 1", "0.789, 2", "0.3456, 3", "0.111, 1"]), 2),
    ("sqrt_log", """
block B(a)(x) { return x -> conv2d(int(sqrt(a)) + int(log(a, 2)), 1) }
""" + _chain("B", ["4", "9", "16", "25", "64"]), 2),
    ("make_divisible", """
block B(a, r)(x) { return x -> conv2d(make_divisible(a * r, 8), 1) -> conv2d(make_divisible(r * a, 4, 16), 1) }
""" + _chain("B", ["16, 0.25", "32, 0.5", "24, 1.5", "40, 0.75", "100, 0.3"]), 2),
    ("float_builtin_result_times_number", """
block B(a)(x) { return x -> conv2d(int(float(2) * a), 1) }
""" + _chain("B", ["2", "4", "6", "8", "10"]), 2),
    ("floats_added_in_order", """
block B(r, q, c)(x) { return x -> dropout(r + q) -> conv2d(c, 1) }
""" + _chain("B", ["0.1, 0.2, 4", "0.2, 0.1, 5", "0.3, 0.0, 6", "0.15, 0.15, 7", "0.25, 0.05, 8"]), 2),
    ("float_equality_guard", """
block B(r, q)(x) { return x -> conv2d(8, 1) if r + q == 0.3 else x -> relu }
""" + _chain("B", ["0.1, 0.2", "0.2, 0.1", "0.3, 0.0", "0.15, 0.15", "0.25, 0.05"]), 1),
    ("int_float_equality", """
block B(a, r)(x) { return x -> conv2d(a, 1) if a == r * 2 else x -> conv2d(a + 1, 1) }
""" + _chain("B", ["2, 1.0", "3, 1.5", "4, 1.0", "6, 3.0", "5, 2.0"]), 1),
    ("float_parameter_equals_int_parameter", """
block B(a, r)(x) { return x -> conv2d(a, 1) if r == a else x -> conv2d(a + 1, 1) }
""" + _chain("B", ["3, 2.5", "4, 4.0", "3, 3.0", "2, 3.0", "5, 5.0"]), 1),
    ("negative_zero_scale", """
block B(r)(x) { return (x -> dropout(abs(r)) -> conv2d(8, 1)) * (r * 1.0) }
""" + _chain("B", ["0.1", "-0.0", "0.2", "0.0", "-0.3", "-0.0"]), 0),
    # lists: ranges, comprehensions, indices, slices, nested lists, unpacking
    ("range_len_sum", """
block B(a, b, c)(x) { return x -> conv2d(sum([i * c for i in range(a) if i % 2 == 0]) + len(range(b)), 1) }
""" + _chain("B", ["3, 2, 1", "3, 2, 2", "3, 2, 3", "4, 3, 2", "3, 2, 5"]), 1),
    ("comprehension_with_condition", """
block B(a, b, c)(x) { ws = [w * c for w in range(a, a + 4) if w % b != 0]
  return x -> conv2d(ws[0], 1) -> conv2d(ws[-1], 1) -> conv2d(len(ws), 1) }
""" + _chain("B", ["2, 2, 1", "2, 2, 3", "2, 2, 4", "3, 2, 2", "2, 3, 5", "2, 2, 6"]), 1),
    ("comprehension_condition_on_a_number", """
block B(a, c)(x) { ws = [w for w in [1, 2, 3, 4, 5] if w * c < a]
  return x -> conv2d(sum(ws) + 1, 1) }
""" + _chain("B", ["10, 1", "20, 2", "9, 1", "12, 3", "30, 2", "7, 1"]), 1),
    ("list_parameter_index_slice", """
block B(w, k)(x) { return x -> conv2d(w[k], 1) -> conv2d(w[-1], 3, padding=1) -> conv2d(len(w[k:]) + w[0], 1) }
""" + _chain("B", ["[4, 8, 12], 0", "[5, 9, 13], 1", "[6, 7, 8], 2", "[8, 16, 24], 1", "[3, 3, 3], 0"]), 1),
    ("list_slice_step", """
block B(w, s)(x) { v = w[::s]
  return x -> conv2d(v[0] + len(v), 1) -> conv2d(w[s:][0], 1) }
""" + _chain("B", ["[4, 5, 6, 7], 1", "[5, 6, 7, 8], 2", "[6, 7, 8, 9], 1", "[1, 2, 3, 4], 2", "[9, 8, 7, 6], 3"]), 1),
    ("negative_index_out_of_range_later", """
block B(w, k)(x) { return x -> conv2d(w[-k], 1) }
""" + _chain("B", ["[4, 5, 6], 1", "[5, 6, 7], 2", "[6, 7, 8], 3", "[1, 2, 3], 1", "[9, 8, 7], 4"]), 0),
    ("index_out_of_range_later", """
block B(a, w)(x) { return x -> conv2d(w[a], 1) }
""" + _chain("B", ["0, [4, 5]", "1, [4, 5]", "0, [6, 7]", "1, [8, 9]", "2, [1, 2]"]), 1),
    ("nested_list_parameter", """
block B(rows)(x) { return x -> repeat(len(rows), conv2d(rows[i][0] * rows[i][1], 1)) }
""" + _chain("B", ["[[1, 2], [3, 4]]", "[[2, 2], [1, 4]]", "[[3, 3], [2, 2]]", "[[1, 1], [5, 1]]", "[[4, 1], [1, 4]]"]), 2),
    ("unpacked_row", """
block B(row)(x) { t, c, n, s = row
  return x -> repeat(n, conv2d(c * t, 3, stride=s if i == 0 else 1, padding=1)) }
""" + _chain("B", ["[1, 16, 1, 1]", "[6, 24, 2, 2]", "[6, 32, 3, 2]", "[6, 64, 1, 1]", "[2, 8, 2, 1]"],
             "N, 8, 32, 32"), 1),
    # conditions: booleans, not, and/or, conditional values, chained conditions
    ("boolean_compared_to_condition", """
block B(a, f)(x) { return x -> conv2d(a, 1) if f == (a > 4) else x -> conv2d(a + 1, 1) }
""" + _chain("B", ["3, true", "5, true", "6, false", "2, false", "7, true", "1, true"]), 1),
    ("number_equal_to_true", """
block B(a)(x) { return x -> conv2d(8, 1) if a == true else x -> relu }
""" + _chain("B", ["0", "1", "2", "1", "0", "3"]), 1),
    ("and_or_short_circuit", """
block B(a, b)(x) { return x -> conv2d(8, 1) if (a and b) or not a else x -> relu }
""" + _chain("B", ["0, 1", "1, 0", "2, 3", "0, 0", "1, 1", "3, 0"]), 1),
    ("not_a_number", """
block B(a, c)(x) { return x -> conv2d(c, 1) if not a else x -> conv2d(c + 1, 1) }
""" + _chain("B", ["0, 4", "1, 5", "0, 6", "2, 7", "0, 8", "3, 9"]), 1),
    ("two_comparisons", """
block B(a, c)(x) { return x -> conv2d(c, 1) if 2 < a and a <= 5 else x -> conv2d(c * 2, 1) }
""" + _chain("B", ["1, 4", "3, 5", "5, 6", "6, 7", "2, 8", "4, 9", "7, 3"]), 1),
    ("conditional_values", """
block B(a, b)(x) { c = a if a > b else b
  return x -> conv2d(c, 1) -> conv2d(a * 2 if b % 2 == 0 else b * 3, 1) }
""" + _chain("B", ["2, 3", "5, 4", "3, 2", "6, 7", "1, 8"]), 1),
    ("number_compared_to_a_string", """
block B(a, c)(x) { return x -> conv2d(c, 1, name="p" if a == "q" else str(a)) }
""" + _chain("B", ["1, 4", "1, 5", "1, 6", "2, 7", "1, 8"]), 1),
    # names from numbers
    ("names_from_strings_of_numbers", """
block B(a, c)(x) { return x -> conv2d(c, 1, name="b" + str(a * 2) + "_" + str(a // 3)) }
""" + _chain("B", ["1, 4", "1, 5", "1, 6", "2, 7", "1, 8"]), 1),
    ("names_colliding_for_some_numbers", """
block B(a, b, c)(x) { return x -> conv2d(c, 1, name=f"c{a}") -> conv2d(c, 1, name=f"c{b}") }
""" + _chain("B", ["1, 2, 4", "1, 2, 5", "1, 2, 6", "1, 1, 7", "1, 2, 8"]), 1),
    ("dotted_container_names", """
block B(c, n)(x) {
  return x -> conv2d(c, 1, name="convs.0") -> batchnorm2d(name="bns.0") -> conv2d(c + n, 1, name="convs.1")
           -> batchnorm2d(name="bns.1")
}
""" + _chain("B", ["4, 2", "5, 2", "6, 2", "7, 3", "8, 2"]), 1),
    ("pow_with_negative_exponent_later", """
block B(a, b, c)(x) { return x -> conv2d(c, 1, name=f"c{a ** b}") }
""" + _chain("B", ["1, 1, 4", "1, 1, 5", "1, 1, 6", "1, -1, 7", "1, 1, 8"]), 1),
    # repeats
    ("repeat_with_i", """
block B(a, n)(x) { return x -> repeat(n, conv2d(a + i, 3, stride=2 if i == 0 else 1, padding=1, name=f"u{i * 2}")) }
""" + _chain("B", ["4, 2", "5, 2", "6, 2", "7, 3", "8, 2", "9, 3", "3, 3"], "N, 8, 128, 128"), 1),
    ("inline_repeat_in_block", """
block B(a, n)(x) { return x -> repeat(n, conv2d(a + i, 1), inline=true) }
""" + _chain("B", ["4, 1", "5, 1", "6, 2", "7, 3", "8, 1"]), 1),
    ("repeat_input_as", """
block B(a, n)(x) {
  return x -> repeat(n, conv2d(t.channels + a, 3, padding=1, groups=t.channels if a % t.channels == 0 else 1), input_as=t)
}
""" + _chain("B", ["4, 2", "8, 2", "2, 2", "16, 2", "3, 2", "4, 3"], "N, 4, 8, 8"), 1),
    ("nested_repeats", """
block B(a, n)(x) { return x -> repeat(2, repeat(i + 1, conv2d(a + i, 1))) }
""" + _chain("B", ["4, 2", "5, 2", "6, 2", "7, 2", "8, 2"]), 1),
    ("repeat_of_blocks_with_numbers", """
block U(c, p)(x) { return x -> conv2d(c, 1) -> dropout(p) }
block B(a, r)(x) { return x -> repeat(2, U(a + i, r * (i + 1))) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.2"]), 1),
    ("top_level_repeats_and_stages", """
block B(c, s)(x) { y = x -> conv2d(c, 3, stride=s, padding=1) -> batchnorm2d -> relu
  return y + x if s == 1 and x.channels == c else y }
input x: [N, 8, 64, 64]
output y = x -> repeat(3, B(8, 1)) -> repeat(4, B(16, 2 if i == 0 else 1), name=stage2)
             -> repeat(4, B(24 + 8 * i, 1 + i % 2), name=stage3)
""", 1),
    ("model_params_into_a_repeat", """
param w = 2
param p = 0.1
block B(c, r)(x) { return x -> conv2d(c, 1) -> dropout(r) }
input x: [N, 8, 8, 8]
output y = x -> repeat(5, B(w * (i + 1), p * i))
""", 1),
    # nested blocks, layers as parameters, sequential
    ("nested_blocks_with_computed_numbers", """
block Inner(c, p)(x) { return x -> conv2d(c, 1) -> dropout(p) }
block B(a, r)(x) { return x -> Inner(a * 2, r / 2) -> Inner(a + x.channels, r) }
""" + _chain("B", ["4, 0.2", "5, 0.3", "6, 0.1", "7, 0.4", "8, 0.2"]), 1),
    ("nested_block_reads_its_own_layers", """
block Inner(c)(x) { y = x -> conv2d(c, 1)
  return y -> conv2d(y.channels * 2, 1) if y.channels > 5 else y }
block B(a)(x) { return x -> Inner(a) -> Inner(a + 2) -> conv2d(a, 1) }
""" + _chain("B", ["4", "5", "3", "6", "2", "7"]), 1),
    ("instances_at_several_depths", """
block L(c, r)(x) { return x -> conv2d(c, 1) -> dropout(r) }
block M(c)(x) { return x -> L(c, 0.1) -> L(c + 1, 0.2) }
input x: [N, 8, 16, 16]
output y = x -> L(3, 0.3) -> M(4) -> L(5, 0.4) -> M(6) -> repeat(2, L(7 + i, 0.5)) -> M(8) -> L(2, 0.6)
""", 1),
    ("layer_parameter_with_numbers", """
block B(a, norm = batchnorm2d(eps=0.001))(x) { return x -> conv2d(a, 1) -> norm }
input x: [N, 8, 8, 8]
output y = x -> B(4) -> B(5, batchnorm2d(eps=0.01)) -> B(6, batchnorm2d(eps=0.02)) -> B(7)
             -> B(8, batchnorm2d(momentum=0.3)) -> B(9, batchnorm2d(eps=0.001))
""", 0),
    ("partial_block_parameter", """
block U(c, stride = 1)(x) { return x -> conv2d(c, 3, stride=stride, padding=1) }
block B(a, unit)(x) { return x -> unit(a) -> unit(a * 2) }
input x: [N, 8, 32, 32]
output y = x -> B(4, U(stride=2)) -> B(5, U(stride=1)) -> B(6, U(stride=2)) -> B(7, U(stride=1)) -> B(3, U)
""", 1),
    ("layers_made_inside_from_numbers", """
block B(a, r)(x) { norm = batchnorm2d(eps=r)
  unit = conv2d(a, 1)
  return x -> unit -> norm -> conv2d(a + 1, 1) -> norm }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"]), 1),
    ("layers_with_numbers_given_to_a_nested_block", """
block Inner(layer)(x) { return x -> layer -> relu }
block B(a, r)(x) { return x -> Inner(conv2d(a, 1)) -> Inner(dropout(r)) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"]), 0),
    ("sequential", """
block B(a, r)(x) { return x -> sequential(conv2d(a, 1), dropout(r), conv2d(a * 2, 1), name=seq) }
""" + _chain("B", ["4, 0.2", "5, 0.3", "6, 0.1", "7, 0.4", "8, 0.2"]), 1),
    ("inline_sequential", """
block B(a, r)(x) { return x -> sequential(conv2d(a, 1), dropout(r), relu, inline=true) }
""" + _chain("B", ["4, 0.2", "5, 0.3", "6, 0.1", "7, 0.4", "8, 0.2"]), 1),
    ("shared_instances_among_others", """
block B(a, r)(x) { return x -> conv2d(a, 1) -> dropout(r) }
input x: [N, 8, 16, 16]
t = shared(B(8, 0.1))
u = shared(B(8, 0.2))
a = x -> t -> u -> B(8, 0.3) -> B(8, 0.4) -> t -> B(8, 0.6)
output y = a -> u
""", 1),
    # tensors: cuts, slices, scalars, sizes
    ("chunk", """
block B(a)(x) { p, q = x -> conv2d(a * 2, 1) -> chunk(2)
  return concat(p, q -> conv2d(q.channels, 1)) }
""" + _chain("B", ["2", "3", "4", "5", "6"]), 0),
    ("split", """
block B(a)(x) { p, q = x -> conv2d(a * 3, 1) -> split([a, a * 2])
  return concat(p -> conv2d(a, 1), q) }
""" + _chain("B", ["2", "3", "4", "5", "6"]), 0),
    ("channel_slices", """
block B(a)(x) { y = x -> conv2d(a * 2, 1)
  return y[:, :a] + y[:, a:] }
""" + _chain("B", ["2", "3", "4", "5", "6"]), 1),
    ("spatial_slices", """
block B(a)(x) { return x[:, :, :a, ::2] -> conv2d(8, 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"], "N, 8, 64, 64"), 0),
    ("tensor_scalar_arithmetic", """
block B(a, r)(x) { return (x * r + a) / a - r -> conv2d(8, 1) }
""" + _chain("B", ["2, 0.5", "3, 0.25", "4, 1.5", "5, 2.0", "6, 0.1"]), 1),
    ("tensor_sizes", """
block B(a)(x) { y = x -> conv2d(a, 3, stride=2, padding=1)
  return y -> conv2d(y.channels + y.height + y.width + y.shape[1] + len(y.spatial) + y.rank, 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"], "N, 8, 64, 64"), 1),
    ("spatial_list", """
block B(a)(x) { sp = x.spatial
  return x -> conv2d(a, sp[0] // 4, stride=sp[-1] // 4) -> conv2d(a + len(sp), 1) }
input x: [N, 8, 16, 16]
output y = x -> B(4) -> B(5) -> upsample(scale=4) -> B(6) -> B(7) -> upsample(scale=8) -> B(8)
""", 1),
    ("shape_indexed_by_a_parameter", """
block B(a, k)(x) { return x -> conv2d(x.shape[k] + a, 1) }
""" + _chain("B", ["1, 1", "2, 2", "3, 3", "4, 1", "5, 2", "6, 3"], "N, 8, 16, 32"), 1),
    ("input_size_decides", """
block B(c)(x) { return x -> maxpool2d(2) -> conv2d(c, 1) if x.height > 8 else x -> conv2d(c, 3, padding=1) }
input x: [N, 8, 64, 64]
output y = x -> B(4) -> B(5) -> B(6) -> B(7) -> B(8) -> B(9) -> B(10) -> B(11)
""", 1),
    ("symbolic_spatial_sizes", """
block B(a)(x) { return x -> conv2d(a, 3, padding=1, stride=2 if a > 4 else 1) -> conv2d(x.channels, 1) }
""" + _chain("B", ["2", "5", "3", "6", "4"], "N, 8, H, W"), 0),
    ("int_batch_size", """
block B(a)(x) { return x -> conv2d(a + x.batch, 1) }
""" + _chain("B", ["2", "5", "3", "6", "4"], "2, 8, 16, 16"), 1),
    ("list_attributes", """
block B(a, b)(x) {
  return x -> zeropad2d([a, b]) -> avgpool2d(a, stride=b) -> upsample(scale=b * 2)
           -> reshape([x.channels, a * 2, -1]) -> permute([0, 1, 3, 2]) -> reduce_mean(axis=[2, 3], keepdim=true)
}
""" + _chain("B", ["1, 1", "2, 2", "2, 1", "1, 2", "3, 1"], "N, 8, 16, 16"), 0),
    ("parameter_and_constant", """
block B(a, r)(x) {
  s = parameter([x.channels, 1, 1], value=r)
  return (x * s) -> conv2d(3, 1) -> relu
}
""" + _chain("B", ["1, 0.1", "2, 0.2", "3, 0.3", "4, 0.4", "5, 0.5"]), 1),
    ("flatten_linear_reshape", """
block B(c)(x) { return x -> flatten -> linear(c) -> linear(c * 2) -> reshape([c * 2, 1, 1]) -> conv2d(8, 1) }
""" + _chain("B", ["4", "5", "6", "7", "8"], "N, 8, 1, 1"), 1),
    ("stochastic_depth_rate_recorded_on_the_left", """
block B(c, i, n)(x) { return x + (x -> conv2d(c, 3, padding=1) -> stochastic_depth(i * 0.2 / n)) }
""" + _chain("B", ["8, 0, 5", "8, 1, 5", "8, 2, 5", "8, 3, 5", "8, 4, 5"]), 1),
    # errors and warnings of a later instance only
    ("division_by_zero_later", """
block B(a)(x) { return x -> conv2d(12 // a, 1) }
""" + _chain("B", ["1", "2", "3", "4", "0"]), 1),
    ("float_division_by_zero_later", """
block B(a, r)(x) { return x -> dropout(0.5 / r) -> conv2d(a, 1) }
""" + _chain("B", ["1, 1.0", "2, 2.0", "3, 4.0", "4, 5.0", "5, 0.0"]), 1),
    ("division_by_zero_after_a_layer_guard", """
block B(a, b)(x) { y = x -> conv2d(a, 1)
  return y -> conv2d(12 // b, 1) if y.channels > 3 else y }
""" + _chain("B", ["4, 1", "5, 2", "6, 3", "2, 0", "7, 0", "8, 4"]), 1),
    ("huge_power_later", """
block B(a, c)(x) { return x -> conv2d((2 ** a) % 7 + c, 1) }
""" + _chain("B", ["3, 1", "4, 2", "5, 3", "6, 1", "5000, 2"]), 1),
    ("kernel_larger_than_input_later", """
block B(k)(x) { return x -> conv2d(8, k) }
""" + _chain("B", ["1", "2", "3", "1", "4", "9"]), 1),
    ("pool_warning_later", """
block B(k)(x) { return x -> conv2d(8, 1) -> maxpool2d(k, stride=1, ceil_mode=true) }
""" + _chain("B", ["1", "2", "2", "1", "3", "5"]), 1),
    ("groups_from_input_channels", """
block B(a)(x) { return x -> conv2d(a, 3, padding=1, groups=x.channels) }
""" + _chain("B", ["8", "16", "32", "64", "7"]), 1),
    ("groups_from_a_parameter", """
block B(c, g)(x) { return x -> conv2d(c, 3, padding=1, groups=g, bias=false) -> batchnorm2d }
""" + _chain("B", ["8, 1", "16, 2", "32, 4", "64, 8", "64, 64", "32, 32"]), 1),
    ("linear_lint_depends_on_the_layout_of_the_input", """
block B(c)(x) { return x -> linear(c) }
input x: [N, 8, 8, 8]
p = x -> permute([0, 2, 3, 1])
output y = p -> B(4) -> B(5) -> B(6) -> B(7) -> B(8)
output z = x -> B(4) -> B(5) -> B(6) -> B(7) -> B(9)
""", 1),
    ("linear_lint_layout_mixed", """
block B(c)(x) { return x -> linear(c) }
input x: [N, 8, 8, 8]
p = x -> permute([0, 2, 3, 1])
a = p -> B(4) -> B(5) -> B(6)
output y = concat(a -> B(7) -> permute([0, 3, 1, 2]) -> B(2), (x -> B(3)) -> permute([0, 3, 1, 2]), axis=1)
""", 1),
    # calls: defaults, keywords, inline, options, several inputs and results, training outputs
    ("defaults_and_keywords", """
block B(a, b = 3, r = 0.1)(x) { return x -> conv2d(a, b, padding=b // 2) -> dropout(r) }
input x: [N, 8, 16, 16]
output y = x -> B(4) -> B(5, 1) -> B(a=6, r=0.3) -> B(r=0.2, b=5, a=7) -> B(8, r=0.4) -> B(b=1, a=2)
""", 1),
    ("inline_blocks", """
block B(a, r)(x) { return x -> conv2d(a, 1) -> dropout(r) }
input x: [N, 8, 16, 16]
output y = x -> B(4, 0.1, inline=true) -> B(5, 0.2, inline=true) -> B(6, 0.3, inline=true)
             -> B(7, 0.4, inline=true) -> B(8, 0.5, inline=true)
""", 0),
    ("frozen_and_init_options", """
block B(a, r)(x) { return x -> conv2d(a, 1, init=he_normal) -> dropout(r) -> conv2d(a, 1, frozen=true) }
input x: [N, 8, 16, 16]
output y = x -> B(4, 0.1, frozen=true) -> B(5, 0.2) -> B(6, 0.3, init=zeros) -> B(7, 0.4) -> B(8, 0.5, frozen=true)
             -> B(9, 0.1, init=ones)
""", 1),
    ("frozen_from_a_parameter", """
block B(a, f)(x) { return x -> conv2d(a, 1, frozen=f) }
""" + _chain("B", ["4, true", "5, true", "6, false", "7, false", "8, true"]), 1),
    ("two_inputs_and_aliasing", """
block B(a)(x, z) { return (x -> conv2d(a, 1)) + (z -> conv2d(a, 1)) }
input x: [N, 8, 16, 16]
p = B(x, x, 4)
q = B(p, x, 8)
r = B(q, q, 8)
s = B(r, r, 8)
t = B(s, q, 8)
u = B(t, t, 8)
output y = u
""", 1),
    ("two_inputs_of_different_sizes", """
block B(a)(x, z) { return concat(x -> conv2d(a, 1), z -> conv2d(a, 1) -> upsample(scale=2)) }
input x: [N, 8, 16, 16]
input u: [N, 4, 8, 8]
p = B(x, u, 4)
q = B(p, u, 5)
r = B(q, u, 6)
s = B(r, p -> maxpool2d(2), 7)
t = B(s, q -> maxpool2d(2), 3)
output y = t
""", 1),
    ("several_results", """
block B(c, r)(x) {
  p = x -> conv2d(c, 1) -> dropout(r)
  q = x -> conv2d(c * 2, 1)
  return p, q
}
input x: [N, 8, 8, 8]
a1, b1 = x -> B(4, 0.1)
a2, b2 = b1 -> B(5, 0.2)
a3, b3 = b2 -> B(6, 0.3)
a4, b4 = b3 -> B(7, 0.4)
a5, b5 = b4 -> B(8, 0.5)
output y = concat(a1, a2, a3, a4, a5, b5)
""", 1),
    ("training_output", """
block B(a, r)(x) { return x -> conv2d(a, 1) -> dropout(r) }
input x: [N, 8, 16, 16]
m = x -> B(4, 0.1) -> B(5, 0.2) -> B(6, 0.3)
training output aux = m -> B(7, 0.4) -> B(9, 0.5) -> global_avgpool -> linear(3)
output y = m -> B(8, 0.5) -> global_avgpool -> linear(3)
""", 1),
    ("branches_not_taken_named_alike", """
block B(c, stride)(x) {
  plain = x -> conv2d(c, 1, name=downsample)
  pooled = x -> sequential(avgpool2d(2), conv2d(c, 1), name=downsample)
  return plain if stride == 1 else pooled
}
""" + _chain("B", ["4, 1", "5, 2", "6, 1", "7, 2", "8, 1", "3, 2"], "N, 8, 64, 64"), 1),
    ("branch_not_taken_reads_sizes", """
block B(c)(x) {
  y = x -> conv2d(c, 3, stride=2, padding=1)
  z = x -> conv2d(c, 1)
  return y if y.height * c > 40 else z
}
""" + _chain("B", ["6", "7", "1", "8", "2", "9", "3", "4"], "N, 8, 16, 16"), 0),
    # blocks at other ranks, results that are inputs, nested results, inline repeats of blocks
    ("inline_repeat_of_blocks_named_by_i", """
block U(c, p)(x) { return x -> conv2d(c, 1) -> dropout(p) }
input x: [N, 8, 8, 8]
output y = x -> repeat(5, U(8 + i, 0.1 * i, name="block2-" + str(i)), inline=true)
""", 1),
    ("nested_block_with_two_results", """
block Inner(c)(x) { return x -> conv2d(c, 1), x -> conv2d(c * 2, 1) }
block B(a)(x) { p, q = x -> Inner(a)
  return concat(p, q) -> conv2d(a, 1) }
""" + _chain("B", ["4", "5", "6", "7", "8"]), 1),
    ("the_input_itself_for_some_numbers", """
block B(a)(x) { return x if a > 3 else x -> conv2d(8, 1, name=c) -> dropout(a / 10) }
""" + _chain("B", ["1", "2", "4", "5", "3", "6", "2"]), 1),
    ("the_input_among_the_results", """
block B(a)(x) { return x, x -> conv2d(a, 1) }
input x: [N, 8, 8, 8]
p1, q1 = x -> B(4)
p2, q2 = q1 -> B(5)
p3, q3 = q2 -> B(6)
p4, q4 = q3 -> B(7)
output y = concat(p1, p2, p3, p4, q4)
""", 1),
    ("rank_3", """
block B(c, k)(x) { return x -> conv1d(c, k, padding=k // 2) -> batchnorm1d -> avgpool1d(2) if x.shape[2] > 4 else x -> conv1d(c, 1) }
""" + _chain("B", ["4, 1", "5, 3", "6, 5", "7, 3", "8, 1"], "N, 8, 32"), 1),
    ("rank_2", """
block B(c, r)(x) { return x -> linear(c) -> dropout(r) -> linear(x.channels + c) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"], "N, 8"), 1),
    ("rank_5", """
block B(c)(x) { return x -> conv3d(c, 3, padding=1) -> maxpool3d(2) if x.shape[4] >= 4 else x -> conv3d(c, 1) }
""" + _chain("B", ["4", "5", "6", "7", "8"], "N, 3, 16, 16, 16"), 1),
    ("one_block_at_two_ranks", """
block B(c, r)(x) { return x -> dropout(r) -> layernorm(axis=-1) -> linear(c) }
input x: [N, 8, 8]
input z: [N, 8]
output y = x -> B(4, 0.1) -> B(5, 0.2) -> B(6, 0.3) -> B(7, 0.4)
output w = z -> B(4, 0.1) -> B(5, 0.2) -> B(6, 0.3) -> B(7, 0.4)
""", 1),
    ("guards_on_layer_sizes_between_layers", """
block B(a, b)(x) { y = x -> conv2d(a, 1)
  z = y -> conv2d(b, 1) if y.channels * b > 20 else y
  return z -> conv2d(a + b, 1) if b < 3 else z }
""" + _chain("B", ["4, 1", "5, 6", "6, 2", "7, 3", "2, 4", "9, 1", "3, 5"]), 1),
    ("merge_mismatch_later", """
block B(c, k)(x) { return x + (x -> conv2d(x.channels, k, padding=k // 2)) -> conv2d(c, 1) }
""" + _chain("B", ["8, 1", "8, 3", "8, 5", "8, 1", "8, 2", "8, 3"]), 1),
    ("concat_axis_from_a_parameter", """
block B(a, ax)(x) { return concat(x, x -> conv2d(a, 1) -> conv2d(x.channels, 1), axis=ax) -> conv2d(a, 1) }
""" + _chain("B", ["4, 1", "5, 2", "6, 3", "7, 1", "3, 2", "2, -1"]), 1),
    ("softmax_dim_from_a_parameter", """
block B(a, d)(x) { return x -> conv2d(a, 1) -> softmax(dim=d) }
""" + _chain("B", ["4, 1", "5, 1", "6, 2", "7, 1", "3, -1", "2, 1"]), 1),
    ("names_and_options_from_number_expressions", """
block Inner(c)(x) { return x -> conv2d(c, 1) }
block B(a, c)(x) { return x -> conv2d(c, 1, name=a + 1) -> Inner(c, name=a * 2 + 5) -> repeat(2, relu, name=a + 10) }
""" + _chain("B", ["1, 4", "1, 5", "1, 6", "2, 7", "1, 8"]), 1),
    ("frozen_and_init_from_conditions", """
block B(a, c)(x) { return x -> conv2d(c, 1, frozen=a > 2) -> conv2d(c, 1, init=he_normal if a % 2 == 0 else zeros) }
""" + _chain("B", ["1, 4", "3, 5", "4, 6", "2, 7", "5, 8", "6, 9"]), 1),
    ("sizes_as_a_reshape_list", """
block B(a)(x) { return x -> conv2d(a, 1) -> reshape([x.shape[2], x.shape[3], a]) -> reshape([a, x.height, x.width]) }
""" + _chain("B", ["4", "5", "6", "7", "8"]), 1),
    ("inline_repeat_warning_for_some_counts", """
block B(a, n)(x) { return x -> repeat(n, conv2d(a, 1), inline=true) -> conv2d(a + 1, 1) }
""" + _chain("B", ["4, 1", "5, 1", "6, 1", "7, 2", "8, 1", "3, 3"]), 1),
    ("inline_nested_blocks", """
block Inner(c, p)(x) { return x -> conv2d(c, 1) -> dropout(p) }
block B(a, r)(x) { return x -> Inner(a, r, inline=true) -> Inner(a + 1, r / 2, inline=true) -> conv2d(a, 1) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"]), 1),
    ("nested_blocks_in_containers", """
block Inner(c, p)(x) { return x -> conv2d(c, 1) -> dropout(p) }
block B(a, r)(x) {
  return x -> Inner(a, r, name="blocks.0") -> Inner(a + 1, r / 2, name="blocks.1") -> conv2d(a, 1, name="head.conv")
}
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"]), 1),
    ("inline_repeat_of_nested_blocks", """
block Inner(c, p)(x) { return x -> conv2d(c, 1) -> dropout(p) }
block B(a, r, n)(x) { return x -> repeat(n, Inner(a + i, r * i, name="u" + str(i)), inline=true) }
""" + _chain("B", ["4, 0.1, 2", "5, 0.2, 2", "6, 0.3, 2", "7, 0.4, 3", "8, 0.1, 2"]), 1),
    ("blocks_four_deep", """
block L(c)(x) { return x -> conv2d(c, 1) }
block M(c)(x) { return x -> L(c) -> L(c * 2) }
block N2(c)(x) { return x -> M(c) -> M(c + 1) }
block B(a)(x) { return x -> N2(a) -> N2(a + 2) }
""" + _chain("B", ["1", "2", "3", "4", "5"]), 1),
]


@pytest.mark.parametrize("name, text, served", CASES, ids=[c[0] for c in CASES])
def test_built_as_evaluated(name: str, text: str, served: int, monkeypatch) -> None:
    _assert_alike(text, monkeypatch, served)


YAML_BLOCK = """
blocks:
  B:
    params: {a: null, r: 0.1}
    inputs: [x]
    return:
      - x
      - {conv2d: [WIDTH, 1], name: '"c" + str(a % 2)'}
      - {dropout: r}
inputs:
  x: [N, 8, 8, 8]
outputs:
  y: [x, {B: 2}, {B: [4, 0.2]}, {B: [6, 0.3]}, {B: [8, 0.4]}, {B: [10, 0.5]}]
"""


# (1.5 * a: bug A below, in YAML)
@pytest.mark.parametrize("width", ["int(a * 1.5)", "int(1.5 * a)"])
def test_yaml_form_built_as_evaluated(width: str, monkeypatch) -> None:
    _assert_alike(YAML_BLOCK.replace("WIDTH", width), monkeypatch, 1, language="yaml")


@pytest.mark.parametrize("options", [{"strict": True}, {"hyperparams": {"w": 3}}, {"hyperparams": {"w": 1}, "strict": True}],
                         ids=["strict", "w=3", "w=1-strict"])
def test_strict_and_overridden_parameters(options: dict, monkeypatch) -> None:
    # warnings of later instances only (the pooling window past the input), as errors when strict
    text = """
param w = 2
block B(k, c)(x) { return x -> conv2d(c, 1) -> maxpool2d(k, stride=1, ceil_mode=true) }
input x: [N, 8, 4, 4]
output y = x -> B(1, w) -> B(2, w + 1) -> B(2, w + 2) -> B(1, w + 3) -> B(3, w + 4) -> B(5, w)
"""
    _assert_alike(text, monkeypatch, **options)


@pytest.mark.parametrize("seed", [0, 1])
def test_resumed_elaborations_with_patterns(seed: int) -> None:
    # archc.ir.resume.Session after random edits (numbers changed, statements added, deleted, doubled,
    # misspelt) gives what a whole elaboration gives, with patterns in both
    from test_resume import check_edits
    text = UNIT_BLOCK + """input x: [N, 16, 64, 64]
a = x -> Unit(16)
b = a -> Unit(32, stride=2, p=0.2)
c = b -> Unit(32, p=0.3)
d = c -> Unit(48, p=0.35)
e = d -> Unit(64, stride=2, p=0.4)
f = e -> Unit(64, p=0.5)
g = f -> Unit(128, stride=2, p=0.6)
h = g -> Unit(128, p=0.7)
k = h -> Unit(96, p=0.1)
m = k -> Unit(96, stride=2)
output y = m -> Unit(96) -> Unit(48)
"""
    check_edits(text, "units.arch", 20, seed)


# ----------------------------------------------------------------------------- bugs found
# A. A plain float meeting a recorded int: Python's float operators take an int subclass as an int
# (float.__mul__(1.5, NumInt) gives a plain float), so the Num's reflected method never runs. The
# result is a constant in the recording: every instance built from the pattern gets the recorded
# instance's value (an attribute), and a comparison logs no guard (a branch of the recorded
# instance's structure is taken whatever the numbers).
FLOAT_MEETS_INT = [
    ("float_times_int", """
block B(a)(x) { return x -> conv2d(int(1.5 * a), 1) -> relu }
""" + _chain("B", ["2", "4", "6", "8", "10"])),
    ("float_less_than_int", """
block B(a)(x) { return x -> conv2d(8, 1) if 2.5 < a else x -> relu }
""" + _chain("B", ["1", "3", "4", "2", "1", "5"])),
    ("float_equal_to_int", """
block B(a, c)(x) { return x -> conv2d(c, 1) if 3.0 == a else x -> conv2d(c + 1, 1) }
""" + _chain("B", ["3, 4", "2, 5", "3, 6", "4, 7", "3, 8", "5, 9"])),
    ("float_divided_by_int", """
block B(a)(x) { return x -> dropout(1.0 / a) -> conv2d(8, 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"])),
    ("float_minus_input_channels", """
block B(a)(x) { return x -> conv2d(int(100.0 - x.channels), 1) }
input x: [N, 8, 8, 8]
output y = x -> conv2d(3, 1) -> B(1) -> conv2d(5, 1) -> B(1) -> conv2d(7, 1) -> B(1) -> conv2d(9, 1) -> B(1)
"""),
    ("float_power_int", """
block B(a)(x) { return x -> dropout(0.5 ** a) -> conv2d(8, 1) }
""" + _chain("B", ["1", "2", "3", "4", "5"])),
    ("float_modulo_int", """
block B(a)(x) { return x -> conv2d(int(7.5 % a) + 1, 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"])),
    ("float_floor_divided_by_int", """
block B(a)(x) { return x -> conv2d(int(100.0 // a), 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"])),
    ("float_from_a_literal_list", """
block B(a)(x) { return x -> conv2d(int([0.5, 1.5][0] * a) + 1, 1) }
""" + _chain("B", ["2", "4", "6", "8", "10"])),
    ("tensor_scaled_by_float_times_int", """
block B(a)(x) { return x * (0.5 * a) -> conv2d(8, 1) }
""" + _chain("B", ["2", "3", "4", "5", "6"])),
    ("slice_bound_from_float_times_int", """
block B(a)(x) { return x[:, :int(0.5 * a)] -> conv2d(8, 1) }
""" + _chain("B", ["2", "4", "6", "8", "10"], "N, 16, 8, 8")),
    ("stochastic_depth_rate_as_efficientnet_writes_it", """
block B(c, i, n)(x) { return x + (x -> conv2d(c, 3, padding=1) -> stochastic_depth(0.2 * i / n)) }
""" + _chain("B", ["8, 0, 5", "8, 1, 5", "8, 2, 5", "8, 3, 5", "8, 4, 5"])),
]


@pytest.mark.parametrize("name, text", FLOAT_MEETS_INT, ids=[c[0] for c in FLOAT_MEETS_INT])
def test_float_meets_recorded_int(name: str, text: str, monkeypatch) -> None:
    _assert_alike(text, monkeypatch, 1)


def test_float_times_int_gives_each_instance_its_width(monkeypatch) -> None:
    text = FLOAT_MEETS_INT[0][1]
    for reuse in (False, True):
        model = _load(text, reuse, monkeypatch)
        assert [n.shape[1] for n in model.graph.layers() if n.op_name == "conv2d"] == [3, 6, 9, 12, 15]


# B. A guard that a number is the same (str(), an index, a repeat count) compares with ==, blind to
# its type: max(a, r) of an int and a float is 3 for (3, 2.5) and 3.0 for (2, 3.0); the pattern
# recorded from the first passes the second, whose evaluation is an error (str() of a float, a float
# index, a float repeat count). The instance is built from the pattern instead.
TYPE_BLIND_GUARDS = [
    ("fstring_of_max", """
block B(a, r)(x) { return x -> conv2d(8, 1, name=f"c{max(a, r)}") }
""" + _chain("B", ["3, 2.5", "4, 2.5", "3, 3.0", "2, 3.0", "5, 1.5"])),
    ("str_of_max", """
block B(a, r)(x) { return x -> conv2d(8, 1, name="c" + str(max(a, r))) }
""" + _chain("B", ["3, 2.5", "4, 2.5", "3, 3.0", "2, 3.0", "5, 1.5"])),
    ("fstring_of_min", """
block B(a, r)(x) { return x -> dropout(min(a, r) / 10) -> conv2d(8, 1, name=f"m{min(a, r)}") }
""" + _chain("B", ["3, 4.5", "2, 4.5", "4, 4.0", "5, 4.0", "1, 4.5"])),
    ("repeat_count_of_max", """
block B(a, r)(x) { return x -> repeat(max(a, r), relu) -> conv2d(a + 1, 1) }
""" + _chain("B", ["3, 2.5", "4, 2.5", "3, 3.0", "2, 3.0", "5, 1.5"])),
    ("index_of_max", """
block B(a, r)(x) { return x -> conv2d([4, 5, 6, 7, 8, 9][max(a, r)], 1) }
""" + _chain("B", ["3, 2.5", "4, 2.5", "3, 3.0", "2, 3.0", "5, 1.5"])),
    ("make_divisible_with_a_float_minimum", """
block B(a, q)(x) { return x -> conv2d(8, 1, name=f"c{make_divisible(a, 4, q)}") }
""" + _chain("B", ["20, 8.0", "16, 8.0", "12, 16.0", "28, 8.0"])),
]


@pytest.mark.parametrize("name, text", TYPE_BLIND_GUARDS, ids=[c[0] for c in TYPE_BLIND_GUARDS])
def test_type_blind_guards(name: str, text: str, monkeypatch) -> None:
    _assert_alike(text, monkeypatch)


# C. The limits evaluation checks on each result (an int over 1,000 digits, a float past 1.8e308,
# in arithmetic and in built-ins) are not checked when a pattern computes the numbers again: an
# instance whose evaluation is an error is built from the pattern (min() and % hide the value).
LIMITS_NOT_CHECKED = [
    ("int_too_large", """
block B(a, c)(x) { return x -> conv2d((a * a * a) % 7 + c, 1) }
""" + _chain("B", ["3, 1", "4, 2", "5, 3", "6, 1", f"{10 ** 400}, 2"])),
    # evaluation refuses a ** b before computing it from a's bit length, read as a plain int (no guard):
    # the recorded a=5 stands for every a, and 1,000,000 ** 1,600 (9,600 digits) is computed (a 900-digit
    # base, up to 1,000 digits, gives a 1.5-million-digit power: 0.3 s of CPU where evaluation refuses at once)
    ("power_too_large", """
block B(a, b, c)(x) { return x -> conv2d((a ** b) % 7 + c, 1) }
""" + _chain("B", ["3, 100, 1", "5, 100, 2", "7, 90, 3", "1000000, 1600, 2"])),
    ("float_overflow_in_arithmetic", """
block B(r, c)(x) { return x -> dropout(min(0.5, r * 1e300)) -> conv2d(c, 1) }
""" + _chain("B", ["0.1, 1", "0.2, 2", "0.3, 3", "0.4, 1", "1e10, 2"])),
    ("float_overflow_in_sum", """
block B(r, c)(x) { return x -> dropout(min(0.5, sum([r, r]))) -> conv2d(c, 1) }
""" + _chain("B", ["0.1, 1", "0.2, 2", "0.3, 3", "0.4, 1", "1e308, 2"])),
]


@pytest.mark.parametrize("name, text", LIMITS_NOT_CHECKED, ids=[c[0] for c in LIMITS_NOT_CHECKED])
def test_limits_of_recomputed_numbers(name: str, text: str, monkeypatch) -> None:
    _assert_alike(text, monkeypatch)


# G. The checks evaluation makes on each intermediate value (here that a built-in or an operator
# gets numbers: a negative number to a fractional power is a complex number in Python) are not made
# when a pattern computes the numbers again: abs() of a complex is an error (E-VALUE-TYPE) in
# evaluation, a float in the pattern's function.
COMPLEX_NOT_CHECKED = [
    ("abs_of_int_to_a_fractional_power", """
block B(a, c)(x) { return x -> dropout(abs(a ** 0.5) / 10) -> conv2d(c, 1) }
""" + _chain("B", ["4, 1", "9, 2", "1, 3", "4, 4", "-4, 5"])),
    ("width_from_a_fractional_power", """
block B(a, c)(x) { return x -> conv2d(c + int(abs(a ** 0.5)), 1) }
""" + _chain("B", ["4, 1", "9, 2", "1, 3", "4, 4", "-4, 5"])),
    ("float_to_a_fractional_power_plus_one", """
block B(r, c)(x) { return x -> dropout(min(0.5, abs(r ** 0.5 + 1) / 10)) -> conv2d(c, 1) }
""" + _chain("B", ["0.25, 1", "0.04, 2", "0.09, 3", "0.16, 4", "-0.25, 5"])),
]


@pytest.mark.parametrize("name, text", COMPLEX_NOT_CHECKED, ids=[c[0] for c in COMPLEX_NOT_CHECKED])
def test_types_of_recomputed_numbers(name: str, text: str, monkeypatch) -> None:
    _assert_alike(text, monkeypatch)


# D. `unused` layers in a block body (built, never run) are missing from instances built by reuse:
# Template.replay makes LayerNodes without the `unused` mark, so the model's pruning removes them
# (exact replay too, before patterns; patterns inherit it). Parameters and state_dict differ.
UNUSED_IN_BLOCK = """
block B(c, r)(x) {
  unused f = x -> conv2d(c * 3, 1)
  return x -> conv2d(c, 1) -> dropout(r)
}
input x: [N, 8, 8, 8]
"""


def test_unused_layers_in_pattern_built_instances(monkeypatch) -> None:
    _assert_alike(UNUSED_IN_BLOCK + "output y = x -> B(4, 0.1) -> B(5, 0.2) -> B(6, 0.3) -> B(7, 0.4) -> B(8, 0.5)\n",
                  monkeypatch, 1)


def test_unused_layers_in_replayed_instances(monkeypatch) -> None:
    _assert_alike(UNUSED_IN_BLOCK + "output y = x -> B(8, 0.1) -> B(8, 0.1) -> B(8, 0.1) -> B(8, 0.1)\n",
                  monkeypatch)


# E. A list holding a layer with recorded numbers, given to a nested block: Recorder.scope looks for
# such layers (archc.ir.values.Partial) among the arguments themselves, not inside lists, so the
# recording is not dropped, and numbers.compiled() walks the Partial as a list: TypeError ('Partial'
# object is not iterable) out of archc.loads, with reuse only.
LAYERS_IN_A_LIST = [
    ("list_of_layers", """
block Inner(layers)(x) { f = layers[0]
  g = layers[1]
  return x -> f -> g }
block B(a, r)(x) { return x -> Inner([conv2d(a, 1), dropout(r)]) -> conv2d(a, 1) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"])),
    ("list_of_one_layer_beside_a_number", """
block Inner(c, layers)(x) { f = layers[0]
  return x -> conv2d(c, 1) -> f }
block B(a, r)(x) { return x -> Inner(a, [dropout(r)]) -> Inner(a + 1, [relu]) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"])),
]


@pytest.mark.parametrize("name, text", LAYERS_IN_A_LIST, ids=[c[0] for c in LAYERS_IN_A_LIST])
def test_layers_with_numbers_in_a_list_given_to_a_nested_block(name: str, text: str, monkeypatch) -> None:
    _assert_alike(text, monkeypatch)


def test_lists_of_layers_without_recorded_numbers(monkeypatch) -> None:
    _assert_alike("""
block B(a, layers)(x) { f = layers[0]
  g = layers[1]
  return x -> f -> conv2d(a, 1) -> g }
input x: [N, 8, 8, 8]
output y = x -> B(4, [conv2d(8, 1), dropout(0.1)]) -> B(5, [conv2d(8, 1), dropout(0.2)])
             -> B(6, [conv2d(8, 1), dropout(0.3)]) -> B(7, [conv2d(8, 1), dropout(0.4)]) -> B(8, [conv2d(8, 1), dropout(0.1)])
""", monkeypatch)
    _assert_alike("""
block B(a, r)(x) { ls = [conv2d(a, 1), dropout(r)]
  return x -> sequential(ls[0], ls[1], relu) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"]), monkeypatch, 1)


# F. A layer with recorded numbers given to a nested block (a recording then dropped): the nested
# scope's arguments in the graph keep the Partial with its Nums (Recorder.scope strips numbers, but
# not inside a Partial): recorded numbers reach the graph.
def test_recorded_numbers_never_reach_scope_arguments(monkeypatch) -> None:
    text = """
block Inner(layer)(x) { return x -> layer -> relu }
block B(a, r)(x) { return x -> Inner(conv2d(a, 1)) -> Inner(dropout(r)) }
""" + _chain("B", ["4, 0.1", "5, 0.2", "6, 0.3", "7, 0.4", "8, 0.5"])
    model = _load(text, True, monkeypatch)
    assert [s.path for s in model.graph.scopes.values() if numbers.holds_num(dict(s.args))] == []


# ----------------------------------------------------------------------------- random blocks
# beyond test_patterns.py's: slices, scalars, pads, pools, nested repeats and sequentials, names and
# conditions from numbers and sizes, list comprehensions, lints of later instances (none of bugs A-F)
_STATEMENTS = [
    "t{n} = t{p} -> conv2d({w}, {k}, padding={k} // 2, bias=false)",
    "t{n} = t{p} -> batchnorm2d(eps=r / 100) -> relu",
    "t{n} = t{p} if a > b else t{p} -> conv2d(a, 1)",
    "t{n} = t{p}[:, :min(a, t{p}.channels)]",
    "t{n} = t{p} * r + b",
    "t{n} = t{p} -> avgpool2d(1 + b % 2, stride=1 + b % 2) if t{p}.height > 4 else t{p}",
    "t{n} = t{p} -> upsample(scale=b) if t{p}.height < 16 else t{p}",
    "t{n} = t{p} -> zeropad2d([b, a % 3])",
    "t{n} = t{p} -> repeat(b, Inner(a, r), name=s{n})",
    "t{n} = t{p} -> conv2d(max(a, b * 2), 1, name=f\"k{{b}}\")",
    "t{n} = t{p} -> Inner(t{p}.channels // 2 + 1, r / 2)",
    "t{n} = t{p} if t{p}.channels % 2 == 0 and a > 2 or b == 1 else t{p} -> relu",
    "t{n} = concat(t{p}[:, :1], t{p}) -> conv2d(a + b, 1)",
    "t{n} = t{p} -> sequential(conv2d(a, 1), dropout(r), name=q{n})",
    "t{n} = t{p} -> dropout(round(r * a / 20, 2))",
    "t{n} = t{p} -> conv2d(sum([w[0] for w in [[a, 1], [b, 2]] if w[1] <= b]) + 1, 1)",
    "t{n} = t{p} -> conv2d(a, 3, padding=1, groups=a if t{p}.channels == a else 1)",
    "t{n} = t{p} + (t{p} -> conv2d(t{p}.channels, 1) -> stochastic_depth(r * b / 10))",
    "t{n} = t{p} -> maxpool2d(b + 1, stride=1, ceil_mode=true)",
    "t{n} = t{p} -> conv2d(a, b + 1)",
    "t{n} = t{p} -> repeat(b, conv2d(t.channels + i, 1), input_as=t)",
    "t{n} = t{p} -> conv2d(int(r * 10) + a, 1) -> conv2d(a, 1, name=\"c\" + str(a % 3))",
    "t{n} = t{p} -> reshape([t{p}.channels, t{p}.height, -1])",
]
_WIDTHS = ["a", "a * 2", "t{p}.channels", "max(1, a - b)", "round(t{p}.channels * r) + 1", "make_divisible(a * r * 8, 4)"]


def _random_spec(seed: int) -> str:
    rng = random.Random(seed)
    lines = ["block B(a, b, r)(x) {", "  t0 = x"]
    count = rng.randint(1, 5)
    for n in range(1, count + 1):
        width = rng.choice(_WIDTHS).format(p=n - 1)
        lines.append("  " + rng.choice(_STATEMENTS).format(n=n, p=n - 1, w=width, k=rng.choice([1, 3])))
    lines += [f"  return t{count}", "}", "block Inner(c, q)(x) {", "  return x -> conv2d(c, 1) -> dropout(q) -> relu", "}"]
    size = rng.choice([4, 8, 16])
    lines.append(f"input x: [N, {rng.randint(1, 12)}, {size}, {size}]")
    calls_: list[str] = []
    for _ in range(rng.randint(3, 8)):
        calls_.append(f"B({rng.randint(1, 9)}, {rng.randint(1, 3)}, {rng.choice([0.1, 0.25, 0.5, 0.75])})")
        if rng.random() < 0.3:
            calls_.append(calls_[-1])
    lines.append("output y = x -> " + " -> ".join(calls_))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_blocks_build_as_evaluated(seed: int, monkeypatch) -> None:
    _assert_alike(_random_spec(seed), monkeypatch)


# H. The recording in progress was a module global (now a context variable), while elaborations
# may run at once on threads (archc.deep.run_deep gives each caller its own worker). Two recordings
# that overlap without nesting: A starts, B starts (A's decisions now go to B's log), A stops (the
# global is A's outer value, None: B's decisions from then on are logged nowhere). B's pattern then
# lacks its guards and serves instances of another structure. Forced here in that order; an
# unforced run of 8 threads (sys.setswitchinterval(1e-6)) gave 12 wrong graphs in 48.
_DECIDING = "block B(a, b)(x) {\n  t0 = x\n" + "\n".join(
    f"  t{k} = t{k - 1} -> conv2d(a + {k}, 1) if (a + {k}) % 3 == {k % 3} and b > {k % 4} else t{k - 1} -> relu"
    for k in range(1, 9)) + "\n  return t8\n}\ninput x: [N, 8, 8, 8]\n"


def test_recordings_on_two_threads_at_once(monkeypatch) -> None:
    import contextvars
    import threading

    role: contextvars.ContextVar[str] = contextvars.ContextVar("role", default="")
    a_started, b_started, a_stopped = threading.Event(), threading.Event(), threading.Event()
    first = {"A": True, "B": True}
    start, stop = patterns.Recorder.start, patterns.Recorder.stop

    def ordered_start(self, *args):
        who = role.get()
        if who == "B" and first["B"]:
            assert a_started.wait(10)
        start(self, *args)
        if who == "A" and first["A"]:
            a_started.set()
            assert b_started.wait(10)
        if who == "B" and first["B"]:
            first["B"] = False
            b_started.set()
            assert a_stopped.wait(10)

    def ordered_stop(self):
        stop(self)
        if role.get() == "A" and first["A"]:
            first["A"] = False
            a_stopped.set()

    # A records B(4, 2) (every branch relu: 4 % 3 != 0), B records B(6, 2) (convolutions); B(4, 2)
    # comes again in B's model, where the pattern holds A's guards and B's structure
    calls_b = ["B(4, 1)", "B(6, 2)", "B(7, 0)", "B(4, 2)", "B(9, 1)", "B(5, 2)"]
    text_a = _DECIDING + "output y = x -> " + " -> ".join(["B(3, 1)", "B(4, 2)", "B(5, 3)"]) + "\n"
    text_b = _DECIDING + "output y = x -> " + " -> ".join(calls_b) + "\n"
    expected = _layer_fields(_load(text_b, False, monkeypatch))
    monkeypatch.setattr(patterns.Recorder, "start", ordered_start)
    monkeypatch.setattr(patterns.Recorder, "stop", ordered_stop)
    monkeypatch.setattr(instances, "REUSE_INSTANCES", True)
    results: dict[str, Any] = {}

    def run(who: str, text: str) -> None:
        role.set(who)
        try:
            results[who] = _layer_fields(archc.loads(text))
        except BaseException as e:  # (handed to the test's thread)
            results[who] = e
    threads = [threading.Thread(target=run, args=("A", text_a)), threading.Thread(target=run, args=("B", text_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert a_stopped.is_set()  # (the order was forced)
    assert results["B"] == expected
