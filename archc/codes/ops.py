"""Catalogue entries of archc/ops: see archc.codes.

Families: ATTR (an op's attribute values: their type, range, count, and how they combine; raised
while a layer's arguments are bound, or by a shape rule that reads them) and SHAPE (a shape rule
refuses its input shapes: what PyTorch would refuse, or silently get wrong, at run time).

The op errors reach the user as `<op> at line N: <message>`; ShapeError and AttrError take their
code as a required argument."""
from archc.codes.entry import Code

CODES: list[Code] = [
    # ------------------------------------------------------------------------------ ATTR
    Code(
        code="E-ATTR-TYPE",
        title="An attribute value of the wrong kind",
        explanation="Each op attribute takes one kind of value: an int, a number, true/false, a "
                    "list of sizes, a word from a fixed set. archc checks the kind while it binds "
                    "the layer's arguments, where PyTorch would fail (or round) only when the model "
                    "is built. A bare word that is not a value in scope is reported here too: "
                    "it is most often a parameter the block was not given.",
        hint="give a value of the kind the message names; `archc ops` lists every op's attributes "
             "with their kinds",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, stride=1.5) -> relu
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, stride=2) -> relu
        """,
    ),
    Code(
        code="E-ATTR-RANGE",
        title="An attribute value outside the range the op accepts",
        explanation="The value has the right kind but a size, count or probability the op cannot "
                    "take: a dropout probability above 1, zero output channels, a pooling padding "
                    "wider than half the kernel. PyTorch refuses these when the module is built or "
                    "run; archc says so at the line that writes them.",
        hint="give a value inside the range the message states",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> dropout(p=1.5)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> dropout(p=0.5)
        """,
    ),
    Code(
        code="E-ATTR-NOT-FINITE",
        title="A number attribute is NaN or infinite",
        explanation="NaN compares false with everything, so it would pass any range check and "
                    "then poison every value the layer computes; an infinite epsilon, probability "
                    "or slope is as meaningless. Such values most often arrive through a model "
                    "parameter set from the command line (-D) or the Python API.",
        hint="give a finite number",
        example="""
            model Tiny
            param drop = 0.2
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> dropout(drop)
        """,
        argv=("check", "{spec}", "-D", "drop=nan"),
        fix="""
            model Tiny
            param drop = 0.2
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> dropout(drop)
        """,
        fix_argv=("check", "{spec}", "-D", "drop=0.3"),
    ),
    Code(
        code="E-ATTR-AXIS-COUNT",
        title="A per-axis attribute has the wrong number of values",
        explanation="kernel, stride, padding, dilation and scale take one value for every spatial "
                    "axis, or a list with exactly one value per spatial axis of the input (2 for "
                    "conv2d, 3 for conv3d). A list of another length would make PyTorch fail when "
                    "the module is built.",
        hint="give one value for every spatial axis, or a list with one value per axis",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, [3, 3, 3], padding=1) -> relu
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, [3, 3], padding=1) -> relu
        """,
    ),
    Code(
        code="E-ATTR-CHOICE",
        title="A word attribute that is not one of its values",
        explanation="Attributes such as mode, approximate or padding take one of a fixed set of "
                    "words (mode=bilinear, padding=same). A misspelt word would be an error inside "
                    "PyTorch, or, for some functions, silently a different behaviour.",
        hint="write one of the values the message lists",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> upsample(2, mode=bilinaer)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> upsample(2, mode=bilinear)
        """,
    ),
    Code(
        code="E-ATTR-REQUIRED",
        title="An attribute that the input makes necessary is missing",
        explanation="Some attributes may be left out only where the input decides them: layernorm "
                    "normalises the features of an [N, features] tensor, but on a tensor of rank 3 "
                    "or more the axis to normalise changes the result, so it must be given; "
                    "constant takes its shape from a nested list, but a single number needs one. "
                    "(An attribute without any default, missing from the call, is "
                    "E-CALL-MISSING-ARGUMENT.)",
        hint="give the attribute the message asks for",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> layernorm -> relu
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> layernorm(axis=1) -> relu
        """,
    ),
    Code(
        code="E-ATTR-CONFLICT",
        title="Attribute values that contradict each other",
        explanation="Each value is valid alone, but together they mean nothing or something the op "
                    "cannot do: align_corners with nearest interpolation, output_padding with "
                    "padding=same, a clamp whose lower bound is above its upper bound, a flatten "
                    "whose start comes after its end. PyTorch would refuse them, or ignore one.",
        hint="keep the one attribute you mean, or change one so that the two agree",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> upsample(2, mode=nearest, align_corners=true)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> upsample(2, mode=bilinear, align_corners=true)
        """,
    ),

    # ------------------------------------------------------------------------------ SHAPE
    Code(
        code="E-SHAPE-RANK",
        title="An input with the wrong number of axes for the op",
        explanation="Ops expect a layout, channels first: conv2d and batchnorm2d an [N, C, H, W] "
                    "tensor, conv1d [N, C, L], linear at least [N, features]. PyTorch would fail "
                    "at run time on a tensor with more or fewer axes (or, for some ops, silently "
                    "treat the batch as channels).",
        hint="use the op's variant for this rank (conv1d/2d/3d), or reshape the input to the "
             "layout the op expects",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv1d(16, 3, padding=1) -> relu
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
    ),
    Code(
        code="E-SHAPE-AXIS",
        title="An axis number outside the input's axes",
        explanation="Axes are numbered as PyTorch numbers them, from the batch (0) to rank - 1, and "
                    "negative ones count from the end. An axis past the last one would be an "
                    "IndexError in PyTorch at run time.",
        hint="give an axis between -rank and rank - 1; 1 is the channels, -1 the last axis",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> global_avgpool -> linear(10) -> softmax(dim=2)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> global_avgpool -> linear(10) -> softmax(dim=1)
        """,
    ),
    Code(
        code="E-SHAPE-BATCH-AXIS",
        title="An op would cut, move or mix the batch axis",
        explanation="Axis 0 is the batch: every sample must go through the network on its own. "
                    "Slicing it, moving it with permute or transpose, cutting it with chunk or "
                    "split, or mixing it into a linear layer or a normalisation would make one "
                    "sample's result depend on the others, and the batch size part of the model.",
        hint="leave axis 0 alone: index and cut from axis 1 on (x[:, ...], axis=1)",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x[0] -> conv1d(16, 3, padding=1)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x[:, 0] -> conv1d(16, 3, padding=1)
        """,
    ),
    Code(
        code="E-SHAPE-ADD",
        title="Adding tensors of different shapes",
        explanation="add (and `a + b`) sums tensors elementwise, so they must have the same shape "
                    "on every axis; a residual connection whose branch changes the channels or "
                    "the spatial size no longer matches its shortcut. PyTorch would raise at run "
                    "time, or broadcast a size-1 axis into a result of another shape.",
        hint="bring the inputs to the same shape: a 1×1 conv on the shortcut for the channels, "
             "the same stride on both paths for the spatial size",
        example="""
            model Tiny
            input x: [N, 16, 32, 32]
            y = x -> conv2d(32, 3, padding=1) -> relu
            output z = x + y
        """,
        fix="""
            model Tiny
            input x: [N, 16, 32, 32]
            y = x -> conv2d(32, 3, padding=1) -> relu
            output z = (x -> conv2d(32, 1)) + y
        """,
    ),
    Code(
        code="E-SHAPE-CONCAT",
        title="Concatenating tensors whose other axes differ",
        explanation="concat joins tensors along one axis (the channels by default), so every other "
                    "axis must have the same size in all inputs; a skip connection taken before an "
                    "unpadded conv or a pooling no longer lines up. torch.cat would raise at run "
                    "time.",
        hint="make the inputs agree on every axis but the joined one: pad the convs, crop the "
             "larger input (crop) or pad the smaller (zeropad)",
        example="""
            model Tiny
            input x: [N, 16, 32, 32]
            y = x -> conv2d(16, 3) -> relu
            output z = concat(x, y)
        """,
        fix="""
            model Tiny
            input x: [N, 16, 32, 32]
            y = x -> conv2d(16, 3, padding=1) -> relu
            output z = concat(x, y)
        """,
    ),
    Code(
        code="E-SHAPE-BROADCAST",
        title="Multiplying tensors whose shapes do not broadcast",
        explanation="multiply (and `a * b`) broadcasts as PyTorch does: shapes are aligned at the "
                    "last axis and each axis must be equal or 1 in one of them, as a [N, C, 1, 1] "
                    "gate on a [N, C, H, W] tensor. Sizes that differ and are not 1 are a run-time "
                    "error in PyTorch.",
        hint="make every axis equal, or 1 in one of the inputs",
        example="""
            model Tiny
            input x: [N, 16, 32, 32]
            s = x -> global_avgpool(keepdims=true) -> conv2d(4, 1) -> relu -> conv2d(8, 1) -> sigmoid
            output y = x * s
        """,
        fix="""
            model Tiny
            input x: [N, 16, 32, 32]
            s = x -> global_avgpool(keepdims=true) -> conv2d(4, 1) -> relu -> conv2d(16, 1) -> sigmoid
            output y = x * s
        """,
    ),
    Code(
        code="E-SHAPE-NOT-DIVISIBLE",
        title="The channels are not divisible by the groups",
        explanation="A grouped convolution splits its input and output channels into `groups` "
                    "equal groups, and group normalisation its channels; both need the channel "
                    "count to divide exactly. PyTorch refuses such a module when it is built.",
        hint="use a number of groups that divides the channels, or change the channels",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(48, 3, padding=1) -> groupnorm(32) -> relu
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(48, 3, padding=1) -> groupnorm(16) -> relu
        """,
    ),
    Code(
        code="E-SHAPE-NOT-CONCRETE",
        title="A size the op needs as a number is symbolic",
        explanation="Symbolic sizes (H, W in `input x: [N, 3, H, W]`) let one spec serve any input "
                    "size, but some sizes become parameter shapes or module arguments and must be "
                    "numbers: the input channels of a conv, the features of a linear layer, the "
                    "size of an axis that chunk cuts. A linear layer after flatten of an [N, C, H, "
                    "W] tensor would have a weight of unknown size.",
        hint="give the input a concrete size, or make the size independent of it (global pooling "
             "before the classifier)",
        example="""
            model Tiny
            input x: [N, 3, H, W]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> flatten -> linear(10)
        """,
        fix="""
            model Tiny
            input x: [N, 3, H, W]
            output y = x -> conv2d(16, 3, padding=1) -> relu -> global_avgpool -> linear(10)
        """,
    ),
    Code(
        code="E-SHAPE-KERNEL-TOO-LARGE",
        title="A kernel or window larger than its (padded) input",
        explanation="A convolution or pooling window must fit inside its input, padding included, "
                    "at least once; after a few downsamplings a feature map can be smaller than "
                    "the kernel. PyTorch raises at run time (\"Kernel size can't be greater than "
                    "actual input size\").",
        hint="pad the input (padding=same keeps the size), use a smaller kernel, or downsample less",
        example="""
            model Tiny
            input x: [N, 1, 28, 28]
            output y = x -> conv2d(8, 5) -> maxpool2d(2) -> conv2d(16, 5) -> maxpool2d(2)
                         -> conv2d(32, 5)
        """,
        fix="""
            model Tiny
            input x: [N, 1, 28, 28]
            output y = x -> conv2d(8, 5) -> maxpool2d(2) -> conv2d(16, 5) -> maxpool2d(2)
                         -> conv2d(32, 3)
        """,
    ),
    Code(
        code="E-SHAPE-REFLECTION-PADDING",
        title="A reflection pad adds as many positions as its axis has, or more",
        explanation="Reflection padding mirrors the input at its edge without repeating the edge "
                    "value, so it can add at most size - 1 positions on each side of an axis. "
                    "PyTorch raises at run time; with a symbolic size, archc records the minimum "
                    "size as a constraint instead.",
        hint="pad by less than the axis's size, or use replication or zero padding",
        example="""
            model Tiny
            input x: [N, 3, 4, 4]
            output y = x -> reflectionpad2d(4)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 4, 4]
            output y = x -> reflectionpad2d(3)
        """,
    ),
    Code(
        code="E-SHAPE-STD-CONV-FAN-IN",
        title="A weight-standardised convolution whose filters have one value each",
        explanation="std_conv2d and scaled_std_conv2d standardise each filter over its "
                    "in_channels/groups × kernel values. A filter of one value (a depthwise 1×1 "
                    "convolution) has variance 0 and cannot be standardised; PyTorch's batch_norm, "
                    "which timm's StdConv2d uses for it, raises at run time.",
        hint="use conv2d for a depthwise 1×1 convolution, or a larger kernel or fewer groups",
        example="""
            model Tiny
            input x: [N, 8, 16, 16]
            output y = x -> std_conv2d(8, 1, groups=8)
        """,
        fix="""
            model Tiny
            input x: [N, 8, 16, 16]
            output y = x -> conv2d(8, 1, groups=8)
        """,
    ),
    Code(
        code="E-SHAPE-PADDING-TOO-LARGE",
        title="A transposed convolution's padding removes its whole output",
        explanation="The padding of a transposed convolution is taken off the border of its "
                    "output, whose size is (in - 1) * stride + kernel before that; a padding of "
                    "half that size or more leaves nothing. PyTorch raises at run time.",
        hint="use a smaller padding (kernel 4, stride 2, padding 1 doubles the size)",
        example="""
            model Tiny
            input z: [N, 100, 1, 1]
            output y = z -> conv_transpose2d(64, 4, padding=2) -> relu
        """,
        fix="""
            model Tiny
            input z: [N, 100, 1, 1]
            output y = z -> conv_transpose2d(64, 4, padding=0) -> relu
        """,
    ),
    Code(
        code="E-SHAPE-RESHAPE",
        title="A reshape whose target does not hold the input's elements",
        explanation="reshape keeps the batch and rearranges each sample's elements, so the target "
                    "sizes must multiply to the same count; one entry may be -1, for the size that "
                    "makes it so, which must then divide exactly. torch.reshape would raise at run "
                    "time.",
        hint="make the sizes multiply to the input's elements per sample, or write -1 for the one "
             "that should take the rest",
        example="""
            model Tiny
            input x: [N, 16, 7, 7]
            output y = x -> reshape([16, 48]) -> linear(10)
        """,
        fix="""
            model Tiny
            input x: [N, 16, 7, 7]
            output y = x -> reshape([16, 49]) -> linear(10)
        """,
    ),
    Code(
        code="E-SHAPE-SLICE",
        title="A subscript that does not fit the tensor's axes",
        explanation="A subscript gives, per axis from the batch on, an index or a slice "
                    "start:stop:step that must stay inside the axis and select something. PyTorch "
                    "raises for an index out of range but silently shortens a slice that reaches "
                    "past the end, so the shapes after it would not be the ones the spec says; "
                    "PyTorch takes no negative steps either.",
        hint="keep every index and slice inside its axis, with a positive step",
        example="""
            model Tiny
            input x: [N, 6, 32, 32]
            output y = x[:, 4:8] -> conv2d(8, 3, padding=1)
        """,
        fix="""
            model Tiny
            input x: [N, 6, 32, 32]
            output y = x[:, 4:] -> conv2d(8, 3, padding=1)
        """,
    ),
    Code(
        code="E-SHAPE-SPLIT",
        title="A tensor cannot be cut into the pieces asked for",
        explanation="split's sizes must add up to the size of the axis it cuts, and chunk needs "
                    "that size to divide into equal parts: torch.split would raise, and torch.chunk "
                    "would return unequal or fewer pieces than the names that receive them.",
        hint="make the split sizes add up to the axis size, or use split with the sizes you want "
             "instead of chunk",
        example="""
            model Tiny
            input x: [N, 64, 32, 32]
            a, b = x -> split([16, 32])
            output y = concat(b -> conv2d(16, 1), a)
        """,
        fix="""
            model Tiny
            input x: [N, 64, 32, 32]
            a, b = x -> split([16, 48])
            output y = concat(b -> conv2d(16, 1), a)
        """,
    ),
    Code(
        code="E-SHAPE-PERMUTE",
        title="permute's dims do not list every axis once",
        explanation="permute gives the new order of all the axes, the batch included, so dims must "
                    "hold each axis number exactly once: as many entries as the input has axes. "
                    "torch.permute would raise at run time.",
        hint="list every axis once, the batch (0) first: [0, 2, 3, 1] makes [N, C, H, W] "
             "channels-last",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> permute([2, 3, 1]) -> linear(10)
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> permute([0, 2, 3, 1]) -> linear(10)
        """,
    ),
    Code(
        code="E-SHAPE-CROP",
        title="crop's reference is larger than the input",
        explanation="crop cuts the centre of its first input to the spatial size of its second, the "
                    "reference, as U-Net's skip connections do; it cannot make a tensor larger. "
                    "The inputs are most often given in the wrong order.",
        hint="give the larger tensor first and the reference second, or pad with zeropad",
        example="""
            model Tiny
            input x: [N, 8, 32, 32]
            y = x -> conv2d(8, 3) -> relu
            output z = concat(crop(y, x), y)
        """,
        fix="""
            model Tiny
            input x: [N, 8, 32, 32]
            y = x -> conv2d(8, 3) -> relu
            output z = concat(crop(x, y), y)
        """,
    ),
    Code(
        code="E-SHAPE-SINGLE-POSITION",
        title="Instance normalisation over a single spatial position",
        explanation="Instance normalisation normalises each channel of each sample over its spatial "
                    "positions; with only one position the variance is zero and the output is "
                    "zero whatever the input. PyTorch refuses it in training (\"Expected more than "
                    "1 spatial element\").",
        hint="normalise before the spatial size is pooled to 1×1, or use layernorm or batchnorm",
        example="""
            model Tiny
            input x: [N, 8, 4, 4]
            output y = x -> maxpool2d(4) -> instancenorm2d(affine=true)
        """,
        fix="""
            model Tiny
            input x: [N, 8, 4, 4]
            output y = x -> instancenorm2d(affine=true) -> maxpool2d(4)
        """,
    ),
    Code(
        code="W-ATTR-IMPLAUSIBLE",
        title="An option has a value no one means",
        explanation="A value PyTorch accepts but that makes the layer useless: a normalisation's eps of "
                    "1 or more (it swamps the variance it stabilises; PyTorch's argument order puts eps "
                    "right after num_features, so BatchNorm2d(3, 16) is eps=16), a dropout that drops "
                    "everything (p=1).",
        hint="eps is small (1e-5); p is the probability of dropping",
        example="""
            model Tiny
            input x: [N, 8, 4, 4]
            output y = x -> batchnorm2d(eps=16)
        """,
        fix="""
            model Tiny
            input x: [N, 8, 4, 4]
            output y = x -> batchnorm2d(eps=1e-5)
        """,
    ),
]
