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
from . import arrays, cells, loops, returns, tensors
from .prose import Explanation, Section
from ..model.spec import CELL_CLASSES, ModelSpec

__all__ = ["TOPICS", "FORMATS", "spec_for_topic", "explain", "explain_file", "sections", "cached_graph_def"]

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


def _recognised(found: Findings) -> str:
    cells = ", ".join(f"{c.kind} cell {c.scope}" for c in found.cells) or "no cell recognised"
    loops = ", ".join(f"{w.name} ({w.control_flow})" for w in found.while_loops) or "none"
    return f"Recognised: {cells}; while loops: {loops}."


def _overview(spec: ModelSpec, G, found: Findings) -> Section:
    nodes = len(top_level_nodes(G))
    kind = f"{spec.kind}_rnn" + (" with control flow v2" if spec.control_flow == "v2"
                                 and spec.kind == "dynamic" else "")
    return Section("The graph", [
        f"rnngraph asked TensorFlow for {kind} over a {CELL_CLASSES[spec.cell]} "
        f"({spec.activation}): {spec.steps} steps of {spec.inputs} inputs, {spec.neurons} "
        f"neurons{'' if spec.layers == 1 else f' in each of {spec.layers} layers'}. The "
        f"GraphDef has {nodes} nodes. {_recognised(found)}"])


def _file_overview(path: str, kind: str, G, found: Findings) -> Section:
    from ..graphdef.walk import walk_notes

    nodes = len(top_level_nodes(G))
    held = G.graph.get("file_nodes", {}).get("functions", 0)
    library = (f" and a function library of {len(G.graph.get('functions', []))} functions "
               f"holding {held} nodes" if held else "")
    notes = [note[0].upper() + note[1:] + "." for note in walk_notes(G)]
    return Section("The graph", [
        f"{path} ({kind}) holds a GraphDef of {nodes} nodes (function bodies not counted){library}. "
        f"{_recognised(found)}"] + notes)


def _node_counts(spec: ModelSpec, build: Callable) -> dict:
    from ..graphdef.walk import walk

    counts = {}
    for kind in ("static", "dynamic"):
        counts[kind] = tuple(len(top_level_nodes(walk(build(spec.replace(kind=kind, steps=s)))))
                             for s in (spec.steps, spec.steps + 1))
    counts["steps"] = spec.steps
    return counts


def _cell_kinds(topic: str) -> tuple:
    return {"rnn": ("rnn",), "lstm": ("lstm",), "gru": ("gru",)}.get(topic, ())


def _cells_to_show(found: Findings, kinds: tuple) -> list:
    """Return one cell per recognised RNN (its first layer) and every cell outside an RNN."""
    in_rnn = {scope for r in found.rnns for scope in r.layers}
    firsts = {r.layers[0] for r in found.rnns}
    return [c for c in found.cells if c.kind in kinds and (c.scope in firsts or c.scope not in in_rnn)]


