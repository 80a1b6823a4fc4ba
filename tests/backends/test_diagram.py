"""`archc draw`: the DOT structure of the zoo's U-Net, ResNet-18 and GoogLeNet at each depth,
edge labels against the inferred shapes, skip edges, determinism, and rendering with and without
Graphviz's `dot`."""
import importlib
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import archc
from archc.backends import diagram
from archc.backends.diagram.dot import quote
from archc.backends.diagram.layout import columns
from archc.backends.report import rows
from archc.ops.base import fmt_shape

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SVG = "{http://www.w3.org/2000/svg}"

_MODELS: dict = {}


def load(name: str) -> "archc.Model":
    if name not in _MODELS:
        _MODELS[name] = archc.load(SPECS / name)
    return _MODELS[name]


def cli(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)],
                          capture_output=True, cwd=cwd, env=env)


def needs_dot():
    """Rendering tests run wherever `dot` is; CI must have it (make setup installs it)."""
    if shutil.which("dot"):
        return
    if os.environ.get("CI") or os.environ.get("ARCHC_REQUIRE_DOT"):
        pytest.fail("Graphviz's dot is not installed, and CI must render diagrams (make setup installs it)")
    pytest.skip("Graphviz's dot is not installed (apt-get install graphviz): rendering not tested here")


# ----------------------------------------------------------------------------- reading our DOT


def _attrs(text: str) -> dict:
    """`k="v", k=<html>` → dict (values unescaped; HTML labels kept with their brackets)."""
    out, i = {}, 0
    key = re.compile(r"\s*,?\s*(\w+)=")
    while True:
        m = key.match(text, i)
        if not m:
            break
        k, i = m.group(1), m.end()
        if text[i] == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out[k] = re.sub(r"\\(.)", r"\1", text[i + 1:j])
            i = j + 1
        else:
            assert text[i] == "<", text[i:i + 40]
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out[k] = text[i:j]
            i = j
    assert text[i:].strip() == "", f"unparsed: {text[i:i + 60]!r}"
    return out


ID = r'"((?:[^"\\]|\\.)*)"'


def _scope_of(cluster: str) -> str:
    return re.sub(r"#\d+$", "", cluster)


class Dot:
    """Our DOT output, read back: nodes (with their cluster path), clusters and edges as drawn
    (tail → head in data-flow direction, whatever way they were declared for the layout)."""

    def __init__(self, text: str):
        self.text = text
        self.graph: dict = {}
        self.nodes: dict[str, dict] = {}
        self.node_cluster: dict[str, tuple[str, ...]] = {}  # the scopes' clusters around it
        self.node_piece: dict[str, tuple[str, ...]] = {}  # the same, as drawn (column pieces)
        self.node_column: dict[str, int | None] = {}  # the column it is drawn in (a wrapped drawing)
        self.clusters: dict[str, dict] = {}  # as drawn: a scope over several columns is one per column
        self.same_rank: list[list[str]] = []
        self.edges: list[dict] = []
        stack: list[str] = []
        lines = text.splitlines()
        assert lines[0].startswith("digraph ") and lines[-1] == "}"
        for line in lines[1:-1]:
            if m := re.fullmatch(r"\s*subgraph " + ID + r" \{", line):
                stack.append(m.group(1))
                self.clusters[m.group(1)] = {}
            elif re.fullmatch(r"\s*\}", line):
                stack.pop()
            elif m := re.fullmatch(r"\s*graph \[(.*)\];", line):
                (self.clusters[stack[-1]] if stack else self.graph).update(_attrs(m.group(1)))
            elif re.fullmatch(r"\s*(node|edge) \[.*\];", line):
                continue
            elif m := re.fullmatch(r"\s*\{ rank=same; (.*) \}", line):
                self.same_rank.append(re.findall(ID, m.group(1)))
            elif m := re.fullmatch(r"\s*" + ID + " -> " + ID + r" \[(.*)\];", line):
                a = _attrs(m.group(3))
                tail, head = m.group(1), m.group(2)
                if a.get("dir") == "back":
                    tail, head = head, tail
                self.edges.append({"tail": tail, "head": head, **a})
            elif m := re.fullmatch(r"\s*" + ID + r" \[(.*)\];", line):
                self.nodes[m.group(1)] = _attrs(m.group(2))
                scopes = [c for c in stack if not c.startswith("cluster_column:")]
                self.node_cluster[m.group(1)] = tuple(_scope_of(c) for c in scopes)
                self.node_piece[m.group(1)] = tuple(scopes)
                self.node_column[m.group(1)] = next((int(c.split(":")[1]) for c in stack
                                                     if c.startswith("cluster_column:")), None)
            else:
                raise AssertionError(f"unexpected DOT line: {line!r}")
        assert not stack
        # a wrapped drawing's joint: the tensor runs from its layer down to `joint:K:out`, up the
        # gap from there to `joint:K:in`, and from there into the next column's layers
        self.joint_tail = {f"joint:{e['id'].split(':')[1]}:in": e["tail"] for e in self.edges
                           if e["class"] == "joint" and e["id"].endswith(":down")}

    @property
    def scopes(self) -> set[str]:
        """The scopes drawn as clusters (`cluster_layer3#2`, a column's piece of layer3, is layer3)."""
        return {_scope_of(c) for c in self.clusters if not c.startswith("cluster_column:")}

    @property
    def visible_nodes(self) -> dict[str, dict]:
        """What the SVG shows: the invisible anchors that order the columns are not drawn."""
        return {k: v for k, v in self.nodes.items() if v.get("style") != "invis"}

    @property
    def visible_edges(self) -> list[dict]:
        return [e for e in self.edges if e.get("style") != "invis"]

    @property
    def drawn_nodes(self) -> dict[str, dict]:
        return {k: v for k, v in self.nodes.items() if v.get("class") not in ("junction", "anchor", "joint")}

    @property
    def tensor_edges(self) -> list[dict]:
        """One per tensor and consumer: the edges with an `edge:TENSOR:HEAD` id (a flat edge
        between clusters is drawn through a junction point; its first half carries the id)."""
        out = []
        for e in self.edges:
            if e["class"] in ("continuation", "order", "joint"):
                continue
            _, tensor, head = e["id"].split(":", 2)
            out.append({**e, "tensor": tensor, "head": head, "via_junction": e["head"].startswith("junction:"),
                        "tail": self.joint_tail.get(e["tail"], e["tail"]), "via_joint": e["tail"] in self.joint_tail,
                        "shape": e["label"] if "label" in e else e["xlabel"]})
        return out

    def skips(self) -> list[dict]:
        return [e for e in self.tensor_edges if e["class"] == "skip"]


