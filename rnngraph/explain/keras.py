"""Keras cells and hand-written cells in prose, and one Keras step in NumPy.

Keras names its weights ``kernel`` (W, applied to X_t), ``recurrent_kernel`` (U, applied to
h_(t−1)) and ``bias``, and its gates i, f, c, o (LSTM) and z, r, h (GRU): the sections here use
those names and Keras' own equations, with the shapes, activations and node names read from
the recognised cell.  :func:`keras_step` computes one step from the weights the way Keras does,
reading the kind, gate order, ``reset_after`` and activations from the recognised cell, so a
wrong recogniser shows up as a difference against Keras or TensorFlow.
"""

from __future__ import annotations

from typing import Optional

from ..recognise import Cell
from ..recognise.structures import KERAS_GATE_MEANING
from .prose import Section, cols, dims

__all__ = ["keras_cell", "custom_cell", "cell_section", "keras_step", "keras_sequence",
           "weights_from_graph_def", "verify_frozen"]



def _equations(cell: Cell) -> str:
    """Return Keras' equations for the cell's kind, activations as recognised."""
    g, a = cell.recurrent_activation or "σ", cell.activation or "φ"
    if cell.kind == "lstm":
        return (f"    z   = X_t · W + h_(t−1) · U + b      (W = kernel, U = recurrent_kernel)\n"
                f"    i   = {g}(z_i)   f = {g}(z_f)   o = {g}(z_o)\n"
                f"    c_t = f ⊙ c_(t−1) + i ⊙ {a}(z_c)\n"
                f"    h_t = o ⊙ {a}(c_t)")
    if cell.kind == "gru" and cell.reset_after:
        return (f"    x_z, x_r, x_h = X_t · W + b_in          (b = [b_in; b_rec], shape 2 × 3n)\n"
                f"    u_z, u_r, u_h = h_(t−1) · U + b_rec\n"
                f"    z = {g}(x_z + u_z)   r = {g}(x_r + u_r)\n"
                f"    ĥ = {a}(x_h + r ⊙ u_h)                 (reset applied after the MatMul)\n"
                f"    h_t = z ⊙ h_(t−1) + (1 − z) ⊙ ĥ")
    if cell.kind == "gru":
        return (f"    x_z, x_r, x_h = X_t · W + b\n"
                f"    z = {g}(x_z + h_(t−1) · U_z)   r = {g}(x_r + h_(t−1) · U_r)\n"
                f"    ĥ = {a}(x_h + (r ⊙ h_(t−1)) · U_h)      (reset applied before the MatMul)\n"
                f"    h_t = z ⊙ h_(t−1) + (1 − z) ⊙ ĥ")
    return f"    h_t = {a}(X_t · W + b + h_(t−1) · U)"


def keras_cell(cell: Cell) -> Section:
    """Return the section explaining a Keras cell in Keras' terms (weights, gates, equations)."""
    n, n_in = cell.n_neurons, cell.n_inputs
    blocks = len(cell.gates) or 1
    name = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}[cell.kind]
    paragraphs = [
        f"The Keras {name} layer {cell.layer} computes each step with two products and no "
        f"concatenation: X_t · kernel ({cell.matmul}) and h_(t−1) · recurrent_kernel "
        f"({', '.join(cell.recurrent_matmuls)}). The kernel {cell.kernel} is {dims(cell.kernel_shape)} "
        f"(n_inputs {n_in} × {blocks}·units), the recurrent_kernel {cell.recurrent_kernel} is "
        f"{dims(cell.recurrent_kernel_shape)} (units {n} × {blocks}·units)"
        + (f", the bias {cell.bias} is {dims(cell.bias_shape)} ({cell.bias_layout})." if cell.bias
           else "; there is no bias (use_bias=False)."),
        _equations(cell)]
    bullets = []
    for index, gate in enumerate(cell.gates):
        info = cell.gate_nodes.get(gate, {})
        bullets.append(f"{gate} = {cols(index * n, n) if n else 'block ' + str(index)}: "
                       f"{KERAS_GATE_MEANING[gate]}, then {info.get('activation') or 'not found'}")
    if bullets:
        paragraphs.append(f"The {blocks}·{n} columns are Keras' gates in its order "
                          f"{', '.join(cell.gates)}:")
        paragraphs.append(bullets)
    if cell.kind == "gru":
        paragraphs.append(
            "reset_after=True (Keras' default since TF 2, and what CuDNN computes) multiplies the "
            "reset gate into h_(t−1) · U after the MatMul and keeps two biases; reset_after=False "
            "multiplies it into h_(t−1) first, so the candidate needs its own MatMul with the last "
            f"third of the recurrent_kernel. This graph has reset_after={cell.reset_after}.")
    where = ""
    if cell.loops:
        where = f" It runs in {', '.join(cell.loops)}."
    elif len(cell.instances) > 1:
        where = f" The layer is unrolled: {len(cell.instances)} copies, one per step."
    if cell.implementation:
        where += (f" TensorFlow keeps two implementations of the layer and picks one at run time "
                  f"by api_implements: {cell.implementation}.")
    paragraphs.append(f"State: {'(h, c)' if cell.kind == 'lstm' else 'h'}, each m × {n}; h_t is "
                      f"also the step's output.{where}")
    return Section(f"The Keras {name} cell {cell.layer}", paragraphs)


