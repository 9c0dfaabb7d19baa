"""Recognisers: pure functions over the walked networkx graph that find RNN structures.

Nothing here imports TensorFlow: the recognisers run on any GraphDef read
from disk (``rnngraph inspect``) as well as on graphs rnngraph built.  Each
recogniser returns dataclasses naming the nodes involved; :func:`recognise`
runs them all and returns a :class:`Findings`.

Recognition keys on structure (ops and how they connect), never on scope
names, so graphs written under other scopes, stacked or bidirectional, with
v1 (Enter/Merge/Switch/Exit) or v2 (``While``) control flow and with ref
variables (``VariableV2`` + ``Identity``) are recognised alike.
"""

from __future__ import annotations

import copy

import networkx as nx

from .arrays import find_tensor_arrays
from .cells import find_cells
from .initial import add_initial_fills
from .loops import find_while_loops
from .rnn import find_dropout, find_rnns
from .structures import (ACTIVATIONS, GATE_MEANING, GATE_NAMES, Cell, ConcatInfo, DenseLayer,
                         DropoutInfo, Findings, LoopVar, RnnInfo, SequenceLength, SliceInfo,
                         StateTensor, TensorArrayInfo, WhileLoop)
from .tensors import find_concats, find_sequence_length, find_strided_slices

__all__ = ["Findings", "WhileLoop", "LoopVar", "TensorArrayInfo", "Cell", "ConcatInfo",
           "SliceInfo", "SequenceLength", "recognise", "find_cells", "find_while_loops",
           "find_tensor_arrays", "find_concats", "find_strided_slices", "find_sequence_length",
           "ACTIVATIONS", "GATE_NAMES", "GATE_MEANING", "RnnInfo", "StateTensor", "DropoutInfo",
           "DenseLayer", "find_rnns", "find_dropout"]


def recognise(G: nx.MultiDiGraph) -> Findings:
    """Return every structure found in ``G`` (cells, loops, TensorArrays, concats, slices, RNNs).

    Computed once per graph object (drawing a page asks up to four times; on a 100,000-node
    graph each pass took seconds) and handed out as a copy, so a caller may change what it got.
    A graph whose node count changed since is recognised again (counting a multigraph's
    edges walks them all).
    """
    size = G.number_of_nodes()
    cached = G.graph.get("_findings")
    if cached is None or cached[0] != size:
        cached = G.graph["_findings"] = (size, _recognise(G))
    return copy.deepcopy(cached[1])


def _recognise(G: nx.MultiDiGraph) -> Findings:
    cells = find_cells(G)
    add_initial_fills(G, cells)
    loops = find_while_loops(G, cells)
    arrays = find_tensor_arrays(G)
    seq = find_sequence_length(G)
    dropout = find_dropout(G, cells)
    rnns = find_rnns(G, cells, loops, arrays, seq, dropout)
    fills = {s.initial: "initial state" for r in rnns for s in r.final_state
             if s.initial_kind == "zeros"}
    fills.update({r.zero_output: "masked output" if r.zero_output_used else "unused"
                  for r in rnns if r.zero_output})
    return Findings(
        while_loops=loops,
        tensor_arrays=arrays,
        cells=cells,
        concats=find_concats(G, cells, fills),
        strided_slices=find_strided_slices(G),
        sequence_length=seq,
        rnns=rnns,
        dropout=dropout,
    )
