"""Training outputs (an auxiliary classifier): parameters but no inference cost or size
constraint, run only in training once lowered, branching off at the model level only."""
from __future__ import annotations


import pytest

from spec_helpers import TRAINING_OUTPUT_SPEC, errors_of, load


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


AUX = TRAINING_OUTPUT_SPEC


def test_training_output_has_parameters_but_no_inference_cost_or_constraint():
    model = load(AUX)
    assert model.graph.training_outputs == ["aux"]
    assert "AuxLogits.fc.weight" in model.state_dict_shapes()
    assert model.constraints == ["H >= 3", "W >= 3"]
    assert model.training_constraints == ["H >= 11", "W >= 11"]
    inference_macs = sum(model.metrics.layers[n.id].macs for n in model.graph.layers()
                         if not n.is_input and not n.training_only)
    assert model.macs == inference_macs
    assert model.metrics.layers["AuxLogits.conv"].macs != 0
    assert "Training outputs" in model.summary()


def test_training_output_lowered_runs_only_in_training(torch):
    module = load(AUX).to_torch()
    x = torch.randn(2, 3, 31, 31)
    module.eval()
    assert tuple(module(x).shape) == (2, 10)
    module.train()
    out = module(x)
    assert set(out) == {"logits", "aux"} and tuple(out["aux"].shape) == (2, 10)
    module.eval()  # at inference an input too small for the auxiliary head is fine
    assert tuple(module(torch.randn(1, 3, 7, 7)).shape) == (1, 10)


def test_training_output_must_branch_at_the_model_level():
    errors = errors_of("""\
        block Net()(x) {
          m = x -> conv2d(8, 3, name=stem)
          return m -> global_avgpool, m -> conv2d(4, 1, name=aux)
        }
        input x: [N, 3, 8, 8]
        logits, aux = x -> Net(name=net)
        output logits
        training output aux
        """)
    assert "branches off inside 'net'" in errors[0].message


def test_a_model_needs_an_inference_output():
    errors = errors_of("input x: [N, 3]\ntraining output y = x -> linear(2)\n")
    assert "every output is a training output" in errors[0].message


def test_training_output_is_drawn_dashed():
    from archc.backends.diagram import render_dot
    dot = render_dot(load(AUX), depth=0)
    aux_line = next(line for line in dot.splitlines() if line.strip().startswith('"AuxLogits" ['))
    assert "dashed" in aux_line
    fc_line = next(line for line in dot.splitlines() if line.strip().startswith('"fc" ['))
    assert "dashed" not in fc_line
    assert "training output" in dot
