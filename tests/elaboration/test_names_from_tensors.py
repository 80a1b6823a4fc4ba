"""A statement whose value is one call names that call's module after the tensor: the module of
`e2 = e1 -> ResBlock()` is `e2` (state_dict keys, summaries, diagrams, generated code), where it
was `res_block_1`. `name=` still wins; a chain of calls keeps the op names."""
import archc

SPEC = """
model M
block ResBlock()(x) {
  y = x -> conv2d(x.channels, 3, padding=1)
  return relu(y + x)
}
input x: [N, 8, 16, 16]
e1 = x -> conv2d(16, 3, padding=1)
e2 = e1 -> ResBlock()
e3 = ResBlock(e2)
s = e3 -> sequential(conv2d(16, 1), relu)
r = s -> repeat(2, ResBlock())
named = r -> ResBlock(name=explicit)
chain = named -> conv2d(16, 1) -> relu
forward = chain -> relu
output logits = forward -> flatten -> linear(10)
"""


def test_modules_take_their_tensors_names():
    model = archc.loads(SPEC)
    keys = {k.split(".")[0] for k in model.state_dict_shapes()}
    assert keys == {"e1", "e2", "e3", "s", "r", "explicit", "conv2d", "linear"}
    ids = [n.id for n in model.graph.layers()]
    assert "e2.y" in ids and "r.1.y" in ids and "forward" not in ids  # PyTorch refuses `forward`
    assert "relu_1" in ids  # the chain's ops keep their names


def test_every_back_end_sees_the_name():
    model = archc.loads(SPEC)
    assert "self.e2 = ResBlock(" in model.to_source()
    assert "\ne2 " in model.summary() and "e2.y" in model.summary()
    from archc.backends.diagram.model import build
    assert "e2" in build(model, depth=0).nodes


def test_an_output_of_one_call_and_an_inline_block():
    model = archc.loads("""
model M
block Body()(x) {
  return x -> conv2d(4, 1, name=inner)
}
input x: [N, 3, 8, 8]
h = x -> Body(inline=true)
output logits = h -> conv2d(2, 1)
""")
    assert [n.id for n in model.graph.layers()] == ["x", "inner", "logits"]
