"""LiteRT recurrent cells: the fused sequence ops and the cells inside a converted ``WHILE`` body.

Pure functions over the walked graph of a ``.tflite`` file (see graphdef/tflite.py: each
operator is a node whose op is the builtin name, ``WHILE`` is a ``While`` with ``tflite_op``).

* **fused**: ``UNIDIRECTIONAL_SEQUENCE_LSTM``, ``BIDIRECTIONAL_SEQUENCE_LSTM``,
  ``UNIDIRECTIONAL_SEQUENCE_RNN``, ``BIDIRECTIONAL_SEQUENCE_RNN``: every input named by its
  schema slot, the absent ones (-1) listed, peepholes / projection / CIFG / layer norm read
  from which are present, the options as the file holds them;
* **while**: a ``WHILE`` body holding ``FULLY_CONNECTED`` on the step's input (``GATHER``) and
  on the carried state; the gate order is read from the ``SPLIT`` of the input projection and
  what each piece feeds (the sigmoid that scales the old cell state is the forget gate...).

A fused op or loop whose input comes through ``REVERSE_V2`` runs backward; a forward and a
backward one reading the same sequence are one bidirectional layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

import networkx as nx

from ..graphdef.walk import body_prefix

__all__ = ["TfliteCell", "find_tflite_cells", "FUSED_OPS", "is_tflite_graph", "lstm_features"]

# fused op -> (cell kind, directions)
FUSED_OPS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": ("lstm", 1), "BIDIRECTIONAL_SEQUENCE_LSTM": ("lstm", 2),
             "UNIDIRECTIONAL_SEQUENCE_RNN": ("rnn", 1), "BIDIRECTIONAL_SEQUENCE_RNN": ("rnn", 2),
             "LSTM": ("lstm", 1), "RNN": ("rnn", 1)}
# The options the fused ops carry, and the type the reader writes for each.
_OPTION_KEYS = {"fused_activation_function": str, "cell_clip": float, "proj_clip": float,
                "time_major": bool, "asymmetric_quantize_inputs": bool, "merge_outputs": bool,
                "diagonal_recurrent_tensors": bool}
ACTIVATIONS = {"LOGISTIC": "sigmoid", "TANH": "tanh", "RELU": "relu", "RELU6": "relu6",
               "RELU_N1_TO_1": "relu_n1_to_1", "HARD_SWISH": "hard_swish", "ELU": "elu"}
_QUANTISED = {"int8", "uint8", "int16", "int4"}
_PASS = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "Identity"}


@dataclass
class TfliteCell:
    """One recurrent layer (or one direction of one) found in a LiteRT model."""

    node: str  # the fused op or the While node
    form: str  # "fused" | "while"
    kind: str  # lstm | gru | rnn
    op: str  # builtin op name (WHILE for loops)
    layer: str  # the Keras layer as the converter's tensor names say it (scope)
    units: Optional[int] = None
    n_inputs: Optional[int] = None
    direction: str = "forward"  # forward | backward | bidirectional
    reversed_by: Optional[str] = None  # the REVERSE_V2 feeding it
    pair: Optional[str] = None  # the other direction of one bidirectional layer
    inputs: dict = field(default_factory=dict)  # slot name -> node
    absent: list = field(default_factory=list)  # slot names left out (-1)
    peepholes: Optional[bool] = None
    projection: Optional[bool] = None
    cifg: Optional[bool] = None
    layer_norm: Optional[bool] = None
    options: dict = field(default_factory=dict)
    gates: list = field(default_factory=list)  # Keras gate letters in weight-row order
    gate_nodes: dict = field(default_factory=dict)  # letter -> activation node
    activation: Optional[str] = None
    recurrent_activation: Optional[str] = None
    weights: dict = field(default_factory=dict)  # role -> node (kernel, recurrent_kernel, bias...)
    quantised: dict = field(default_factory=dict)  # weight node -> "int8, scale 0.0061"
    split: Optional[str] = None
    body: Optional[str] = None  # the loop's body function
    # fused: input slot -> the state slot fed the very same tensor (a variable the kernel
    # overwrites each step, so that input does not keep the value the file holds)
    shares_state: dict = field(default_factory=dict)
    # GRU in a WHILE body: r applied after the recurrent product (Keras reset_after=True) or
    # to h before it (reset_after=False)
    reset_after: Optional[bool] = None
    # a bidirectional LSTM op: the backward direction's own peepholes / projection / cifg (the
    # fields above describe the forward one)
    backward: dict = field(default_factory=dict)
    projection_size: Optional[int] = None  # rows of the (forward) projection weights

    def as_dict(self) -> dict:
        return asdict(self)


def is_tflite_graph(G: nx.MultiDiGraph) -> bool:
    """True when the graph came from a LiteRT flatbuffer (its nodes carry ``tflite_index``)."""
    return any("tflite_index" in d["attrs"] for _, d in G.nodes(data=True))


def _inputs(G, node: str) -> list:
    """Return [(source, src_output)] of the node's data inputs, in order."""
    edges = sorted((k, s, d["src_output"]) for s, _, k, d in G.in_edges(node, keys=True, data=True)
                   if 0 <= k < 1000 and not d["control"])
    return [(s, o) for _, s, o in edges]


