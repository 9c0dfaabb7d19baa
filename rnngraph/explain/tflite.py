"""LiteRT cells -> prose, and ``--verify``: the LiteRT interpreter against NumPy.

The NumPy cell is computed from the weights rnngraph's own flatbuffer reader decoded
(graphdef/tflite.py) and the recognised facts (gate order, activations, cell_clip); the
interpreter (PyPI ``ai-edge-litert``) runs the file with every intermediate tensor kept, and
each recognised cell's output tensor is compared with the NumPy one.
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from ..errors import GraphFileError, UsageError
from ..graphdef.walk import body_prefix, retval_key
from ..recognise.structures import KERAS_GATE_MEANING
from ..recognise.tflite import TfliteCell, lstm_features
from .prose import Section
from .tflite_fused import (ACTIVATIONS as _ACT, directions, hybrid_mode, quantised_rows, run_direction,
                           tensor_value as _array)

__all__ = ["cell_lines", "tflite_sections", "tflite_overview", "verify_tflite", "numpy_cell", "FLOAT_TOLERANCE",
           "QUANT_TOLERANCE", "FULL_INTEGER_STEPS"]

FLOAT_TOLERANCE = 1e-5
# Dynamic-range quantisation keeps weights in int8 (one scale per output row) and the hybrid
# kernels quantise each step's input and state to int8 too (asymmetric_quantize_inputs or
# symmetric).  NumPy quantises them the same way (tflite_fused.quantised_rows), so the float
# tolerance holds; this one is left for int8 weights whose kernel rnngraph cannot tell (not
# one float FULLY_CONNECTED reading them), where the rounding of the inputs (1/254 of their
# range) times the weights' sum over a row remains.
QUANT_TOLERANCE = 0.05
# A full-integer model (int8 activations, int16 cell state) rounds h to its output step at
# every step; the rounding feeds the next step, so the tolerance is counted in those steps.
FULL_INTEGER_STEPS = 8
_KIND_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "simple RNN"}
_TOPIC_KINDS = {"lstm": {"lstm"}, "gru": {"gru"}, "rnn": {"rnn", "lstm", "gru"}}


def _short(name: str) -> str:
    return name.rpartition("/")[2] or name


def cell_lines(cell: TfliteCell, G) -> list:
    """Return the lines ``inspect`` prints for one LiteRT cell (facts only)."""
    where = (f"fused {cell.op} {cell.node}" if cell.form == "fused"
             else f"WHILE {cell.node} (body {cell.body})")
    size = f"{cell.units} units, {cell.n_inputs} inputs per step" if cell.units else "sizes not recorded"
    lines = [f"  {where}: {_KIND_NAMES[cell.kind]}, {size}, {cell.direction}"
             + (f" (input reversed by REVERSE_V2 {cell.reversed_by})" if cell.reversed_by else "")]
    if cell.pair:
        lines.append(f"    one bidirectional layer with {cell.pair}")
    if cell.gates:
        gates = ", ".join(f"{g} ({KERAS_GATE_MEANING.get(g, g)})" for g in cell.gates)
        source = f"from SPLIT {_short(cell.split)} and what each piece feeds" if cell.split \
            else "by input slot"
        lines.append(f"    gates in weight order {gates}, {source}")
    if cell.reset_after is not None:
        lines.append("    reset gate applied " + ("after the recurrent product, r·(h·U + b) "
                     "(Keras reset_after=True)" if cell.reset_after else
                     "to h before the recurrent product, (r·h)·U (Keras reset_after=False)"))
    acts = [f"activation {cell.activation}"] if cell.activation else []
    if cell.recurrent_activation:
        acts.append(f"gates {cell.recurrent_activation}")
    if acts:
        lines.append("    " + ", ".join(acts))
    if cell.form == "fused":
        slots = len(cell.inputs) + len(cell.absent)
        lines.append(f"    inputs ({len(cell.inputs)} of {slots}): " + ", ".join(
            f"{name}{'' if _short(src) == name else ' = ' + _short(src)} {_shape_text(G, src)}"
            for name, src in cell.inputs.items()))
        if cell.absent:
            lines.append(f"    absent (-1): {', '.join(cell.absent)}")
        if cell.kind == "lstm":
            lines += _lstm_lines(cell, G)
        if cell.direction == "bidirectional":
            lines.append("    " + _bidirectional_text(cell, G))
        lines.append("    options: " + ", ".join(f"{k} {_value(v)}" for k, v in cell.options.items()))
        for name, state in cell.shares_state.items():
            lines.append(f"    {name} is the same tensor as {state}, a variable the kernel overwrites "
                         f"with the new state every step: this input does not keep the value "
                         f"the file holds")
        clip = cell.options.get("cell_clip")
        if clip:
            lines.append(f"    cell_clip {clip:g}: the kernel clips the cell state to [-{clip:g}, {clip:g}]")
    else:
        lines.append("    weights: " + ", ".join(
            f"{role} = {_short(node)} {_shape_text(G, node)}" for role, node in cell.weights.items())
            + " (FULLY_CONNECTED rows = gates × units: the Keras kernel transposed)")
    for what, names in (("weights", [k for k in cell.quantised if "state" not in k]),
                        ("state", [k for k in cell.quantised if "state" in k])):
        if names:
            lines.append(f"    quantised {what}: " + ", ".join(f"{k} {cell.quantised[k]}" for k in names))
    return lines


def _features(found: dict) -> list:
    return ["peepholes" if found["peepholes"] else "no peepholes",
            "projection" if found["projection"] else "no projection",
            "CIFG (no input gate weights: i = 1 - f)" if found["cifg"] else "not CIFG (input gate weights present)",
            "layer norm" if found["layer_norm"] else "no layer norm"]


def _lstm_lines(cell: TfliteCell, G) -> list:
    """Return the lines naming the LSTM terms the fused op holds (per direction when they differ)."""
    forward = {"peepholes": cell.peepholes, "projection": cell.projection, "cifg": cell.cifg,
               "layer_norm": cell.layer_norm}
    if cell.backward and cell.backward != forward:
        lines = [f"    forward: {'; '.join(_features(forward))}",
                 f"    backward: {'; '.join(_features(cell.backward))}"]
    else:
        lines = ["    " + ("both directions: " if cell.backward else "") + "; ".join(_features(forward))]
    prefix = "fw_" if cell.direction == "bidirectional" else ""
    peep = [g for g in ("input", "forget", "output") if f"{prefix}cell_to_{g}_weights" in cell.inputs]
    if peep:
        old = [g for g in peep if g != "output"]
        parts = [f"the previous cell state in the {' and '.join(old)} gate{'s' * (len(old) > 1)}"] if old else []
        parts += ["the new cell state in the output gate"] if "output" in peep else []
        lines.append("    peepholes: " + ", ".join(f"cell_to_{g}_weights" for g in peep) + " scale "
                     + " and ".join(parts))
    if cell.options.get("diagonal_recurrent_tensors"):
        lines.append("    diagonal_recurrent_tensors true: each recurrent_to_*_weights is a vector that "
                     "scales h element by element instead of a matrix")
    if cell.layer_norm:
        lines.append("    layer norm: each gate's sum is normalised over its units, scaled by its "
                     "*_layer_norm_coefficients, and only then biased")
    if cell.projection:
        bias = f"{prefix}projection_bias" in cell.inputs
        clip = cell.options.get("proj_clip")
        lines.append(f"    projection: the output is projection_weights · (o ⊙ {cell.activation or 'act'}(c))"
                     + (" + projection_bias" if bias else "")
                     + (f", {cell.projection_size} values per step" if cell.projection_size else "")
                     + (f", clipped to [-{clip:g}, {clip:g}] (proj_clip)" if clip else ""))
    elif cell.options.get("proj_clip") and not (cell.backward and cell.backward["projection"]):
        lines.append(f"    proj_clip {cell.options['proj_clip']:g} is set but there is no projection to clip")
    return lines


def _bidirectional_text(cell: TfliteCell, G) -> str:
    """Return how the bidirectional op runs its backward direction and where it writes it."""
    merged = cell.options.get("merge_outputs")
    where = ("merge_outputs true: output 0 holds the forward outputs, then the backward ones, "
             "along the last axis" if merged else "output 0 holds the forward outputs, output 1 the backward ones")
    text = (f"the op runs its bw_ weights from the last step to the first itself (no REVERSE_V2) "
            f"and writes each backward output at its own step; {where}")
    shape = G.nodes[cell.inputs["input"]]["outputs"][0]["shape"] if "input" in cell.inputs else None
    batch = shape[0] if shape and len(shape) == 3 and not cell.options.get("time_major") else None
    if cell.kind == "rnn" and cell.options.get("time_major") and hybrid_mode(cell, G):
        text += ("; with int8 weights on this time-major sequence LiteRT's hybrid kernel runs the whole "
                 "sequence once per step, carrying the state (see --verify)")
    if cell.kind == "lstm" and merged and isinstance(batch, int) and batch > 1:
        text += (f"; on this batch-major sequence (batch {batch}) LiteRT's LSTM loop moves to each "
                 f"batch's state by the merged width, so only batch 0's output is defined (see --verify)")
    return text


def _value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value).lower() if isinstance(value, bool) \
        else str(value)


def _shape_text(G, node: str) -> str:
    from ..graphdef.walk import format_shape  # noqa: PLC0415

    outs = G.nodes[node]["outputs"]
    return f"({format_shape(outs[0]['shape'], outs[0]['dtype'])})" if outs else ""


def tflite_sections(topic: str, G, cells: list) -> list:
    """Return the explanation's sections for the LiteRT cells the topic is about."""
    chosen = [c for c in cells if c.kind in _TOPIC_KINDS.get(topic, set())]
    if not chosen:
        return []
    paragraphs = [f"{len(chosen)} recurrent {'cell was' if len(chosen) == 1 else 'cells were'} "
                  f"recognised, as the file holds {'it' if len(chosen) == 1 else 'them'}."]
    for cell in chosen:
        lines = [line.strip() for line in cell_lines(cell, G)]
        paragraphs += [lines[0][0].upper() + lines[0][1:] + ":", lines[1:]]
    return [Section("LiteRT cells", paragraphs)]


