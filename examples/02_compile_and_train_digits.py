"""Compile a spec to standalone PyTorch source, import the generated file, and train it on
scikit-learn's digits.

    python examples/02_compile_and_train_digits.py [--out build/digits_model.py]

The generated file needs only torch: you can copy it into any project.
"""
import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

from digits_data import accuracy, digits, train

ROOT = Path(__file__).resolve().parent.parent

parser = argparse.ArgumentParser()
parser.add_argument("--out", default=str(ROOT / "build" / "digits_model.py"))
parser.add_argument("--epochs", type=int, default=25)
args = parser.parse_args()

# 1. archc compile: spec -> one readable Python file (what `archc compile SPEC -o FILE` does).
subprocess.run([sys.executable, "-m", "archc.cli", "compile", str(ROOT / "specs" / "digits_cnn.arch"),
                "-o", args.out], check=True)
print(f"generated {args.out}")

# 2. Import the generated module like any other Python file; the class is named after the model.
spec = importlib.util.spec_from_file_location("digits_model", args.out)
generated = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generated)
torch.manual_seed(0)
model = generated.DigitsCNN()
print(model)

# 3. Train and evaluate.
x_train, y_train, x_test, y_test = digits()
train(model, x_train, y_train, epochs=args.epochs, loss_fn=nn.CrossEntropyLoss())
print(f"test accuracy: {accuracy(model, x_test, y_test):.4f}")