def dot_of(spec: str, depth=None, rankdir="TB") -> Dot:
    """The DOT at `depth` (None: every layer)."""
    return Dot(diagram.render_dot(load(spec), "all" if depth is None else depth, rankdir))


def drawn_id(model, layer_id: str, depth) -> str:
    """Where a layer is drawn at `depth`: itself, or the block instance collapsing it (the
    summary's rule: top-level items are level 0; scopes at level >= depth are collapsed)."""
    scope = model.graph.node(layer_id).scope
    if depth is None or len(scope) <= depth:
        return layer_id
    return ".".join(scope[:depth + 1])


# ----------------------------------------------------------------------------- structure

CASES = [
    # spec, depth, drawn nodes (layers + collapsed blocks + output terminals), clusters, skip edges
    ("unet_keras.arch", 0, 18, 0, 4),
    ("unet_keras.arch", 1, 62, 9, 4),
    ("unet_keras.arch", None, 62, 9, 4),
    ("resnet18.arch", 0, 13, 0, 0),
    ("resnet18.arch", 1, 17, 4, 0),
    ("resnet18.arch", 2, 68, 12, 11),  # blocks open, downsample sequentials collapsed
    ("resnet18.arch", None, 71, 15, 14),
    ("googlenet.arch", 0, 22, 0, 0),
    ("googlenet.arch", 1, 64, 12, 0),
    ("googlenet.arch", None, 199, 93, 0),
]


@pytest.mark.parametrize("spec,depth,n_nodes,n_clusters,n_skips", CASES,
                         ids=[f"{c[0]}-depth{c[1]}" for c in CASES])
def test_nodes_clusters_and_skips_at_each_depth(spec, depth, n_nodes, n_clusters, n_skips):
    model = load(spec)
    dot = dot_of(spec, depth)
    assert len(dot.drawn_nodes) == n_nodes
    assert len(dot.scopes) == n_clusters
    assert len(dot.skips()) == n_skips
    # the same depth rule as `archc summary --depth`: its scope rows that are not expanded are
    # our block nodes, the expanded ones our clusters, its layer rows our layer nodes
    table = list(rows(model, depth))
    scopes = [r for r in table if r.is_scope]
    expanded = {r.id for r in scopes if any(o.id.startswith(r.id + ".") for o in table)}
    assert {c.removeprefix("cluster_") for c in dot.scopes} == expanded
    layer_and_block_rows = {r.id for r in table if not r.is_scope or r.id not in expanded}
    outputs = {f"output:{name}" for name in model.graph.outputs}
    assert set(dot.drawn_nodes) == layer_and_block_rows | outputs
    # every node sits in the cluster of its enclosing expanded scope
    for node_id, path in dot.node_cluster.items():
        if node_id in layer_and_block_rows:
            parent = node_id.rsplit(".", 1)[0] if "." in node_id else ""
            expected = [c for c in expanded if parent == c or parent.startswith(c + ".")]
            assert (path[-1].removeprefix("cluster_") if path else None) == \
                (max(expected, key=len) if expected else None), node_id