def sections(topic: str, G, found: Findings, counts: Optional[dict] = None,
             spec: Optional[ModelSpec] = None) -> list:
    """Return the sections explaining ``topic`` from the findings of ``G`` (None ones dropped).

    ``counts`` and ``spec`` (the static/dynamic node counts) exist only for graphs
    rnngraph built; a foreign graph gets every section its findings support.
    """
    # The RNN's own loop first (a training graph also has the gradient loop, named first).
    rnn_loops = {r.loop for r in found.rnns if r.loop}
    loop = next((w for w in found.while_loops if w.name in rnn_loops),
                found.while_loops[0] if found.while_loops else None)
    out: list = []
    add = out.append
    if topic in _CELL_TOPICS:
        for cell in _cells_to_show(found, _cell_kinds(topic)):
            add(cells.cell_section(cell))
        add(cells.stacked(found))
        add(returns.returns(G, found))
        add(returns.dropout(found))
        add(tensors.sequence_length(found))
    elif topic in ("static", "dynamic"):
        if counts is not None and spec is not None:
            add(loops.static_vs_dynamic(counts, spec, found))
        first = found.cells[0] if found.cells else None
        if first is not None and first.kind == "rnn":
            add(cells.cell_section(first))
        if topic == "dynamic" and loop is not None:
            add(loops.while_loop(loop, found))
            add(loops.why_two_counters(loop))
            add(arrays.tensor_arrays(found, counts))
        add(returns.returns(G, found))
        add(returns.dropout(found))
        add(tensors.sequence_length(found))
    elif topic == "while_loop":
        for each in sorted(found.while_loops, key=lambda w: w.name not in rnn_loops):
            add(loops.while_loop(each, found))
            add(loops.why_two_counters(each))
        add(tensors.sequence_length(found))
    elif topic == "tensor_array":
        add(arrays.tensor_arrays(found, counts))
        add(returns.returns(G, found))
    elif topic == "concat" and found.concats:
        add(tensors.concats(found))
    elif topic == "strided_slice" and found.strided_slices:
        add(tensors.slices(found))
    return [s for s in out if s is not None]


def cached_graph_def(spec: ModelSpec):
    """Return the GraphDef of ``spec`` from rnngraph's build cache (TensorFlow only on a miss)."""
    from ..graphdef.protos import GraphDef  # noqa: PLC0415
    from ..model.cache import graph_def_for  # noqa: PLC0415

    return GraphDef.FromString(graph_def_for(spec)[0])


def _build_with_tf(spec: ModelSpec):
    from ..model.builder import build_graph  # noqa: PLC0415 (imports TensorFlow)

    return build_graph(spec)


def explain(topic: str, spec: ModelSpec, build: Optional[Callable] = None,
            verify: bool = False) -> Explanation:
    """Return the explanation of ``topic`` for the graph of ``spec`` (``build``: spec -> BuiltGraph).

    With ``verify`` the graph is also run and checked against NumPy (see ``verify.py``).
    """
    spec = spec_for_topic(topic, spec)
    if build is None:
        # --verify runs the graph, so it needs TensorFlow's; the prose needs only the
        # GraphDef, which a cached build gives without importing TensorFlow.
        build = _build_with_tf if verify else cached_graph_def
    from ..graphdef.walk import walk

    built = build(spec)
    G = walk(built)
    found = recognise(G)
    counts = _node_counts(spec, cached_graph_def if build is _build_with_tf else build) \
        if topic in ("static", "dynamic", "tensor_array") else None
    body = [_overview(spec, G, found)] + sections(topic, G, found, counts, spec)
    title = f"rnngraph explain {topic}: {spec.kind}_rnn, {CELL_CLASSES[spec.cell]}, " \
            f"{spec.inputs} inputs, {spec.neurons} neurons, {spec.steps} steps"
    checked = None
    if verify:
        from .verify import verify_built  # noqa: PLC0415

        checked = verify_built(built, build)
    return Explanation(topic=topic, title=title, spec=spec.as_dict(), sections=body,
                       findings=found.as_dict(), verify=checked)