def custom_cell(cell: Cell) -> Section:
    """Return the section for a hand-written cell: only what was recognised, nothing assumed."""
    bullets = []
    for part in cell.parts:
        weights = " + ".join(f"{w['input']} · {w['weight']} ({dims(w['shape'])})" for w in part["weights"])
        bullets.append(f"{part['activation'] or 'no activation'}({weights}"
                       + (f" + {part['bias']}" if part.get("bias") else "") + f") at {part['node']}")
    return Section(f"A hand-written cell in {cell.layer or cell.scope}", [
        f"This cell is not one of TensorFlow's or Keras' cells: it was recognised by its data flow. "
        f"The loop feeds back a state of {cell.n_neurons if cell.n_neurons is not None else 'unknown'} "
        f"units, and {len(cell.parts)} gate-like part(s) each multiply what they read by their own "
        "weights and apply an activation. rnngraph does not name the gates of a hand-written cell.",
        bullets])


def cell_section(cell: Cell) -> Optional[Section]:
    """Return the section for a Keras or custom cell (None for TF1 cells, explained elsewhere)."""
    return {"keras": keras_cell, "custom": custom_cell}.get(cell.form, lambda c: None)(cell)


def _hard_sigmoid(cell: Cell):
    """Return Keras' hard sigmoid with the slope read from the graph (0.2 tf-keras, 1/6 Keras 3)."""
    import numpy as np  # noqa: PLC0415 (numbers only for --verify: prose needs no NumPy)

    gate = (cell.gates or ["i"])[0]
    slope = cell.gate_nodes.get(gate, {}).get("slope") or 0.2
    return lambda v: np.clip(slope * v + 0.5, 0.0, 1.0)


def keras_step(cell: Cell, weights: dict, x: np.ndarray, state):
    """Return (output, new state) of one Keras step; ``weights``: kernel, recurrent_kernel, bias.

    The state is h, or (h, c) for an LSTM (Keras' order).
    """
    import numpy as np  # noqa: PLC0415 (numbers only for --verify: prose needs no NumPy)

    from .verify import NUMPY_ACTIVATIONS as _ACT  # noqa: PLC0415

    act = _ACT[cell.activation or "tanh"]
    gate = _ACT[cell.recurrent_activation or "sigmoid"] if cell.recurrent_activation != "hard_sigmoid" \
        else _hard_sigmoid(cell)
    W, U = weights["kernel"], weights["recurrent_kernel"]
    b = weights.get("bias")
    n = U.shape[0]
    if cell.kind == "rnn":
        h = act(x @ W + (0.0 if b is None else b) + state @ U)
        return h, h
    if cell.kind == "lstm":
        h_prev, c_prev = state
        z = x @ W + h_prev @ U + (0.0 if b is None else b)
        i, f, c_hat, o = (z[:, k * n:(k + 1) * n] for k in range(4))
        c = gate(f) * c_prev + gate(i) * act(c_hat)
        h = gate(o) * act(c)
        return h, (h, c)
    h_prev = state
    if cell.reset_after:
        b_in, b_rec = (b[0], b[1]) if b is not None else (0.0, 0.0)
        xz, xr, xh = np.split(x @ W + b_in, 3, axis=1)
        uz, ur, uh = np.split(h_prev @ U + b_rec, 3, axis=1)
        z, r = gate(xz + uz), gate(xr + ur)
        h_hat = act(xh + r * uh)
    else:
        xz, xr, xh = np.split(x @ W + (0.0 if b is None else b), 3, axis=1)
        z = gate(xz + h_prev @ U[:, :n])
        r = gate(xr + h_prev @ U[:, n:2 * n])
        h_hat = act(xh + (r * h_prev) @ U[:, 2 * n:])
    h = z * h_prev + (1.0 - z) * h_hat
    return h, h


