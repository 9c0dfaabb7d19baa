"""The section about the TensorArrays / TensorLists a while loop reads and writes."""

from __future__ import annotations

from typing import Optional

from ..recognise import Findings
from .prose import Section, dims

__all__ = ['tensor_arrays']


def _index_names(found: Findings) -> dict:
    """Return {node: loop variable it carries} for the loop variables seen inside loop bodies."""
    return {v.identity: v.carries for w in found.while_loops for v in w.loop_vars if v.identity}


def _why(found: Findings, counts: Optional[dict]) -> str:
    """Return what the arrays buy the loop, from the index of each read/write and the node counts."""
    names = _index_names(found)
    per_step = [(node, names.get(index, index)) for ta in found.tensor_arrays
                for node, index in sorted(ta.indices.items())]
    if not per_step:
        return ("The loop reads its input from an array of per-step slices and collects its outputs "
                "in another:")
    index_vars = sorted({var for _, var in per_step})
    text = (f"Inside the loop the step number is a tensor, the loop variable {' and '.join(index_vars)}, "
            f"not a Python int, so the body cannot pick x[t] from a Python list. Instead each of its "
            f"{len(per_step)} per-step ops reads or writes one element of an array at index "
            f"{' and '.join(index_vars)} ({', '.join(node for node, _ in per_step)}). Each element is "
            "a tensor of its own, written once, so the gradient of step t's output reaches "
            "element t alone, and the body holds these ops once whatever the number of steps")
    if counts and "dynamic" in counts and counts.get("steps"):
        d0, d1 = counts["dynamic"]
        steps = counts["steps"]
        text += (f" (this graph: {d0} nodes at {steps} steps, {d1} at {steps + 1})")
    return text + ". The input array and the output array:"


def tensor_arrays(found: Findings, counts: Optional[dict] = None) -> Optional[Section]:
    """Return the TensorArrays section; ``counts`` (node counts by step count) backs the size claim."""
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
    paras = [_why(found, counts), bullets]
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
