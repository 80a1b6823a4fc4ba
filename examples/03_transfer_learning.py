"""Transfer learning between two specs: train a classifier on the digits 0-4, then load its
weights into a second spec whose backbone is frozen and whose head is new, and fine-tune that
head on the digits 5-9.

    python examples/03_transfer_learning.py

specs/digits_cnn.arch and specs/digits_finetune.arch share the block `DigitsBackbone`, named
`backbone` in both, so its weights match by name and shape; the heads differ and are reported.
"""
from pathlib import Path

import torch
from torch import nn

import archc
from digits_data import accuracy, digits, train

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT = ROOT / "build" / "digits_0to4.pt"

# 1. Train the source model on the first five digits and save a checkpoint.
torch.manual_seed(0)
source = archc.build(ROOT / "specs" / "digits_cnn.arch", params={"num_classes": 5})
x_train, y_train, x_test, y_test = digits(classes=range(5))
train(source, x_train, y_train, epochs=15, loss_fn=nn.CrossEntropyLoss(), desc="digits 0-4")
print(f"source model, digits 0-4: test accuracy {accuracy(source, x_test, y_test):.4f}")
CHECKPOINT.parent.mkdir(exist_ok=True)
torch.save(source.state_dict(), CHECKPOINT)

# 2. Build the fine-tuning spec with those weights: the backbone loads, the new head does not.
torch.manual_seed(0)
target = archc.build(ROOT / "specs" / "digits_finetune.arch", weights=CHECKPOINT)
print(target.archc_load_report)
frozen = [name for name, p in target.named_parameters() if not p.requires_grad]
print(f"{len(frozen)} frozen parameter tensors, e.g. {frozen[0]}")
before = {k: v.clone() for k, v in target.backbone.state_dict().items()}

# 3. Fine-tune the head on the other five digits; the frozen backbone does not change.
x_train, y_train, x_test, y_test = digits(classes=range(5, 10))
train(target, x_train, y_train, epochs=15, loss_fn=nn.CrossEntropyLoss(), desc="digits 5-9")
print(f"fine-tuned model, digits 5-9: test accuracy {accuracy(target, x_test, y_test):.4f}")
unchanged = all(torch.equal(before[k], v) for k, v in target.backbone.state_dict().items())
print(f"backbone unchanged by fine-tuning: {unchanged}")