def tflite_overview(path, G, cells: list) -> Section:
    """Return the first section of ``explain --file x.tflite``: what the file holds."""
    top = [n for n, d in G.nodes(data=True) if d["function"] is None and "tflite_index" in d["attrs"]]
    functions = G.graph.get("functions", [])
    found = ", ".join(f"{'fused ' + c.op if c.form == 'fused' else 'a WHILE loop'} "
                      f"({_KIND_NAMES[c.kind]}, {c.direction})" for c in cells) or "no recurrent cell"
    return Section("The graph", [
        f"{path} is a LiteRT flatbuffer: {len(top)} operator{'s' * (len(top) != 1)} in its main subgraph"
        + (f" and {len(functions)} more subgraphs (read as functions: {', '.join(functions)})"
           if functions else "") + f". Recognised: {found}."])


# --- verification -------------------------------------------------------------------------

def numpy_cell(cell: TfliteCell, weights: dict, xs: np.ndarray, wrong: Optional[str] = None,
               hybrid: Optional[dict] = None):
    """Return the outputs h_t (steps × batch × units) of a ``WHILE`` body's cell on time-major ``xs``.

    ``weights`` holds ``kernel``/``recurrent_kernel``/``bias`` (rows gates × units, as
    FULLY_CONNECTED keeps them) and, for GRU, ``recurrent_bias``.  ``wrong`` makes a
    deliberately wrong cell for the tests: ``"swap"`` swaps the first two gates, ``"nobias"``
    drops the bias, ``"noclip"`` ignores ``cell_clip``.  ``hybrid`` maps a weight role to how LiteRT's hybrid FULLY_CONNECTED
    quantises the vector it multiplies by that int8 weight (``"float_inputs"`` ignores it).
    (The fused ops: tflite_fused.py.)
    """
    modes = {} if wrong == "float_inputs" else dict(hybrid or {})

    def q(value, role):
        return quantised_rows(value, modes.get(role))

    W, U = weights["kernel"], weights["recurrent_kernel"]
    b = np.zeros(W.shape[0]) if wrong == "nobias" else weights.get("bias", np.zeros(W.shape[0]))
    rb = np.zeros(U.shape[0]) if wrong == "nobias" else weights.get("recurrent_bias", np.zeros(U.shape[0]))
    act = _ACT[cell.activation or "tanh"]
    gate_act = _ACT[cell.recurrent_activation or "sigmoid"]
    units = U.shape[1]
    order = list(cell.gates)
    if wrong == "swap" and len(order) > 1:
        order[0], order[1] = order[1], order[0]
    h = np.zeros((xs.shape[1], units))
    c = np.zeros_like(h)
    clip = 0.0 if wrong == "noclip" else float(cell.options.get("cell_clip") or 0.0)
    out = []
    for x in xs:
        if cell.kind == "rnn":
            h = act(q(x, "kernel") @ W.T + b + q(h, "recurrent_kernel") @ U.T + rb)
        elif cell.kind == "lstm":
            z = q(x, "kernel") @ W.T + b + q(h, "recurrent_kernel") @ U.T + rb
            part = {g: z[:, k * units:(k + 1) * units] for k, g in enumerate(order)}
            c = gate_act(part["f"]) * c + gate_act(part["i"]) * act(part["c"])
            if clip > 0:
                c = np.clip(c, -clip, clip)
            h = gate_act(part["o"]) * act(c)
        else:  # GRU: the reset gate after the recurrent product, or (reset_before) on h
            zx, zh = q(x, "kernel") @ W.T + b, q(h, "recurrent_kernel") @ U.T + rb
            px = {g: zx[:, k * units:(k + 1) * units] for k, g in enumerate(order)}
            ph = {g: zh[:, k * units:(k + 1) * units] for k, g in enumerate(order)}
            zg = gate_act(px["z"] + ph["z"])
            r = gate_act(px["r"] + ph["r"])
            if cell.reset_after is False:
                Uh = weights["candidate_recurrent_kernel"]
                bh = 0 if wrong == "nobias" else weights.get("candidate_recurrent_bias", 0)
                hh = act(px["h"] + q(r * h, "candidate_recurrent_kernel") @ Uh.T + bh)
            else:
                hh = act(px["h"] + r * ph["h"])
            h = zg * h + (1 - zg) * hh
        out.append(h)
    return np.stack(out)


