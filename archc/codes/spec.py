"""Catalogue entries of archc/spec: see archc.codes.

Elaboration (archc/ir/elaborate.py) and the resource limits (archc/limits.py): imports, names,
calls, blocks, values, model parameters, inputs and outputs, limits, and the warnings about valid
but suspicious layers."""
from archc.codes.entry import Code, tiny_model

# A block library that imports resolve (the multi-file examples).
_UNIT = """\
# Conv, batch norm, ReLU.
block Unit(c, stride = 1)(x) {
  return x -> conv2d(c, 3, stride=stride, padding=1, bias=false) -> batchnorm2d -> relu
}
"""


CODES: list[Code] = [
    # ------------------------------------------------------------------------------ imports
    Code(
        "E-IMPORT-NOT-FOUND", "An imported file does not exist",
        "An import names a file relative to the importing file (then the folders of --import-path "
        "and ARCHC_PATH); none of these places has it.",
        "check the path (relative to the importing file), or name the folder that holds it with "
        "--import-path DIR",
        example={"model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "blocks/unit.arc"\n'),
                 "blocks/unit.arch": _UNIT},
        fix={"model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "blocks/unit.arch"\n'),
             "blocks/unit.arch": _UNIT},
    ),
    Code(
        "E-IMPORT-OUTSIDE-PATH", "An import reads a file outside the allowed folders",
        "Imports may read files only inside the top spec's folder tree and the folders named with "
        "--import-path or ARCHC_PATH, so that checking a spec from elsewhere cannot make archc read "
        "arbitrary files (`import \"../../etc/passwd\"`).",
        "name the folder that holds the file with --import-path DIR (or in the ARCHC_PATH "
        "environment variable), or move the file under the spec's folder",
        example={"app/model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "../lib/unit.arch"\n'),
                 "lib/unit.arch": _UNIT},
        fix={"app/model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "../lib/unit.arch"\n'),
             "lib/unit.arch": _UNIT},
        fix_argv=("check", "{spec}", "--import-path", "{dir}/lib"),
    ),
    Code(
        "E-IMPORT-NOT-A-FILE", "An import names a folder or a special file",
        "An import reads one spec file (`.arch` or `.yaml`); a directory, FIFO, socket or device is "
        "not one (reading a FIFO could wait forever).",
        "import a .arch or .yaml file, e.g. `import \"blocks/unit.arch\"` rather than the folder "
        "`blocks`",
        example={"model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "blocks"\n'),
                 "blocks/unit.arch": _UNIT},
        fix={"model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "blocks/unit.arch"\n'),
             "blocks/unit.arch": _UNIT},
    ),
    Code(
        "E-IMPORT-CYCLE", "Files import each other in a cycle",
        "An imported file imports, directly or through others, the file that imports it. Blocks "
        "are shared by importing the file that defines them, and a cycle would never end.",
        "move the blocks both files need into a third file that both import, and drop the import "
        "that closes the loop",
        example={"model.arch": tiny_model("output y = x -> Unit(16) -> Head(10)\n", 'import "head.arch"\n'),
                 "head.arch": 'import "unit.arch"\n\nblock Head(classes)(x) {\n'
                              '  return x -> Unit(32) -> global_avgpool -> linear(classes)\n}\n',
                 "unit.arch": 'import "head.arch"\n\n' + _UNIT},
        fix={"model.arch": tiny_model("output y = x -> Unit(16) -> Head(10)\n", 'import "head.arch"\n'),
             "head.arch": 'import "unit.arch"\n\nblock Head(classes)(x) {\n'
                          '  return x -> Unit(32) -> global_avgpool -> linear(classes)\n}\n',
             "unit.arch": _UNIT},
    ),
    Code(
        "E-IMPORT-INVALID-PATH", "An import path is not a valid file name",
        "The path holds a NUL character or a lone surrogate (possible in YAML's \"\\0\" and "
        "\"\\udc80\" escapes, or in text from the API), which no file name can contain.",
        "remove NUL bytes and invalid characters from the path",
        lang="yaml",
        example={"model.yaml": 'model: Tiny\nimports: ["blocks/unit\\0.arch"]\ninputs:\n  x: [N, 3, 32, 32]\n'
                               'outputs:\n  y: [x, {Unit: 16}]\n',
                 "blocks/unit.arch": _UNIT},
        fix={"model.yaml": 'model: Tiny\nimports: ["blocks/unit.arch"]\ninputs:\n  x: [N, 3, 32, 32]\n'
                           'outputs:\n  y: [x, {Unit: 16}]\n',
             "blocks/unit.arch": _UNIT},
    ),
    Code(
        "E-IMPORT-PATH-TOO-LONG", "An import path is longer than 4,096 characters",
        "No file system accepts a path that long; archc refuses it before asking the operating "
        "system.",
        "use a shorter path; a folder given with --import-path DIR (or ARCHC_PATH) is searched, so "
        "the import can name the file relative to it",
        example={"model.arch": tiny_model("output y = x -> Unit(16)\n",
                                      'import "' + "./" * 2050 + 'unit.arch"\n'),
                 "unit.arch": _UNIT},
        fix={"model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "unit.arch"\n'),
             "unit.arch": _UNIT},
    ),
    Code(
        "E-IMPORT-UNRESOLVABLE", "The operating system cannot resolve an import path",
        "Looking the path up failed: a folder or file name is longer than the file system allows "
        "(255 bytes on most), or a symbolic link on the way leads back to itself.",
        "check the path: each folder and file name at most 255 bytes, no symbolic link that leads "
        "back to itself",
        example={"model.arch": tiny_model("output y = x -> Unit(16)\n",
                                      'import "' + "resnet_" * 40 + 'unit.arch"\n'),
                 "unit.arch": _UNIT},
        fix={"model.arch": tiny_model("output y = x -> Unit(16)\n", 'import "unit.arch"\n'),
             "unit.arch": _UNIT},
    ),
    # ------------------------------------------------------------------------------ names
    Code(
        "E-NAME-UNKNOWN", "A name is used that is not defined",
        "The name is not an input, a tensor assigned in the spec, a model parameter or (in a "
        "block) one of the block's parameters or inputs. In an attribute an unknown word is a "
        "setting such as `same` or `bilinear`; in arithmetic, a condition or a pipe it must be "
        "defined.",
        "define it (an assignment, an input, a `param`, or a block parameter), or check its spelling",
        example=tiny_model("param width = 16\noutput y = x -> conv2d(widht * 2, 3)\n"),
        fix=tiny_model("param width = 16\noutput y = x -> conv2d(width * 2, 3)\n"),
    ),
    Code(
        "E-NAME-OUTPUT-EMPTY", "An output's name is empty",
        "An output's name is the key its tensor has in the dict the model's forward returns, so "
        "it may be any text (`output \"0\" = p2`, as torchvision's feature pyramid), but not none.",
        "name the output",
        example=tiny_model('output "" = x -> relu\n'),
        fix=tiny_model('output "0" = x -> relu\n'),
    ),
    Code(
        "E-NAME-DUPLICATE", "A name is defined twice",
        "Every input, model parameter, output and assigned tensor has one definition in its scope; "
        "a second one would silently replace the first.",
        "give one of the two a name of its own",
        example=tiny_model("h = x -> conv2d(8, 3)\nh = h -> relu\noutput y = h\n"),
        fix=tiny_model("h = x -> conv2d(8, 3)\nr = h -> relu\noutput y = r\n"),
    ),
    Code(
        "E-NAME-CYCLE", "Tensors depend on each other in a cycle",
        "Statements may come in any order: archc sorts them by what they read. A tensor that "
        "depends on itself, directly or through others, has no order, and the network would not "
        "be a directed acyclic graph.",
        "break the loop: one of the tensors must be computed from earlier ones only",
        example=tiny_model("a = (x -> conv2d(8, 3, padding=1)) + b\nb = a -> relu\noutput y = b\n"),
        fix=tiny_model("a = x -> conv2d(8, 3, padding=1)\nb = a -> relu\noutput y = a + b\n"),
    ),
    Code(
        "E-NAME-UNUSED", "A tensor or an input is never used",
        "A tensor that is computed and never read, or an input nothing reads, is almost always a "
        "mistake (a misspelt name further down, a branch forgotten in a merge): its layers would "
        "silently drop out of the network. A value named alone (`k = 3`) is held to the same rule. "
        "Names bound by unpacking numbers, lists or text (`r, c = row`, `t, c, n, s = setting[0]`) "
        "may go unused, as in Python: only a tensor or a layer among them is reported.",
        "use it, make it an output, or start its name with '_' to keep it anyway",
        example=tiny_model("h = x -> conv2d(8, 3)\noutput y = x -> relu\n"),
        fix=tiny_model("h = x -> conv2d(8, 3)\noutput y = h -> relu\n"),
    ),
    Code(
        "E-NAME-UNUSED-READ", "A tensor declared `unused` is read",
        "`unused f4 = f3 -> Stage(...)` declares modules that exist (their weights are in the "
        "state_dict and the parameter count) but never run, as an encoder truncated at depth 3 that "
        "still holds layer3 and layer4. Its tensor is never computed, so nothing may read it.",
        "drop `unused` where the tensor is computed, to run it",
        example=tiny_model("unused h = x -> conv2d(8, 3)\noutput y = h -> relu\n"),
        fix=tiny_model("h = x -> conv2d(8, 3)\noutput y = h -> relu\n"),
    ),
    Code(
        "E-VALUE-UNUSED-NO-LAYER", "An `unused` statement makes no layer",
        "`unused` declares the layers its statement makes as built but never run; a statement that "
        "makes none (it names a tensor computed elsewhere) declares nothing.",
        "drop the statement, or make the layers in it",
        example=tiny_model("h = x -> conv2d(8, 3)\nunused g = h\noutput y = h -> relu\n"),
        fix=tiny_model("h = x -> conv2d(8, 3)\nunused g = h -> conv2d(8, 3)\noutput y = h -> relu\n"),
    ),
    Code(
        "E-NAME-AMBIGUOUS-LAYER-NAME", "name= names a layer after a word that is also a value",
        "`name=squeeze` names the layer `squeeze`; inside a block with a parameter `squeeze` it "
        "could as well mean the parameter's value. archc never guesses between the two.",
        "write name=\"word\" (quoted) to name the layer with the word itself, or name=str(word) to "
        "name it after the value",
        example=tiny_model("block Fire(squeeze)(x) {\n  return x -> conv2d(squeeze, 1, name=squeeze) -> relu\n}\n"
                       "output y = x -> Fire(16)\n"),
        fix=tiny_model("block Fire(squeeze)(x) {\n  return x -> conv2d(squeeze, 1, name=\"squeeze\") -> relu\n}\n"
                   "output y = x -> Fire(16)\n"),
    ),
    Code(
        "E-NAME-LAYER-INVALID", "A layer name is not a valid PyTorch module name",
        "A layer's name becomes its module attribute and its state_dict prefix: PyTorch refuses an "
        "empty name, and a name must be a word, a string or an int. A dotted name (`\"convs.1\"`) "
        "is a member of a container, so no part of it may be empty.",
        "use a name without an empty part, e.g. \"block1-0\", conv1 or \"features.0\"",
        example=tiny_model("output y = x -> conv2d(8, 3, name=\"features.\") -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, name=\"features-0\") -> relu\n"),
    ),
    Code(
        "E-NAME-LAYER-RESERVED", "A layer name is an attribute of torch.nn.Module",
        "PyTorch refuses a submodule named like one of nn.Module's own attributes (`forward`, "
        "`training`, `parameters`, ...): the generated module could not be built.",
        "choose another name, e.g. with a trailing '_'",
        example=tiny_model("output y = x -> conv2d(8, 3, name=forward) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, name=stem) -> relu\n"),
    ),
    Code(
        "E-NAME-LAYER-DUPLICATE", "Two layers of one block have the same name",
        "Layer names become attributes of the block's module (and state_dict keys); two layers "
        "cannot share one.",
        "give each layer of a block a name of its own",
        example=tiny_model("output y = x -> conv2d(8, 3, name=conv) -> relu -> conv2d(8, 3, name=conv)\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, name=conv1) -> relu -> conv2d(8, 3, name=conv2)\n"),
    ),
    # ------------------------------------------------------------------------------ calls
    Code(
        "E-CALL-UNKNOWN-OP", "A call names no op, block or function",
        "The called name is not one of archc's ops (`archc ops`), a block defined in the spec or "
        "its imports, or a built-in function.",
        "check the spelling (see `archc ops` for the list of ops), or define or import the block",
        example=tiny_model("output y = x -> conv2dd(8, 3) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3) -> relu\n"),
    ),
    Code(
        "E-CALL-UNKNOWN-KEYWORD", "A call passes a keyword its op or block does not take",
        "Ops take the attributes listed in docs/ops.md, blocks their declared parameters, and "
        "every layer the options name=, frozen=, init=, bias_init= and (blocks, repeat, sequential) "
        "inline=. "
        "PyTorch would fail with an unexpected keyword argument.",
        "check the spelling against the op's attributes (`archc ops NAME`) or the block's parameters",
        example=tiny_model("output y = x -> conv2d(8, 3, strid=2) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, stride=2) -> relu\n"),
    ),
    Code(
        "E-CALL-POSITIONAL-OPTION", "An option that does not define the layer is given by position",
        "Options that do not define a layer (stride, padding, bias, eps, momentum, ...) are "
        "keyword-only. PyTorch's modules take first what archc infers from the input (in_channels, "
        "num_features), so a call in PyTorch's order would silently build another layer: "
        "batchnorm2d(16) would be eps=16, conv2d(3, 16, 3) three 16×16 filters with stride 3. A call "
        "whose first value is the input's own size is recognised as PyTorch's order. The error "
        "shows the archc spelling and offers it as a fix (`archc check --fix`); written by keyword, "
        "the values mean what the positional call meant before.",
        "give the option by keyword (conv2d(64, 3, stride=2)); drop a leading size archc infers",
        example=tiny_model("output y = x -> conv2d(3, 16, 3) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(16, 3) -> relu\n"),
    ),
    Code(
        "E-CALL-ARGUMENT-TWICE", "An argument is given twice",
        "A keyword appears twice in one call, or a block parameter is given both by position and "
        "by keyword; one of the two values would be silently lost.",
        "give each argument once",
        example=tiny_model("output y = x -> conv2d(8, 3, stride=1, stride=2) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, stride=2) -> relu\n"),
    ),
    Code(
        "E-CALL-MISSING-ARGUMENT", "A block is called without a parameter it needs",
        "The block declares the parameter without a default, and the call gives no value for it.",
        "pass the parameter (by position or by keyword), or give it a default in the block",
        example=tiny_model("block Unit(c, stride = 1)(x) {\n  return x -> conv2d(c, 3, stride=stride) -> relu\n}\n"
                       "output y = x -> Unit(stride=2)\n"),
        fix=tiny_model("block Unit(c, stride = 1)(x) {\n  return x -> conv2d(c, 3, stride=stride) -> relu\n}\n"
                   "output y = x -> Unit(16, stride=2)\n"),
    ),
    Code(
        "E-CALL-ARGUMENT-COUNT", "A call has the wrong number of positional arguments",
        "A block takes at most its declared parameters, repeat exactly a count and a layer, and a "
        "sequential already bound to a name takes no arguments at all.",
        "compare the call with the block's declaration; pass values meant for other parameters by "
        "keyword",
        example=tiny_model("block Unit(c)(x) {\n  return x -> conv2d(c, 3) -> relu\n}\n"
                       "output y = x -> Unit(16, 2)\n"),
        fix=tiny_model("block Unit(c, stride = 1)(x) {\n  return x -> conv2d(c, 3, stride=stride) -> relu\n}\n"
                   "output y = x -> Unit(16, 2)\n"),
    ),
    Code(
        "E-CALL-INPUT-COUNT", "A layer gets the wrong number of input tensors",
        "Each op takes a fixed number of inputs (one for most; two or more for merges such as "
        "concat and add); a block takes the inputs it declares; repeat needs a tensor piped in.",
        "pipe one tensor into a one-input layer (x -> op(...)), and pass merges their inputs: "
        "concat(a, b) or [a, b] -> concat",
        example=tiny_model("a = x -> conv2d(8, 3, padding=1)\nb = x -> conv2d(8, 5, padding=2)\n"
                       "output y = a -> concat\n_b = b\n"),
        fix=tiny_model("a = x -> conv2d(8, 3, padding=1)\nb = x -> conv2d(8, 5, padding=2)\n"
                   "output y = concat(a, b)\n"),
    ),
    Code(
        "E-CALL-ARGUMENT-ORDER", "A tensor argument comes after an attribute",
        "A call's positional tensor arguments are its inputs and come first, then its attributes; "
        "mixed, archc could not tell which is which.",
        "put the tensors first: op(a, b, attr...), or pipe them in: [a, b] -> op(attr...)",
        example=tiny_model("a = x -> conv2d(8, 3, padding=1)\noutput y = concat(a, 1, x)\n"),
        fix=tiny_model("a = x -> conv2d(8, 3, padding=1)\noutput y = concat(a, x, 1)\n"),
    ),
    Code(
        "E-CALL-PIPE-NOT-TENSOR", "The left side of '->' is not a tensor",
        "`a -> layer` feeds the tensor `a` into the layer; a number, a list of numbers or a layer "
        "cannot be fed into one.",
        "put a tensor on the left (an input or a tensor computed from one), and pass numbers as the "
        "layer's attributes: x -> conv2d(x.channels * 2, 3)",
        example=tiny_model("h = x -> conv2d(8, 3) -> global_avgpool\noutput y = h.channels -> linear(10)\n"),
        fix=tiny_model("h = x -> conv2d(8, 3) -> global_avgpool\noutput y = h -> linear(10)\n"),
    ),
    Code(
        "E-CALL-NOT-CALLABLE", "A value is called as if it were a layer",
        "The called name is bound to a number, string or list (a parameter, a computed value), not "
        "to an op or block.",
        "call an op or a block; to choose a layer by parameter, set the parameter to the block's "
        "name (param unit = BasicBlock)",
        example=tiny_model("param act = 1\noutput y = x -> conv2d(8, 3) -> act()\n"),
        fix=tiny_model("param act = relu\noutput y = x -> conv2d(8, 3) -> act()\n"),
    ),
    Code(
        "E-CALL-NOT-A-LAYER", "A layer is expected, but the value is not one",
        "sequential(...) and repeat(n, ...) take layers, and a pipe feeds a layer; a number or a "
        "function on numbers (max, min, ...) is not one.",
        "give a layer, e.g. conv2d(64, 3) or relu, or a block instance",
        example=tiny_model("output y = x -> sequential(conv2d(8, 3), 2)\n"),
        fix=tiny_model("output y = x -> sequential(conv2d(8, 3), relu)\n"),
    ),
    Code(
        "E-CALL-MULTIPLE-OUTPUTS", "A layer in a chain gives several tensors",
        "Inside sequential(...) and repeat(...) each layer feeds the next, so it must give one "
        "tensor; chunk, split or a block returning several tensors gives more.",
        "unpack the tensors with names outside the chain (`a, b = x -> chunk(2)`)",
        example=tiny_model("output y = x -> sequential(conv2d(8, 3), chunk(2))\n"),
        fix=tiny_model("a, b = x -> conv2d(8, 3) -> chunk(2)\noutput y = a + b\n"),
    ),
    Code(
        "E-CALL-BUILTIN-ARGUMENTS", "A built-in function gets arguments it cannot use",
        "Built-in functions (min, max, sqrt, log, len, str, sum, range, make_divisible, ...) check "
        "their arguments as Python would; this one failed.",
        "check the arguments of the built-in function (built-in functions: docs/language.md)",
        example=tiny_model("param widths = [16, 32]\nn = len(widths[0])\noutput y = x -> repeat(n, conv2d(8, 3))\n"),
        fix=tiny_model("param widths = [16, 32]\nn = len(widths)\noutput y = x -> repeat(n, conv2d(8, 3))\n"),
    ),
    Code(
        "E-CALL-REPEAT-COUNT", "A repeat count is not a positive int",
        "repeat(n, layer) makes n copies in a chain; n must be an int of at least 1 (for zero "
        "copies, choose between the two with a conditional).",
        "give a count ≥ 1, or skip the stage: `x if n == 0 else x -> repeat(n, ...)`",
        example=tiny_model("param depth = 0\noutput y = x -> repeat(depth, conv2d(3, 3, padding=1))\n"),
        fix=tiny_model("param depth = 0\noutput y = x if depth == 0 else x -> repeat(depth, conv2d(3, 3, padding=1))\n"),
    ),
    Code(
        "E-CALL-OPTION-TYPE", "A true/false layer option has another value",
        "frozen= and inline= switch a behaviour on or off: they take true or false.",
        "write true or false",
        example=tiny_model("output y = x -> conv2d(8, 3, frozen=1) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, frozen=true) -> relu\n"),
    ),
    Code(
        "E-CALL-UNKNOWN-INITIALIZER", "init= or bias_init= names no initializer",
        "The initializers are default, he_normal, he_uniform, glorot_normal, glorot_uniform, "
        "xavier_normal, xavier_uniform, lecun_normal, normal, uniform, zeros, ones and orthogonal.",
        "choose one of: default, he_normal, he_uniform, glorot_normal, glorot_uniform, "
        "xavier_normal, xavier_uniform, lecun_normal, normal, uniform, zeros, ones, orthogonal",
        example=tiny_model("output y = x -> conv2d(8, 3, init=he_norml) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, init=he_normal) -> relu\n"),
    ),
    Code(
        "E-CALL-INITIALIZER-NOT-FOR-BIAS", "bias_init= names an initializer that needs a matrix",
        "A bias is a vector, and orthogonal initialization (torch.nn.init.orthogonal_) is defined "
        "for tensors of two or more dimensions only: PyTorch would refuse it when the model is "
        "built.",
        "use zeros, ones, normal or uniform for biases, and orthogonal for weights with init=",
        example=tiny_model("output y = x -> conv2d(8, 3, init=orthogonal, bias_init=orthogonal) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, init=orthogonal, bias_init=zeros) -> relu\n"),
    ),
    Code(
        "E-CALL-INLINE-NOT-BLOCK", "inline= is given to a layer that is not a block",
        "inline=true dissolves a block instance, a repeat or a sequential into its caller, naming "
        "its layers there; an op has no container of its own to dissolve.",
        "remove inline=",
        example=tiny_model("output y = x -> conv2d(8, 3, inline=true) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3) -> relu\n"),
    ),
    Code(
        "E-CALL-INIT-NOT-APPLICABLE", "init= or bias_init= is given to a layer without such weights",
        "init= and bias_init= set the initial weights and biases of convolutions and linear layers "
        "(torch.nn.init); other layers have none for them to set, so the option would be ignored. "
        "On a block, repeat or sequential they apply to the layers inside that have such weights.",
        "remove the option, or give it to the convolution or linear layer it is meant for",
        example=tiny_model("output y = x -> conv2d(8, 3) -> batchnorm2d(init=he_normal) -> relu\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3, init=he_normal) -> batchnorm2d -> relu\n"),
    ),
    Code(
        "E-CALL-INLINE-WITH-NAME", "An inline block or repeat is given a name",
        "An inline block or repeat makes no module of its own, so there is nothing for name= to "
        "name: its layers are named in the caller.",
        "drop name= or inline=true (to name an inline repeat's copies, name them in the body: "
        "repeat(n, Unit(c, name=\"unit\" + str(i)), inline=true))",
        example=tiny_model("block Stem()(x) {\n  return x -> conv2d(8, 3, name=conv) -> relu\n}\n"
                       "output y = x -> Stem(name=stem, inline=true)\n"),
        fix=tiny_model("block Stem()(x) {\n  return x -> conv2d(8, 3, name=conv) -> relu\n}\n"
                   "output y = x -> Stem(inline=true)\n"),
    ),
    # ------------------------------------------------------------------------------ blocks
    Code(
        "E-BLOCK-DUPLICATE", "Two blocks have the same name",
        "A spec and every file it imports share one namespace of blocks; a second definition would "
        "make calls ambiguous.",
        "rename one of the two blocks (or import the file that defines it instead of copying it)",
        example={"model.arch": tiny_model("block Unit(c)(x) {\n  return x -> conv2d(c, 1)\n}\n"
                                      "output y = x -> Unit(16)\n", 'import "unit.arch"\n'),
                 "unit.arch": _UNIT},
        fix={"model.arch": tiny_model("block Pointwise(c)(x) {\n  return x -> conv2d(c, 1)\n}\n"
                                  "output y = x -> Unit(16) -> Pointwise(8)\n", 'import "unit.arch"\n'),
             "unit.arch": _UNIT},
    ),
    Code(
        "E-BLOCK-SHADOWS-BUILTIN", "A block has the name of an op or built-in function",
        "A block named like an op (conv2d, relu), a built-in function (max, range) or a special "
        "form (repeat, sequential) would hide it from every call.",
        "choose another name; blocks are usually capitalised (ConvBNReLU)",
        example=tiny_model("block relu()(x) {\n  return x -> gelu\n}\noutput y = x -> conv2d(8, 3) -> relu\n"),
        fix=tiny_model("block Act()(x) {\n  return x -> gelu\n}\noutput y = x -> conv2d(8, 3) -> Act\n"),
    ),
    Code(
        "E-BLOCK-PARAM-RESERVED", "A block parameter has the name of a layer option",
        "name, frozen, init, bias_init and inline are options of every call: `Unit(name=...)` would "
        "set the instance's module name, never the parameter.",
        "rename the parameter, e.g. 'init_value' for 'init'",
        example=tiny_model("block Unit(c, init = 0.0)(x) {\n  return x -> conv2d(c, 3) -> scale(1.0, init)\n}\n"
                       "output y = x -> Unit(8)\n"),
        fix=tiny_model("block Unit(c, offset = 0.0)(x) {\n  return x -> conv2d(c, 3) -> scale(1.0, offset)\n}\n"
                   "output y = x -> Unit(8)\n"),
    ),
    Code(
        "E-BLOCK-MODEL-PARAM", "A block reads a model parameter",
        "A block sees only its own parameters and inputs, so that a block library means the same "
        "in every model that imports it.",
        "add the value to the block's parameters and pass it in: Head(classes=classes)",
        example=tiny_model("block Head()(x) {\n  return x -> global_avgpool -> linear(classes)\n}\n"
                       "output y = x -> Head()\n", "param classes = 10\n"),
        fix=tiny_model("block Head(classes)(x) {\n  return x -> global_avgpool -> linear(classes)\n}\n"
                   "output y = x -> Head(classes=classes)\n", "param classes = 10\n"),
    ),
    Code(
        "E-BLOCK-RETURN-NOT-TENSOR", "A block returns something that is not a tensor",
        "A block instance is a module: its results are tensors. Numbers are computed where they "
        "are needed (x.channels), not returned.",
        "return tensors; compute sizes from them where needed, e.g. y.channels",
        example=tiny_model("block Stem()(x) {\n  return x.channels\n}\noutput y = x -> Stem()\n"),
        fix=tiny_model("block Stem()(x) {\n  return x -> conv2d(x.channels, 3)\n}\noutput y = x -> Stem()\n"),
    ),
    # ------------------------------------------------------------------------------ values
    Code(
        "E-VALUE-TYPE", "An operation gets a value of the wrong kind",
        "Arithmetic takes numbers, conditions true or false, comprehensions lists, '+' joins "
        "strings only with strings, and tensors combine only by a + b, a * b and scaling by a "
        "number. The expression mixes kinds that do not go together.",
        "check the values the operation combines (the message names them)",
        example=tiny_model('output y = x -> conv2d(8, 3, name="conv" + 1) -> relu\n'),
        fix=tiny_model('output y = x -> conv2d(8, 3, name="conv" + str(1)) -> relu\n'),
    ),
    Code(
        "E-VALUE-NO-ATTRIBUTE", "A value has no such attribute",
        "Only tensors have attributes: channels, shape, rank, batch, spatial, and, by rank, length, "
        "height, width and depth.",
        "use one of a tensor's attributes: channels, shape, rank, batch, spatial, height, width, "
        "depth, length",
        example=tiny_model("output y = x -> conv2d(x.chanels * 2, 3)\n"),
        fix=tiny_model("output y = x -> conv2d(x.channels * 2, 3)\n"),
    ),
    Code(
        "E-VALUE-UNPACK", "Unpacking gives more or fewer values than names",
        "`a, b = ...` takes exactly as many values (tensors from chunk, split or a block; items of "
        "a list) as there are names on the left.",
        "write as many names on the left as the right side gives",
        example=tiny_model("a, b, c = x -> conv2d(8, 3) -> chunk(2)\noutput y = a + b + c\n"),
        fix=tiny_model("a, b = x -> conv2d(8, 3) -> chunk(2)\noutput y = a + b\n"),
    ),
    Code(
        "E-VALUE-INDEX-TYPE", "A value is indexed wrongly",
        "Lists and strings take one int index or a slice (widths[0], widths[1:]); tensors take one "
        "index or slice per axis (x[:, :16]); numbers cannot be indexed.",
        "index a list with one int or a slice (widths[0], widths[1:]), a tensor with one per axis",
        example=tiny_model("param widths = [16, 32, 64]\noutput y = x -> conv2d(widths[len(widths) / 2], 3)\n"),
        fix=tiny_model("param widths = [16, 32, 64]\noutput y = x -> conv2d(widths[len(widths) // 2], 3)\n"),
    ),
    Code(
        "E-VALUE-INDEX-OUT-OF-RANGE", "A list index is out of range",
        "A list of n items has indices 0 to n - 1 (and -n to -1, from the end).",
        "use an index from 0 to len - 1 (or -len to -1)",
        example=tiny_model("param widths = [16, 32, 64]\noutput y = x -> conv2d(widths[3], 3)\n"),
        fix=tiny_model("param widths = [16, 32, 64]\noutput y = x -> conv2d(widths[2], 3)\n"),
    ),
    Code(
        "E-VALUE-SLICE-STEP-ZERO", "A slice has a step of 0",
        "A slice a:b:step moves by step items; a step of 0 would never move (Python raises "
        "ValueError).",
        "leave the step out (1) or give a non-zero step, e.g. widths[::2]",
        example=tiny_model("param widths = [16, 32, 64, 128]\nn = len(widths[::0])\n"
                       "output y = x -> repeat(n, conv2d(8, 3))\n"),
        fix=tiny_model("param widths = [16, 32, 64, 128]\nn = len(widths[::2])\n"
                   "output y = x -> repeat(n, conv2d(8, 3))\n"),
    ),
    Code(
        "E-VALUE-SLICE-OUTSIDE-BRACKETS", "A slice or several indices stand outside [ ]",
        "`a:b` and `i, j` mean something only as an index, inside [ ]. The parsers never make such "
        "a tree; a tool building specs as trees (archc.ast) can, and elaboration refuses it.",
        "write the slice inside an index: x[:, 0:8] or widths[1:]",
        example=tiny_model("_h = x -> relu\noutput y = x[:, 0:2]\n"),
        api="""\
            from archc import ast as A
            from archc.frontend import parse_file
            from archc.ir.elaborate import elaborate
            tree = parse_file(spec)
            out = tree.outputs[0]
            cut = A.Slice(start=A.Num(value=0), stop=A.Num(value=2), loc=out.value.loc)  # 0:2, no x[...]
            elaborate(A.replace(tree, outputs=[A.replace(out, value=cut)]), spec)
            """,
    ),
    Code(
        "E-VALUE-DIVISION-BY-ZERO", "A division by zero",
        "The divisor of /, // or % (or a built-in function's divisor, as make_divisible's) is 0.",
        "check the divisor",
        example=tiny_model("param groups = 0\noutput y = x -> conv2d(32 // groups, 3)\n"),
        fix=tiny_model("param groups = 4\noutput y = x -> conv2d(32 // groups, 3)\n"),
    ),
    Code(
        "E-VALUE-INT-TOO-LARGE", "An integer result has more than 1,000 digits",
        "No size or count comes near 1,000 digits; such a number is a mistake (a power tower such "
        "as 10 ** 10 ** 10, refused before it is computed, which would take hours).",
        "check the expression's operands; sizes and counts are far smaller",
        example=tiny_model("c = 2 ** 10 ** 4\noutput y = x -> conv2d(c, 3)\n"),
        fix=tiny_model("c = 2 ** 4\noutput y = x -> conv2d(c, 3)\n"),
    ),
    Code(
        "E-VALUE-FLOAT-OVERFLOW", "A number is too large for a float",
        "The result is past the largest float (about 1.8e308); Python would give inf or raise "
        "OverflowError.",
        "check the operands; sizes and rates are far smaller",
        example=tiny_model("p = 10.0 ** 400\noutput y = x -> dropout(p)\n"),
        fix=tiny_model("p = 10.0 ** -1\noutput y = x -> dropout(p)\n"),
    ),
    Code(
        "E-VALUE-SYMBOLIC-ARITHMETIC", "Arithmetic a symbolic size cannot do",
        "A symbolic size (H, W, N) stays an exact integer expression: it combines with ints through "
        "+, - and *, and // by a positive int. '/' would not be exact, and floats or % make no "
        "integer size.",
        "use // with a positive int divisor (H // 2), or give the input a concrete size",
        example=tiny_model("output y = x -> reshape([3, x.height * x.width / 2, 2])\n",
                       head="input x: [N, 3, H, W]\n"),
        fix=tiny_model("output y = x -> reshape([3, x.height * x.width // 2, 2])\n",
                   head="input x: [N, 3, H, W]\n"),
    ),
    Code(
        "E-VALUE-SYMBOLIC-CONDITION", "A condition depends on a symbolic size",
        "Conditionals are decided while the graph is built, once for every input size; a "
        "condition on a symbolic size (H > 32) has no single answer.",
        "give the input a concrete size (-D or the input's declaration), or make the choice a "
        "block or model parameter",
        example=tiny_model("output y = x -> maxpool2d(2) if x.height > 32 else x -> relu\n",
                       head="input x: [N, 3, H, W]\n"),
        fix=tiny_model("output y = x -> maxpool2d(2) if x.height > 32 else x -> relu\n",
                   head="input x: [N, 3, 64, 64]\n"),
    ),
    # ------------------------------------------------------------------------------ model parameters
    Code(
        "E-PARAM-UNKNOWN", "-D sets a model parameter the spec does not declare",
        "-D NAME=VALUE (or the API's hyperparams) sets one of the spec's `param`s; the spec has no "
        "parameter of that name, so the setting would be silently ignored.",
        "set one of the spec's parameters (`archc summary SPEC` lists them), or declare it with `param`",
        example=tiny_model("param width = 16\noutput y = x -> conv2d(width, 3)\n"),
        argv=("check", "{spec}", "-D", "widht=32"),
        fix=tiny_model("param width = 16\noutput y = x -> conv2d(width, 3)\n"),
        fix_argv=("check", "{spec}", "-D", "width=32"),
    ),
    Code(
        "E-PARAM-NO-VALUE", "A required model parameter is not set",
        "`param classes` (without a default) must be set when the spec is used: -D classes=10, or "
        "the API's hyperparams.",
        "give it a default (`param classes = 10`) or set it: -D classes=10",
        example=tiny_model("output y = x -> global_avgpool -> linear(classes)\n", "param classes\n"),
        fix=tiny_model("output y = x -> global_avgpool -> linear(classes)\n", "param classes\n"),
        fix_argv=("check", "{spec}", "-D", "classes=10"),
    ),
    # ------------------------------------------------------------------------------ inputs and outputs
    Code(
        "E-INPUT-NO-INPUTS", "The spec has no inputs",
        "A model computes its outputs from its inputs; a spec with none describes no network "
        "(a file of blocks only is a library, checked as such).",
        "declare one, e.g. `input x: [N, 3, 224, 224]`",
        example="model Tiny\noutput y = constant([1.0, 2.0], shape=[1, 2])\n",
        fix="model Tiny\ninput x: [N, 2]\noutput y = x * constant([1.0, 2.0], shape=[1, 2])\n",
    ),
    Code(
        "E-INPUT-NO-OUTPUTS", "The spec has no outputs",
        "A model's outputs are what its forward() returns; without one it computes nothing.",
        "declare one, e.g. `output logits = h -> linear(10)` or `output h`",
        example=tiny_model("_h = x -> conv2d(8, 3)\n"),
        fix=tiny_model("h = x -> conv2d(8, 3)\noutput h\n"),
    ),
    Code(
        "E-INPUT-OUTPUT-NOT-TENSOR", "An output is not a tensor",
        "An output is what the network returns: a tensor. A layer without an input, a number or a "
        "list is not one.",
        "make the output a tensor: name one, or pipe one into a layer (`output y = h -> linear(10)`)",
        example=tiny_model("h = x -> global_avgpool\noutput y = linear(10)\n_h = h\n"),
        fix=tiny_model("h = x -> global_avgpool\noutput y = h -> linear(10)\n"),
    ),
    Code(
        "E-INPUT-ONLY-TRAINING-OUTPUTS", "Every output is a training output",
        "Training outputs (auxiliary classifiers) run only in training; with nothing else, "
        "inference would compute nothing.",
        "declare the model's result with `output`, not `training output`",
        example=tiny_model("training output y = x -> global_avgpool -> linear(10)\n"),
        fix=tiny_model("output y = x -> global_avgpool -> linear(10)\n"),
    ),
    Code(
        "E-INPUT-TRAINING-BRANCH-IN-BLOCK", "A training output branches off inside a block",
        "The generated forward() runs a block's module whole, so a layer only the training outputs "
        "need cannot sit in a block that inference also runs (it would run at inference too).",
        "branch off at the model level (the layers of an inline block count as the model's), or "
        "return the branch point from the block",
        example=tiny_model("block Stem()(x) {\n  a = x -> conv2d(8, 3, padding=1)\n  b = a -> conv2d(4, 1)\n"
                       "  return a, b\n}\n"
                       "h, aux = x -> Stem(name=stem)\n"
                       "output y = h -> global_avgpool -> linear(10)\n"
                       "training output y_aux = aux -> global_avgpool -> linear(10)\n"),
        fix=tiny_model("block Stem()(x) {\n  return x -> conv2d(8, 3, padding=1)\n}\n"
                   "h = x -> Stem(name=stem)\n"
                   "output y = h -> global_avgpool -> linear(10)\n"
                   "training output y_aux = h -> conv2d(4, 1) -> global_avgpool -> linear(10)\n"),
    ),
    Code(
        "E-INPUT-DIM-TYPE", "An input dimension is not an int or one symbol",
        "Each dimension of an input's shape is a positive int (224) or a symbolic size written as "
        "one name (N, H); a float, a list or text such as 'H W' is neither.",
        "make the dimension an int (int(224 * scale)) or one name such as H",
        example="model Tiny\nparam scale = 1.5\ninput x: [N, 3, 32 * scale, 32 * scale]\n"
                "output y = x -> conv2d(8, 3)\n",
        fix="model Tiny\nparam scale = 1.5\ninput x: [N, 3, int(32 * scale), int(32 * scale)]\n"
            "output y = x -> conv2d(8, 3)\n",
    ),
    Code(
        "E-INPUT-DIM-NOT-POSITIVE", "An input dimension is 0 or negative",
        "A tensor's sizes are at least 1.",
        "give a size ≥ 1, or a symbol such as N for a size that is not fixed",
        example="model Tiny\nparam size = 0\ninput x: [N, 3, size, size]\noutput y = x -> conv2d(8, 3)\n",
        fix="model Tiny\nparam size = 32\ninput x: [N, 3, size, size]\noutput y = x -> conv2d(8, 3)\n",
    ),
    Code(
        "E-INPUT-RANK", "An input has fewer than two dimensions",
        "Inputs are [batch, channels, ...] as in PyTorch: at least a batch and a feature axis.",
        "declare the batch axis too, e.g. `input x: [N, 784]` or `input x: [N, 3, 224, 224]`",
        example="model Tiny\ninput x: [784]\noutput y = x -> linear(10)\n",
        fix="model Tiny\ninput x: [N, 784]\noutput y = x -> linear(10)\n",
    ),
    # ------------------------------------------------------------------------------ limits
    Code(
        "E-LIMIT-REPEAT", "A repeat makes more copies than the limit",
        "One repeat(n, ...) makes at most 10,000 copies by default, far past any real stage: "
        "repeat(10 ** 9, ...) is a typo or a hostile spec, stopped before it could exhaust memory.",
        "check the count; to build that many anyway, raise the limit with the environment variable "
        "ARCHC_MAX_REPEAT",
        example=tiny_model("output y = x -> repeat(20, conv2d(3, 3, padding=1))\n"),
        env={"ARCHC_MAX_REPEAT": "10"},
        fix=tiny_model("output y = x -> repeat(20, conv2d(3, 3, padding=1))\n"),
        fix_env={"ARCHC_MAX_REPEAT": "20"},
    ),
    Code(
        "E-LIMIT-LAYERS", "The model has more layers than the limit",
        "A model has at most 100,000 layers by default (real networks have hundreds to a few "
        "thousand), so that runaway repeats or recursion stop with an error.",
        "check repeat counts and recursive blocks; to build that many anyway, raise the limit with "
        "the environment variable ARCHC_MAX_LAYERS",
        example=tiny_model("output y = x -> repeat(20, conv2d(3, 3, padding=1))\n"),
        env={"ARCHC_MAX_LAYERS": "15"},
        fix=tiny_model("output y = x -> repeat(20, conv2d(3, 3, padding=1))\n"),
        fix_env={"ARCHC_MAX_LAYERS": "100"},
    ),
    Code(
        "E-LIMIT-BLOCK-DEPTH", "Block instances nest deeper than the limit",
        "A block that uses itself nests one instance in another; at most 1,000 levels by default "
        "(ARCHC_MAX_BLOCK_DEPTH), usually a recursion without a base case that stops it. Past what "
        "the evaluator's stack holds, a raised limit is refused the same way.",
        "give the recursion a base case that stops it (`x if n == 0 else x -> Stage(n - 1)`); if "
        "it is meant to nest this deep, raise the limit with the environment variable "
        "ARCHC_MAX_BLOCK_DEPTH, or use repeat(n, ...) instead of recursion",
        example=tiny_model("block Stage(n)(x) {\n  y = x -> conv2d(3, 3, padding=1)\n"
                       "  return y if n == 1 else y -> Stage(n - 1)\n}\noutput y = x -> Stage(12)\n"),
        env={"ARCHC_MAX_BLOCK_DEPTH": "10"},
        fix=tiny_model("block Stage(n)(x) {\n  y = x -> conv2d(3, 3, padding=1)\n"
                   "  return y if n == 1 else y -> Stage(n - 1)\n}\noutput y = x -> Stage(12)\n"),
        fix_env={"ARCHC_MAX_BLOCK_DEPTH": "12"},
    ),
    Code(
        "E-LIMIT-TIME", "Evaluating the spec takes longer than the limit",
        "Elaboration stops after 60 seconds by default (ARCHC_MAX_EVAL_SECONDS); a real spec "
        "elaborates in well under a second, so this is a runaway computation (huge lists, "
        "repeats or recursion), reported at the statement being evaluated.",
        "check the repeat counts, list sizes and recursive blocks of the statement; to allow more "
        "time, raise the limit with the environment variable ARCHC_MAX_EVAL_SECONDS (seconds)",
        example=tiny_model("n = sum([i % 3 for i in range(200000)])\n"
                       "output y = x -> repeat(n // 100000, conv2d(3, 3, padding=1))\n"),
        env={"ARCHC_MAX_EVAL_SECONDS": "0.001"},
        fix=tiny_model("n = sum([i % 3 for i in range(200000)])\n"
                   "output y = x -> repeat(n // 100000, conv2d(3, 3, padding=1))\n"),
        fix_env={"ARCHC_MAX_EVAL_SECONDS": "60"},
    ),
    Code(
        "E-LIMIT-LIST-SIZE", "A list is larger than the limit",
        "range() makes at most 1,000,000 items, and all the lists a spec builds with "
        "comprehensions and range() together at most 10,000,000: a spec is data, and no list may "
        "exhaust memory. A list counts by the numbers it denotes, not by how it was written: "
        "`b = [a for i in range(10)]` denotes ten times the items of `a`, although it shares "
        "them (constant() and block arguments would walk every copy).",
        "a spec describes one network; shrink the lists",
        example=tiny_model("n = len(range(10 ** 7))\noutput y = x -> repeat(n // 10 ** 6, conv2d(3, 3, padding=1))\n"),
        fix=tiny_model("n = 10 ** 7\noutput y = x -> repeat(n // 10 ** 6, conv2d(3, 3, padding=1))\n"),
    ),
    Code(
        "E-LIMIT-NESTING", "An expression is nested too deeply to evaluate",
        "The evaluator walks expressions recursively, on a thread with a large stack: ten thousand "
        "chained layers or nested lists are fine, but nesting past its stack (about a hundred "
        "thousand levels) stops with this error at the statement.",
        "split it into several statements",
        example=tiny_model("_a = " + "-" * 1500 + "1\noutput y = x -> relu\n"),
        fix=tiny_model("_a = 1\noutput y = x -> relu\n"),
        # the example's nesting is modest: the stack is made small for it, as for a hostile spec
        api="""\
            import sys
            import archc.deep
            saved = archc.deep.RECURSION_LIMIT, sys.getrecursionlimit()
            archc.deep.RECURSION_LIMIT = 1000
            sys.setrecursionlimit(1000)
            try:
                archc.load(spec)
            finally:
                archc.deep.RECURSION_LIMIT = saved[0]
                sys.setrecursionlimit(saved[1])
            """,
    ),
    Code(
        "E-LIMIT-ENV", "A limit's environment variable is not a positive number",
        "The resource limits (ARCHC_MAX_REPEAT, ARCHC_MAX_LAYERS, ARCHC_MAX_BLOCK_DEPTH, "
        "ARCHC_MAX_YAML_NODES: ints; ARCHC_MAX_EVAL_SECONDS: a number of seconds) are read from "
        "the environment; a value that is not a positive number is refused rather than ignored.",
        "set it to a positive number, or unset it for the default",
        example=tiny_model("output y = x -> repeat(20, conv2d(3, 3, padding=1))\n"),
        env={"ARCHC_MAX_REPEAT": "20k"},
        fix=tiny_model("output y = x -> repeat(20, conv2d(3, 3, padding=1))\n"),
        fix_env={"ARCHC_MAX_REPEAT": "20000"},
    ),
    # ------------------------------------------------------------------------------ warnings
    Code(
        "W-SHAPE-LINEAR-FEATURE-MAP", "linear is applied to a feature map without flatten",
        "On a [N, C, H, W] tensor a linear layer maps the last axis (W, a spatial size) at every "
        "other position, as PyTorch's nn.Linear does; almost always a flatten or a global pooling "
        "was forgotten.",
        "flatten first (`-> flatten -> linear(...)`) or pool globally; if the last axis is meant, "
        "say so with axis=-1",
        example=tiny_model("output y = x -> conv2d(8, 3) -> relu -> linear(10)\n"),
        fix=tiny_model("output y = x -> conv2d(8, 3) -> relu -> flatten -> linear(10)\n"),
    ),
    Code(
        "W-NAME-INLINE-REPEAT-DEFAULT", "An inline repeat's copies take default names",
        "An inline repeat makes no container: its copies are the caller's children, named as the "
        "body names them. A body that names none gives them the default names of its op or block "
        "(stage, stage_1, stage_2), which rarely match the checkpoint one means to load.",
        "name the copies in the body (name=\"stage\" + str(i)), or drop inline=true so that a "
        "container numbers them 0, 1, ...",
        example=tiny_model("block Stage(c)(x) {\n  return x -> conv2d(c, 3, padding=1) -> relu\n}\n"
                       "output y = x -> repeat(2, Stage(3), inline=true)\n"),
        fix=tiny_model("block Stage(c)(x) {\n  return x -> conv2d(c, 3, padding=1) -> relu\n}\n"
                   "output y = x -> repeat(2, Stage(3, name=\"stage\" + str(i)), inline=true)\n"),
    ),
    Code(
        "W-SHAPE-SOFTMAX-SPATIAL", "softmax normalises over a spatial axis",
        "On a channels-first feature map the classes are the channels (axis 1); a softmax over a "
        "spatial axis normalises over positions instead, which is rarely meant.",
        "normalise over the channels with dim=1 (the default); for a distribution over positions, "
        "flatten the spatial axes first (`-> flatten(start_dim=2) -> softmax(dim=-1)`)",
        example=tiny_model("output y = x -> conv2d(8, 1) -> softmax(dim=-1)\n"),
        fix=tiny_model("output y = x -> conv2d(8, 1) -> softmax(dim=1)\n"),
    ),
]
