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
