"""The section about the TensorArrays / TensorLists a while loop reads and writes."""

from __future__ import annotations

from typing import Optional

from ..recognise import Findings
from .prose import Section, dims

__all__ = ['tensor_arrays']


def tensor_arrays(found: Findings) -> Optional[Section]:
    if not found.tensor_arrays:
        return None
    bullets = []
    for ta in found.tensor_arrays:
        if ta.role == "unused":
            bullets.append(f"{ta.name} ({ta.kind}): created, but nothing in this graph reads "
                           "or writes it")
            continue
        parts = [f"{ta.name} ({ta.kind}, {ta.role}): size {ta.size or 'dynamic'}, "
                 f"elements {dims(ta.element_shape)}"]
        if ta.unstack:
            parts.append(f"unstacked before the loop from {ta.unstack_source} (the time-major "
                         f"input) by {ta.unstack}, one element per step")
        if ta.reads:
            parts.append(f"read at index time by {', '.join(ta.reads)} (that is X_t)")
        if ta.writes:
            parts.append(f"written at index time by {', '.join(ta.writes)} (the step's output)")
        if ta.stack:
            parts.append(f"stacked after the loop by {ta.stack} into one time-major tensor")
        bullets.append("; ".join(parts))
    v1 = any(t.kind == "TensorArray" for t in found.tensor_arrays)
    paras = ["A while loop cannot slice a Python list by the loop index, so the loop reads its "
             "input from an array of per-step slices and collects its outputs in another:",
             bullets]
    if v1:
        paras.append("A v1 TensorArray is a handle (a resource) plus a flow scalar: each write "
                     "returns a new flow value that the next operation takes as input, which is "
                     "how the graph orders the writes before the final gather. The output "
                     "array's flow is therefore a loop variable (TensorArray flow), while the "
                     "handles enter the loop as invariants.")
    else:
        paras.append("With control flow v2 the arrays are TensorLists: variant tensors that hold "
                     "the list itself and pass through the While op as loop variables; "
                     "TensorListGetItem reads and TensorListSetItem writes one element.")
    return Section("TensorArrays", paras)