@pytest.mark.parametrize("spec", ["unet_keras.arch", "resnet18.arch", "googlenet.arch"])
@pytest.mark.parametrize("depth", [0, 1, None])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_every_edge_is_a_tensor_labelled_with_its_inferred_shape(spec, depth, rankdir):
    model = load(spec)
    dot = dot_of(spec, depth, rankdir)
    drawn = set(dot.drawn_nodes)
    seen = set()
    for e in dot.tensor_edges:
        tensor = e["tensor"]
        assert e["shape"] == fmt_shape(model.shapes[tensor]), e["id"]
        assert e["tail"] == drawn_id(model, tensor, depth), e["id"]
        assert e["head"] in drawn and e["head"] != e["tail"]
        seen.add((tensor, e["head"]))
    # and every tensor crossing between two drawn nodes has its edge, exactly once
    expected = set()
    for node in model.graph.layers():
        for src in node.inputs:
            if drawn_id(model, src, depth) != drawn_id(model, node.id, depth):
                expected.add((src, drawn_id(model, node.id, depth)))
    for name, node_id in model.graph.outputs.items():
        expected.add((node_id, f"output:{name}"))
    assert seen == expected
    assert len(dot.tensor_edges) == len(expected)


def test_unet_skips_are_the_four_encoder_decoder_concats():
    model = load("unet_keras.arch")
    full = dot_of("unet_keras.arch")
    assert sorted((e["tail"], e["head"]) for e in full.skips()) == [
        ("c1.relu_1", "c9.concat"), ("c2.relu_1", "c8.concat"),
        ("c3.relu_1", "c7.concat"), ("c4.relu_1", "c6.concat")]
    collapsed = dot_of("unet_keras.arch", 0)
    assert sorted((e["tail"], e["head"]) for e in collapsed.skips()) == [
        ("c1", "c9"), ("c2", "c8"), ("c3", "c7"), ("c4", "c6")]
    assert all(model.graph.node(e["head"]).op.name == "concat" for e in full.skips())


def test_unet_is_laid_out_as_a_u():
    """Ranks are resolution levels: each skip joins two nodes of one rank, the encoder goes down
    (pooling between rows) and the decoder comes back up (upsampling declared against the rank
    order, drawn with dir=back)."""
    for depth, rankdir in ((0, "LR"), (None, "LR"), (None, "TB")):
        dot = dot_of("unet_keras.arch", depth, rankdir)
        assert dot.graph["rankdir"] == "TB"  # rows of resolution levels, read left to right
        continuations = {e["id"]: e for e in dot.edges if e["class"] == "continuation"}
        for e in dot.skips():
            if e["via_junction"]:  # down one rank into a point, and back up one rank
                back = continuations["continuation:" + e["id"].removeprefix("edge:")]
                assert e["minlen"] == back["minlen"] == "1" and back["dir"] == "back"
            else:
                assert e["minlen"] == "0"
        ups = {(e["tail"], e["head"]) for e in dot.edges if e.get("dir") == "back" and e["class"] != "continuation"}
        if depth == 0:
            assert ups == {("c5", "c6"), ("c6", "c7"), ("c7", "c8"), ("c8", "c9")}
        else:  # each Up block's transposed convolution, in and out
            graph = load("unet_keras.arch").graph
            tconv = {k: next(n.id for n in graph.nodes_under((f"c{k}",)) if n.op.name == "conv_transpose2d")
                     for k in (6, 7, 8, 9)}
            assert ups == {(f"c{k}.relu_1", tconv[k + 1]) for k in (5, 6, 7, 8)} | \
                {(tconv[k], f"c{k}.concat") for k in (6, 7, 8, 9)}
    assert dot_of("unet_keras.arch", 0, "TB").graph["rankdir"] == "TB"  # upright whatever the reading direction


def test_resnet18_residual_skips():
    model = load("resnet18.arch")
    dot = dot_of("resnet18.arch")
    into_adds = [e for e in dot.skips() if model.graph.node(e["head"]).op.name == "add"]
    assert len(into_adds) == 8  # one shortcut per BasicBlock
    pairs = {(e["tail"], e["head"]) for e in dot.skips()}
    assert ("maxpool", "layer1.0.add") in pairs  # identity
    assert ("layer1.0.relu_out", "layer1.1.add") in pairs
    # projection shortcut: the whole downsample branch
    assert {("layer1.1.relu_out", "layer2.0.downsample.0"), ("layer2.0.downsample.0", "layer2.0.downsample.1"),
            ("layer2.0.downsample.1", "layer2.0.add")} <= pairs
    assert not any(e["head"].endswith(("conv1", "bn1", "conv2", "bn2")) for e in dot.skips())
    # with the downsample sequentials collapsed, the branch goes through the collapsed node
    pairs2 = {(e["tail"], e["head"]) for e in dot_of("resnet18.arch", 2).skips()}
    assert {("layer1.1.relu_out", "layer2.0.downsample"), ("layer2.0.downsample", "layer2.0.add")} <= pairs2


def test_googlenet_inception_branches_are_not_skips():
    for depth in (0, 1, None):
        assert dot_of("googlenet.arch", depth).skips() == []