_MATRICES = ("kernel", "recurrent_kernel", "candidate_recurrent_kernel")


def _while_hybrid(G, cell: TfliteCell) -> dict:
    """Return {weight role: "symmetric" | "asymmetric"} for each int8 weight a WHILE body's
    FULLY_CONNECTED multiplies a float vector by (its hybrid kernel quantises that vector)."""
    found = {}
    for role in _MATRICES:
        weight = cell.weights.get(role)
        if weight is None or (G.nodes[weight]["outputs"] or [{}])[0].get("dtype") not in ("int8", "uint8"):
            continue
        users = [d for _, d, k, e in G.out_edges(weight, keys=True, data=True)
                 if k == 1 and G.nodes[d]["op"] == "FULLY_CONNECTED" and e["kind"] == "data"]
        if len(users) != 1:
            continue  # not one FULLY_CONNECTED reading it as its weights: no hybrid claim
        fc = G.nodes[users[0]]
        if fc["attrs"].get("T") == "float32":
            found[role] = "asymmetric" if fc["attrs"].get("asymmetric_quantize_inputs") is True else "symmetric"
    return found


def _tensor_of(G, node: str, slot: int, key: str) -> int:
    return int(G.nodes[node]["attrs"][key][slot])


def _while_h_output(G, cell: TfliteCell) -> int:
    """Return the While output index that carries h (the body returns the cell's new h there)."""
    h_node = {"lstm": None, "gru": None, "rnn": cell.gate_nodes.get("h")}[cell.kind]
    prefix = body_prefix(cell.node, "body")
    rets = sorted((G.nodes[n]["attrs"]["index"], n) for n in G
                  if n.startswith(retval_key(prefix, "")) and G.nodes[n]["parent_op"] == cell.node)
    for index, ret in rets:
        src = next(iter(G.predecessors(ret)), None)
        if src is None:
            continue
        if h_node is not None and src == h_node:
            return index
        ops = {G.nodes[p]["op"] for p in G.predecessors(src)}
        if cell.kind == "lstm" and G.nodes[src]["op"] == "MUL" and cell.gate_nodes.get("o") in set(G.predecessors(src)):
            return index
        if cell.kind == "gru" and G.nodes[src]["op"] == "ADD" and ops == {"MUL"}:
            return index
    raise UsageError(f"--verify found no loop variable carrying h out of {cell.node}")


