"""Sections about the RNN as a whole: what it returns, where its state starts, dropout, heads.

Every sentence formats a field of :class:`rnngraph.recognise.RnnInfo` (tested against
the tensors TensorFlow returns in ``tests/test_rnn_truth.py``); a fact that was not
recognised gives no sentence.
"""

from __future__ import annotations

from typing import Optional

from ..recognise import Findings, RnnInfo
from ..recognise.exprs import out_shape
from .prose import Section, dims

__all__ = ['returns', 'dropout', 'state_text']

_FUNCTION = {"dynamic": "dynamic_rnn", "static": "static_rnn"}
_LEAD = {"dynamic": "The RNN (a while loop, as dynamic_rnn builds)",
         "static": "The RNN (unrolled, one cell copy per step, as static_rnn builds)"}


def _shape(G, node: str, out: int = 0, batch_axis: int = 0) -> str:
    """Return ' (m × 5)' for a node with a recorded shape, or '' when none was recorded."""
    shape = out_shape(G, node, out)
    return f" ({_dims(shape, batch_axis)})" if shape else ""


def _tensor(state) -> str:
    return state.node if state.output == 0 else f"{state.node}:{state.output}"


def _dims(shape, batch_axis: int = 0) -> str:
    """Return a shape with the batch axis as m and any other unknown size as ?."""
    if not shape:
        return dims(shape)
    return " × ".join(("m" if i == batch_axis else "?") if d is None else str(d)
                      for i, d in enumerate(shape))


def state_text(rnn: RnnInfo, shapes: Optional[dict] = None) -> str:
    """Return the final-state tensors grouped by layer: 'layer 1: c = …, h = …; layer 2: …'.

    ``shapes`` (tensor -> text) is added after each tensor when the layers differ in size.
    """
    layers: dict = {}
    for state in rnn.final_state:
        name = _tensor(state) + (f" ({shapes[_tensor(state)]})" if shapes else "")
        layers.setdefault(state.layer, []).append(
            name if state.part == "state" else f"{state.part} = {name}")
    if len(layers) == 1:
        return ", ".join(layers[0])
    return "; ".join(f"layer {k + 1}: {', '.join(v)}" for k, v in sorted(layers.items()))


def _outputs(G, rnn: RnnInfo) -> list:
    if not rnn.outputs:
        return []
    if rnn.kind == "dynamic":
        out = rnn.outputs[0]
        text = f"The outputs are {out}{_shape(G, out)}"
        if rnn.outputs_time_major and rnn.outputs_time_major != out:
            text += (f": {rnn.outputs_time_major} stacks the output array into one time-major "
                     f"tensor{_shape(G, rnn.outputs_time_major, batch_axis=1)} and {out} "
                     "transposes it to batch-major")
        text += ". That is the output of every step, not only the last."
        if rnn.reversed_by:
            text += (f" {rnn.reversed_by} then reverses them in time: this is the backward RNN "
                     "of a bidirectional pair, which runs over the reversed input, and the "
                     "reversed outputs line up with the forward RNN's steps.")
        return [text]
    steps = len(rnn.outputs)
    first, last = rnn.outputs[0], rnn.outputs[-1]
    span = first if steps == 1 else f"{first} … {last}"
    shape = out_shape(G, first)
    each = f", each {_dims(shape)}" if shape else ""
    text = (f"The outputs are a Python list of {steps} tensor{'s' if steps > 1 else ''}, one per "
            f"step ({span}){each}.")
    if rnn.sequence_length:
        text += (" With sequence_length each step runs inside a cond, and these are the cond's "
                 "results: past a sequence's end it hands on zeros as the output and the "
                 "previous state unchanged.")
    return [text]


def _final(G, rnn: RnnInfo, layer: bool = False) -> list:
    if not rnn.final_state:
        return []
    count = len(rnn.final_state)
    layers = len({s.layer for s in rnn.final_state})
    parts = {s.part for s in rnn.final_state}
    per = "the pair (c, h)" if parts == {"c", "h"} else "h"
    shapes = {_tensor(s): _dims(out_shape(G, s.node, s.output)) for s in rnn.final_state
              if out_shape(G, s.node, s.output)}
    same = len(set(shapes.values())) == 1 and len(shapes) == count
    shape = next(iter(shapes.values())) if same else None
    listed = state_text(rnn, None if same or not shapes else shapes)
    if count == 1:
        text = (f"The final state is one tensor, {per}" + (f" ({shape})" if shape else "")
                + f": {listed}.")
    else:
        grouping = f"{per} of each of the {layers} layers" if layers > 1 else per
        text = (f"The final state is {count} tensors, {grouping}"
                + (f", each {shape}" if shape else "") + f": {listed}.")
    if rnn.kind == "dynamic" and rnn.loop and layer:
        text += (f" {'They leave' if count > 1 else 'It leaves'} the while loop {rnn.loop} after "
                 "its last iteration.")
    elif rnn.kind == "dynamic" and rnn.loop:
        text += (f" {'They leave' if count > 1 else 'It leaves'} the while loop {rnn.loop} after "
                 f"its last iteration and {'are' if count > 1 else 'is'} returned as the state, "
                 "next to the outputs of every step.")
    return [text]


