"""``explain --verify``: run the graph and recompute every step with NumPy.

The NumPy side implements the equations ``explain`` prints, reading the
weights, the forget bias, the activation and the gate order from the
recognised cells, so a wrong recogniser or a wrong equation shows up as a
difference.  TensorFlow runs the graph in a ``tf.compat.v1.Session``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..errors import UsageError
from ..recognise.exprs import natural_key
from ..recognise import Cell, Findings

__all__ = ["verify", "TOLERANCE"]

TOLERANCE = 1e-5
_ACT = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0), "sigmoid": lambda x: _sigmoid(x)}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _step(cell: Cell, w: dict, x, state):
    """Return (output, new state) of one step of ``cell``; state is h, or (c, h) for an LSTM."""
    act = _ACT[cell.activation or "tanh"]
    if cell.kind == "rnn":
        h = act(np.concatenate([x, state], 1) @ w["kernel"] + w["bias"])
        return h, h
    if cell.kind == "gru":
        r, u = np.split(_sigmoid(np.concatenate([x, state], 1) @ w["kernel"] + w["bias"]), 2, 1)
        c = act(np.concatenate([x, r * state], 1) @ w["cand_kernel"] + w["cand_bias"])
        h = u * state + (1 - u) * c
        return h, h
    c_prev, h_prev = state
    i, j, f, o = np.split(np.concatenate([x, h_prev], 1) @ w["kernel"] + w["bias"], 4, 1)
    peep = {g: w.get(f"peep_{g}", 0.0) for g in "ifo"}
    f = f + (cell.forget_bias or 0.0) + peep["f"] * c_prev
    i = i + peep["i"] * c_prev
    c = c_prev * _sigmoid(f) + _sigmoid(i) * act(j)
    h = act(c) * _sigmoid(o + peep["o"] * c)
    return h, (c, h)


def _weights(sess, graph, cells: list) -> list:
    from ..model.tfcompat import tf  # noqa: PLC0415

    keys = tf().compat.v1.GraphKeys
    variables = {v.op.name: v for v in graph.get_collection(keys.GLOBAL_VARIABLES)}
    wanted = []
    for cell in cells:
        names = {"kernel": cell.kernel, "bias": cell.bias}
        if cell.candidate:
            names.update(cand_kernel=cell.candidate["kernel"], cand_bias=cell.candidate["bias"])
        names.update({f"peep_{g}": v for g, v in cell.peepholes.items()})
        missing = [n for n in names.values() if n not in variables]
        if missing:
            raise UsageError(f"--verify cannot find the variable(s) {', '.join(missing)} in the graph")
        wanted.append({k: variables[n] for k, n in names.items()})
    return sess.run(wanted)


def _zero_state(cell: Cell, batch: int):
    zeros = np.zeros((batch, cell.n_neurons), np.float32)
    return (zeros, zeros) if cell.kind == "lstm" else zeros


def _flatten(state) -> list:
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _flatten(s)]
    return [np.asarray(state)]


def verify(built, findings: Findings, batch: int = 4, seed: int = 0) -> dict:
    """Run ``built`` on random inputs and compare every step with NumPy; return the differences."""
    spec = built.spec
    if spec.projection is not None:
        raise UsageError("--verify models the cells only; drop --projection (or the series head)")
    cells = sorted(findings.cells, key=lambda c: natural_key(c.kernel))
    if len(cells) != spec.layers or any(c.n_neurons is None for c in cells):
        raise UsageError(f"--verify found {len(cells)} cell(s) for {spec.layers} layer(s); "
                         "cannot model this graph")
    from ..model.tfcompat import tf  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, spec.steps, spec.inputs)).astype(np.float32)
    tensors, feed = built.tensors, {}
    if "X" in tensors:
        feed[tensors["X"]] = x
    else:
        feed.update({p: x[:, i] for i, p in enumerate(tensors["X_list"])})
    lengths: Optional[np.ndarray] = None
    if "seq_length" in tensors:
        lengths = rng.integers(1, spec.steps + 1, batch).astype(np.int32)
        lengths[0] = spec.steps  # at least one full-length sequence
        feed[tensors["seq_length"]] = lengths
    outputs = tensors["outputs"] if tensors.get("outputs") is not None else tensors["output_list"]
    with tf().compat.v1.Session(graph=built.graph) as sess:
        sess.run(tensors["init"])
        weights = _weights(sess, built.graph, cells)
        got_outputs, got_state = sess.run([outputs, tensors["states"]], feed)
    got_outputs = np.stack(got_outputs, 1) if isinstance(got_outputs, list) else got_outputs
    states = [_zero_state(c, batch) for c in cells]
    rows, worst = [], 0.0
    for t in range(spec.steps):
        layer_in = x[:, t]
        alive = np.ones((batch, 1), bool) if lengths is None else (t < lengths)[:, None]
        for k, cell in enumerate(cells):
            out, new = _step(cell, weights[k], layer_in, states[k])
            # Past a sequence's length: output zeros, state copied through.
            states[k] = tuple(np.where(alive, n, o) for n, o in zip(new, states[k])) \
                if isinstance(new, tuple) else np.where(alive, new, states[k])
            layer_in = out
        expected = np.where(alive, layer_in, 0.0)
        diff = float(np.max(np.abs(got_outputs[:, t] - expected)))
        worst = max(worst, diff)
        rows.append(f"step {t}: max |TensorFlow − NumPy| = {diff:.3g}")
    got_flat = _flatten(got_state)
    want_flat = _flatten(states[0] if len(states) == 1 else states)
    diff = max(float(np.max(np.abs(g - w))) for g, w in zip(got_flat, want_flat))
    worst = max(worst, diff)
    rows.append(f"final state ({len(got_flat)} tensor{'s' if len(got_flat) > 1 else ''}): "
                f"max |TensorFlow − NumPy| = {diff:.3g}")
    names = ", ".join(f"{c.kernel} {tuple(c.kernel_shape or ())}" for c in cells)
    summary = (f"Ran the graph in a tf.compat.v1.Session on a random batch of {batch} sequences "
               f"(seed {seed}{', random sequence lengths ' + str(lengths.tolist()) if lengths is not None else ''}) "
               f"and recomputed every step with NumPy from the graph's own variables ({names}).")
    return {"summary": summary, "rows": rows, "max_abs_diff": worst, "tolerance": TOLERANCE,
            "ok": worst < TOLERANCE, "batch": batch, "seed": seed}
