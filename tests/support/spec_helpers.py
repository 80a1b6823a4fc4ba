"""Loading a spec from a test's text (dedented), its errors, its built module, shared by the
elaboration and op tests."""
from __future__ import annotations

import textwrap

import pytest

import archc
from archc.errors import SpecErrors


def load(text: str, **hyperparams) -> archc.Model:
    return archc.loads(textwrap.dedent(text), hyperparams=hyperparams or None)


def errors_of(text: str, **hyperparams) -> list:
    with pytest.raises(SpecErrors) as info:
        load(text, **hyperparams)
    return info.value.errors


def state_dict_differences(ours: dict, ref: dict, reference: str) -> str:
    """What differs between a model's state_dict keys and shapes and a reference's, for an
    assertion message: keys only one side has, shapes that differ (five of each at most)."""
    only_ours = [k for k in ours if k not in ref][:5]
    only_ref = [k for k in ref if k not in ours][:5]
    shapes = [(k, ours[k], ref[k]) for k in ours if k in ref and ours[k] != ref[k]][:5]
    return f"only in the spec: {only_ours}; only in {reference}: {only_ref}; shapes differ: {shapes}"


def build(model: archc.Model):
    module = model.to_torch()
    module.eval()
    return module


# A model with a training output (an auxiliary classifier, as Inception's): shared by the
# elaboration, printer and diagram tests of training outputs.
TRAINING_OUTPUT_SPEC = """\
    block Aux(classes)(x) {
      return x -> avgpool2d(5, stride=3) -> conv2d(8, 1, name=conv) -> adaptive_avgpool2d(1) -> flatten
               -> linear(classes, name=fc)
    }
    input x: [N, 3, H, W]
    m = x -> conv2d(8, 3, stride=2, name=stem)
    aux = m -> Aux(10, name=AuxLogits)
    output logits = m -> global_avgpool -> linear(10, name=fc)
    training output aux
    """


class Zoo:
    """A folder of specs beside the fixtures recorded from their reference library (torchvision,
    timm): `fixture(name)`, `load(name, height=..)`, and per test module `models()`, a getter of
    each spec loaded once at its fixture's input size (freed with the module)."""

    def __init__(self, specs, fixtures):
        self.specs, self.fixtures = specs, fixtures

    def fixture(self, name: str) -> dict:
        import json
        return json.loads((self.fixtures / f"{name}.json").read_text())

    def load(self, name: str, **sizes) -> archc.Model:
        return archc.load(self.specs / f"{name}.arch", sizes or None)

    def models(self):
        cache: dict[str, archc.Model] = {}

        def get(name: str) -> archc.Model:
            if name not in cache:
                _, _, h, w = self.fixture(name)["input"]
                cache[name] = self.load(name, height=h, width=w)
            return cache[name]
        return get
