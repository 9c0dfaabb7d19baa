"""The facts about the RNN as a whole, checked against TensorFlow itself on a pairwise matrix.

Each variant is built here with ``tf.compat.v1`` (``tests/rnn_truth.py``), not with
rnngraph's builder; the recogniser runs on the GraphDef, and every fact is compared with
what TensorFlow returned or created: the outputs and every final-state tensor
(``tensor.op.name``, in ``nest.flatten`` order), the ZeroState ops the state starts
from, the Selects the DropoutWrapper and sequence_length create, the kernels of the
stacked layers, the peephole variables, the projection's and the head's kernels, and
the activation op.
"""

from __future__ import annotations

import pytest

from rnn_truth import Variant, build_truth, pairwise_variants

pytestmark = pytest.mark.tf

# Pairwise over cell × static/dynamic × v1/v2 × layers × dropout × sequence_length ×
# activation × projection × head, plus variants the pairs do not force together.
VARIANTS = pairwise_variants() + [
    Variant(cell="gru", kind="static", layers=3, dropout=True, act="relu", proj=True),
    Variant(cell="lstm-peephole", kind="dynamic", cf="v2", layers=3, seq=True, act="relu"),
    Variant(cell="rnn", kind="static", cf="v2", seq=True, dropout=True),
    Variant(cell="lstm", kind="static", cf="v2", layers=3, seq=True, proj=True, head=True),
    Variant(cell="gru", kind="static", cf="v1", layers=3, seq=True, steps=1),
    Variant(cell="lstm", kind="dynamic", layers=1, head=True),
]
_CACHE: dict = {}


def _facts(variant):
    if variant not in _CACHE:
        from rnngraph.graphdef.walk import walk
        from rnngraph.recognise import recognise

        truth = build_truth(variant)
        G = walk(truth.graph_def)
        _CACHE[variant] = (truth, G, recognise(G))
    return _CACHE[variant]


def test_the_matrix_covers_every_pair():
    ids = {v.id() for v in VARIANTS}
    assert len(ids) == len(VARIANTS) >= 10
    for cell in ("rnn", "lstm", "lstm-peephole", "gru"):
        for kind in ("static", "dynamic"):
            assert any(v.cell == cell and v.kind == kind for v in VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS, ids=Variant.id)
def test_rnn_facts_match_tensorflow(variant):
    truth, G, found = _facts(variant)
    # Dropout keep-masks and sequence_length Selects are told apart, whatever else is found.
    assert {d.select for d in found.dropout} == truth.dropout_selects
    assert {n for s in found.sequence_length for n in s.zero_outputs + s.copy_state} == truth.seq_selects
    assert len(found.rnns) == 1
    rnn = found.rnns[0]
    assert rnn.kind == variant.kind
    # The stacked layers, in order, by their kernels.
    by_scope = {c.scope: c for c in found.cells}
    assert [by_scope[s].kernel for s in rnn.layers] == truth.kernels
    # The activation op actually used, per layer.
    op = {"tanh": "Tanh", "relu": "Relu"}[variant.act]
    assert [G.nodes[a]["op"] for a in rnn.activations] == [op] * variant.layers
    # Peephole variables.
    assert [by_scope[s].peepholes for s in rnn.layers] == truth.peepholes
    assert {d.select for d in rnn.dropout} == truth.dropout_selects
    assert {d.keep_prob for d in rnn.dropout} == ({"keep_prob"} if variant.dropout else set())
    assert sorted({d.layer for d in rnn.dropout}) == (list(range(variant.layers)) if variant.dropout else [])
    assert set(rnn.sequence_length_selects) == truth.seq_selects
    assert (rnn.sequence_length == "seq_length") == variant.seq
    # The output projection inside the step, and a dense head on the final state.
    assert (rnn.projection.kernel if rnn.projection else None) == truth.projection_kernel
    heads = [h.kernel for h in rnn.heads if h.role == "head on final state"]
    assert heads == ([truth.head_kernel] if truth.head_kernel else [])
    # What the RNN returns, and where its state starts.
    assert rnn.outputs == truth.outputs
    assert [s.node for s in rnn.final_state] == truth.state
    assert [s.output for s in rnn.final_state] == [0] * len(truth.state)
    assert [(s.layer, s.part) for s in rnn.final_state] == truth.state_parts
    assert {s.initial for s in rnn.final_state} == truth.zero_state
    assert {s.initial_kind for s in rnn.final_state} == {"zeros"}
    assert len({s.initial for s in rnn.final_state}) == len(truth.state)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.kind == "dynamic"][:4], ids=Variant.id)
def test_zero_output_is_not_the_initial_state(variant):
    truth, G, found = _facts(variant)
    rnn = found.rnns[0]
    assert rnn.zero_output is not None and rnn.zero_output not in truth.zero_state
    assert rnn.zero_output_used == variant.seq
    concat = [c for c in found.concats if G.nodes[rnn.zero_output] and
              any(d == rnn.zero_output for d in G.successors(c.name))]
    assert concat and "initial state" not in concat[0].meaning
    for fill in truth.zero_state:
        feeding = [c for c in found.concats if fill in G.successors(c.name)]
        assert feeding and "initial state" in feeding[0].meaning


