"""Catalogue entries of the training-memory analysis (archc/analysis/training.py, `archc summary
--train`): see archc.codes."""
from archc.codes.entry import TINY, Code

_TRAIN = ("from archc.analysis.training import training_memory\n"
          "training_memory(archc.load(spec), batch=2, optimizer='adamw'{extra})")

CODES: list[Code] = [
    Code(
        "E-TRAIN-SIZE-SYMBOLIC", "Training memory needs concrete sizes",
        "Training memory counts the bytes of every tensor a training step keeps, so every size must "
        "be a number. The batch comes from --batch (the `batch` argument); any other symbolic size "
        "of an input (H, W) must be given too, or the input declared with concrete sizes.",
        "give the sizes (`sizes={'H': 224, 'W': 224}` in the API) or declare the input with numbers",
        example="""\
            model Tiny
            input x: [N, 3, H, W]
            output y = x -> conv2d(8, 3, padding=1) -> relu
            """,
        api=_TRAIN.format(extra=""),
        fix=TINY,
    ),
    Code(
        "E-TRAIN-BATCH", "The batch or the accumulation is not a whole number from 1 to 1,000,000,000",
        "Training memory is counted for a micro-batch of --batch samples, --accumulate micro-batches "
        "per optimizer step. Past a billion either is a typo (no device holds such a batch), and the "
        "byte counts would leave the range the report can print.",
        "give the samples of one forward pass (e.g. --batch 64) and the micro-batches per optimizer "
        "step (e.g. --accumulate 4)",
        example=TINY,
        fix=TINY,
        argv=("summary", "--train", "--batch", "1000000000000", "{spec}"),
        fix_argv=("summary", "--train", "--batch", "64", "{spec}"),
    ),
    Code(
        "E-TRAIN-CHECKPOINT-UNKNOWN", "A checkpointed block that the model does not have",
        "--checkpoint names the blocks run under torch.utils.checkpoint (only their inputs are kept "
        "for backward; their layers run again during backward): a block instance by its path "
        "(`layer3`, `layer3.1`) or a block definition by name (`Bottleneck`: every instance). "
        "This name matches neither.",
        "name a block instance or a block definition of the model (`archc summary` lists them)",
        example="""\
            model Tiny
            block Unit(c)(x) {
              return x -> conv2d(c, 3, padding=1) -> relu
            }
            input x: [N, 3, 32, 32]
            output y = x -> Unit(8, name=stage1) -> Unit(8, name=stage2)
            """,
        api=_TRAIN.format(extra=", checkpoint='stage3'"),
        fix=None,
    ),
]
