"""An add of several tensors sums left to right, `(a + b) + c`, as the code it is compared with
does (`out = a + b; out += c`): in float32, 1e8 + -1e8 + 1e-3 is 1e-3 that way, 0 the other."""
import pytest

import archc

torch = pytest.importorskip("torch")


def test_left_to_right_bit_for_bit():
    model = archc.loads("model M\ninput a: [N, 1]\ninput b: [N, 1]\ninput c: [N, 1]\n"
                        "output y = [a, b, c] -> add\n")
    module = archc.build(model)
    a, b, c = (torch.tensor([[v]], dtype=torch.float32) for v in (1e8, -1e8, 1e-3))
    assert module(a, b, c).item() == ((a + b) + c).item() == pytest.approx(1e-3)
    assert (a + (b + c)).item() == 0.0  # the order matters, and archc's is the left one
