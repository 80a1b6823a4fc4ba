"""Blocks and expressions as modern CNNs use them (issue 8): no silent name binding (a block
parameter shadowing a layer option, a model parameter read inside a block), partial application
of blocks, statements of an untaken branch, `inline=`, comprehensions and ranges (bounded),
and unpacking lists into names."""
from __future__ import annotations



from spec_helpers import errors_of, load


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


def test_an_untaken_statement_with_parameters_is_not_built():
    # as the generated class builds only the branch its condition takes (it was an error before
    # two statements could share a layer name: tests/elaboration/test_alternative_statements.py)
    model = load("""\
        block U(stride)(x) {
          p = x -> conv2d(8, 1, name=proj)
          return p if stride == 1 else x
        }
        input x: [N, 8, 8, 8]
        output y = x -> U(2, name=a) -> U(1, name=b)
        """)
    assert list(model.state_dict_shapes()) == ["b.proj.weight", "b.proj.bias"]


EMPTIED = """\
    block B(k)(x) {
      u = x -> relu
      return u if k > 2 else x
    }
    """


def test_a_block_instance_whose_branch_held_all_its_layers_leaves_the_scopes_around_it():
    # the instance's own scope goes with its layers; the repeat, sequential or block (when inline)
    # it runs in stays: it was dropped too, and the next statement failed on it (KeyError) or
    # built layers in a scope that was gone (missing from the summary and generated code)
    repeat = load(EMPTIED + "input x: [2, 4, 8, 8]\noutput y = x -> repeat(2, B(1 + 2 * i))\n")
    assert _layers_and_scopes(repeat) == (["x", "y.1.u"], ["y", "y.1"])
    sequential = load(EMPTIED + "input x: [2, 4, 8, 8]\noutput y = x -> sequential(B(1), relu)\n")
    assert _layers_and_scopes(sequential) == (["x", "y.1"], ["y"])
    inline = load(EMPTIED + """\
        block C()(x) {
          a = x -> B(1, inline=true)
          return a -> conv2d(4, 3, padding=1)
        }
        input x: [2, 4, 8, 8]
        output y = x -> C
        """)
    assert _layers_and_scopes(inline) == (["x", "y.conv2d"], ["y"])
    assert "y.conv2d" in inline.summary() and "nn.Conv2d(in_channels, 4, kernel_size=3, padding=1)" in inline.to_source()


def _layers_and_scopes(model) -> tuple[list[str], list[str]]:
    return [n.id for n in model.graph.layers()], [s.id for s in model.graph.scopes.values()]


def test_inline_on_an_op_is_an_error():  # (a sequential takes it: tests/elaboration/test_inline_sequential.py)
    errors = errors_of("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(3, 1, inline=true)\n")
    assert "inline= applies to blocks, repeat and sequential" in errors[0].message


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
    assert model.state_dict_shapes()["y.conv6.weight"] == (51, 3, 3, 3)


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


def test_comprehension_with_several_fors_nests_as_python():
    model = load("""\
        param rows = [[1, 8], [2, 16], [0, 4], [3, 2]]
        input x: [N, 3, 8, 8]
        widths = [c for r, c in rows for j in range(r)]
        pairs = [i * 10 + j for i in range(4) if i > 0 for j in range(i) if j != 1 if i < 3]
        y = x -> conv2d(sum(widths), 1, name=a) -> conv2d(sum(pairs) + len(pairs), 1, name=b)
        output y
        """)
    rows = [[1, 8], [2, 16], [0, 4], [3, 2]]
    widths = [c for r, c in rows for j in range(r)]
    pairs = [i * 10 + j for i in range(4) if i > 0 for j in range(i) if j != 1 if i < 3]
    shapes = model.state_dict_shapes()
    assert shapes["a.weight"][0] == sum(widths) == 46
    assert shapes["b.weight"][0] == sum(pairs) + len(pairs)


def test_comprehension_clauses_see_earlier_names_and_keep_the_budget():
    errors = errors_of("input x: [N, 3]\nk = len([i for i in range(5000) for j in range(5000)])\n"
                       "output y = x -> linear(k)\n")
    assert "built more than 10,000,000 items" in errors[0].message
    errors = errors_of("input x: [N, 3]\nk = len([j for i in range(2) for j in q])\noutput y = x -> linear(k)\n")
    assert errors and "q" in errors[0].message
    errors = errors_of("input x: [N, 3]\nk = len([i for i in range(2) for i in range(3)])\n"
                       "output y = x -> linear(k)\n")
    assert "names the same variable twice" in errors[0].message


def test_unused_unpacked_numbers_are_allowed_but_not_unused_tensors_or_layers():
    model = load("""\
        param setting = [[1, 16, 1, 1], [6, 24, 2, 2]]
        block S(row)(x) {
          t, c, n, s = row
          return x -> conv2d(c, 3, stride=s, name=conv)
        }
        input x: [N, 3, 8, 8]
        r, c = [1, 2]
        word, size, flags = ["wide", H, [true, none]]
        output y = x -> S(setting[0]) -> S(setting[1]) -> conv2d(c, 1, name=head)
        """)
    assert model.state_dict_shapes()["head.weight"][0] == 2
    for body, name in (("a, b = x -> chunk(2)\noutput y = a\n", "b"),
                       ("f, g = [conv2d(8, 3), conv2d(4, 1)]\noutput y = x -> f\n", "g"),
                       ("f, g = [conv2d(8, 3), relu]\noutput y = x -> f\n", "g"),
                       ("k = 3\noutput y = x -> relu\n", "k")):
        errors = errors_of("input x: [N, 4, 8, 8]\n" + body)
        assert [e.code for e in errors] == ["E-NAME-UNUSED"], body
        assert f"'{name}' is computed but never used" in errors[0].message