def verify_tflite(path, G, cells: list, wrong: Optional[str] = None,
                  feed: Optional[np.ndarray] = None) -> dict:
    """Run the file in the LiteRT interpreter and compare each cell's output with NumPy.

    The input is random in [-1, 1] (any code, for an integer input), or ``feed`` when given.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        raise UsageError("--verify on a .tflite file needs the LiteRT interpreter: "
                         "pip install ai-edge-litert") from None
    from ..graphdef.loaders import load_tflite_model  # noqa: PLC0415

    if not cells:
        raise UsageError(f"--verify found no recurrent cell in {path} to check")
    model, data = load_tflite_model(path)
    for cell in cells:
        if _crashes_litert(cell, model, G):
            raise GraphFileError(f"--verify does not run {path}: LiteRT's hybrid BIDIRECTIONAL_SEQUENCE_RNN "
                                 f"({cell.node}) crashes the process on a time-major sequence with "
                                 f"merge_outputs and symmetric input quantisation (ai-edge-litert 2.3, "
                                 f"measured)")
    interp = _run(Interpreter, path, data, feed)
    rows, worst, ok, tolerances, reasons = [], 0.0, True, [], []
    for cell in cells:
        tolerance, reason = _tolerance(cell, G, interp, _tensor_of(G, cell.node, 0, "tflite_outputs"))
        if reason and reason not in reasons:
            reasons.append(reason)
        if cell.form == "fused":
            checks, note = _fused_checks(cell, model, G, interp, wrong)
            reasons += [note] if note else []
            if cell.shares_state and wrong != "file_weights":
                reasons.append(f"In {cell.node} {', '.join(sorted(cell.shares_state))} share a state "
                               f"variable's tensor: NumPy reads them from that state at every step, as "
                               f"the kernel does, not the values the file holds (what the Keras layer had).")
            modelled = _modelled(cell)
            if modelled:
                reasons.append(f"For {cell.node} NumPy also applied, as recognised from the file: {modelled}.")
        else:
            weights = {role: _array(model, G, node) for role, node in cell.weights.items()}
            ins = G.nodes[cell.node]["attrs"]["tflite_inputs"]
            slot = next(k for s, k in _in_edges(G, cell.node) if s == cell.inputs["input"])
            xs = _real(interp, int(ins[slot]))
            out = _while_h_output(G, cell)
            got = _real(interp, _tensor_of(G, cell.node, out, "tflite_outputs"))
            want = numpy_cell(cell, weights, xs, wrong, _while_hybrid(G, cell))[-1].reshape(got.shape)
            checks = [(f"final h (WHILE output {out})", got, want)]
        for what, got, want in checks:
            diff = float(np.max(np.abs(np.asarray(got, "float64") - want)))
            worst, ok = max(worst, diff), ok and diff <= tolerance
            tolerances.append(tolerance)
            rows.append(f"{cell.node}: {what} {list(np.shape(got))}, max |LiteRT - NumPy| = {diff:.3g} "
                        f"(tolerance {tolerance:.3g})")
    why = "".join(" " + r for r in reasons)
    gated = any(c.kind != "rnn" for c in cells)
    clipped = any(c.options.get("cell_clip") for c in cells)
    facts = ("the recognised gate order, activations" if gated else "the recognised activation") \
        + (" and cell_clip" if clipped else "")
    return {"summary": f"The LiteRT interpreter (ai-edge-litert) ran {path} on a random input; each "
                       f"recognised cell was recomputed in NumPy from the weights rnngraph's reader "
                       f"decoded, with {facts}, one row per layer and direction.{why}",
            "rows": rows, "max_abs_diff": worst, "ok": ok, "tolerance": max(tolerances)}


def _run(Interpreter, path, data: bytes, feed: Optional[np.ndarray]):
    """Return the interpreter after one run of the file (GraphFileError, one line, when LiteRT refuses it)."""
    try:
        with warnings.catch_warnings():  # "intended for debugging": keeping every tensor is the point
            warnings.simplefilter("ignore", UserWarning)
            interp = Interpreter(model_content=bytes(data), experimental_preserve_all_tensors=True)
        interp.allocate_tensors()
        rng = np.random.default_rng(0)
        for detail in interp.get_input_details():
            if np.issubdtype(detail["dtype"], np.integer):  # a full-integer model: any of its codes
                info = np.iinfo(detail["dtype"])
                value = rng.integers(info.min, info.max, detail["shape"], endpoint=True)
            else:
                value = rng.uniform(-1, 1, detail["shape"])
            if feed is not None:
                value = np.reshape(feed, detail["shape"])
            interp.set_tensor(detail["index"], value.astype(detail["dtype"]))
        interp.invoke()
    except (RuntimeError, ValueError) as error:
        said = "; ".join(line.strip().rstrip(".") for line in str(error).splitlines() if line.strip())
        raise GraphFileError(f"--verify: LiteRT's interpreter refuses to run {path}: {said}") from None
    return interp


def _fused_checks(cell: TfliteCell, model, G, interp, wrong: Optional[str]) -> tuple:
    """Return ([(what, LiteRT's output, NumPy's)] for each direction of a fused op, a note or "")."""
    time_major = bool(cell.options.get("time_major"))
    xs = _real(interp, _tensor_of(G, cell.node, 0, "tflite_inputs"))
    xs = xs if time_major else np.swapaxes(xs, 0, 1)
    batches, note = slice(None), ""
    found = directions(cell, model, G)
    if (cell.kind == "lstm" and found[0].columns and not time_major and xs.shape[1] > 1):
        width, state = found[1].columns[1], found[0].size
        batches = slice(0, 1)
        note = (f"In {cell.node} merge_outputs is true on a batch-major sequence of batch {xs.shape[1]}: "
                f"LiteRT's batch-major LSTM loop (lstm_eval.cc) moves to batch b's state by b × the "
                f"output's last dimension ({width}), not by the state's ({state}), so every batch after "
                f"the first reads and writes beyond its state and its output is not defined; only "
                f"batch 0 is compared.")
    steps, passes = xs.shape[0], 1
    if _repeats_sequence(cell, found):
        passes = 1 if wrong == "single_pass" else steps
        note = (f"{cell.node} is a BIDIRECTIONAL_SEQUENCE_RNN with int8 weights on a time-major "
                f"sequence: LiteRT's hybrid kernel (bidirectional_sequence_rnn.cc) runs the whole "
                f"sequence {steps} times over (once per step), carrying the state, and writes the last "
                f"pass; NumPy does the same, so the output is not the RNN's on one pass of the sequence.")
    checks = []
    for d in found:
        got = _real(interp, _tensor_of(G, cell.node, d.output, "tflite_outputs"))
        got = got if time_major else np.swapaxes(got, 0, 1)
        where = f"output {d.output}"
        if d.columns:
            got = got[..., d.columns[0]:d.columns[1]]
            where += f" columns {d.columns[0]}:{d.columns[1]}"
        want = run_direction(cell, d, np.concatenate([xs] * passes), wrong)
        want = want[:steps] if d.reverse and wrong != "noreverse" else want[-steps:]
        if want.shape != got.shape:
            raise UsageError(f"--verify computed {list(want.shape)} for {cell.node} {d.name}, but LiteRT "
                             f"wrote {list(got.shape)}")
        got, want = got[:, batches], want[:, batches]
        if batches.stop:
            where += f", batch 0 of {xs.shape[1]}"
        if not time_major:
            got, want = np.swapaxes(got, 0, 1), np.swapaxes(want, 0, 1)
        checks.append((f"{d.name} output sequence ({where})", got, want))
    return checks, note


def _repeats_sequence(cell: TfliteCell, found: list) -> bool:
    """True for the form whose LiteRT kernel loops over the sequence once per step (hybrid,
    time-major BIDIRECTIONAL_SEQUENCE_RNN: an outer ``for t`` around the step loops)."""
    return cell.op == "BIDIRECTIONAL_SEQUENCE_RNN" and bool(cell.options.get("time_major")) \
        and found[0].hybrid is not None


def _crashes_litert(cell: TfliteCell, model, G) -> bool:
    """True for the form LiteRT's interpreter dies on (SIGSEGV, tests/test_tflite_fused.py)."""
    if cell.form != "fused" or not cell.options.get("merge_outputs"):
        return False
    found = directions(cell, model, G)
    return _repeats_sequence(cell, found) and found[0].hybrid == "symmetric"