def test_node_labels_show_name_op_attributes_and_params():
    dot = dot_of("resnet18.arch", 1)
    conv1 = dot.nodes["conv1"]
    assert conv1["class"] == "conv"
    assert "<B>conv1</B>" in conv1["label"] and "conv2d 64, 7×7, s2, p3" in conv1["label"]
    assert "9.41 K params" in conv1["label"]
    block = dot.nodes["layer2.0"]
    assert block["class"] == "block"
    for text in ("<B>layer2.0</B>", "BasicBlock", "230.14 K params", "[N, 64, 56, 56] → [N, 128, 28, 28]"):
        assert text in block["label"]
    assert dot.nodes["x"]["class"] == "input" and dot.nodes["output:logits"]["class"] == "output"
    assert "2 × BasicBlock" in dot.clusters["cluster_layer1"]["label"]
    # one colour per op family, a different one for each family
    fills: dict[str, set] = {}
    for spec in ("resnet18.arch", "googlenet.arch", "unet_keras.arch"):
        for node in dot_of(spec).drawn_nodes.values():
            fills.setdefault(node["class"], set()).add(node["fillcolor"])
    assert all(len(f) == 1 for f in fills.values()), fills
    families = {k: next(iter(f)) for k, f in fills.items() if k not in ("input", "output")}
    assert len(set(families.values())) == len(families) >= 7, families


def test_resnet152_at_depth_1_fits_on_a_page():
    dot = dot_of("resnet152.arch", 1)
    assert len(dot.drawn_nodes) == 59  # 50 bottlenecks, the stem, the head, input and output
    # wrapped into columns, every one read top to bottom: no edge is drawn against the flow,
    # none is flat; each column's end is joined to the next one's top by a joint
    assert not [e for e in dot.edges if e.get("dir") == "back" or e.get("minlen") == "0"]
    n_cols = len({c for c in dot.node_column.values() if c is not None})
    assert n_cols >= 3
    assert len([n for n, a in dot.nodes.items() if a["class"] == "joint"]) == 2 * (n_cols - 1)


def test_dot_is_byte_identical_across_runs_and_hash_seeds(tmp_path):
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = tmp_path / f"u{seed}.dot"
        proc = cli("draw", SPECS / "unet_keras.arch", "-o", out, "--depth", "0", "--rankdir", "LR", env=env)
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].decode() == diagram.render_dot(load("unet_keras.arch"), 0, "LR")
    assert diagram.render_dot(load("googlenet.arch")) == diagram.render_dot(archc.load(SPECS / "googlenet.arch"))


def test_spec_text_cannot_break_the_dot():
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    model = archc.load(SPECS / "resnet18.arch")
    model.graph.name = 'we"ird <b>name</b> & \\ "co"'
    text = diagram.render_dot(model, 0)
    dot = Dot(text)
    assert dot.graph["id"] == 'graph:we"ird <b>name</b> & \\ "co"'
    assert "we&quot;ird &lt;b&gt;name&lt;/b&gt; &amp; \\ &quot;co&quot;" in dot.graph["label"]
    if shutil.which("dot"):
        proc = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True)
        assert proc.returncode == 0 and not proc.stderr, proc.stderr


# ----------------------------------------------------------------------------- CLI and rendering