def _consumers(G, node: str, output: Optional[int] = None) -> list:
    return sorted({d for _, d, data in G.out_edges(node, data=True)
                   if data["kind"] == "data" and (output is None or data["src_output"] == output)})


def _source(G, node: str) -> str:
    """Follow reshapes back to the node that really produces a value."""
    seen = 0
    while G.nodes[node]["op"] in _PASS and seen < 8:
        ins = _inputs(G, node)
        if not ins:
            break
        node, seen = ins[0][0], seen + 1
    return node


def _dtype(G, node: str) -> Optional[str]:
    outs = G.nodes[node]["outputs"]
    return outs[0]["dtype"] if outs else None


def _shape(G, node: str) -> Optional[list]:
    outs = G.nodes[node]["outputs"]
    return outs[0]["shape"] if outs else None


def _quant_note(G, node: str) -> Optional[str]:
    dtype = _dtype(G, node)
    if dtype not in _QUANTISED:
        return None
    scale = G.nodes[node]["attrs"].get("quant_scale")
    scale = scale if isinstance(scale, list) and all(isinstance(v, float) for v in scale) else []
    channels = G.nodes[node]["attrs"].get("quant_channels")
    channels = channels if isinstance(channels, int) and not isinstance(channels, bool) else len(scale)
    text = f"{dtype}"
    if channels > 1 and scale:
        text += f", {channels} per-channel scales (first {scale[0]:.3g})"
    elif scale:
        text += f", scale {scale[0]:.3g}"
    return text


def _layer(name: str) -> str:
    parts = name.split("/")
    for index, part in enumerate(parts):
        if part in ("while", "lstm_cell", "gru_cell") or part.startswith(("while", "Tensor")):
            return "/".join(parts[:index])
    return "/".join(parts[:-1]) or name


def _reversed_input(G, node: str, index: int = 0) -> Optional[str]:
    ins = _inputs(G, node)
    if len(ins) <= index:
        return None
    src = _source(G, ins[index][0])
    return src if G.nodes[src]["op"] == "REVERSE_V2" else None


def _int_list(value) -> Optional[list]:
    """Return ``value`` when it is a list of integers (the reader's index lists), else None."""
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value
    return None


def lstm_features(inputs: dict, prefix: str = "") -> dict:
    """Return which terms one direction of a fused LSTM has, from the input slots it holds."""
    return {"peepholes": f"{prefix}cell_to_forget_weights" in inputs or f"{prefix}cell_to_output_weights" in inputs,
            "projection": f"{prefix}projection_weights" in inputs,
            "cifg": f"{prefix}input_to_input_weights" not in inputs,
            # only the unidirectional op has layer-norm slots (lstm_shared.h)
            "layer_norm": not prefix and "forget_layer_norm_coefficients" in inputs}


