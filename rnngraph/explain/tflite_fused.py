"""NumPy for LiteRT's fused sequence ops, one direction at a time, as LiteRT's kernels compute them.

``UNIDIRECTIONAL_SEQUENCE_LSTM`` / ``BIDIRECTIONAL_SEQUENCE_LSTM`` follow
tensorflow/lite/kernels/lstm_eval.cc (``CalculateLstmGateFloat``, ``UpdateLstmCellFloat``,
``CalculateLstmOutputFloat``), per gate: ``W x + U h`` plus the peephole ``w_c ⊙ c`` (the old
cell state for i and f, the new one for o); with layer norm the sum is normalised
(mean 0, variance 1, epsilon 1e-8), scaled by its coefficients and only then biased, without
it the bias is added directly; i, f, o are sigmoids and the candidate uses the fused
activation; CIFG sets ``i = 1 - f``; ``c = f ⊙ c + i ⊙ g`` is clipped to ``cell_clip``;
``h = o ⊙ act(c)`` is projected (``P h + b_p``) and clipped to ``proj_clip``.
``*_SEQUENCE_RNN`` is ``h = act(W x + U h + b)`` (basic_rnn.cc).  A bidirectional op runs its
``bw_`` weights from the last step to the first and writes each output at its own step; with
``merge_outputs`` both directions share output 0, forward columns first.

Which of these terms exist is read from the recognised cell (the inputs the file holds), never
assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import UsageError
from ..recognise.tflite import TfliteCell

__all__ = ["Direction", "directions", "run_direction", "tensor_value", "quantised_rows", "hybrid_mode",
           "ACTIVATIONS", "sigmoid", "WRONG"]

_GATE_NAMES = {"i": "input", "f": "forget", "c": "cell", "o": "output"}
# A deliberately wrong NumPy cell, for the tests that show --verify can fail.
WRONG = ("swap", "nobias", "noclip", "nopeephole", "noprojection", "nolayernorm", "noreverse",
         "file_weights", "float_inputs", "single_pass")


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0),
               "relu6": lambda x: np.clip(x, 0, 6), "relu_n1_to_1": lambda x: np.clip(x, -1, 1),
               "none": lambda x: x}


def tensor_value(model, G, node: str) -> np.ndarray:
    """Return the full value of a constant node, dequantised, from rnngraph's own reader."""
    from ..graphdef.tflite import quantisation, tensor_array  # noqa: PLC0415

    s, t = G.nodes[node]["attrs"]["tflite_tensor"]
    tensor = model.subgraphs[s].Tensors(t)
    value = tensor_array(model, tensor)
    if value is None and tensor.IsVariable() and not model.buffer_bytes(tensor):
        # A variable tensor without data starts as zeros (LiteRT resets variables to 0); the
        # converter reuses such a tensor for all-zero weights too.
        value = np.zeros(model.vector(tensor, "Shape", "dimensions"))
    if value is None:
        raise UsageError(f"--verify needs the value of {node}, which the file does not hold")
    q = quantisation(model, tensor)
    if q and str(value.dtype) in ("int8", "uint8", "int16", "int32", "int64"):
        shape = [1] * value.ndim
        if len(q["scale"]) > 1:
            shape[q["dimension"]] = -1
        value = (value - np.reshape(q["zero_point"] or [0], shape)) * np.reshape(q["scale"], shape)
    return value.astype("float64")


@dataclass
class Direction:
    """One direction of a fused op: its weights by role and where the op writes its output."""

    name: str  # forward | backward
    prefix: str  # "", "fw_" or "bw_": the slot names' prefix
    reverse: bool  # the op itself runs it from the last step (a bidirectional op's bw)
    output: int  # the op's output slot holding its sequence
    columns: Optional[tuple] = None  # (start, stop) within that output when merged
    weights: dict = field(default_factory=dict)  # role -> {gate letter: array} or array
    aliases: dict = field(default_factory=dict)  # (role, gate) -> "h" | "c" (shares the state tensor)
    size: int = 0  # the width of its output (units, or the projection's rows)
    # int8 weights on a float sequence: LiteRT's hybrid kernel, which quantises each vector it
    # multiplies by them (None: a float or a fully integer op)
    hybrid: Optional[str] = None  # "symmetric" | "asymmetric"


def _state_of(state_slot: str) -> str:
    return "c" if "cell_state" in state_slot else "h"


