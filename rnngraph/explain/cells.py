"""Sections about the recurrent cells: the layer equation, the LSTM and GRU cells, stacked cells."""

from __future__ import annotations

import math
from typing import Optional

from ..recognise import GATE_MEANING, Cell, Findings
from . import keras
from .prose import Section, cols, dims, kernel_text, num

__all__ = ['equation', 'lstm', 'gru', 'stacked', 'cell_section', 'recognised_only', 'SECTIONS']


def equation(cell: Cell, layer: int) -> Section:
    n_in, n = cell.n_inputs, cell.n_neurons
    total = cell.kernel_shape[0] if cell.kernel_shape else None
    act = cell.activation or "φ"
    rows = [
        ("X_t", f"m × {n_in}", f"inputs at step t ({cell.x_input})"),
        ("h_(t−1)", f"m × {n}", f"outputs of the previous step ({cell.h_input})"),
        ("[X_t, h_(t−1)]", f"m × {total}", f"ConcatV2 on axis 1 ({cell.concat})"),
        ("[W_x; W_h]", f"{total} × {n}", f"the kernel {cell.kernel}: W_x is rows 0–{n_in - 1} "
                                         f"({n_in} × {n}), W_h rows {n_in}–{total - 1} ({n} × {n})"
         if isinstance(n_in, int) and isinstance(total, int) else f"the kernel {cell.kernel}"),
        ("b", dims(cell.bias_shape), f"the bias {cell.bias}"),
        ("φ", act, f"the activation ({cell.activation_node})"),
        ("h_t", f"m × {n}", "this step's output, which is also the state"),
    ]
    table = "\n".join(f"    {a:<15} {b:<9} {c}" for a, b, c in rows)
    where = "" if layer == 0 else f" (layer {layer + 1}, whose X_t is layer {layer}'s output)"
    return Section(f"The layer equation{where}", [
        "Every step computes, for the whole mini-batch at once (· is the matrix product):",
        "    h_t = φ([X_t, h_(t−1)] · [W_x; W_h] + b)",
        table,
        f"m is the number of instances in the mini-batch: the graph leaves it open (None in the "
        f"placeholder, ? in shapes) and reads it at run time. n_inputs = {n_in} is the size of "
        f"X_t, the features fed at each step. n_neurons = {n} is the number of recurrent units, "
        f"so h_t has {n} columns and the state fed back is m × {n}.",
        f"TensorFlow does not compute X_t · W_x + h_(t−1) · W_h as two products: it concatenates "
        f"X_t and h_(t−1) into one m × {total} matrix and multiplies once by the stacked kernel "
        f"of shape {kernel_text(cell)} — the same sum, one MatMul ({cell.matmul})."])


def _gate_index(cell: Cell, gate: str) -> int:
    """Return the block index of ``gate`` as recognised (the Split output it comes from)."""
    return int(cell.gate_nodes[gate]["slice"].rpartition(":")[2])


def lstm_equations(cell: Cell) -> str:
    """Return c_t and h_t as the recognised cell computes them (forget bias, peepholes, activation)."""
    act = cell.activation or "φ"
    fb = f" + {num(cell.forget_bias)}" if cell.forget_bias is not None else ""
    peep = cell.peepholes
    f_in = f"f{fb}" + (" + w_f ⊙ c_(t−1)" if "f" in peep else "")
    i_in = "i" + (" + w_i ⊙ c_(t−1)" if "i" in peep else "")
    o_in = "o" + (" + w_o ⊙ c_t" if "o" in peep else "")
    c_line = f"c_t = c_(t−1) ⊙ σ({f_in}) + σ({i_in}) ⊙ {act}(j)"
    h_line = f"h_t = {act}(c_t) ⊙ σ({o_in})"
    width = max(len(c_line), len(h_line)) + 3
    return (f"    {c_line:<{width}}({cell.outputs.get('c')})\n"
            f"    {h_line:<{width}}({cell.outputs.get('h')})")


