"""Edge labels that name the input they feed, for ops whose inputs have names worth reading.

A fused RNN kernel (BlockLSTM, GRUBlockCell, CudnnRNN...) takes up to nine tensors whose
meaning is set only by their position, and gives up to seven; the drawing labels each edge
into it with the OpDef's name for that input (``x: 4×?×3``, ``cs_prev: ?×4``,
``wci, wcf, wco: 4``) and each edge out of it with its output's name (``h: ?``), and names
the constants folded into its box (``w = 7×16 float32``).
"""

from __future__ import annotations

from typing import Optional

from ..graphdef.walk import format_shape
from ..recognise.fused import FUSED_KERNELS

__all__ = ["edge_shapes", "input_name"]


def _spec(graph, box: str) -> Optional[dict]:
    return FUSED_KERNELS.get(graph.nodes[box]["op"]) if box in graph else None


def _name(names: tuple, index: int, what: str) -> str:
    return names[index] if 0 <= index < len(names) else f"{what} {index}"


def input_name(graph, box: str, index: int) -> Optional[str]:
    """Return the name of input ``index`` of ``box`` if its op names its inputs, else None."""
    spec = _spec(graph, box)
    return _name(spec["inputs"], index, "input") if spec else None


def edge_shapes(graph, src_box: str, dst_box: str, datas: list) -> list:
    """Return the sorted label texts of the data edges ``datas`` drawn from ``src_box`` to ``dst_box``."""
    into, out_of = _spec(graph, dst_box), _spec(graph, src_box)
    if into is None and out_of is None:
        return sorted({format_shape(d["shape"], d["dtype"]) for d in datas if not d["control"]})
    names: dict = {}
    for d in datas:
        if d["control"]:
            continue
        if into is not None:
            index, name = d["dst_input"], _name(into["inputs"], d["dst_input"], "input")
        else:
            index, name = d["src_output"], _name(out_of["outputs"], d["src_output"], "output")
        names.setdefault(format_shape(d["shape"], d["dtype"]), set()).add((index, name))
    return sorted(", ".join(n for _, n in sorted(items)) + ": " + shape
                  for shape, items in names.items())