def _modelled(cell: TfliteCell) -> str:
    """Return the terms beyond a plain cell that NumPy applied to a fused op, as recognised."""
    if cell.kind != "lstm":
        return ""
    prefixes = ("fw_", "bw_") if cell.direction == "bidirectional" else ("",)
    found = []
    for prefix in prefixes:
        has = lstm_features(cell.inputs, prefix)
        terms = [t for t, on in (("peepholes", has["peepholes"]), ("CIFG (i = 1 - f)", has["cifg"]),
                                 ("layer norm before the bias", has["layer_norm"]),
                                 ("projection", has["projection"])) if on]
        if has["projection"] and cell.options.get("proj_clip"):
            terms.append(f"proj_clip {cell.options['proj_clip']:g}")
        if cell.options.get("diagonal_recurrent_tensors"):
            terms.append("diagonal recurrent weights (h scaled element by element)")
        if terms:
            found.append((f"{'forward' if prefix == 'fw_' else 'backward'}: " if prefix else "")
                         + ", ".join(terms))
    return "; ".join(found)


def _tolerance(cell: TfliteCell, G, interp, out_index: int) -> tuple:
    """Return (the tolerance for one cell, the sentence saying why)."""
    detail = next(d for d in interp.get_tensor_details() if d["index"] == out_index)
    scales = detail["quantization_parameters"]["scales"]
    if np.issubdtype(detail["dtype"], np.integer) and len(scales):
        step = float(scales[0])
        return FULL_INTEGER_STEPS * step, (
            f"The model is fully integer (int8 activations, {detail['dtype'].__name__} output with "
            f"a step of {step:.3g}; the cell state in int16): every step rounds h to that step and "
            f"the rounding carries into the next, so the tolerance is {FULL_INTEGER_STEPS} output "
            f"steps ({FULL_INTEGER_STEPS * step:.3g}); NumPy uses the dequantised weights.")
    if cell.form == "fused":
        mode = hybrid_mode(cell, G)
    else:
        modes = _while_hybrid(G, cell)
        quantised = [role for role in _MATRICES if role in cell.quantised]
        mode = "/".join(sorted(set(modes.values()))) if quantised and set(quantised) <= set(modes) else None
    if mode:
        vectors = ("each FULLY_CONNECTED's input: the step's input, the state h" if cell.form != "fused"
                   else "each step's input, the state h" + (", the projection's input" if cell.projection else ""))
        return FLOAT_TOLERANCE, (
            f"The weights of {cell.node} are int8 on a float sequence: LiteRT's hybrid kernel "
            f"quantises every vector it multiplies by them ({vectors}) to int8, row by row "
            f"({mode}), and NumPy does the same, so the float tolerance holds.")
    if cell.quantised:
        return QUANT_TOLERANCE, (
            f"The weights are quantised to int8 and LiteRT's hybrid kernels also quantise each "
            f"step's inputs to int8, so the tolerance is {QUANT_TOLERANCE:g} (NumPy uses the "
            f"dequantised weights with float inputs).")
    return FLOAT_TOLERANCE, ""


def _real(interp, index: int) -> np.ndarray:
    """Return a tensor the interpreter computed, as real numbers (dequantised when it is an integer)."""
    value = np.asarray(interp.get_tensor(index), "float64")
    detail = next(d for d in interp.get_tensor_details() if d["index"] == index)
    scales = detail["quantization_parameters"]["scales"]
    if np.issubdtype(detail["dtype"], np.integer) and len(scales):
        zero = detail["quantization_parameters"]["zero_points"]
        value = (value - zero[0]) * scales[0]
    return value


def _in_edges(G, node: str) -> list:
    return sorted(((s, k) for s, _, k, d in G.in_edges(node, keys=True, data=True)
                   if 0 <= k < 1000 and not d["control"]), key=lambda e: e[1])