def lstm(cell: Cell) -> Section:
    n, n_in = cell.n_neurons, cell.n_inputs
    total = cell.kernel_shape[0] if cell.kernel_shape else None
    bullets = []
    for gate in sorted(cell.gates, key=lambda g: _gate_index(cell, g)):
        info = cell.gate_nodes[gate]
        extra = ""
        if gate == "f" and cell.forget_bias is not None:
            extra = f"; the constant {num(cell.forget_bias)} is added first ({cell.forget_bias_node})"
        if gate in cell.peepholes:
            extra += f"; the peephole weights {cell.peepholes[gate]} add w_{gate} ⊙ c"
        act = info["activation"] or "no activation recognised"
        bullets.append(f"{gate} = {cols(_gate_index(cell, gate) * n, n)} ({info['slice']}): "
                       f"{GATE_MEANING[gate]}, then {act}{extra}")
    h = total - n_in if isinstance(total, int) and isinstance(n_in, int) else n
    rows = (f"(n_inputs + n_neurons, 4·n_neurons) = ({n_in} + {n}, 4·{n})" if h == n else
            f"(n_inputs + columns of h, 4·n_neurons) = ({n_in} + {h}, 4·{n})")
    paras = [
        f"The cell {cell.scope} multiplies [X_t, h_(t−1)] (m × {total}) by one kernel of shape "
        f"{kernel_text(cell)} = {rows} — "
        f"rows match the concatenated input, columns are four blocks of {n} units, so it is "
        f"{kernel_text(cell)}, not the transpose — and adds {_bias_text(cell)}. "
        f"The m × {4 * n if n else '?'} result is split on axis 1 into four blocks:",
        bullets,
        "Then, with σ the sigmoid, · the matrix product and ⊙ the elementwise product:",
        lstm_equations(cell)]
    tail = []
    if cell.forget_bias is not None:
        fb = cell.forget_bias
        tail.append(f"The forget bias {num(fb)} makes σ(f + {num(fb)}) ≈ {1 / (1 + math.exp(-fb)):.2f} "
                    "while f is still near zero at the start of training, so the cell keeps its "
                    "memory by default instead of forgetting before it has learned anything.")
    if h == n:
        tail.append(f"The state is the pair (c, h), each m × {n}; h is also the step's output.")
    else:  # h has fewer columns than the cell has units: projected inside the cell
        tail.append(f"The state is the pair (c, h): c is m × {n}, but h_(t−1) comes back with "
                    f"{h} columns, so h is not the product above alone: the cell maps it to {h} "
                    "columns before handing it on (rnngraph does not show that step here).")
    if cell.peepholes:
        tail.append("With peepholes the gates also see the cell state: "
                    + ", ".join(f"{g} gets w_{g} ⊙ {'c_t' if g == 'o' else 'c_(t−1)'}"
                                for g in sorted(cell.peepholes, key="ifo".index))
                    + f", each w a vector of {n} weights ("
                    + ", ".join(cell.peepholes[g] for g in sorted(cell.peepholes, key="ifo".index))
                    + ").")
    paras.append(" ".join(tail))
    return Section("The LSTM cell", paras)


def _bias_text(cell: Cell, with_start: bool = True) -> str:
    """Return "a bias vector of 20 values (name, all 0.0 at the start)" as the graph says."""
    shape = cell.bias_shape
    size = (f"a bias vector of {shape[0]} values" if shape and len(shape) == 1
            else f"a bias of shape {dims(shape)}")
    start = (f", all {num(cell.bias_initial)} at the start"
             if with_start and cell.bias_initial is not None else "")
    return f"{size} ({cell.bias}{start})" if cell.bias else size


def _gru_bias_note(cell: Cell) -> Optional[str]:
    """Return what the gates' bias starts at and what that does, when the initializer says."""
    start = cell.bias_initial
    if start is None:
        return None
    text = (f"The gates' bias starts at {num(start)} (its initializer assigns the constant "
            f"{cell.bias_initializer}), so "
            f"at the start of training, while the kernel's products are still small, r and u "
            f"are near σ({num(start)}) ≈ {1 / (1 + math.exp(-start)):.2f}")
    if start > 0:
        text += (": the candidate sees most of the old state, and h_t keeps most of h_(t−1) "
                 "instead of replacing it")
    cand = cell.candidate.get("bias_initial")
    if cand is not None:
        text += f". The candidate's bias starts at {num(cand)}"
    return text + "."


