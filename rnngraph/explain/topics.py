"""Recognised structures -> a lesson in prose (text, markdown or JSON).

Every number and node name in the text is read from the findings of the real
graph, so ``--neurons 150`` changes the text.  Building the graphs is left to
the caller (``build``), and the numeric check lives in ``verify.py``.
"""

from __future__ import annotations

from typing import Callable, Optional

from ..errors import UsageError
from ..graphdef.walk import top_level_nodes
from ..recognise import Findings, recognise
from . import arrays, cells, loops, tensors
from .prose import Explanation, Section
from ..model.spec import CELL_CLASSES, ModelSpec

__all__ = ["TOPICS", "FORMATS", "spec_for_topic", "explain"]

TOPICS = ("rnn", "lstm", "gru", "static", "dynamic", "while_loop", "tensor_array", "concat",
          "strided_slice")
FORMATS = ("text", "markdown", "json")
_CELL_TOPICS = {"rnn": ("rnn",), "lstm": ("lstm", "lstm-peephole"), "gru": ("gru",)}


def spec_for_topic(topic: str, spec: ModelSpec) -> ModelSpec:
    """Return ``spec`` adjusted to what ``topic`` is about (its cell or its kind)."""
    if topic not in TOPICS:
        raise UsageError(f"unknown topic {topic!r} (choose one of: {', '.join(TOPICS)})")
    if topic in _CELL_TOPICS:
        allowed = _CELL_TOPICS[topic]
        if spec.cell not in allowed and spec.cell != "rnn":
            raise UsageError(f"topic {topic!r} explains the {topic} cell, but --cell {spec.cell} "
                             f"was given (drop --cell or use one of: {', '.join(allowed)})")
        return spec if spec.cell in allowed else spec.replace(cell=allowed[0])
    if topic in ("static", "dynamic"):
        return spec.replace(kind=topic)
    if topic in ("while_loop", "tensor_array"):
        return spec.replace(kind="dynamic")
    return spec


def _overview(spec: ModelSpec, G, found: Findings) -> Section:
    nodes = len(top_level_nodes(G))
    cells = ", ".join(f"{c.kind} cell {c.scope}" for c in found.cells) or "no cell recognised"
    loops = ", ".join(f"{w.name} ({w.control_flow})" for w in found.while_loops) or "none"
    kind = f"{spec.kind}_rnn" + (" with control flow v2" if spec.control_flow == "v2"
                                 and spec.kind == "dynamic" else "")
    return Section("The graph", [
        f"rnngraph asked TensorFlow for {kind} over a {CELL_CLASSES[spec.cell]} "
        f"({spec.activation}): {spec.steps} steps of {spec.inputs} inputs, {spec.neurons} "
        f"neurons{'' if spec.layers == 1 else f' in each of {spec.layers} layers'}. The "
        f"GraphDef has {nodes} nodes. Recognised: {cells}; while loops: {loops}."])


def _node_counts(spec: ModelSpec, build: Callable) -> dict:
    from ..graphdef.walk import walk

    counts = {}
    for kind in ("static", "dynamic"):
        counts[kind] = tuple(len(top_level_nodes(walk(build(spec.replace(kind=kind, steps=s)))))
                             for s in (spec.steps, spec.steps + 1))
    return counts


def explain(topic: str, spec: ModelSpec, build: Optional[Callable] = None,
            verify: bool = False) -> Explanation:
    """Return the explanation of ``topic`` for the graph of ``spec`` (``build``: spec -> BuiltGraph).

    With ``verify`` the graph is also run and checked against NumPy (see ``verify.py``).
    """
    spec = spec_for_topic(topic, spec)
    if build is None:
        from ..model.builder import build_graph as build  # noqa: PLC0415 (imports TensorFlow)
    from ..graphdef.walk import walk

    built = build(spec)
    G = walk(built)
    found = recognise(G)
    sections = [_overview(spec, G, found)]
    first = found.cells[0] if found.cells else None
    loop = found.while_loops[0] if found.while_loops else None
    add = sections.append
    if topic in ("rnn", "lstm", "gru") and first is not None:
        if first.kind == "rnn":
            add(cells.equation(first, 0))
        add({"lstm": cells.lstm, "gru": cells.gru}.get(first.kind, lambda c: None)(first))
        add(cells.stacked(found))
        add(arrays.outputs(G, found, spec))
        add(tensors.sequence_length(found))
    elif topic in ("static", "dynamic"):
        add(loops.static_vs_dynamic(_node_counts(spec, build), spec, found))
        if first is not None and first.kind == "rnn":
            add(cells.equation(first, 0))
        if topic == "dynamic" and loop is not None:
            add(loops.while_loop(loop, found))
            add(loops.why_two_counters(loop))
            add(arrays.tensor_arrays(found))
        add(arrays.outputs(G, found, spec))
        add(tensors.sequence_length(found))
    elif topic == "while_loop" and loop is not None:
        add(loops.while_loop(loop, found))
        add(loops.why_two_counters(loop))
        add(tensors.sequence_length(found))
    elif topic == "tensor_array":
        add(arrays.tensor_arrays(found))
        add(arrays.outputs(G, found, spec))
    elif topic == "concat":
        add(tensors.concats(found))
    elif topic == "strided_slice":
        add(tensors.slices(found))
    title = f"rnngraph explain {topic}: {spec.kind}_rnn, {CELL_CLASSES[spec.cell]}, " \
            f"{spec.inputs} inputs, {spec.neurons} neurons, {spec.steps} steps"
    checked = None
    if verify:
        from .verify import verify as run_check  # noqa: PLC0415

        checked = run_check(built, found)
    return Explanation(topic=topic, title=title, spec=spec.as_dict(),
                       sections=[s for s in sections if s is not None], findings=found.as_dict(),
                       verify=checked)
