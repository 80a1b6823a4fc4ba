"""What modern CNNs need from the language (issue 8): slicing, chunk/split, permute/transpose,
normalisation and linear layers over a chosen axis, symbolic reshape, resizing to a reference,
declared parameter and constant tensors, stochastic depth, free module names, string building,
partial application of blocks, and no silent name binding. Each is checked statically and,
lowered to PyTorch, against torch itself."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import archc
from archc.errors import SpecErrors

ROOT = Path(__file__).resolve().parent.parent


def load(text: str, **params) -> archc.Model:
    return archc.loads(textwrap.dedent(text), params=params or None)


def errors_of(text: str, **params) -> list:
    with pytest.raises(SpecErrors) as info:
        load(text, **params)
    return info.value.errors


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def build(model: archc.Model):
    module = model.to_torch()
    module.eval()
    return module


# ----------------------------------------------------------------------------- cutting tensors


SHUFFLE = """\
    block ShuffleUnit(groups = 2)(x) {
      a, b = x -> chunk(2)
      y = concat(a, b -> conv2d(b.channels, 1, bias=false, name=conv))
      # torchvision's channel_shuffle: view, transpose, flatten back
      return y -> reshape([groups, y.channels // groups, y.height, y.width]) -> transpose(1, 2)
               -> flatten(1, 2)
    }
    input x: [N, 8, H, W]
    output y = x -> ShuffleUnit(name=unit)
    """


def test_chunk_gives_several_tensors_and_shapes_stay_symbolic():
    model = load(SHUFFLE)
    assert model.shapes["unit.chunk"] == (archc.symbolic.sym("N"), 4, archc.symbolic.sym("H"),
                                          archc.symbolic.sym("W"))
    assert model.shapes["unit.chunk_1"][1] == 4
    assert model.output_shapes["y"][1:2] == (8,)


def test_channel_shuffle_lowered_equals_torch_at_two_sizes(torch):
    model = load(SHUFFLE)
    module = build(model)
    for h, w in ((5, 7), (8, 3)):
        x = torch.randn(2, 8, h, w)
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a, module.unit.conv(b)], 1)
        expected = y.view(2, 2, 4, h, w).transpose(1, 2).reshape(2, 8, h, w)
        assert torch.equal(module(x), expected)


def test_slicing_and_split(torch):
    model = load("""\
        input x: [N, 10, 9, 9]
        a, b, c = x -> split([2, 3, 5])
        output y = concat(c[:, :, 1:-1:2, ::3], a[:, :, 1:-1:2, ::3], name=cat)
        output z = b[:, 0]
        """)
    assert model.output_shapes["y"] == (archc.symbolic.sym("N"), 7, 4, 3)
    assert model.output_shapes["z"] == (archc.symbolic.sym("N"), 9, 9)
    module = build(model)
    x = torch.randn(2, 10, 9, 9)
    out = module(x)
    assert torch.equal(out["y"], torch.cat([x[:, 5:, 1:-1:2, ::3], x[:, :2, 1:-1:2, ::3]], 1))
    assert torch.equal(out["z"], x[:, 2])


@pytest.mark.parametrize("text,message", [
    ("x[:, :20]", "reaches outside axis 1 of size 16"),
    ("x[1:]", "batch axis cannot be sliced"),
    ("x[:, 5:5]", "is empty"),
    ("x -> chunk(3)", "does not divide into 3 equal chunks"),
    ("x -> split([4, 4])", "add up to 8, but the axis has size 16"),
])
def test_cuts_that_torch_would_silently_shorten_are_errors(text, message):
    errors = errors_of(f"input x: [N, 16, 8, 8]\noutput y = {text}\n")
    assert message in errors[0].message


# ----------------------------------------------------------------------------- axes


def test_convnext_block_layernorm_over_channels_and_linear_on_the_last_axis(torch):
    model = load("""\
        block CNBlock(dim)(x) {
          y = x -> sequential(conv2d(dim, 7, padding=3, groups=dim), permute([0, 2, 3, 1]),
                              layernorm(axis=-1, eps=1e-6), linear(4 * dim), gelu, linear(dim),
                              permute([0, 3, 1, 2]), name="block")
          s = parameter([dim, 1, 1], value=1e-6, name="layer_scale")
          return x + (s * y -> stochastic_depth(0.1, name=stochastic_depth))
        }
        input x: [N, 8, H, W]
        output y = x -> conv2d(8, 1, name=stem) -> layernorm(axis=1, eps=1e-6, name=norm) -> CNBlock(8, name=cn)
        """)
    state = model.state_dict_shapes()
    assert state["cn.layer_scale"] == (8, 1, 1)
    assert state["norm.weight"] == (8,) and state["cn.block.2.weight"] == (8,)
    assert model.params == sum(int(__import__("math").prod(s)) for s in state.values())
    module = build(model)
    assert set(module.state_dict()) == set(state)
    assert torch.all(module.cn.layer_scale == 1e-6)
    x = torch.randn(2, 8, 6, 5)
    with torch.no_grad():
        h = module.stem(x)
        h = torch.nn.functional.layer_norm(h.permute(0, 2, 3, 1), (8,), module.norm.weight, module.norm.bias,
                                           1e-6).permute(0, 3, 1, 2)
        expected = h + module.cn.layer_scale * module.cn.block(h)
        assert torch.allclose(module(x), expected, atol=1e-6)


def test_layernorm_on_a_feature_map_must_say_which_axis():
    errors = errors_of("input x: [N, 8, 4, 4]\noutput y = x -> layernorm\n")
    assert "say which axis" in errors[0].message and "axis=1" in errors[0].hint


def test_symbolic_reshape_lowered(torch):
    model = load("""\
        input x: [N, 6, H, W]
        output y = x -> reshape([x.channels, 1, x.height * x.width])
        """)
    assert archc.symbolic.to_str(model.output_shapes["y"][3]) == "H*W"
    module = build(model)
    x = torch.randn(2, 6, 3, 5)
    assert torch.equal(module(x), x.reshape(2, 6, 1, 15))


def test_resize_to_a_reference_size_at_any_input_size(torch):
    model = load("""\
        input x: [N, 3, H, W]
        d = x -> conv2d(4, 3, stride=2, padding=1, name=down)
        output y = concat(resize_like(d, x, mode=bilinear), x)
        """)
    assert model.output_shapes["y"][1:] == (7, archc.symbolic.sym("H"), archc.symbolic.sym("W"))
    module = build(model)
    for h, w in ((9, 7), (16, 16)):
        assert tuple(module(torch.randn(1, 3, h, w)).shape) == (1, 7, h, w)


# ----------------------------------------------------------------------------- declared tensors


def test_constant_tensor_is_not_in_the_state_dict_and_normalises(torch):
    model = load("""\
        input x: [N, 3, H, W]
        mean = constant([0.485, 0.456, 0.406], shape=[3, 1, 1])
        inv_std = constant([[[4.0]], [[5.0]], [[6.0]]])
        output y = x * mean * inv_std
        """)
    assert model.params == 0 and model.state_dict_shapes() == {}
    module = build(model)
    assert len(module.state_dict()) == 0
    x = torch.randn(2, 3, 4, 4)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([4.0, 5.0, 6.0]).view(3, 1, 1)
    assert torch.allclose(module(x), x * mean * std)


def test_parameter_key_is_exactly_its_name_and_counts(torch):
    model = load("""\
        input x: [N, 4, 2, 2]
        g = parameter([4, 1, 1], value=0.5, name="gamma-1")
        output y = x * g
        """)
    assert model.state_dict_shapes() == {"gamma-1": (4, 1, 1)}
    assert model.params == 4 and model.trainable_params == 4
    module = build(model)
    assert list(module.state_dict()) == ["gamma-1"]
    assert float(module.state_dict()["gamma-1"].sum()) == 2.0


# ----------------------------------------------------------------------------- stochastic depth


def test_stochastic_depth_has_torchvision_semantics_in_training(torch):
    model = load("""\
        input x: [N, 4, 3, 3]
        output y = x -> stochastic_depth(0.5, name=sd)
        """)
    module = model.to_torch()
    x = torch.ones(64, 4, 3, 3)
    module.eval()
    assert torch.equal(module(x), x)
    module.train()
    torch.manual_seed(0)
    y = module(x)
    per_sample = y.flatten(1)
    # "row": each sample is either dropped entirely or scaled by 1 / (1 - p)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert all(len(row.unique()) == 1 for row in per_sample)
    assert 10 < int((per_sample[:, 0] == 0).sum()) < 54
    # the same draw as torchvision.ops.stochastic_depth makes with the same seed
    torch.manual_seed(0)
    noise = torch.empty(64, 1, 1, 1).bernoulli_(0.5).div_(0.5)
    assert torch.equal(y, x * noise)


# ----------------------------------------------------------------------------- names


def test_module_names_as_free_as_pytorch_and_computed(torch):
    model = load("""\
        block Stage(k, n)(x) {
          y = x -> conv2d(4, 3, padding=1, name="block" + str(k) + "-0")
          return y if n == 1 else y -> conv2d(4, 3, padding=1, name="block" + str(k) + "-" + str(len([1, 2])))
        }
        input x: [N, 4, 8, 8]
        output y = x -> Stage(1, 2, name="block" + str(1))
        """)
    assert set(model.state_dict_shapes()) == {"block1.block1-0.weight", "block1.block1-0.bias",
                                              "block1.block1-2.weight", "block1.block1-2.bias"}
    module = build(model)
    assert set(module.state_dict()) == set(model.state_dict_shapes())
    assert tuple(module(torch.randn(1, 4, 8, 8)).shape) == (1, 4, 8, 8)


def test_yaml_unquoted_hyphenated_name_is_the_name():
    model = archc.loads(textwrap.dedent("""\
        inputs: {x: [N, 3, 8, 8]}
        outputs:
          y: [x, {conv2d: [4, 3], name: block1-0}]
        """), "yaml")
    assert "block1-0" in model.shapes


@pytest.mark.parametrize("name", ['"a.b"', '""'])
def test_names_pytorch_refuses_are_refused(name):
    errors = errors_of(f"input x: [N, 3]\noutput y = x -> linear(2, name={name})\n")
    assert "not a valid module name" in errors[0].message


def test_strings_join_only_with_strings():
    errors = errors_of('input x: [N, 3]\noutput y = x -> linear(2, name="fc" + 1)\n')
    assert "joins a string only with a string" in errors[0].message and "str()" in errors[0].hint


def test_block_parameter_may_not_shadow_a_layer_option():
    errors = errors_of("""\
        block B(init = 1)(x) {
          return x -> linear(init)
        }
        input x: [N, 3]
        output y = x -> B
        """)
    assert "parameter 'init' has the name of a layer option" in errors[0].message


def test_model_parameter_inside_a_block_says_how_to_pass_it():
    errors = errors_of("""\
        param num_classes = 10
        block Head()(x) {
          return x -> linear(num_classes)
        }
        input x: [N, 3]
        output y = x -> Head
        """)
    assert "'num_classes' is a model parameter" in errors[0].message
    assert "Head(..., num_classes=num_classes)" in errors[0].hint


# ----------------------------------------------------------------------------- partial application


def test_partial_application_of_a_block_like_resnext():
    model = load("""\
        block Unit(planes, stride = 1, groups = 1, width_per_group = 64)(x) {
          width = planes * width_per_group // 64 * groups
          return x -> conv2d(width, 3, stride=stride, padding=1, groups=groups, bias=false, name=conv)
        }
        block Net(unit)(x) {
          return x -> unit(64, name=a) -> unit(128, stride=2, name=b)
        }
        input x: [N, 64, 8, 8]
        output y = x -> Net(Unit(groups=32, width_per_group=4), inline=true)
        """)
    assert model.state_dict_shapes() == {"a.conv.weight": (128, 2, 3, 3), "b.conv.weight": (256, 4, 3, 3)}
    assert model.output_shapes["y"][1:] == (256, 4, 4)


def test_partial_application_later_keyword_wins():
    model = load("""\
        input x: [N, 8]
        fc = linear(4, bias=false)
        output y = x -> fc(bias=true, name=head)
        """)
    assert model.state_dict_shapes() == {"head.weight": (4, 8), "head.bias": (4,)}


# ----------------------------------------------------------------------------- analyses


def test_receptive_field_jump_continues_after_squeeze_and_excitation():
    model = load("""\
        input x: [N, 3, 64, 64]
        a = x -> conv2d(8, 3, stride=2, padding=1, name=c1)
        g = a -> global_avgpool(keepdims=true) -> conv2d(8, 1) -> sigmoid
        output y = a * g -> conv2d(8, 3, stride=2, padding=1, name=c2) -> conv2d(8, 3, stride=2, padding=1, name=c3)
        """)
    fields = model.metrics.layers
    assert fields["c1"].field.jump == (2, 2)
    assert fields["c3"].field.size is None  # the gate saw the whole image
    assert fields["c3"].field.jump == (8, 8)


def test_summary_by_op_and_json_file_of_imported_layers(tmp_path):
    (tmp_path / "lib.arch").write_text("block B()(x) {\n  return x -> conv2d(4, 3, name=conv)\n}\n")
    spec = tmp_path / "net.arch"
    spec.write_text('import "lib.arch"\ninput x: [N, 3, 8, 8]\n'
                    'output y = x -> B(name=b) -> batchnorm2d(name=bn) -> flatten -> linear(2, name=fc)\n')
    model = archc.load(spec)
    text = model.summary(by_op=True)
    assert "conv + linear" in text and "BatchNorm2d" in text
    rows = {r.op: r for r in model.by_op()}
    assert rows["Conv2d"].macs == 4 * 3 * 9 * 36 and rows["Linear"].macs == 144 * 2
    assert model.conv_linear_macs == 4 * 3 * 9 * 36 + 144 * 2
    data = json.loads(model.summary("json"))
    assert data["conv_linear_macs"] == model.conv_linear_macs
    by_id = {layer["id"]: layer for layer in data["layers"]}
    assert by_id["b.conv"]["file"].endswith("lib.arch")
    assert "file" not in by_id["fc"]


def test_python_dash_m_archc(tmp_path):
    spec = tmp_path / "s.arch"
    spec.write_text("input x: [N, 3]\noutput y = x -> linear(2)\n")
    done = subprocess.run([sys.executable, "-m", "archc", "check", str(spec)], capture_output=True, text=True)
    assert done.returncode == 0 and "ok" in done.stdout


# ----------------------------------------------------------------------------- training outputs


AUX = """\
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


def test_training_output_has_parameters_but_no_inference_cost_or_constraint():
    model = load(AUX)
    assert model.graph.training_outputs == ["aux"]
    assert "AuxLogits.fc.weight" in model.state_dict_shapes()
    assert model.constraints == ["H >= 3", "W >= 3"]
    assert model.training_constraints == ["H >= 11", "W >= 11"]
    inference_macs = sum(model.metrics.layers[n.id].macs for n in model.graph.layers()
                         if not n.is_input and not n.training_only)
    assert model.macs == inference_macs
    assert model.metrics.layers["AuxLogits.conv"].macs != 0
    assert "Training outputs" in model.summary()


def test_training_output_lowered_runs_only_in_training(torch):
    module = load(AUX).to_torch()
    x = torch.randn(2, 3, 31, 31)
    module.eval()
    assert tuple(module(x).shape) == (2, 10)
    module.train()
    out = module(x)
    assert set(out) == {"logits", "aux"} and tuple(out["aux"].shape) == (2, 10)
    module.eval()  # at inference an input too small for the auxiliary head is fine
    assert tuple(module(torch.randn(1, 3, 7, 7)).shape) == (1, 10)


def test_training_outputs_in_both_syntaxes():
    from archc.ast import without_locs
    from archc.frontend.printer import to_dsl, to_yaml
    model = load(AUX)
    yaml_text = to_yaml(model.spec)
    assert "training_outputs:" in yaml_text
    again = archc.loads(yaml_text, "yaml")
    assert without_locs(again.spec) == without_locs(model.spec)
    assert "training output aux" in to_dsl(model.spec)


def test_training_output_must_branch_at_the_model_level():
    errors = errors_of("""\
        block Net()(x) {
          m = x -> conv2d(8, 3, name=stem)
          return m -> global_avgpool, m -> conv2d(4, 1, name=aux)
        }
        input x: [N, 3, 8, 8]
        logits, aux = x -> Net(name=net)
        output logits
        training output aux
        """)
    assert "branches off inside 'net'" in errors[0].message


def test_a_model_needs_an_inference_output():
    errors = errors_of("input x: [N, 3]\ntraining output y = x -> linear(2)\n")
    assert "every output is a training output" in errors[0].message


# ----------------------------------------------------------------------------- untaken branches


def test_statements_read_only_by_the_untaken_branch_are_not_built():
    model = load("""\
        block U(stride)(x) {
          x1, x2 = x -> chunk(2)
          return concat(x1, x2 -> conv2d(x2.channels, 1, name=branch2)) if stride == 1
                 else x -> conv2d(x.channels, 3, stride=2, padding=1, name=down)
        }
        input x: [N, 8, 8, 8]
        output y = x -> U(2, name=a) -> U(1, name=b)
        """)
    assert not any(n.startswith("a.chunk") for n in model.shapes)
    assert "b.chunk" in model.shapes and "b.chunk_1" in model.shapes
    assert "a.x1" not in model.to_source()


def test_an_untaken_statement_with_parameters_is_an_error():
    errors = errors_of("""\
        block U(stride)(x) {
          p = x -> conv2d(8, 1, name=proj)
          return p if stride == 1 else x
        }
        input x: [N, 8, 8, 8]
        output y = x -> U(2)
        """)
    assert "layer 'u.proj' is built but no result uses it" in errors[0].message


@pytest.mark.parametrize("call", ["conv2d(3, 1, inline=true)", "sequential(conv2d(3, 1), relu, inline=true)"])
def test_inline_on_anything_but_a_block_is_an_error(call):
    errors = errors_of(f"input x: [N, 3, 8, 8]\noutput y = x -> {call}\n")
    assert "inline= applies to block instances" in errors[0].message


def test_a_reserved_word_as_a_layer_name_suggests_quoting_it():
    errors = errors_of("block B()(x) {\n  return x -> conv2d(4, 1, name=block)\n}\n"
                       "input x: [N, 3, 8, 8]\noutput y = x -> B\n")
    assert errors[0].hint == "'block' is a reserved word; quote the layer name: name=\"block\""


def test_comprehensions_and_ranges_are_bounded():
    errors = errors_of("input x: [N, 3]\nk = len([range(1000000) for j in range(1000000)])\n"
                       "output y = x -> linear(k)\n")
    assert "built more than 10,000,000 items" in errors[0].message


def test_list_comprehension_sum_and_range():
    model = load("""\
        block Net(widths)(x) {
          total = sum([w * 2 for w in widths if w > 4])
          return x -> conv2d(total + len(range(2, 10, 3)), 3, name="conv" + str(sum(range(4))))
        }
        input x: [N, 3, 8, 8]
        output y = x -> Net([4, 8, 16])
        """)
    assert model.state_dict_shapes()["net.conv6.weight"] == (51, 3, 3, 3)


def test_inline_repeat_numbers_the_callers_children_as_the_body_names_them():
    # RegNet: trunk_output.block2.block2-0, block2-1, … without a module for the repeat itself
    model = load("""\
        block Unit(out, stride = 1)(x) {
          return x -> conv2d(out, 3, stride=stride, padding=1, name=conv)
        }
        block Stage(k, depth, out)(x) {
          return x -> repeat(depth, Unit(out, stride = 2 if i == 0 else 1,
                                         name="block" + str(k) + "-" + str(i)), inline=true)
        }
        input x: [N, 3, 16, 16]
        output y = x -> repeat(2, Stage(i + 1, 2, 8 * (i + 1), name="block" + str(i + 1)), name=trunk_output)
        """)
    assert [k for k in model.state_dict_shapes() if k.endswith("weight")] == [
        "trunk_output.block1.block1-0.conv.weight", "trunk_output.block1.block1-1.conv.weight",
        "trunk_output.block2.block2-0.conv.weight", "trunk_output.block2.block2-1.conv.weight"]
    assert model.output_shapes["y"][1:] == (16, 4, 4)


def test_inline_repeat_takes_no_name_of_its_own():
    errors = errors_of("input x: [N, 3, 8, 8]\noutput y = x -> repeat(2, conv2d(3, 1), inline=true, name=r)\n")
    assert "an inline repeat has no name of its own" in errors[0].message


def test_training_output_is_drawn_dashed():
    from archc.backends.diagram import render_dot
    dot = render_dot(load(AUX), depth=0)
    aux_line = next(line for line in dot.splitlines() if line.strip().startswith('"AuxLogits" ['))
    assert "dashed" in aux_line
    fc_line = next(line for line in dot.splitlines() if line.strip().startswith('"fc" ['))
    assert "dashed" not in fc_line
    assert "training output" in dot


def test_f_strings_build_names():
    model = load("""\
        block B(k, j)(x) {
          return x -> conv2d(4, 1, name=f"block{k}-{j + 1}") -> relu(name=f"act{{x}}{k}")
        }
        input x: [N, 3, 8, 8]
        output y = x -> B(1, 2, name=f"s{len([1, 2])}")
        """)
    assert "s2.block1-3" in model.shapes and "s2.act{x}1" in model.shapes


def test_f_string_round_trips_and_errors_point_inside_it():
    from archc.ast import without_locs
    from archc.frontend.printer import to_dsl, to_yaml
    model = load('input x: [N, 3]\noutput y = x -> linear(2, name=f"fc{{1}}-{2 * 3}")\n')
    assert "fc{1}-6" in model.shapes
    assert without_locs(archc.loads(to_dsl(model.spec)).spec) == without_locs(model.spec)
    assert without_locs(archc.loads(to_yaml(model.spec), "yaml").spec) == without_locs(model.spec)
    errors = errors_of('input x: [N, 3]\noutput y = x -> linear(2, name=f"fc{1 +}")\n')
    assert errors[0].loc.line == 2 and errors[0].loc.col > 30
    errors = errors_of('input x: [N, 3]\noutput y = x -> linear(2, name=f"fc{oops}")\n')
    assert "unknown name 'oops'" in errors[0].message


def test_a_list_unpacks_into_names():
    model = load("""\
        block Row(row)(x) {
          out, kernel, stride = row
          return x -> conv2d(out, kernel, stride=stride, name=conv)
        }
        input x: [N, 3, 8, 8]
        output y = x -> Row([4, 3, 2])
        """)
    assert model.output_shapes["y"][1:] == (4, 3, 3)
    errors = errors_of("block R(row)(x) {\n  a, b = row\n  return x -> conv2d(a + b, 1)\n}\n"
                       "input x: [N, 3, 8, 8]\noutput y = x -> R([1, 2, 3])\n")
    assert "2 names on the left, but the right side gives 3 values" in errors[0].message


def test_comprehension_unpacks_rows():
    model = load("""\
        block Net(setting)(x) {
          return x -> conv2d(sum([c * n for t, c, n in setting if t > 1]), 1, name=conv)
        }
        input x: [N, 3, 8, 8]
        output y = x -> Net([[1, 16, 1], [6, 24, 2], [6, 32, 3]])
        """)
    assert model.output_shapes["y"][1] == 24 * 2 + 32 * 3
    errors = errors_of("input x: [N, 3]\nk = sum([a for a, b in [[1, 2, 3]]])\noutput y = x -> linear(k)\n")
    assert "2 names to unpack" in errors[0].message