def _initial(G, rnn: RnnInfo) -> list:
    starts = [s for s in rnn.final_state if s.initial]
    if not starts:
        return []
    zeros = [s for s in starts if s.initial_kind == "zeros"]
    if len(zeros) == len(starts):
        names = ", ".join(dict.fromkeys(s.initial for s in zeros))
        return [f"The state starts as zeros: {names}."]
    kinds = {"zeros": "zeros", "placeholder": "a placeholder the caller feeds", "other": "op {op}"}
    names = ", ".join(f"{s.initial} ({kinds[s.initial_kind]})".replace(
        "{op}", G.nodes[s.initial]["op"] if s.initial in G else "?") for s in starts)
    return [f"The state starts from {names}."]


def _zero_output(rnn: RnnInfo) -> list:
    if not rnn.zero_output:
        return []
    if rnn.zero_output_used:
        return [f"{rnn.zero_output} is the zero output: the value selected as the output once "
                "a sequence has ended (see sequence_length). It is not the initial state."]
    return [f"{rnn.zero_output} is a zero-filled tensor nothing in this graph reads: "
            f"{_FUNCTION['dynamic']} makes it as the output for steps past a sequence's end, "
            "which only sequence_length uses. It is not the initial state."]


def _dense(rnn: RnnInfo) -> list:
    paras = []
    proj = rnn.projection
    if proj is not None:
        where = "inside the loop body" if rnn.kind == "dynamic" else f"in each of the {proj.copies} step copies"
        paras.append(
            f"Each step's output is projected {where}: {proj.matmul} multiplies the top layer's "
            f"h ({proj.reads}) by its own kernel {proj.kernel} {dims(proj.kernel_shape)} and "
            f"{proj.output} adds {proj.bias or 'a bias'}. The projection wraps the cell (as TF "
            f"1.x's OutputProjectionWrapper does), so the outputs have {rnn.output_size} "
            "columns while the state keeps the cell's size.")
    for head in rnn.heads:
        if head.role == "head on final state":
            paras.append(f"A dense layer reads the final state: {head.matmul} multiplies "
                         f"{head.reads} by {head.kernel} {dims(head.kernel_shape)} — one "
                         "prediction per sequence, from the state after the last step.")
    return paras


def returns(G, found: Findings) -> Optional[Section]:
    """Return the section on what each recognised RNN returns and where its state starts."""
    paras = []
    for rnn in found.rnns:
        if not rnn.outputs and not rnn.final_state:
            paras.append("rnngraph could not tell which tensors this RNN returns, so it names none.")
            continue
        # A Keras layer's loop hands back every step's output and the final state; which of
        # them the layer returns is its return_sequences / return_state, not in the loop.
        layer = any(c.scope in rnn.layers and getattr(c, "form", "tf1") != "tf1" for c in found.cells)
        if layer:
            paras.append("The layer's while loop hands back two things: the outputs and the final "
                         "state. Which of them the Keras layer itself returns is set by its "
                         "return_sequences and return_state arguments, not by the loop.")
        else:
            paras.append(f"{_LEAD.get(rnn.kind, 'The RNN')} returns two things: the outputs and "
                         "the final state.")
        paras += _outputs(G, rnn) + _final(G, rnn, layer) + _initial(G, rnn) + _zero_output(rnn) + _dense(rnn)
    if not paras:
        return None
    return Section("What the RNN returns", paras)


def dropout(found: Findings) -> Optional[Section]:
    """Return the section on the dropout keep-masks, if any were recognised."""
    if not found.dropout:
        return None
    bullets = []
    for drop in found.dropout:
        layer = f"layer {drop.layer + 1}'s input" if drop.layer is not None else "a tensor"
        rate = f"1 − {drop.keep_prob}" if drop.keep_prob else drop.rate
        bullets.append(f"{drop.select}: {layer} {drop.dropped}, mask {drop.mask} = "
                       f"{drop.random} ≥ {rate}"
                       + (" (a new mask every step, inside the loop)" if drop.in_loop else ""))
    return Section("Dropout", [
        "Dropout keeps each value with probability keep_prob and scales it by 1 / keep_prob: "
        "a uniform random tensor is compared with the rate 1 − keep_prob (GreaterEqual, the "
        "keep-mask) and a Select picks x / keep_prob where the mask is true and 0 elsewhere. "
        "These Selects are not sequence_length masking."], bullets)
