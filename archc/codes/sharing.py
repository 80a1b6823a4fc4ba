"""Catalogue entries of weight sharing (archc/ir/sharing.py): see archc.codes."""
from archc.codes.entry import Code, tiny_model

CODES: list[Code] = [
    Code(
        "E-SHARE-NOT-A-LAYER", "shared(...) is given something other than one layer to apply later",
        "`shared(layer)` makes one module that every application calls (weight sharing, as a "
        "siamese network's tower or a detection head used on every pyramid level). It takes one "
        "layer, block or sequential without an input (not inline: an inline block is no module), "
        "and is applied by name afterwards; piping into `shared(...)` itself would apply it once.",
        "name it, then apply the name: `tower = shared(Tower(64))`, `a = x1 -> tower`, `b = x2 -> tower`",
        example=tiny_model("output y = x -> shared(conv2d(8, 3)) -> relu\n"),
        fix=tiny_model("conv = shared(conv2d(3, 3, padding=1))\noutput y = x -> conv -> relu -> conv\n"),
    ),
    Code(
        "E-SHARE-SCOPE", "A shared layer is applied outside the body that makes it",
        "A shared layer's module belongs to the block (or model) whose body makes it; a block, "
        "repeat or sequential is a module of its own, whose forward cannot call its caller's "
        "modules. So every application is in the body that makes the shared layer.",
        "apply it in the body that makes it, or make it inside the block that applies it",
        example=tiny_model("conv = shared(conv2d(3, 3, padding=1))\n"
                       "output y = x -> conv -> sequential(relu, conv)\n"),
        fix=tiny_model("conv = shared(conv2d(3, 3, padding=1))\noutput y = x -> conv -> relu -> conv\n"),
    ),
    Code(
        "E-SHARE-MISMATCH", "A shared layer is applied to an input its weights do not fit",
        "Every application of a shared layer calls one module, so each needs the same weights: a "
        "convolution shared between a 3-channel and an 8-channel input would need two kernels. "
        "Spatial sizes may differ (a head shared across pyramid levels); channels may not.",
        "apply it to inputs with the same channels, or make two layers",
        example=tiny_model("conv = shared(conv2d(8, 3, padding=1))\noutput y = x -> conv -> conv\n"),
        fix=tiny_model("conv = shared(conv2d(8, 3, padding=1))\n"
                   "output y = x -> conv2d(8, 1) -> conv -> conv\n"),
    ),
]