def keras_sequence(cell: Cell, weights: dict, xs: np.ndarray, go_backwards: bool = False):
    """Return (outputs batch × steps × units, final state) of a Keras layer from zero state."""
    import numpy as np  # noqa: PLC0415 (numbers only for --verify: prose needs no NumPy)

    batch, n = xs.shape[0], weights["recurrent_kernel"].shape[0]
    zeros = np.zeros((batch, n), xs.dtype)
    state = (zeros, zeros) if cell.kind == "lstm" else zeros
    steps = range(xs.shape[1] - 1, -1, -1) if go_backwards else range(xs.shape[1])
    outputs = []
    for t in steps:
        out, state = keras_step(cell, weights, xs[:, t], state)
        outputs.append(out)
    return np.stack(outputs, 1), state


def weights_from_graph_def(graph_def, cell: Cell) -> dict:
    """Return a frozen Keras cell's kernel, recurrent_kernel and bias as arrays, read from the file."""
    import numpy as np  # noqa: PLC0415 (numbers only for --verify: prose needs no NumPy)

    from ..graphdef.walk import dtype_name  # noqa: PLC0415

    wanted = {"kernel": cell.kernel, "recurrent_kernel": cell.recurrent_kernel, "bias": cell.bias}
    by_name = {node.name: node for node in graph_def.node}
    found = {}
    for key, name in wanted.items():
        node = by_name.get(name) if name else None
        if node is None or node.op != "Const":
            continue
        tensor = node.attr["value"].tensor
        shape = [d.size for d in tensor.tensor_shape.dim]
        if dtype_name(tensor.dtype) != "float32":
            continue
        if tensor.tensor_content:
            values = np.frombuffer(tensor.tensor_content, "<f4")
        else:
            values = np.array(tensor.float_val, np.float32)
            values = np.resize(values, int(np.prod(shape))) if values.size else values
        if values.size == int(np.prod(shape)):
            found[key] = values.reshape(shape)
    return found


def verify_frozen(graph_def, cell: Cell, batch: int = 4, seed: int = 0,
                  go_backwards: bool = False) -> dict:
    """Run a frozen one-layer Keras graph with TensorFlow and compare its output with NumPy.

    The NumPy side is :func:`keras_sequence` with the weights stored in the file and the
    facts recognised in it (kind, gate order, activations, ``reset_after``).  The graph's
    input is its one float placeholder of rank 3 (batch, steps, features); its output is the
    one float node nothing reads.  Returns the same kind of dict as ``verify.verify``.
    """
    import numpy as np  # noqa: PLC0415 (numbers only for --verify: prose needs no NumPy)

    from .verify import TOLERANCE  # noqa: PLC0415

    from ..errors import UsageError  # noqa: PLC0415
    from ..model.tfcompat import tf as _tf  # noqa: PLC0415

    weights = weights_from_graph_def(graph_def, cell)
    if "kernel" not in weights or "recurrent_kernel" not in weights:
        raise UsageError("--verify needs the weights in the file (a frozen graph); "
                         f"{cell.kernel} holds no values")
    used = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    # Lowering to v1 leaves unused placeholders behind: only a placeholder something reads.
    inputs = [n for n in graph_def.node if n.op == "Placeholder" and n.name in used
              and len(n.attr["shape"].shape.dim) == 3]
    outputs = [n for n in graph_def.node if n.name not in used and n.op == "Identity"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UsageError(f"--verify expects one input of rank 3 and one output; found "
                         f"{len(inputs)} and {len(outputs)}")
    dims = [d.size for d in inputs[0].attr["shape"].shape.dim]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, dims[1], dims[2])).astype(np.float32)
    tf = _tf()
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString()),
                                      name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        got = sess.run(f"{outputs[0].name}:0", {f"{inputs[0].name}:0": x})
    want, _ = keras_sequence(cell, weights, x, go_backwards=go_backwards)
    want = want if got.ndim == 3 else want[:, -1]
    if got.shape != want.shape:  # another layer (a Dense head, say) follows the RNN
        raise UsageError(f"--verify compares the file's one output with the Keras {cell.kind} layer "
                         f"{cell.layer}, but {outputs[0].name} is {tuple(got.shape)}, not the layer's "
                         f"{tuple(want.shape)}: another layer follows it, so it cannot be checked here")
    diff = float(np.max(np.abs(got - want)))
    return {"summary": f"Ran {outputs[0].name} with TensorFlow on a random batch of {batch} "
                       f"(seed {seed}) and recomputed the Keras {cell.kind} layer {cell.layer} with "
                       f"NumPy from the weights stored in the file.",
            "rows": [f"output {tuple(got.shape)}: max |TensorFlow − NumPy| = {diff:.3g}"],
            "max_abs_diff": diff, "tolerance": TOLERANCE, "ok": diff < TOLERANCE,
            "batch": batch, "seed": seed}
