"""The receptive field axis by axis, as the metrics compute it at C speed (jump × stride, and
size + (kernel - 1) × jump, per axis), against the numbers worked out by hand: anisotropic
kernels and strides, dilation, pooling, transposed layers (fractional jumps, whole again when
they multiply back), pointwise layers that keep their input's field, and a merge; and the
activation bytes that analyse shares between layers alike (a declared tensor has none)."""
from __future__ import annotations

from fractions import Fraction

import archc
from archc.analysis.metrics import analyse, check_sizes

SPEC = """model RF
input x: [N, 3, 64, 64]
a = x -> conv2d(8, [3, 5], stride=[2, 1], name=a)
b = a -> conv2d(8, 3, dilation=2, padding=2, name=b)
c = b -> maxpool2d(2, name=c)
d = c -> conv_transpose2d(8, 2, stride=2, name=d)
e = d -> conv_transpose2d(8, 3, stride=[1, 2], name=e)
f = concat(e -> conv2d(8, 3, padding=1, name=g), e -> batchnorm2d(name=n) -> maxpool2d(3, stride=1, padding=1, name=p))
output y = f
"""


def test_each_axis_grows_by_its_own_kernel_stride_and_dilation():
    layers = archc.loads(SPEC).metrics.layers
    fields = {name: (layers[name].field.size, layers[name].field.jump) for name in "abcdegnp"}
    assert fields["a"] == ((3, 5), (2, 1))
    assert fields["b"] == ((3 + 4 * 2, 5 + 4 * 1), (2, 1))  # dilation 2: a 5-wide window
    assert fields["c"] == ((13, 10), (4, 2))  # the pool's stride is its kernel
    assert fields["d"] == ((13 + 1 * 2, 10 + 1 * 1), (2, 1))  # transposed: the jump divided first
    assert fields["e"] == ((15 + 2 * 2, 11 + 1), (2, Fraction(1, 2)))
    assert fields["g"] == ((23, 13), (2, Fraction(1, 2)))  # 12 + 2 × 1/2: a whole number again
    assert all(type(v) is int for v in fields["g"][0])
    assert fields["n"] == fields["e"] and layers["n"].field is layers["e"].field  # pointwise: as it came
    assert fields["p"] == fields["g"]
    assert (layers["concat"].field.size, layers["concat"].field.jump) == fields["g"]  # the wider of the two


def test_the_summary_shows_each_axis():
    text = archc.loads(SPEC).summary()
    row = next(line for line in text.splitlines() if line.startswith("e "))
    assert row.split()[-2:] == ["19×12", "2×1/2"]


def test_a_declared_tensor_has_no_activation_and_a_kind_shares_its_bytes():
    model = archc.loads("model D\ninput x: [N, 4, 8, 8]\nw = parameter([1, 4, 1, 1])\n"
                        "a = x * w -> relu\nb = x * w -> relu\noutput y = a + b\n")
    layers = analyse(model.graph).layers
    declared = next(n.id for n in model.graph.layers() if n.op_name == "parameter")
    assert layers[declared].activation_bytes == 0 and layers[declared].param_count == 4
    products = [n.id for n in model.graph.layers() if n.op_name == "multiply"]
    assert [layers[i].activation_bytes for i in products] == [4 * 8 * 8 * 4] * 2
    assert model.params == check_sizes(model.graph).params == 4