@pytest.mark.parametrize("variant", [Variant(cell="lstm", bidi=True),
                                     Variant(cell="lstm", bidi=True, layers=3, seq=True, cf="v2")],
                         ids=Variant.id)
def test_bidirectional_pair(variant):
    """Two RNNs, forward and backward: each names what bidirectional_dynamic_rnn returns for it."""
    truth, G, found = _facts(variant)
    assert len(found.rnns) == 2
    by_dir = {("bw" if "/bw/" in r.loop else "fw"): r for r in found.rnns}
    fw, bw = by_dir["fw"], by_dir["bw"]
    assert fw.outputs == [truth.outputs[0]] and fw.reversed_by is None
    assert [bw.reversed_by] == [truth.outputs[1]]
    half = len(truth.state) // 2
    assert [s.node for s in fw.final_state] == truth.state[:half]
    assert [s.node for s in bw.final_state] == truth.state[half:]


# --- Facts behind the explain sentences, against what TensorFlow built and computes ---------

def _v1_frame_ancestors(op, stop_types=("Merge", "Enter", "Const")) -> set:
    """Return the ops between the loop variables' Merges and ``op``, walking TF's own op graph."""
    todo, seen = [op], set()
    while todo:
        cur = todo.pop()
        if cur.name in seen or cur.type in stop_types:
            continue
        seen.add(cur.name)
        todo.extend(t.op for t in cur.inputs)
    return seen


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.kind == "dynamic" and v.cf == "v1"],
                         ids=Variant.id)
def test_condition_is_evaluated_before_loopcond(variant):
    """The ops explain says evaluate the condition are those TF built between the loop variables
    and LoopCond; LoopCond itself only passes the boolean on, to every Switch."""
    truth, G, found = _facts(variant)
    loop = next(w for w in found.while_loops if w.name == found.rnns[0].loop)
    loop_cond = truth.graph.get_operation_by_name(loop.loop_cond)
    assert loop_cond.type == "LoopCond"
    evaluating = {n for n in _v1_frame_ancestors(loop_cond.inputs[0].op)
                  if truth.graph.get_operation_by_name(n).type not in ("Identity",)}
    assert set(loop.condition_ops) == evaluating
    assert {truth.graph.get_operation_by_name(n).type for n in evaluating} == {"Less", "LogicalAnd"}
    switches = {o.name for o in truth.graph.get_operations() if o.type == "Switch"
                and o.inputs[1].op is loop_cond}
    assert len(switches) == len(loop.loop_vars)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.kind == "dynamic" and v.cf == "v1"][:4],
                         ids=Variant.id)
def test_array_reads_and_writes_are_indexed_by_time(variant):
    """Each per-step read/write takes its index from dynamic_rnn's `time` loop variable."""
    truth, G, found = _facts(variant)
    names = {v.identity: v.carries for w in found.while_loops for v in w.loop_vars}
    ops = [o for o in truth.graph.get_operations()
           if o.type in ("TensorArrayReadV3", "TensorArrayWriteV3") and not o.name.startswith("gradients")]
    recognised = {n: i for ta in found.tensor_arrays for n, i in ta.indices.items()}
    assert set(recognised) == {o.name for o in ops}
    for op in ops:
        index = op.inputs[1].op  # Identity <- Switch <- Merge <- Enter <- dynamic_rnn's `time`
        while index.type in ("Identity", "Switch", "Merge", "Enter"):
            index = index.inputs[0].op
        assert index.name.rsplit("/", 1)[-1] == "time"  # array_ops.constant(0, name="time")
        assert names[recognised[op.name]] == "time"


def _initial_values(truth) -> tuple:
    """Return ({variable: its value right after TensorFlow runs the initializers},
    {variable: the op its initializer assigns from})."""
    from rnngraph.model.tfcompat import tf as get_tf

    tf = get_tf()
    with truth.graph.as_default(), tf.compat.v1.Session(graph=truth.graph) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        variables = tf.compat.v1.global_variables()
        sources = {v.op.name: v.initializer.inputs[1].op.name for v in variables}
        return {v.op.name: value for v, value in zip(variables, sess.run(variables))}, sources


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.cell in ("gru", "lstm")][:5]
                         + [Variant(cell="gru", kind="dynamic", cf="v2")], ids=Variant.id)
def test_bias_starts_where_explain_says(variant):
    """The bias's starting value explain prints is what TensorFlow's initializer gives it."""
    truth, G, found = _facts(variant)
    values, sources = _initial_values(truth)
    checked = 0
    for cell in found.cells:
        assert cell.bias_initializer == sources[cell.bias]  # the Const explain names
        for name, said in [(cell.bias, cell.bias_initial),
                           (cell.candidate.get("bias"), cell.candidate.get("bias_initial"))]:
            if name is None:
                continue
            value = values[name]
            assert said is not None and (value == said).all(), (name, said)
            assert list(value.shape) == cell.bias_shape or name != cell.bias
            checked += 1
    assert checked >= len(found.cells)
    if variant.cell == "gru":
        assert {c.bias_initial for c in found.cells} == {1.0}  # the gates start open
        assert {c.candidate["bias_initial"] for c in found.cells} == {0.0}