def _fused(G, node: str) -> Optional[TfliteCell]:
    data = G.nodes[node]
    op = data["op"]
    kind, directions = FUSED_OPS[op]
    attrs = data["attrs"]
    from ..graphdef.tflite import INPUT_NAMES  # noqa: PLC0415 (the schema's slot names)

    schema = INPUT_NAMES[op]
    slots = _int_list(attrs.get("tflite_inputs"))
    sources = _inputs(G, node)
    present = [s for s, t in enumerate(slots or []) if t >= 0]
    if slots is None or len(present) != len(sources) or any(s >= len(schema) for s in present):
        return None  # not as the LiteRT reader writes it (a GraphDef holding look-alike attrs)
    cell = TfliteCell(node=node, form="fused", kind=kind, op=op, layer=_layer(node))
    cell.inputs = {schema[s]: src for s, (src, _) in zip(present, sources)}
    cell.absent = [schema[s] for s, t in enumerate(slots) if t < 0 and s < len(schema)]
    states = {t: schema[s] for s, t in enumerate(slots) if s < len(schema) and "state" in schema[s]}
    cell.shares_state = {schema[s]: states[t] for s, t in enumerate(slots)
                         if s < len(schema) and t >= 0 and t in states and "state" not in schema[s]}
    cell.absent += schema[len(slots):]
    cell.options = {k: attrs[k] for k, kind in _OPTION_KEYS.items()
                    if isinstance(attrs.get(k), kind) and not (kind is float and isinstance(attrs[k], bool))}
    act = cell.options.get("fused_activation_function")
    cell.activation = act.lower() if isinstance(act, str) else None
    prefix = "fw_" if directions == 2 else ""
    if kind == "lstm":
        cell.gates = ["i", "f", "c", "o"]
        cell.recurrent_activation = "sigmoid"  # the kernel's gates (lstm_eval.cc)
        found = lstm_features(cell.inputs, prefix)
        cell.peepholes, cell.projection = found["peepholes"], found["projection"]
        cell.cifg, cell.layer_norm = found["cifg"], found["layer_norm"]
        if cell.cifg:  # no input-gate weights: the kernel derives i from f
            cell.gates.remove("i")
        if directions == 2:
            cell.backward = lstm_features(cell.inputs, "bw_")
        projection = _shape(G, cell.inputs[f"{prefix}projection_weights"]) if cell.projection else None
        cell.projection_size = projection[0] if projection and len(projection) == 2 else None
        kernel = cell.inputs.get(f"{prefix}input_to_forget_weights")
    else:
        kernel = cell.inputs.get(f"{prefix}weights")
    shape = _shape(G, kernel) if kernel else None
    if shape and len(shape) == 2:
        cell.units, cell.n_inputs = shape
    for name, src in cell.inputs.items():
        note = _quant_note(G, src)
        if note and name != "input":
            cell.quantised[name] = note
    if directions == 2:
        cell.direction = "bidirectional"
    else:
        cell.reversed_by = _reversed_input(G, node)
        cell.direction = "backward" if cell.reversed_by else "forward"
    return cell


def _activation_after(G, node: str, output: int, depth: int = 3) -> list:
    """Return the activation nodes reached from (node, output) through ADD/MUL/SUB/reshapes."""
    found, frontier = [], [(c, depth) for c in _consumers(G, node, output)]
    while frontier:
        current, left = frontier.pop(0)
        op = G.nodes[current]["op"]
        if op in ACTIVATIONS:
            found.append(current)
        elif left > 0 and op in {"ADD", "MUL", "SUB"} | _PASS:
            frontier += [(c, left - 1) for c in _consumers(G, current)]
    return sorted(set(found))


def _is_arg(G, node: str) -> bool:
    return G.nodes[_source(G, node)]["op"] == "_Arg"


