"""`run --max-iterations` bounds functional (control flow v2) While loops too (issue 24).

The rewrite (graphdef/loopbound.py: bound_v2_loops) is checked as protobuf here, and against
TensorFlow itself: a v2 loop that never ends stops at the limit with one line naming it; nested
loops are bounded each; ordinary v2 RNN graphs compute bit-identical outputs with the counter.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixtures.make_hostile_run import loop_forever_v2
from test_hostile_run import run

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _parse(text: str):
    from google.protobuf import text_format

    from rnngraph.graphdef import protos

    return text_format.Parse(text, protos.GraphDef())


def _functions(graph_def) -> dict:
    return {f.signature.name: f for f in graph_def.library.function}


def test_a_while_carries_one_more_loop_variable_its_outputs_keep_their_indices():
    from rnngraph.graphdef.loopbound import MARKER, bound_v2_loops

    graph_def = _parse(loop_forever_v2())
    before = graph_def.SerializeToString()
    added, loops, counted = bound_v2_loops(graph_def, 7)
    loop = next(n for n in graph_def.node if n.name == "loop")
    assert loops == {"0": "loop"} and counted == ["loop:1"]
    assert list(loop.input) == ["x", sorted(added)[0]]
    assert [t for t in loop.attr["T"].list.type] == [1, 9]  # float, then the int64 counter
    functions = _functions(graph_def)
    cond, body = functions[loop.attr["cond"].func.name], functions[loop.attr["body"].func.name]
    assert [a.type for a in cond.signature.input_arg] == [1, 9]
    assert [a.type for a in body.signature.output_arg] == [1, 9]
    assert {"always", "same"} <= set(functions)  # the file's own functions stay as they were
    check = next(n for n in cond.node_def if n.op == "Assert")
    message = next(n for n in cond.node_def if n.name == check.input[1].split(":")[0])
    assert message.attr["value"].tensor.string_val == [f"{MARKER} #0".encode()]
    limit = next(n for n in cond.node_def if n.op == "Const" and n.attr["dtype"].type == 9)
    assert limit.attr["value"].tensor.int64_val == [7]
    assert graph_def.SerializeToString() != before


def _nested_text() -> str:
    """A StatelessWhile whose body holds a While (with a control input) over an int32."""
    int32 = 'attr { key: "T" value { type: DT_INT32 } }'
    def cond(name: str, n: int) -> str:
        return (f'function {{ signature {{ name: "{name}" input_arg {{ name: "i" type: DT_INT32 }} '
                'output_arg { name: "ok" type: DT_BOOL } } '
                'node_def { name: "n" op: "Const" attr { key: "dtype" value { type: DT_INT32 } } '
                'attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { } '
                f'int_val: {n} }} }} }} }} '
                f'node_def {{ name: "lt" op: "Less" input: "i" input: "n:output:0" {int32} }} '
                'ret { key: "ok" value: "lt:z:0" } }')
    one = ('node_def { name: "one" op: "Const" attr { key: "dtype" value { type: DT_INT32 } } '
           'attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 1 } } } } ')
    return f'''
node {{ name: "start" op: "Const" attr {{ key: "dtype" value {{ type: DT_INT32 }} }}
  attr {{ key: "value" value {{ tensor {{ dtype: DT_INT32 tensor_shape {{ }} int_val: 0 }} }} }} }}
node {{ name: "outer" op: "StatelessWhile" input: "start" input: "^start"
  attr {{ key: "T" value {{ list {{ type: DT_INT32 }} }} }}
  attr {{ key: "output_shapes" value {{ list {{ shape {{ }} }} }} }}
  attr {{ key: "parallel_iterations" value {{ i: 10 }} }}
  attr {{ key: "cond" value {{ func {{ name: "outer_cond" }} }} }}
  attr {{ key: "body" value {{ func {{ name: "outer_body" }} }} }} }}
node {{ name: "out" op: "Identity" input: "outer" {int32} }}
library {{
  {cond("outer_cond", 4)}
  {cond("inner_cond", 3)}
  function {{ signature {{ name: "outer_body" input_arg {{ name: "i" type: DT_INT32 }}
      output_arg {{ name: "next" type: DT_INT32 }} }}
    node_def {{ name: "zero" op: "Const" attr {{ key: "dtype" value {{ type: DT_INT32 }} }}
      attr {{ key: "value" value {{ tensor {{ dtype: DT_INT32 tensor_shape {{ }} int_val: 0 }} }} }} }}
    node_def {{ name: "inner" op: "While" input: "zero:output:0" input: "^zero"
      attr {{ key: "T" value {{ list {{ type: DT_INT32 }} }} }}
      attr {{ key: "parallel_iterations" value {{ i: 10 }} }}
      attr {{ key: "cond" value {{ func {{ name: "inner_cond" }} }} }}
      attr {{ key: "body" value {{ func {{ name: "inner_body" }} }} }} }}
    {one}
    node_def {{ name: "add" op: "AddV2" input: "i" input: "one:output:0" input: "^inner" {int32} }}
    ret {{ key: "next" value: "add:z:0" }} }}
  function {{ signature {{ name: "inner_body" input_arg {{ name: "i" type: DT_INT32 }}
      output_arg {{ name: "next" type: DT_INT32 }} }}
    {one}
    node_def {{ name: "add" op: "AddV2" input: "i" input: "one:output:0" {int32} }}
    ret {{ key: "next" value: "add:z:0" }} }}
}}
'''


def test_nested_loops_are_bounded_each_and_control_inputs_stay_last():
    from rnngraph.graphdef.loopbound import bound_v2_loops

    graph_def = _parse(_nested_text())
    _, loops, _ = bound_v2_loops(graph_def, 5)
    assert loops == {"0": "outer", "1": "inner (in function outer_body)"}
    outer = next(n for n in graph_def.node if n.name == "outer")
    assert outer.op == "While"  # its cond now holds an Assert, which is stateful
    assert outer.input[-1] == "^start" and len(outer.attr["output_shapes"].list.shape) == 2
    body = _functions(graph_def)[outer.attr["body"].func.name]
    inner = next(n for n in body.node_def if n.name == "inner")
    assert inner.attr["cond"].func.name != "inner_cond" and len(inner.attr["T"].list.type) == 2
    assert inner.input[-1] == "^zero" and len(inner.input) == 3


@pytest.mark.tf
def test_tensorflow_runs_the_bounded_nested_loops_and_stops_the_one_past_the_limit():
    import numpy as np

    from rnngraph.graphdef.loopbound import bound_v2_loops
    from rnngraph.model.tfcompat import tf

    v1 = tf().compat.v1

    def run(limit):
        graph_def = _parse(_nested_text())
        if limit is not None:
            bound_v2_loops(graph_def, limit)
        graph = tf().Graph()
        with graph.as_default():
            v1.import_graph_def(v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with v1.Session(graph=graph) as session:
            return session.run("out:0")

    assert run(None) == run(4) == np.int32(4)  # the outer loop runs 4 times, the inner 3
    with pytest.raises(tf().errors.InvalidArgumentError, match="rnngraph-max-iterations #1"):
        run(2)  # the inner loop wants a third iteration first
    with pytest.raises(tf().errors.InvalidArgumentError, match="rnngraph-max-iterations #0"):
        run(3)  # the inner loop fits; the outer wants a fourth


@pytest.mark.tf
@pytest.mark.parametrize("fixture", ["keras/k2-lstm.frozen.pbtxt", "keras/k3-gru.frozen.pbtxt",
                                     "keras/k2-gru.frozen.pbtxt", "walk_while_v2.pbtxt",
                                     "dynamic_rnn lstm v2"])
def test_a_v2_rnn_computes_bit_identical_outputs_with_the_counter(fixture, built):
    import numpy as np

    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.loopbound import bound_v2_loops
    from rnngraph.model.imported import import_graph
    from rnngraph.model.tfcompat import tf
    from rnngraph.trace import session

    if fixture.startswith("dynamic_rnn"):  # built by TensorFlow: tf.compat.v1.nn.dynamic_rnn
        from rnngraph.graphdef.walk import as_graph_def

        graph_def = as_graph_def(built(kind="dynamic", cell="lstm", steps=3, control_flow="v2"))
    else:
        graph_def, _ = load_graph_def(FIXTURES / fixture)
    bounded = type(graph_def)()
    bounded.CopyFrom(graph_def)
    _, loops, _ = bound_v2_loops(bounded, 1000)
    assert loops  # the fixture has a functional While
    results = []
    for one in (graph_def, bounded):
        built = import_graph(one)
        names = sorted(t.name for t in import_graph(graph_def).tensors["fetches"])
        feeds = session.random_feeds(built, 2, 0)
        with tf().compat.v1.Session(graph=built.graph) as sess:
            sess.run(built.tensors["init"])
            results.append(dict(zip(names, sess.run([built.graph.get_tensor_by_name(n)
                                                     for n in names], feeds))))
    assert results[0].keys() == results[1].keys() and results[0]
    for name in results[0]:
        assert np.array_equal(results[0][name], results[1][name]), name
        assert results[0][name].tobytes() == results[1][name].tobytes(), name


@pytest.mark.tf
@pytest.mark.slow
def test_a_v2_loop_that_never_ends_stops_at_max_iterations(tmp_path):
    path = tmp_path / "loop_forever_v2.pbtxt"
    path.write_text(loop_forever_v2(), encoding="utf-8")
    status, out, err, seconds = run(tmp_path, path, "--max-iterations", "1000")
    assert (status, out) == (1, ""), err
    assert err == ["rnngraph: error: stopped: while loop 'loop' wanted more than 1000 iterations "
                   "(--max-iterations; raise it if the loop is meant to run longer)"]


@pytest.mark.tf
@pytest.mark.slow
def test_run_on_a_v2_keras_graph_is_unchanged_by_the_bound(tmp_path):
    fixture = FIXTURES / "keras" / "k2-lstm.frozen.pbtxt"
    status, out, err, _ = run(tmp_path, fixture, "--max-iterations", "1000")
    assert status == 0, err
    trace = (tmp_path / "t.json").read_text(encoding="utf-8")
    assert "rnngraph_bound" not in trace and "rnngraph_bound" not in out


def _renumbered(value):
    """``value`` with TensorFlow's numbering of the nodes it adds lowering a loop (``/_27``) cut:
    one more loop variable shifts those numbers."""
    if isinstance(value, str):
        return re.sub(r"/_\d+$", "", value)
    if isinstance(value, tuple):
        return tuple(_renumbered(v) for v in value)
    if isinstance(value, list):
        return sorted((_renumbered(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {k: _renumbered(v) for k, v in value.items()}
    return value


def _trace_facts(doc: dict) -> dict:
    """Return what a trace says apart from timings: ops, runs, bytes, table rows, rewrites."""
    return {"nodes": _renumbered([(name, n["op"], n["runs"], n["bytes"], n["device"])
                                  for name, n in doc["nodes"].items()]),
            "table": [(row["iteration"], row["bytes"], _renumbered(row["nodes"]))
                      for row in doc["table"]],
            "optimized": _renumbered(doc["optimized"]), "iterations": doc["iterations"]}


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["keras/k2-lstm.frozen.pbtxt", "dynamic_rnn gru v2"])
def test_the_trace_of_a_bounded_v2_run_is_the_unbounded_one(fixture, built, tmp_path):
    # The counter is rnngraph's: neither its nodes (TensorFlow lowers the While to a v1 frame and
    # inlines the copied cond and body) nor the While's extra output show in the trace.
    from rnngraph.graphdef.walk import as_graph_def
    from rnngraph.trace.runner import trace_file

    path = FIXTURES / fixture
    if fixture.startswith("dynamic_rnn"):
        path = tmp_path / "dynamic.pb"
        graph_def = as_graph_def(built(kind="dynamic", cell="gru", steps=3, control_flow="v2"))
        path.write_bytes(graph_def.SerializeToString())
    plain = trace_file(str(path), watch_values=False).document
    bounded = trace_file(str(path), watch_values=False, max_iterations=1000).document
    assert _trace_facts(plain) == _trace_facts(bounded)
    assert fixture.startswith("keras") or plain["iterations"] == 3