def _lstm_weights(cell: TfliteCell, model, G, prefix: str) -> tuple:
    weights, aliases = {"input_to": {}, "recurrent_to": {}, "cell_to": {}, "bias": {}, "layer_norm": {}}, {}
    slots = {"input_to": "{p}input_to_{g}_weights", "recurrent_to": "{p}recurrent_to_{g}_weights",
             "cell_to": "{p}cell_to_{g}_weights", "bias": "{p}{g}_gate_bias",
             "layer_norm": "{g}_layer_norm_coefficients"}
    for role, pattern in slots.items():
        for letter, gate in _GATE_NAMES.items():
            slot = pattern.format(p=prefix, g=gate)
            if slot in cell.inputs and (role != "layer_norm" or not prefix):
                weights[role][letter] = tensor_value(model, G, cell.inputs[slot])
                if slot in cell.shares_state:
                    aliases[(role, letter)] = _state_of(cell.shares_state[slot])
    for role, slot in (("projection", f"{prefix}projection_weights"), ("projection_bias", f"{prefix}projection_bias")):
        if slot in cell.inputs:
            weights[role] = tensor_value(model, G, cell.inputs[slot])
    if "f" not in weights["input_to"] or "c" not in weights["input_to"] or "o" not in weights["input_to"]:
        raise UsageError(f"--verify needs the forget, cell and output weights of {cell.node}, "
                         f"which the file leaves out")
    size = weights["projection"].shape[0] if "projection" in weights else weights["input_to"]["f"].shape[0]
    return weights, aliases, size


def _rnn_weights(cell: TfliteCell, model, G, prefix: str) -> tuple:
    weights, aliases = {}, {}
    for role, slot in (("input_to", "weights"), ("recurrent_to", "recurrent_weights"), ("bias", "bias")):
        name = f"{prefix}{slot}"
        if name not in cell.inputs:
            raise UsageError(f"--verify needs {name} of {cell.node}, which the file leaves out")
        weights[role] = tensor_value(model, G, cell.inputs[name])
        if name in cell.shares_state:
            aliases[(role, None)] = _state_of(cell.shares_state[name])
    return weights, aliases, weights["input_to"].shape[0]


def directions(cell: TfliteCell, model, G) -> list:
    """Return the :class:`Direction` of each direction the fused op computes."""
    if any(name.startswith("aux_") or "_aux_" in name for name in cell.inputs):
        raise UsageError(f"--verify does not model the auxiliary input of {cell.node}")
    if (cell.activation or "tanh") not in ACTIVATIONS:
        raise UsageError(f"--verify does not model the activation {cell.activation} of {cell.node} "
                         f"(it models: {', '.join(sorted(ACTIVATIONS))})")
    read = _lstm_weights if cell.kind == "lstm" else _rnn_weights
    hybrid = hybrid_mode(cell, G)
    if cell.direction != "bidirectional":
        weights, aliases, size = read(cell, model, G, "")
        return [Direction(cell.direction, "", False, 0, None, weights, aliases, size, hybrid)]
    found = []
    for name, prefix, reverse in (("forward", "fw_", False), ("backward", "bw_", True)):
        weights, aliases, size = read(cell, model, G, prefix)
        found.append(Direction(name, prefix, reverse, 0, None, weights, aliases, size, hybrid))
    fw, bw = found
    if cell.options.get("merge_outputs"):
        fw.columns, bw.columns = (0, fw.size), (fw.size, fw.size + bw.size)
    else:
        bw.output = 1
    return found


def hybrid_mode(cell: TfliteCell, G) -> Optional[str]:
    """Return how the kernel quantises its float vectors when the op's weights are int8 (else None).

    The kernels pick their path by the type of the output gate's input weights (LSTM) or of
    the input weights (RNN), as bidirectional_sequence_lstm.cc and basic_rnn.cc do.
    """
    prefix = "fw_" if cell.direction == "bidirectional" else ""
    weight = cell.inputs.get(f"{prefix}input_to_output_weights" if cell.kind == "lstm" else f"{prefix}weights")
    source = cell.inputs.get("input")
    dtype = (lambda node: (G.nodes[node]["outputs"] or [{}])[0].get("dtype"))
    if weight is None or source is None or dtype(weight) not in ("int8", "uint8") or dtype(source) != "float32":
        return None
    return "asymmetric" if cell.options.get("asymmetric_quantize_inputs") else "symmetric"


def _round(x):
    """std::round: halves away from zero (NumPy's round goes to even)."""
    return np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))


def quantised_rows(v: np.ndarray, mode: Optional[str]) -> np.ndarray:
    """Return ``v`` as the hybrid kernel sees it: each row quantised to int8 and scaled back.

    tensor_utils BatchQuantizeFloats, in float32 as the kernel computes: symmetric, scale
    max|v| / 127, codes in [-127, 127]; asymmetric, the range [min(v, 0), max(v, 0)] over 255
    steps with the zero point of smaller error, codes in [-128, 127].
    """
    if mode is None:
        return v
    rows = np.asarray(v, np.float32)
    out = np.zeros(rows.shape)
    for b, row in enumerate(rows):
        if mode == "symmetric":
            top = np.float32(np.max(np.abs(row)))
            if top == 0:
                continue
            codes = np.clip(_round(row * (np.float32(127) / top)), -127, 127)
            out[b] = codes.astype(np.float64) * np.float64(top / np.float32(127))
            continue
        low, high = min(0.0, float(row.min())), max(0.0, float(row.max()))
        if low == high:
            continue
        scale = (high - low) / 255.0
        from_min, from_max = -128 - low / scale, 127 - high / scale
        zero = from_min if 128 + abs(low / scale) < 127 + abs(high / scale) else from_max
        zero = -128 if zero <= -128 else 127 if zero >= 127 else int(_round(zero))
        codes = np.clip(_round(np.float32(zero) + row * (np.float32(1) / np.float32(scale))), -128, 127)
        out[b] = (codes.astype(np.float64) - zero) * np.float64(np.float32(scale))
    return out


