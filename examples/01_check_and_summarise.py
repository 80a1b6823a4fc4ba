"""Check and summarise a spec from Python, and read its shapes and counts.

    python examples/01_check_and_summarise.py

No torch needed: everything here is computed statically from the spec.
"""
from pathlib import Path

import archc

SPECS = Path(__file__).resolve().parent.parent / "specs"

# Load (parse, check, infer) a spec. Invalid specs raise archc.SpecErrors with every problem.
model = archc.load(SPECS / "resnet18.arch", params={"num_classes": 10})
print(model.summary(depth=1))

# Shapes of every layer, by module path (the same names as the PyTorch state_dict).
# Sizes are ints, or symbolic expressions (archc.symbolic.Expr) such as the batch size N.
print("layer2.0.conv1 output:", [str(d) for d in model.shapes["layer2.0.conv1"]])
print("logits:", [str(d) for d in model.output_shapes["logits"]])

# Parameter counts and multiply-accumulates.
print(f"parameters: {model.params:,} ({model.trainable_params:,} trainable, {model.frozen_params:,} frozen)")
print(f"MACs per sample: {model.macs:,}")
print("first state_dict keys:", list(model.state_dict_shapes())[:3])

# Symbolic input sizes: the Keras U-Net at any size H, and what H must satisfy.
unet = archc.load(SPECS / "unet_keras.arch", params={"size": "H"})
print("U-Net output:", [str(d) for d in unet.output_shapes["mask"]])
print("U-Net input constraints:", unet.constraints)

# Errors come back as data, with locations and hints.
try:
    archc.loads("input x: [N, 3, 3, 3]\noutput y = x -> conv2d(8, 5)\n", file="broken.arch")
except archc.SpecErrors as errors:
    for error in errors.errors:
        print(f"{error.loc}: {error.message}")