def _feeds_matmul(G, node: str) -> bool:
    """True when ``node``'s value reaches a FULLY_CONNECTED (or BATCH_MATMUL) through reshapes."""
    frontier, seen = [node], 0
    while frontier and seen < 16:
        current = frontier.pop()
        seen += 1
        for consumer in _consumers(G, current):
            if G.nodes[consumer]["op"] in ("FULLY_CONNECTED", "BATCH_MATMUL"):
                return True
            if G.nodes[consumer]["op"] in _PASS | {"CONCATENATION"}:
                frontier.append(consumer)
    return False


def _gate_role(G, act: str, kind: str) -> Optional[str]:
    """Return the Keras gate letter of an activation node in a WHILE body, from what it scales."""
    if G.nodes[act]["op"] != "LOGISTIC":
        return "c" if kind == "lstm" else "h"
    for mul in _consumers(G, act):
        if G.nodes[mul]["op"] != "MUL":
            continue
        others = [s for s, _ in _inputs(G, mul) if s != act]
        if not others:
            continue
        other = _source(G, others[0])
        if G.nodes[other]["op"] == "_Arg":
            if kind == "gru" and _feeds_matmul(G, mul):
                return "r"  # r·h goes through the recurrent kernel: reset before (Keras 2's GRU)
            return "f" if kind == "lstm" else "z"
        if kind == "gru":
            return "r"
        if G.nodes[other]["op"] in ACTIVATIONS:
            # i scales the candidate act(split piece); o scales act(new cell state)
            inner = _source(G, _inputs(G, other)[0][0]) if _inputs(G, other) else other
            return "i" if G.nodes[inner]["op"] == "SPLIT" else "o"
    return None


def _bias_of(G, node: str) -> list:
    """Return the constants added to ``node``'s output before it is split or activated."""
    found = []
    for consumer in _consumers(G, node):
        if G.nodes[consumer]["op"] == "ADD":
            for src, _ in _inputs(G, consumer):
                if G.nodes[_source(G, src)]["op"] == "Const" and src != node:
                    found.append(_source(G, src))
            found += _bias_of(G, consumer) if len(found) == 0 else []
    return found