def _layer_norm(z, coefficients):
    mean = z.mean(axis=-1, keepdims=True)
    variance = ((z - mean) ** 2).mean(axis=-1, keepdims=True)
    return (z - mean) / np.sqrt(variance + 1e-8) * coefficients


def _with_state(d: Direction, h, c, wrong: Optional[str]) -> dict:
    """Return the weights with each block that shares a state tensor replaced by that state."""
    if not d.aliases or wrong == "file_weights":
        return d.weights
    weights = {role: dict(value) if isinstance(value, dict) else value for role, value in d.weights.items()}
    for (role, gate), state in d.aliases.items():
        block = weights[role][gate] if gate else weights[role]
        value = h if state == "h" else c
        if value.size != block.size:
            raise UsageError("--verify cannot model a weight that shares a state tensor of another size")
        if gate:
            weights[role][gate] = value.reshape(block.shape)
        else:
            weights[role] = value.reshape(block.shape)
    return weights


def _lstm_step(cell: TfliteCell, w: dict, x, h, c, wrong: Optional[str], hybrid: Optional[str]) -> tuple:
    act = ACTIVATIONS[cell.activation or "tanh"]
    x, h = quantised_rows(x, hybrid), quantised_rows(h, hybrid)
    order = [g for g in "ifco" if g in w["input_to"]]
    names = {g: g for g in order}
    if wrong == "swap":
        names[order[0]], names[order[1]] = order[1], order[0]

    diagonal = bool(cell.options.get("diagonal_recurrent_tensors"))

    def gate(g: str, state):
        k = names[g]
        recurrent = w["recurrent_to"][k]
        if diagonal != (recurrent.ndim == 1):
            raise UsageError(f"{cell.node} has diagonal_recurrent_tensors {str(diagonal).lower()} but "
                             f"recurrent weights of shape {list(recurrent.shape)}")
        z = x @ w["input_to"][k].T + (h * recurrent if diagonal else h @ recurrent.T)
        if g in w["cell_to"] and wrong != "nopeephole":
            z = z + w["cell_to"][g] * state
        if g in w["layer_norm"] and wrong != "nolayernorm":
            z = _layer_norm(z, w["layer_norm"][g])
        return z if wrong == "nobias" or k not in w["bias"] else z + w["bias"][k]

    f = sigmoid(gate("f", c))
    i = 1.0 - f if "i" not in w["input_to"] else sigmoid(gate("i", c))
    c = f * c + i * act(gate("c", c))
    clip = 0.0 if wrong == "noclip" else float(cell.options.get("cell_clip") or 0.0)
    if clip > 0:
        c = np.clip(c, -clip, clip)
    out = sigmoid(gate("o", c)) * act(c)
    if "projection" in w and wrong == "noprojection":  # h as wide as the output: cut or padded
        out = out @ np.eye(w["projection"].shape[0], out.shape[1]).T
    elif "projection" in w:
        out = quantised_rows(out, hybrid) @ w["projection"].T + w.get("projection_bias", 0.0)
        proj = 0.0 if wrong == "noclip" else float(cell.options.get("proj_clip") or 0.0)
        if proj > 0:
            out = np.clip(out, -proj, proj)
    return out, c


def run_direction(cell: TfliteCell, d: Direction, xs: np.ndarray, wrong: Optional[str] = None) -> np.ndarray:
    """Return the outputs (steps × batch × width) of one direction on time-major ``xs``."""
    steps = range(len(xs))
    if d.reverse and wrong != "noreverse":
        steps = reversed(steps)
    units = d.weights["recurrent_to"]["f"].shape[0] if cell.kind == "lstm" else d.size
    h = np.zeros((xs.shape[1], d.size))
    c = np.zeros((xs.shape[1], units))
    out = np.zeros((len(xs), xs.shape[1], d.size))
    act = ACTIVATIONS[cell.activation or "tanh"]
    hybrid = None if wrong == "float_inputs" else d.hybrid
    for t in steps:
        w = _with_state(d, h, c, wrong)
        if cell.kind == "lstm":
            h, c = _lstm_step(cell, w, xs[t], h, c, wrong, hybrid)
        else:
            bias = 0.0 if wrong == "nobias" else w["bias"]
            h = act(quantised_rows(xs[t], hybrid) @ w["input_to"].T
                    + quantised_rows(h, hybrid) @ w["recurrent_to"].T + bias)
        out[t] = h
    return out