def explain_file(topic: str, path: str, verify: bool = False, loaded: Optional[tuple] = None) -> Explanation:
    """Return the explanation of ``topic`` for the graph in ``path`` (any file ``inspect`` reads).

    Nothing from the file runs unless ``verify``: then TensorFlow loads it (a SavedModel
    or a frozen GraphDef, whose weights are in the file) and the recognised cells are
    checked against NumPy.
    """
    if topic not in TOPICS:
        raise UsageError(f"unknown topic {topic!r} (choose one of: {', '.join(TOPICS)})")
    from ..graphdef.loaders import load_graph_def
    from ..graphdef.walk import walk

    # loaded: (GraphDef, "keras-ops", layer view) of a Keras file's op view (commands/keras_view.py)
    graph_def, kind = loaded[:2] if loaded else load_graph_def(path)
    G = walk(graph_def)
    found = recognise(G)
    if loaded and kind == "keras-ops":  # the recognised cells carry the Keras layers' names
        from ..recognise.keras_link import link_cells  # noqa: PLC0415

        links = link_cells(found.cells, loaded[2])
        for cell in found.cells:
            cell.layer = links.get(cell.scope, cell.layer)
    body = [_file_overview(str(path), kind, G, found)] + sections(topic, G, found)
    if len(body) == 1:
        body.append(Section("Nothing to explain", [
            f"No {topic.replace('_', ' ')} was recognised in this graph, so rnngraph says "
            "nothing more about it."]))
    checked = None
    # --verify runs the file with TensorFlow: only pure compute ops (as `run FILE`).  A .tflite
    # file runs in LiteRT's interpreter instead, whose builtin ops are all pure computation; a
    # Keras file's --verify loads it with Keras in safe mode, not as a graph to run.
    keras_cells = [c for c in found.cells if getattr(c, "form", "tf1") == "keras"]
    fused_cells = [c for c in found.cells if c.form == "fused"]
    # A plain SavedModel's check runs only the part of the graph it needs, which the run-policy
    # checks itself (verify.py), never its save and restore ops.
    own_check = kind == "savedmodel" and not keras_cells and not fused_cells
    if verify and kind not in ("tflite", "keras", "h5", "keras-ops") and not own_check:
        from ..graphdef.runpolicy import check_runnable  # noqa: PLC0415

        # Keras' loader and the fused kernels' run restore a SavedModel's variables: its save
        # functions stay admitted there.
        checkpoint = ("RestoreV2", "SaveV2", "MergeV2Checkpoints")
        check_runnable(graph_def, path, checkpoint if kind == "savedmodel" else ())
    if kind == "tflite":
        from ..recognise.tflite import find_tflite_cells  # noqa: PLC0415
        from .tflite import tflite_overview, tflite_sections, verify_tflite  # noqa: PLC0415

        lite = find_tflite_cells(G)
        body[0] = tflite_overview(path, G, lite)
        extra = tflite_sections(topic, G, lite)
        if extra and len(body) == 2 and body[1].title == "Nothing to explain":
            body.pop()
        body += extra
        found.tflite_cells = lite
        checked = verify_tflite(path, G, lite) if verify else None
    elif kind in ("keras", "h5", "keras-ops"):  # a Keras file's layer view: its layers, and Keras itself for --verify
        from .keras_layers import layers_section  # noqa: PLC0415

        body.insert(1, layers_section(path))
        body = [b for b in body if b.title != "Nothing to explain"]
        if verify:
            from .keras_verify import verify_keras_file  # noqa: PLC0415

            checked = verify_keras_file(path)
    elif verify and fused_cells:  # TensorFlow's fused kernels, run as the file holds them
        from .fused import verify_fused  # noqa: PLC0415

        checked = verify_fused(kind, graph_def, fused_cells)
    elif verify and keras_cells and kind == "savedmodel":  # every Keras layer, one report each
        from .keras_saved import verify_keras_saved_model  # noqa: PLC0415

        checked = verify_keras_saved_model(path)
    elif verify and keras_cells:  # Keras' own equations, checked on the weights in a frozen file
        if len(keras_cells) != 1 or kind not in ("graphdef", "graphdef-text"):
            raise UsageError(f"--verify checks one Keras layer in a frozen GraphDef; {path} is a {kind} "
                             f"with {len(keras_cells)} Keras cells")
        from .keras import verify_frozen  # noqa: PLC0415

        checked = verify_frozen(graph_def, keras_cells[0])
    elif verify:
        from .verify import verify_file  # noqa: PLC0415

        checked = verify_file(path, kind, graph_def, found)
    return Explanation(topic=topic, title=f"rnngraph explain {topic}: {path}", spec={"file": str(path),
                       "kind": kind}, sections=body, findings={**found.as_dict(), **(
                           {"tflite_cells": [c.as_dict() for c in found.tflite_cells]}
                           if kind == "tflite" else {})}, verify=checked)