def _while_cell(G, node: str) -> Optional[TfliteCell]:
    prefix = body_prefix(node, "body")
    body = [n for n in G if n.startswith(prefix) and G.nodes[n]["parent_op"] == node]
    fcs = [n for n in body if G.nodes[n]["op"] == "FULLY_CONNECTED"]
    x_fc = h_fc = None
    for fc in fcs:
        ins = _inputs(G, fc)
        if len(ins) < 2:  # FULLY_CONNECTED takes an input and its weights
            continue
        src = _source(G, ins[0][0])
        if G.nodes[src]["op"] == "GATHER":
            x_fc = fc
        elif G.nodes[src]["op"] == "_Arg":
            h_fc = fc
    if x_fc is None or h_fc is None:
        return None
    splits = [n for n in body if G.nodes[n]["op"] == "SPLIT"]
    x_split = next((s for s in splits if x_fc in nx.ancestors(G, s)), None)
    n_split = G.nodes[x_split]["attrs"].get("num_splits") if x_split else None
    if n_split is not None and (not isinstance(n_split, int) or isinstance(n_split, bool)):
        return None
    kind = {4: "lstm", 3: "gru"}.get(n_split, "rnn" if x_split is None else None)
    if kind is None:
        return None
    kernel, recurrent = _inputs(G, x_fc)[1][0], _inputs(G, h_fc)[1][0]
    cell = TfliteCell(node=node, form="while", kind=kind, op="WHILE", layer=_layer(node),
                      split=x_split, body=(G.nodes[node]["attrs"].get("body") or {}).get("function"))
    cell.weights = {"kernel": _source(G, kernel), "recurrent_kernel": _source(G, recurrent)}
    for role, fc in (("bias", x_fc), ("recurrent_bias", h_fc)):
        ins = _inputs(G, fc)
        if len(ins) > 2:
            cell.weights[role] = _source(G, ins[2][0])
    if "bias" not in cell.weights:
        extra = _bias_of(G, x_fc) + _bias_of(G, h_fc)
        if extra:
            cell.weights["bias"] = extra[0]
    shape = _shape(G, cell.weights["kernel"])
    if shape and len(shape) == 2:
        gates = n_split or 1
        cell.units, cell.n_inputs = shape[0] // gates, shape[1]
    if x_split is not None:
        for k in range(n_split):
            acts = _activation_after(G, x_split, k)
            if len(acts) != 1:
                return None
            role = _gate_role(G, acts[0], kind)
            if role is None or role in cell.gates:
                return None  # not a cell whose gates rnngraph can tell apart
            cell.gates.append(role)
            cell.gate_nodes[role] = acts[0]
        if kind == "gru" and "r" in cell.gate_nodes:
            r_muls = [m for m in _consumers(G, cell.gate_nodes["r"]) if G.nodes[m]["op"] == "MUL"]
            cell.reset_after = not any(_feeds_matmul(G, m) for m in r_muls)
            if not cell.reset_after:  # (r·h)·U_h: the candidate's own recurrent kernel
                fcs_after = [fc for fc in fcs if any(_source(G, s) in r_muls for s, _ in _inputs(G, fc)[:1])]
                if len(fcs_after) != 1 or len(_inputs(G, fcs_after[0])) < 2:
                    return None
                candidate = _inputs(G, fcs_after[0])
                cell.weights["candidate_recurrent_kernel"] = _source(G, candidate[1][0])
                if len(candidate) > 2:
                    cell.weights["candidate_recurrent_bias"] = _source(G, candidate[2][0])
        cands = [a for g, a in cell.gate_nodes.items() if g in ("c", "h")]
        sigm = [a for g, a in cell.gate_nodes.items() if g not in ("c", "h")]
        cell.activation = ACTIVATIONS[G.nodes[cands[0]]["op"]] if cands else None
        cell.recurrent_activation = ACTIVATIONS[G.nodes[sigm[0]]["op"]] if sigm else None
    else:
        acts = _activation_after(G, x_fc, 0, depth=4)
        if len(acts) != 1:
            return None
        cell.activation = ACTIVATIONS[G.nodes[acts[0]]["op"]]
        cell.gate_nodes["h"] = acts[0]
    for role, src in cell.weights.items():
        note = _quant_note(G, src)
        if note:
            cell.quantised[role] = note
    # the input sequence: the While's input carried to the GATHER
    gather = _source(G, _inputs(G, x_fc)[0][0])
    arg = _source(G, _inputs(G, gather)[0][0])
    index = G.nodes[arg]["attrs"].get("index")
    outer = _inputs(G, node)
    if isinstance(index, int) and index < len(outer):
        cell.inputs["input"] = outer[index][0]
        cell.reversed_by = _reversed_input(G, node, index)
        cell.direction = "backward" if cell.reversed_by else "forward"
    return cell


def _pair(G, cells: list) -> None:
    """Link a forward and a backward cell that read the same sequence (one bidirectional layer)."""
    for back in cells:
        if back.direction != "backward" or back.reversed_by is None:
            continue
        ins = _inputs(G, back.reversed_by)
        if not ins:
            continue
        source = _source(G, ins[0][0])
        for front in cells:
            if front.direction == "forward" and front.pair is None and front.inputs.get("input") \
                    and _source(G, front.inputs["input"]) == source:
                front.pair, back.pair = back.node, front.node
                break


def find_tflite_cells(G: nx.MultiDiGraph) -> list:
    """Return the :class:`TfliteCell` of every fused recurrent op and converted loop in ``G``."""
    cells = []
    for node in sorted(G, key=lambda n: G.nodes[n]["order"]):
        data = G.nodes[node]
        if data["op"] in FUSED_OPS and "tflite_index" in data["attrs"]:
            cell = _fused(G, node)
            if cell is not None:
                cells.append(cell)
        elif data["op"] == "While" and data["attrs"].get("tflite_op") == "WHILE":
            cell = _while_cell(G, node)
            if cell is not None:
                cells.append(cell)
    _pair(G, cells)
    return cells
