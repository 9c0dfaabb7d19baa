"""Sections about the TensorArrays / TensorLists and the outputs the RNN returns."""

from __future__ import annotations

from ..model.spec import ModelSpec
from ..recognise import Findings
from .prose import Section, dims

__all__ = ['tensor_arrays', 'outputs']


def tensor_arrays(found: Findings) -> Section:
    bullets = []
    for ta in found.tensor_arrays:
        if ta.role == "unused":
            bullets.append(f"{ta.name} ({ta.kind}): created but never used (dynamic_rnn makes it "
                           "and then unstacks the input with a fresh list instead)")
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
    paras = ["A while loop cannot slice a Python list by the loop index, so dynamic_rnn turns "
             "the input into an array of per-step slices and collects the outputs in another:",
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


def outputs(G, found: Findings, spec: ModelSpec) -> Section:
    from ..recognise.exprs import consumers, out_shape

    n = found.cells[-1].n_neurons if found.cells else spec.neurons
    stacked = next((t.stack for t in found.tensor_arrays if t.role == "output" and t.stack), None)
    final = None
    if stacked:
        final = next((d for d, _ in consumers(G, stacked, 0) if G.nodes[d]["op"] == "Transpose"), None)
    if final:
        where = (f"the output array is stacked by {stacked} into {dims(out_shape(G, stacked))} "
                 f"(time-major) and transposed back by {final} into "
                 f"{dims(out_shape(G, final))} = m × steps × n_neurons")
    else:
        last = found.cells[-1] if found.cells else None
        where = ("each copy of the cell produces its step's output "
                 f"({', '.join(map(str, last.instance_outputs)) if last else '?'}); the list is what static_rnn "
                 "returns")
    return Section("Outputs of every step", [
        f"The RNN returns two things: the outputs of every step and the final state. Here {where}. "
        f"The final state is m × {n} (for an LSTM the pair c, h).",
        "Because every step's output is there, not only the final state, the per-step outputs "
        f"can feed a dense layer too: reshape m × steps × {n} to (m·steps) × {n}, apply one "
        "dense layer, reshape back — a prediction per time step (the series head does this). "
        "A classifier of whole sequences uses the final state instead (the mnist head)."])
