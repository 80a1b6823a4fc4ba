"""archc diff's per-block MACs and activations are inference's, as the totals are (the model's
totals leave out training-only layers: archc.analysis.metrics, "Training outputs ... MACs and
memory above are inference's" in the summary). Inception-v3 at num_classes 1000 and 10: the
auxiliary classifier's Δ activations (-3.87 KiB) were counted in its block row but not in the
total, so the rows added to -7.74 KiB against a -3.87 KiB total (and its -760 K MACs likewise)."""
from __future__ import annotations

import json
from pathlib import Path

import archc
from archc import symbolic as sy
from archc.backends.diff import compare, render

SPEC = Path(__file__).resolve().parents[2] / "specs" / "torchvision" / "inception_v3.arch"


def test_block_deltas_add_up_to_the_totals_with_a_training_only_head() -> None:
    a = archc.load(SPEC, hyperparams={"num_classes": 1000})
    b = archc.load(SPEC, hyperparams={"num_classes": 10})
    d = compare(a, b)
    ta, tb = a.metrics.totals, b.metrics.totals
    rows = {r.id: r for r in d.blocks}
    assert {r.id for r in d.blocks if r.changed} == {"AuxLogits", "fc"}
    for key, column in (("macs", "macs"), ("activation_bytes", "activation_bytes"), ("params", "params")):
        blocks = sum(getattr(r, column)[1] - getattr(r, column)[0] for r in d.blocks)
        assert blocks == sy.sub(getattr(tb, key), getattr(ta, key)), key
    assert tb.activation_bytes - ta.activation_bytes == -990 * 4  # fc's 1000 -> 10 float32 outputs
    aux = rows["AuxLogits"]
    assert aux.type_a == aux.type_b == "InceptionAux (training)"
    assert aux.params[1] - aux.params[0] == -(990 * 768 + 990)  # its fc: 1000 -> 10 classes, still counted
    assert aux.macs == (0, 0) and aux.activation_bytes == (0, 0)
    data = json.loads(render(d, "json"))
    deltas = {r["id"]: r["activation_bytes"]["delta"] for r in data["blocks"]["rows"] if r["changed"]}
    assert deltas == {"AuxLogits": 0, "fc": -3960}
