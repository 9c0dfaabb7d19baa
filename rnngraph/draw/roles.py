"""What a box's label says about its role: its inputs by name, what a slice picks, which gate is which.

Every view shows these (``render``, the page, focus views, ``compare``):
a constant folded into its consumer is named by the input it fills
(``begin = [1]``, not TensorFlow's ``stack = [1]``), a strided slice says
what it picks (``picks Shape(X)[1]: batch size``) and which masks change
it, a cell's split names its outputs by gate (TF1 i j f o, Keras i f c o,
GRU r u) and each gate's activation says which gate it computes.  The
texts come from the recognisers' findings (``recognise/``).
"""

from __future__ import annotations

import re
import weakref
from typing import Optional

import networkx as nx

from ..graphdef.walk import body_prefix

__all__ = ["input_role", "structure_labels", "mask_lines", "story_scopes"]

# Op -> the names of its inputs, from TensorFlow's op definitions (tf.raw_ops).
_INPUTS = {
    "StridedSlice": ("input", "begin", "end", "strides"),
    "Slice": ("input", "begin", "size"),
    "Split": ("axis", "value"),
    "SplitV": ("value", "size_splits", "axis"),
    "Reshape": ("tensor", "shape"),
    "Transpose": ("x", "perm"),
    "ExpandDims": ("input", "axis"),
    "Squeeze": ("input",),
    "Fill": ("dims", "value"),
    "Range": ("start", "limit", "delta"),
    "Tile": ("input", "multiples"),
    "GatherV2": ("params", "indices", "axis"),
    "Sum": ("input", "axis"), "Mean": ("input", "axis"), "Max": ("input", "axis"),
    "Min": ("input", "axis"), "Prod": ("input", "axis"), "ArgMax": ("input", "dimension"),
    "TensorArrayV3": ("size",),
    "TensorListReserve": ("element_shape", "num_elements"),
    "TensorListFromTensor": ("tensor", "element_shape"),
    "TensorListStack": ("input_handle", "element_shape"),
    "TensorListGetItem": ("input_handle", "index", "element_shape"),
    "OneHot": ("indices", "depth", "on_value", "off_value"),
    "BroadcastTo": ("input", "shape"),
}
# What each non-zero StridedSlice mask does, per axis bit.
_MASKS = (("begin_mask", "from the start on axis"), ("end_mask", "to the end on axis"),
          ("ellipsis_mask", "… at axis"), ("new_axis_mask", "new axis"),
          ("shrink_axis_mask", "drops axis"))


def input_role(graph: nx.MultiDiGraph, consumer: str, index: int) -> Optional[str]:
    """Return the name of input ``index`` of ``consumer`` (None when the op's inputs are not listed)."""
    op = graph.nodes[consumer]["op"]
    if op in ("ConcatV2", "Concat"):
        count = graph.nodes[consumer]["attrs"].get("N")
        if isinstance(count, int):
            return "axis" if index == (count if op == "ConcatV2" else 0) else None
        return None
    names = _INPUTS.get(op)
    return names[index] if names and 0 <= index < len(names) else None


def mask_lines(masks: dict) -> list:
    """Return one line per non-zero StridedSlice mask, naming the axes it acts on."""
    lines = []
    for key, text in _MASKS:
        value = masks.get(key) or 0
        if isinstance(value, int) and value > 0:
            axes = [str(bit) for bit in range(min(value.bit_length(), 64)) if value >> bit & 1]
            lines.append(f"{key}: {text} {', '.join(axes)}")
    return lines


_SCOPED = re.compile(r"[\w.\-]+(?:/[\w.\-]+)+")


def short_names(text: str, parts: int = 1) -> str:
    """Return ``text`` with each scoped node name cut to its last ``parts`` parts (``rnn/transpose``: ``transpose``)."""
    return _SCOPED.sub(lambda m: "/".join(m.group(0).split("/")[-parts:]), text)


_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def structure_labels(graph: nx.MultiDiGraph) -> dict:
    """Return {node: [label lines]} of the recognised slices, splits and gates (found once per graph)."""
    cached = _CACHE.get(graph)
    if cached is not None and cached[0] == graph.number_of_nodes():
        return cached[1]
    from ..recognise import recognise  # noqa: PLC0415

    found = recognise(graph)
    labels: dict = {}
    for sl in found.strided_slices:
        pick = [f"picks {short_names(sl.slice)}"] + ([f"= {sl.meaning}"] if sl.meaning else [])
        labels[sl.name] = [*pick, *mask_lines(sl.masks)]
    for cell in found.cells:
        split, order, by_activation = None, [], {}
        for gate, info in cell.gate_nodes.items():
            node, _, output = info.get("slice", "").rpartition(":")
            if node in graph and output.isdigit():
                split = node
                order.append((int(output), gate))
            if info.get("activation") in graph:
                by_activation.setdefault(info["activation"], []).append(gate)
        if split and split not in labels:
            labels[split] = ["outputs " + ", ".join(g for _, g in sorted(order))]
        for node, gates in by_activation.items():
            labels.setdefault(node, [f"gate {gates[0]}" if len(gates) == 1
                                     else f"gates {', '.join(gates)}"])
    _copies(graph, labels)
    _CACHE[graph] = (graph.number_of_nodes(), labels)
    return labels


def _copies(graph: nx.MultiDiGraph, labels: dict) -> None:
    """Give each unrolled step copy's split and gates the labels of the copy that was recognised.

    The copies of a run are the same structure node by node (``recognise/repeats.py``), so
    the node at the same place in another step plays the same role.
    """
    from ..recognise.repeats import cached_unrolled  # noqa: PLC0415

    unrolled = cached_unrolled(graph)
    if unrolled is None:
        return
    for run in unrolled.runs:
        for step in run.members:
            known = [(k, labels[n]) for k, n in enumerate(step) if n in labels]
            if not known:
                continue
            for other in run.members:
                if len(other) == len(step):
                    for k, lines in known:
                        labels.setdefault(other[k], lines)
            break


def story_scopes(graph: nx.MultiDiGraph, found=None) -> list:
    """Return the scopes a first view opens: what the graph is about, from the findings.

    The scopes holding each loop and each cell, the loop's and the cell's own, and every
    scope inside a cell (a GRU's gates and candidate); the machinery around them (zero
    state, shape arithmetic, TensorArray plumbing) stays closed.  [] when nothing is
    recognised.
    """
    if found is None:
        from ..recognise import recognise  # noqa: PLC0415

        found = recognise(graph)
    roots = [loop.name for loop in found.while_loops]
    # a v2 loop is one op calling two functions: both are the loop's story (cond: its test)
    roots += [body_prefix(loop.name, part).rstrip("/") for loop in found.while_loops
              if loop.control_flow == "v2" for part in ("cond", "body")]
    cells = [cell.scope for cell in found.cells if cell.scope]
    cells += [scope for cell in found.cells for scope in cell.instance_scopes or [] if scope]
    wanted: dict = {}
    for name in roots + cells:
        for part in _chain(name):
            wanted[part] = True
    inside = tuple(f"{c}/" for c in cells)
    if inside:
        for _, data in graph.nodes(data=True):
            scope = data["scope"]
            if scope.startswith(inside):
                for part in _chain(scope):
                    wanted[part] = True
    return sorted(wanted)


def _chain(scope: str) -> list:
    parts = scope.split("/")[:400]  # a hostile file may nest scopes thousands deep
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)] if scope else []