def test_dot_needs_no_graphviz_program(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` anywhere
    out = tmp_path / "r.dot"
    proc = cli("draw", SPECS / "resnet18.arch", "-o", out, "--depth", "1", env=env)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == diagram.render_dot(load("resnet18.arch"), 1)
    proc = cli("draw", SPECS / "resnet18.arch", "--depth", "0", env=env)  # stdout
    assert proc.returncode == 0 and proc.stdout.decode().startswith('digraph "ResNet18" {')


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_missing_dot_is_one_clean_error_and_no_file(tmp_path, suffix):
    env = {**os.environ, "PATH": str(tmp_path)}
    out = tmp_path / "out" / f"r.{suffix}"
    proc = cli("draw", SPECS / "resnet18.arch", "-o", out, env=env)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert f"rendering {suffix.upper()} needs Graphviz's `dot` program" in err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err and ".dot" in err
    assert "Traceback" not in err and len(err.splitlines()) == 2
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_missing_dot_in_process(monkeypatch, tmp_path, capsys):
    from archc.cli import main
    # the module, not `diagram.render` (the function of that name shadows it on the package)
    monkeypatch.setattr(importlib.import_module("archc.backends.diagram.render"), "find_dot", lambda: None)
    assert main(["draw", str(SPECS / "unet_keras.arch"), "-o", str(tmp_path / "u.svg")]) == 1
    assert "needs Graphviz's `dot` program" in capsys.readouterr().err
    assert not (tmp_path / "u.svg").exists()
    assert main(["draw", str(SPECS / "unet_keras.arch"), "-o", str(tmp_path / "u.gv")]) == 0
    assert (tmp_path / "u.gv").read_text().startswith('digraph "UNetKeras"')


def test_format_from_suffix_or_flag(tmp_path):
    proc = cli("draw", SPECS / "resnet18.arch", "-o", tmp_path / "r.jpg")
    assert proc.returncode == 1 and b"cannot tell the diagram format" in proc.stderr
    assert not (tmp_path / "r.jpg").exists()
    proc = cli("draw", SPECS / "resnet18.arch", "-o", tmp_path / "r.txt", "--format", "dot", "--rankdir", "LR")
    assert proc.returncode == 0
    assert Dot((tmp_path / "r.txt").read_text()).graph["rankdir"] == "LR"
    proc = cli("draw", SPECS / "resnet18.arch", "--rankdir", "BT")
    assert proc.returncode == 2


def _svg_items(svg: bytes) -> tuple[dict, list, list]:
    root = ET.fromstring(svg)
    nodes, clusters, edges = {}, [], []
    for g in root.iter(SVG + "g"):
        classes = (g.get("class") or "").split()
        title = g.findtext(SVG + "title")
        if "node" in classes:
            nodes[title] = g
        elif "cluster" in classes:
            clusters.append(g)
        elif "edge" in classes:
            edges.append(g)
    return nodes, clusters, edges


def _center(g) -> tuple[float, float]:
    nums = []
    for el in g.iter():
        if el.tag == SVG + "ellipse":  # a point
            nums += [float(el.get("cx")), float(el.get("cy"))]
        elif el.tag in (SVG + "path", SVG + "polygon"):
            text = el.get("d") or el.get("points") or ""
            nums += [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]
    xs, ys = nums[0::2], nums[1::2]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


@pytest.mark.parametrize("spec,depth,rankdir", [("unet_keras.arch", 0, "LR"), ("unet_keras.arch", None, "LR"),
                                                ("unet_keras.arch", 0, "TB"), ("unet_original.arch", None, "TB"),
                                                ("resnet18.arch", 1, "TB"), ("resnet18.arch", None, "TB"),
                                                ("googlenet.arch", 1, "TB"), ("resnet152.arch", 1, "TB")])
def test_rendered_svg_has_the_structure_of_the_dot(tmp_path, spec, depth, rankdir):
    needs_dot()
    out = tmp_path / "d.svg"
    args = ["draw", SPECS / spec, "-o", out, "--rankdir", rankdir, "--depth", "all" if depth is None else depth]
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    dot = dot_of(spec, depth, rankdir)
    nodes, clusters, edges = _svg_items(out.read_bytes())
    assert set(nodes) == set(dot.visible_nodes)  # junction points included
    assert len(clusters) == len(dot.clusters)
    assert {g.get("id") for g in clusters} == {c["id"] for c in dot.clusters.values()}
    assert len(edges) == len(dot.visible_edges)
    # each edge is drawn once (dot draws a flat edge between two clusters twice; we avoid those)
    assert all(len(list(g.iter(SVG + "path"))) == 1 for g in edges)
    svg_skips = {g.get("id") for g in edges if "skip" in (g.get("class") or "").split()}
    assert svg_skips == {e["id"] for e in dot.skips()}
    labels = {g.get("id"): [t.text for t in g.iter(SVG + "text")] for g in edges}
    for e in dot.tensor_edges:
        assert labels[e["id"]] == [e["shape"]]
    x = {k: _center(g)[0] for k, g in nodes.items()}
    y = {k: _center(g)[1] for k, g in nodes.items()}  # SVG y grows downward
    if spec == "unet_keras.arch" and depth == 0:  # a U: skips straight across, encoder down, decoder up
        for enc, dec in [("c1", "c9"), ("c2", "c8"), ("c3", "c7"), ("c4", "c6")]:
            assert abs(y[enc] - y[dec]) < 1 and x[enc] < x[dec]
        assert y["c1"] < y["c2"] < y["c3"] < y["c4"] < y["c5"]
        assert y["c5"] > y["c6"] > y["c7"] > y["c8"] > y["c9"]
        assert x["x"] < x["c1"] < x["c5"] < x["c9"] < x["output:mask"]
    if spec == "unet_original.arch":  # every layer, still a U: one row per level, each read left to right
        levels = [("down1", "up1"), ("down2", "up2"), ("down3", "up3"), ("down4", "up4")]
        for enc, dec in levels:
            assert abs(y[f"{enc}.relu2"] - y[f"{dec}.concat"]) < 1  # the skip runs straight across
            assert x[f"{enc}.conv1"] < x[f"{enc}.relu1"] < x[f"{enc}.conv2"] < x[f"{enc}.relu2"] < x[f"{dec}.concat"]
            assert x[f"{dec}.concat"] < x[f"{dec}.conv1"] < x[f"{dec}.relu1"] < x[f"{dec}.conv2"] < x[f"{dec}.relu2"]
        rows = [y[f"{enc}.conv1"] for enc, _ in levels] + [y["bottom.conv1"]]
        assert rows == sorted(rows) and len(set(rows)) == 5  # the encoder goes down, a row per level
        ups = [y[f"{dec}.relu2"] for _, dec in levels] + [y["bottom.relu2"]]
        assert ups == sorted(ups) and len(set(ups)) == 5  # the decoder comes back up
        assert x["x"] < x["down1.conv1"] and x["up1.relu2"] < x["head"] < x["output:logits"]
    if spec == "resnet152.arch":  # the snake of 59 nodes is page-shaped
        root = ET.fromstring(out.read_bytes())
        w, h = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
        assert 0.7 < h / w < 2.0


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")])
def test_png_and_pdf(tmp_path, fmt, magic):
    needs_dot()
    out = tmp_path / f"u.{fmt}"
    proc = cli("draw", SPECS / "unet_keras.arch", "-o", out, "--depth", "0", "--rankdir", "LR")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(magic)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_static_commands_do_not_import_graphviz():
    code = ("import sys, archc; m = archc.load('specs/resnet18.arch'); m.summary(); import archc.cli; "
            "from archc.backends import diagram; diagram.render_dot(m, 1); "
            "assert 'graphviz' not in sys.modules, 'graphviz imported'; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "ok", proc.stderr


# ----------------------------------------------------------------------------- deep nets at full depth


def _snake(spec: str):
    d = diagram.build(load(spec), None)
    return d, columns(d)


@pytest.mark.parametrize("spec,min_columns", [("resnet152.arch", 6), ("torchvision/convnext_tiny.arch", 3),
                                              ("torchvision/densenet121.arch", 4),
                                              ("torchvision/regnet_x_800mf.arch", 3)])
def test_deep_nets_at_full_depth_wrap_into_columns(spec, min_columns):
    """Residual units, dense blocks and layer-scale parameters do not stop the wrapping: a cut
    goes where one tensor crosses (a unit's input feeding its first layer and its shortcut)."""
    d, cols = _snake(spec)
    assert cols is not None
    n = max(cols.column.values()) + 1
    assert n >= min_columns
    # the columns follow the data flow, and no block that fits in a column is cut
    for e in d.edges:
        assert cols.column[e.tail] <= cols.column[e.head] <= cols.column[e.tail] + 1
    # one tensor crosses each cut
    for k in range(n - 1):
        tails = {e.tail for e in d.edges if cols.column[e.tail] == k and cols.column[e.head] == k + 1}
        assert len(tails) == 1, (k, tails)
    dot = Dot(diagram.to_dot(d))
    # a cluster over several columns is one box per column, its later pieces say "(continued)"
    pieces = [c for c in dot.clusters if "#" in c]
    assert pieces
    for c in pieces:
        first = min((p for p in dot.clusters if _scope_of(p) == _scope_of(c)), key=lambda p: int(p.split("#")[1]))
        assert ("(continued)" in dot.clusters[c]["label"]) == (c != first)
    for node, path in dot.node_piece.items():  # every node of a piece is in that piece's column
        for p in path:
            if "#" in p and node in cols.column:
                assert cols.column[node] == int(p.split("#")[1])


def _pdf_page(data: bytes) -> tuple[float, float]:
    x0, y0, x1, y1 = map(float, re.search(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", data).groups())
    return x1 - x0, y1 - y0


def test_resnet152_at_full_depth_is_page_shaped_columns(tmp_path):
    """Not a 32,767-pixel strip scaled down: the drawing's sides stay below Graphviz's bitmap
    limit (32,767 px at 96 dpi) and PDF's page limit (200 in), and it is page-shaped, its
    columns side by side from left to right."""
    needs_dot()
    out = tmp_path / "r.svg"
    proc = cli("draw", SPECS / "resnet152.arch", "-o", out, "--depth", "all")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""  # nothing scaled, nothing tangled
    root = ET.fromstring(out.read_bytes())
    w, h = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert max(w, h) < 14400 and 1.0 < h / w < 2.2, (w, h)
    spans = _column_spans("resnet152.arch", None, out.read_bytes())
    assert len(spans) >= 6
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), spans  # left to right, apart
    pdf = tmp_path / "r.pdf"
    proc = cli("draw", SPECS / "resnet152.arch", "-o", pdf, "--depth", "all")
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    pw, ph = _pdf_page(pdf.read_bytes())
    assert max(pw, ph) < 14400 and 1.0 < ph / pw < 2.2


def test_graphviz_warnings_reach_the_user(monkeypatch, tmp_path, capsys):
    """dot's stderr is not swallowed: a bitmap too large for Graphviz is scaled down, and says so."""
    needs_dot()
    from archc.cli import main
    huge = 'digraph "big" { a [width=600, height=1, label="wide"]; }\n'
    with pytest.warns(diagram.GraphvizWarning, match="too large for cairo-renderer bitmaps"):
        assert diagram.render(huge, "png").startswith(b"\x89PNG")
    monkeypatch.setattr(diagram, "render_dot", lambda model, depth=None, rankdir="TB": huge)
    assert main(["draw", str(SPECS / "lenet5.arch"), "-o", str(tmp_path / "b.png")]) == 0
    err = capsys.readouterr().err
    assert "archc: warning[W-DRAW-GRAPHVIZ]: Graphviz: graph is too large for cairo-renderer bitmaps. " \
           "Scaling by" in err and "  hint: " in err
    assert (tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")
    # a failure of dot is one error, and no file
    monkeypatch.setattr(diagram, "render_dot", lambda model, depth=None, rankdir="TB": "digraph { a -> }\n")
    assert main(["draw", str(SPECS / "lenet5.arch"), "-o", str(tmp_path / "c.svg")]) == 1
    err = capsys.readouterr().err
    assert "error[E-DRAW-RENDER-FAILED]: Graphviz's dot failed to render the diagram: " in err
    assert "syntax error" in err
    assert "Traceback" not in err and not (tmp_path / "c.svg").exists()


def _column_spans(spec: str, depth, svg: bytes) -> list[tuple[float, float]]:
    d = diagram.build(load(spec), depth)
    cols = columns(d)
    nodes, _, _ = _svg_items(svg)
    xs: dict[int, list[float]] = {}
    for node_id, g in nodes.items():
        if node_id in cols.column:
            xs.setdefault(cols.column[node_id], []).append(_center(g)[0])
    return [(min(v), max(v)) for _, v in sorted(xs.items())]


@pytest.mark.parametrize("spec,depth", [("resnet18.arch", None), ("resnet101.arch", None),
                                        ("torchvision/inception_v3.arch", None), ("googlenet.arch", 1),
                                        ("torchvision/mobilenet_v3_large.arch", None)])
def test_columns_read_left_to_right(spec, depth):
    """dot's crossing minimisation alone may swap columns (both orders cross as little) or
    mirror the whole snake: anchors chained above the columns keep them in reading order."""
    needs_dot()
    text = diagram.render_dot(load(spec), "all" if depth is None else depth)
    dot = Dot(text)
    anchors = [n for n, a in dot.nodes.items() if a["class"] == "anchor"]
    assert len(dot.same_rank) == 1 and len(anchors) >= 2
    # the anchors, and between each two the top of the joint from one column into the next
    assert [n for n in dot.same_rank[0] if n in anchors] == anchors
    assert [n for n in dot.same_rank[0] if n not in anchors] == [f"joint:{k}:in" for k in range(len(anchors) - 1)]
    proc = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    spans = _column_spans(spec, depth, proc.stdout)
    assert len(spans) == len(anchors)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), spans


# ----------------------------------------------------------------------------- the default: a page


@pytest.mark.parametrize("spec", ["torchvision/densenet121.arch", "resnet18.arch", "googlenet.arch",
                                  "torchvision/efficientnet_b0.arch", "lenet5.arch"])
def test_box_counts_from_the_scope_tree_are_the_drawn_boxes(spec):
    """The page rule counts boxes per depth without drawing; the counts are what is drawn."""
    model = load(spec)
    counts = diagram.page.node_counts(model)
    assert counts == sorted(counts)
    assert counts == [len(diagram.build(model, d).nodes) for d in range(len(counts))]
    assert counts[-1] == len(diagram.build(model, None).nodes)


def test_densenet121_default_drawing_fits_a_page(tmp_path):
    model = load("torchvision/densenet121.arch")
    choice = diagram.choose_depth(model)
    # depth 1 (the stem, the four dense blocks and three transitions folded, the head) is the
    # deepest that fits: depth 2 draws each of the 58 dense layers, 139 boxes
    assert (choice.depth, choice.nodes, choice.full_nodes, choice.auto) == (1, 18, 429, True)
    assert diagram.page.node_counts(model)[2] > diagram.PAGE_NODES
    assert diagram.render_dot(model) == diagram.render_dot(model, 1) == diagram.render_dot(model, "auto")
    assert diagram.render_dot(model, "all") == diagram.to_dot(diagram.build(model, None))
    needs_dot()
    root = ET.fromstring(model.draw(format="svg"))
    w, h = (float(root.get(k).removesuffix("pt")) * 96 / 72 for k in ("width", "height"))  # pixels
    assert w <= 1600 and h <= 2100, (w, h)  # about 1,500 × 2,000 px: a page


@pytest.mark.parametrize("spec,depth", [("resnet18.arch", None), ("resnet152.arch", 1), ("googlenet.arch", 1),
                                        ("unet_keras.arch", None), ("torchvision/convnext_tiny.arch", 2),
                                        ("torchvision/inception_v3.arch", 0), ("vgg16.arch", None)])
def test_default_depth_is_the_deepest_that_fits_a_page(spec, depth):
    model = load(spec)
    choice = diagram.choose_depth(model)
    counts = diagram.page.node_counts(model)
    assert choice.depth == depth and choice.nodes <= diagram.PAGE_NODES
    if depth is not None:  # one level deeper would not fit
        assert counts[depth + 1] > diagram.PAGE_NODES and choice.note().startswith(f"drawn to depth {depth} ")
    else:  # every layer fits: nothing folded, nothing to say
        assert choice.nodes == choice.full_nodes and choice.note() is None


def test_explicit_depths_mean_what_they_meant():
    model = load("torchvision/densenet121.arch")
    for depth in (0, 1, 2, 3, 7):
        choice = diagram.choose_depth(model, depth)
        assert choice.depth == depth and not choice.auto and choice.note() is None
        assert diagram.render_dot(model, depth) == diagram.to_dot(diagram.build(model, depth))
    assert diagram.choose_depth(model, "all").depth is None
    with pytest.raises(ValueError, match="'all' for every layer"):
        diagram.choose_depth(model, "deep")


def test_cli_says_which_depth_it_chose(tmp_path):
    spec = SPECS / "torchvision/densenet121.arch"
    proc = cli("draw", spec, "-o", tmp_path / "d.dot")
    assert proc.returncode == 0
    assert proc.stderr.decode() == ("archc: note: drawn to depth 1 (18 boxes of 429) to fit a page; "
                                    "--depth all draws every layer, --depth K picks a depth\n")
    assert (tmp_path / "d.dot").read_text() == diagram.render_dot(load("torchvision/densenet121.arch"), 1)
    for args, depth in ((["--depth", "all"], "all"), (["--depth", "2"], 2), (["--depth", "auto"], None)):
        proc = cli("draw", spec, "-o", tmp_path / "e.dot", *args)
        assert proc.returncode == 0
        assert (tmp_path / "e.dot").read_text() == diagram.render_dot(load("torchvision/densenet121.arch"), depth)
        assert (proc.stderr == b"") == (depth is not None)  # a note only when archc chose
    proc = cli("draw", SPECS / "resnet18.arch", "-o", tmp_path / "r.dot")  # every layer fits: no note
    assert proc.returncode == 0 and proc.stderr == b""
    proc = cli("draw", spec, "--depth", "deep")
    assert proc.returncode == 2 and b"expected a number, 'all' or 'auto'" in proc.stderr


@pytest.mark.parametrize("spec,depth", [("resnet152.arch", None), ("torchvision/densenet121.arch", None),
                                        ("resnet152.arch", 1), ("torchvision/efficientnet_b0.arch", 2)])
def test_wrapped_columns_all_read_top_to_bottom(spec, depth):
    """No column runs bottom-up: every edge inside a column is declared in the flow's direction
    (none reversed, none flat), each column's first layer hangs from its anchor at the top, and
    the tensor crossing a cut leaves the bottom of its column (its last layer) and enters the
    top of the next (its first layers) through a joint whose top sits between the two anchors."""
    model = load(spec)
    d = diagram.build(model, depth)
    cols = columns(d)
    assert cols is not None
    dot = Dot(diagram.to_dot(d))
    order = d.topology().index
    assert not [e for e in dot.edges if e.get("dir") == "back" or e.get("minlen") == "0"]
    n_cols = max(cols.column.values()) + 1
    by_column: dict[int, list[str]] = {}
    for n in sorted(cols.column, key=order.get):
        by_column.setdefault(cols.column[n], []).append(n)
    for k in range(n_cols):
        top = next(e for e in dot.edges if e["id"] == f"order:{k}:top")
        assert top["head"] == by_column[k][0]
    row = dot.same_rank[0]
    for k in range(n_cols - 1):
        down = next(e for e in dot.edges if e["id"] == f"joint:{k}:down")
        up = next(e for e in dot.edges if e["id"] == f"joint:{k}:up")
        assert cols.column[down["tail"]] == k and down["head"] == f"joint:{k}:out"
        # the tail is the column's bottom: the only layer of the column read beyond it
        leaving = {e.tail for e in d.edges if cols.column[e.tail] == k and cols.column[e.head] > k}
        assert leaving == {down["tail"]}
        assert (up["tail"], up["head"], up["dir"]) == (f"joint:{k}:in", f"joint:{k}:out", "none")
        assert row.index(f"anchor:{k}") < row.index(f"joint:{k}:in") < row.index(f"anchor:{k + 1}")
        into = [e for e in dot.tensor_edges if e["via_joint"] and e["tail"] == down["tail"]]
        assert into and all(cols.column[e["head"]] == k + 1 for e in into)
        assert by_column[k + 1][0] in {e["head"] for e in into}


def test_unet_at_full_depth_keeps_its_u():
    """Every layer drawn, in both reading directions: one rank per resolution level, each skip
    between two layers of one rank, the decoder's upsampling declared against the rank order."""
    for spec in ("unet_keras.arch", "unet_original.arch"):
        d = diagram.build(load(spec), None)
        assert d.u_layout and columns(d) is None
        for rankdir in ("TB", "LR"):
            dot = Dot(diagram.to_dot(d, rankdir))
            assert dot.graph["rankdir"] == "TB"
            from archc.backends.diagram.layout import u_ranks
            ranks = u_ranks(d)
            skips = dot.skips()
            assert len(skips) == 4
            for e in skips:
                assert ranks[e["tail"]] == ranks[e["head"]]  # straight across
            # encoder down (ranks grow along the contracting path), decoder up (they shrink)
            main = [e for e in dot.tensor_edges if e["class"] == "flow" and d.nodes[e["tail"]].level
                    != d.nodes[e["head"]].level]
            downs = [e for e in main if d.nodes[e["head"]].level > d.nodes[e["tail"]].level]
            ups = [e for e in main if d.nodes[e["head"]].level < d.nodes[e["tail"]].level]
            assert len(downs) >= 4 and len(ups) >= 4
            assert all(e.get("dir") != "back" for e in downs) and all(e.get("dir") == "back" for e in ups)
