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


def build(model: archc.Model):
    module = model.to_torch()
    module.eval()
    return module