def gru(cell: Cell) -> Section:
    n = cell.n_neurons
    cand = cell.candidate
    ks = cand.get("kernel_shape")
    act = cell.activation or "φ"
    r_cols, u_cols = (cols(_gate_index(cell, g) * n, n) for g in ("r", "u"))
    eq_r = f"r   = σ([X_t, h_(t−1)] · W_g + b_g), {r_cols}"
    eq_u = f"u   = σ([X_t, h_(t−1)] · W_g + b_g), {u_cols}"
    eq_c = f"c   = {act}([X_t, r ⊙ h_(t−1)] · W_c + b_c)"
    eq_h = "h_t = u ⊙ h_(t−1) + (1 − u) ⊙ c"
    width = max(map(len, (eq_r, eq_u, eq_c, eq_h))) + 3
    sigmoid = cell.gate_nodes["r"]["activation"]
    paras = [
        f"The cell {cell.scope} has two kernels. The gates kernel {cell.kernel} of shape "
        f"{kernel_text(cell)} = (n_inputs + n_neurons, 2·n_neurons) turns [X_t, h_(t−1)] into "
        f"m × {2 * n if n else '?'}; with {_bias_text(cell, with_start=False)} added, one sigmoid ({sigmoid}) "
        f"computes both gates at once and a split after it gives r = {r_cols} (reset gate) and "
        f"u = {u_cols} (update gate).",
        f"The candidate kernel {cand.get('kernel')} of shape "
        f"{tuple(ks) if ks else '(not recorded)'} is applied to [X_t, r ⊙ h_(t−1)] "
        f"({cand.get('concat')}): the reset gate decides how much of the old state the candidate "
        f"sees.",
        "With σ the sigmoid, · the matrix product, ⊙ the elementwise product, W_g and b_g the "
        "gates kernel and bias, W_c and b_c the candidate's:",
        f"    {eq_r:<{width}}({sigmoid})\n"
        f"    {eq_u:<{width}}({sigmoid})\n"
        f"    {eq_c:<{width}}({cand.get('activation_node')})\n"
        f"    {eq_h:<{width}}({cell.outputs.get('h')})",
        "There is no separate cell state: h_t is both the output and the state, and u blends "
        "the old state with the candidate."]
    note = _gru_bias_note(cell)
    if note:
        paras.append(note)
    return Section("The GRU cell", paras)


def stacked(found: Findings) -> Optional[Section]:
    if len(found.cells) < 2:
        return None
    return Section("Every cell in the graph", bullets=[
        f"{c.scope}: {c.kind}, fused kernel {c.fused['op']} ({c.n_inputs} inputs, {c.n_neurons} units)"
        if c.form == "fused" else
        f"{c.scope}: {c.kind}, kernel {kernel_text(c)} = ({c.n_inputs} inputs + {c.n_neurons} "
        f"neurons) × {c.kernel_shape[1] if c.kernel_shape and len(c.kernel_shape) > 1 else '?'}"
        for c in found.cells])


def recognised_only(cell: Cell) -> Section:
    """Return what was recognised of a cell whose form rnngraph has no lesson for."""
    facts = [f"kernel {cell.kernel} {kernel_text(cell)}", f"bias {cell.bias or 'not recognised'}"]
    if cell.activation_node:
        facts.append(f"activation {cell.activation} ({cell.activation_node})")
    if cell.gates:
        facts.append("gates " + ", ".join(cell.gates))
    return Section(f"The cell {cell.scope}", [
        f"A {cell.kind} cell was recognised at {cell.scope} (MatMul {cell.matmul}): "
        + "; ".join(facts) + "."])


# Which lesson explains a recognised cell, keyed by (kind, form); other forms (Keras cells,
# custom cells) add their entries here.  A form with no entry gets only what was recognised.
SECTIONS = {("rnn", "tf1"): lambda cell: equation(cell, 0), ("lstm", "tf1"): lstm,
            ("gru", "tf1"): gru, ("rnn", "keras"): keras.keras_cell, ("lstm", "keras"): keras.keras_cell,
            ("gru", "keras"): keras.keras_cell, ("custom", "custom"): keras.custom_cell,
            **{(kind, "fused"): lambda cell: _fused_cell(cell) for kind in ("rnn", "lstm", "gru")}}


def _fused_cell(cell: Cell) -> Section:
    # explain/fused.py holds the NumPy check too: imported only when a fused kernel is explained,
    # so a warm explain of another graph imports no NumPy.
    from .fused import fused_cell  # noqa: PLC0415

    return fused_cell(cell)


def cell_section(cell: Cell) -> Section:
    """Return the section explaining ``cell``: its form's lesson, or only what was recognised."""
    form = getattr(cell, "form", "tf1")
    return SECTIONS.get((cell.kind, form), recognised_only)(cell)
