"""DOT text: deterministic, golden for the reference graphs, and each drawing rule."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from google.protobuf import text_format

from rnngraph.graphdef import protos
from rnngraph.errors import UsageError
from rnngraph.graphdef.walk import walk
from rnngraph.draw.dot import RenderOptions, format_shape, to_dot

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_graph(name):
    return walk(text_format.Parse((FIXTURES / name).read_text(), protos.GraphDef()))


def test_format_shape():
    assert format_shape([None, 3]) == "?×3"
    assert format_shape([2, None, 5]) == "2×?×5"
    assert format_shape([]) == "scalar"
    assert format_shape(None) == "?"
    assert format_shape([], "resource") == "resource"


def test_edges_carry_shapes_and_control_edges_are_dashed():
    text = to_dot(fixture_graph("walk_simple.pbtxt"))
    assert '"x" -> "layer/MatMul" [xlabel=" ?×3"];' in text
    assert '"layer/MatMul" -> "layer/add" [xlabel=" ?×2"];' in text
    assert re.search(r'"init" -> "layer/add" \[style=dashed', text)
    assert 'subgraph "cluster::layer" {' in text


def test_single_use_constants_fold_into_their_consumer_unless_asked():
    folded = to_dot(fixture_graph("walk_simple.pbtxt"))
    assert '"layer/W" [' not in folded
    assert "[[0.5,0.5]" not in folded  # a matrix is shown by its shape, not its first values
    assert "W = 3×2 float32" in folded
    assert "b = [1.0,2.0]" in folded
    shown = to_dot(fixture_graph("walk_simple.pbtxt"), RenderOptions(show_consts=True))
    assert '"layer/W" [' in shown and '"layer/W" -> "layer/MatMul"' in shown


def test_loop_back_edge_is_drawn_against_the_flow():
    text = to_dot(fixture_graph("walk_while_v1.pbtxt"))
    # NextIteration -> Merge is emitted as Merge -> NextIteration with the arrow at Merge.
    assert re.search(r'"loop/Merge" -> "loop/NextIteration" \[[^]]*dir=back', text)
    assert '"loop/NextIteration" -> "loop/Merge"' not in text
    assert "while loop (frame while_context)" in text


def test_depth_collapses_deep_scopes_into_counted_boxes():
    text = to_dot(fixture_graph("walk_while_v1.pbtxt"), RenderOptions(depth=0))
    assert '"scope::loop" [shape=box3d' in text
    assert "loop\\n11 ops" in text  # every node under loop/, constants included
    assert '"start" -> "scope::loop" [xlabel=" scalar"];' in text  # outside: not folded away
    assert '"scope::loop" -> "result" [xlabel=" ?"];' in text  # the fixture records no shape
    assert '"loop/Merge"' not in text
    with pytest.raises(UsageError, match="depth must be an integer >= 0"):
        RenderOptions(depth=-1)


def test_focus_nodes_restrict_the_drawing_and_annotations_are_notes():
    graph = fixture_graph("walk_while_v1.pbtxt")
    options = RenderOptions(focus_nodes=frozenset({"loop/Merge", "loop/Enter"}),
                            annotations={"loop/Merge": "Merge: takes Enter first"},
                            labels={"loop/Enter": "loop var: i"})
    text = to_dot(graph, options)
    assert '"loop/Switch"' not in text
    assert '"note::loop/Merge" [shape=note' in text and "Merge: takes Enter first" in text
    assert "loop var: i" in text


def test_colour_by_device_uses_a_legend_of_devices():
    text = to_dot(fixture_graph("walk_simple.pbtxt"), RenderOptions(color_by="device"))
    assert "/device:CPU:0" in text and "(no device)" in text
    with pytest.raises(UsageError, match="unknown colouring 'rainbow'"):
        RenderOptions(color_by="rainbow")


@pytest.mark.tf
@pytest.mark.parametrize("kind", ["dynamic", "static"])
def test_reference_graphs_match_their_golden_dot(walked, golden, kind):
    text = to_dot(walked(kind=kind, steps=2))
    assert text == to_dot(walked(kind=kind, steps=2))  # same arguments, same bytes
    golden(f"{kind}-rnn-2.dot", text)


@pytest.mark.tf
def test_rebuilding_gives_byte_identical_dot():
    from rnngraph.model.builder import build_graph
    from rnngraph.model.spec import ModelSpec

    first = to_dot(walk(build_graph(ModelSpec(cell="lstm"))))
    second = to_dot(walk(build_graph(ModelSpec(cell="lstm"))))
    assert first == second


@pytest.mark.tf
@pytest.mark.dot
def test_dot_lays_out_the_dynamic_graph_into_svg(walked, tmp_path):
    text = to_dot(walked(kind="dynamic", steps=2))
    result = subprocess.run([shutil.which("dot"), "-Tsvg"], input=text.encode(), capture_output=True,
                            check=True, timeout=120)
    svg = result.stdout.decode()
    assert svg.startswith("<?xml") and "</svg>" in svg
    boxes = re.findall(r'^\s*"[^"]+" \[', text, flags=re.M)
    assert svg.count('class="node"') == len(boxes) > 60  # initializers hidden
    assert "rnn/while/LoopCond" in svg  # tooltips carry the full names


def _series_graph():
    nodes = ['node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }']
    for i in range(6):
        name = "s/add" if i == 0 else f"s/add_{i}"
        nodes.append(f'node {{ name: "{name}" op: "AddV2" input: "x" input: "x" }}')
    previous = "x"
    for i in range(6):
        name = "c/mul" if i == 0 else f"c/mul_{i}"
        nodes.append(f'node {{ name: "{name}" op: "Mul" input: "{previous}" input: "x" }}')
        previous = name
    return walk(text_format.Parse("\n".join(nodes), protos.GraphDef()))


def test_op_series_are_grouped_but_chains_are_not():
    graph = _series_graph()
    text = to_dot(graph, RenderOptions(group_series=True, aux_threshold=None))
    assert '"series::s::add::AddV2" [shape=box3d' in text and "add_[0-5]\\nAddV2 ×6" in text
    assert '"s/add_3" [' not in text
    assert '"c/mul_3" [' in text  # mul, mul_1, ... feed each other: grouping would hide the order
    assert '"x" -> "series::s::add::AddV2" [xlabel=" ? ×12"' in text


def test_nodes_read_by_many_are_drawn_once_with_a_count():
    graph = _series_graph()
    text = to_dot(graph, RenderOptions(aux_threshold=10))
    assert "read by 12 ops (edges not drawn)" in text
    assert '"x" -> ' not in text
    assert '"x" -> "s/add"' in to_dot(graph, RenderOptions(aux_threshold=None))
