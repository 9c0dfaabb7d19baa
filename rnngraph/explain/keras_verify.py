"""``explain --file m.keras|m.h5 --verify``: Keras' own layer outputs against NumPy from the file's facts.

Keras loads the file (safe mode, in a child process: :mod:`rnngraph.model.keras_worker`) and
returns, for each recurrent layer, the layer's input and output on a random batch.  NumPy
recomputes each layer from that input with the weights rnngraph read from the file's HDF5 and
the facts of its layer view (kind, activations, ``reset_after``, ``use_bias``, ``go_backwards``,
``return_sequences``, ``return_state``, Bidirectional merge mode), one report row per output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Optional

import numpy as np

from ..errors import UsageError
from .keras import keras_step
from .verify import TOLERANCE

__all__ = ["cell_facts", "numpy_layer", "verify_keras_file"]

_KINDS = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "rnn"}


def cell_facts(layer, library: str) -> SimpleNamespace:
    """Return the facts :func:`keras_step` reads, from a layer's saved config."""
    config = layer.config
    gate = config.get("recurrent_activation") or "sigmoid"
    slope = 1.0 / 6.0 if library == "Keras 3" else 0.2  # Keras 3's hard_sigmoid is x/6 + 1/2
    return SimpleNamespace(kind=_KINDS[layer.class_name], activation=config.get("activation") or "tanh",
                           recurrent_activation=gate if layer.class_name != "SimpleRNN" else None,
                           reset_after=bool(config.get("reset_after", library in ("Keras 3", "tf_keras"))),
                           gates=["i"], gate_nodes={"i": {"slope": slope}})


def numpy_layer(layer, library: str, weights: dict, xs: np.ndarray, step: Callable = keras_step) -> list:
    """Return the layer's outputs as Keras returns them (sequence or last, then states)."""
    facts = cell_facts(layer, library)
    from .verify import NUMPY_ACTIVATIONS  # noqa: PLC0415

    for act in (facts.activation, facts.recurrent_activation):
        if act is not None and act not in NUMPY_ACTIVATIONS and act != "hard_sigmoid":
            raise UsageError(f"--verify has no NumPy form of activation {act!r} (layer {layer.name}; "
                             f"it knows {', '.join(sorted(NUMPY_ACTIVATIONS))}, hard_sigmoid)")
    if weights.get("bias") is not None and facts.kind == "gru" and weights["bias"].ndim == 1:
        facts.reset_after = False
    batch, n = xs.shape[0], weights["recurrent_kernel"].shape[0]
    zeros = np.zeros((batch, n), np.float32)
    state = (zeros, zeros) if facts.kind == "lstm" else zeros
    order = range(xs.shape[1] - 1, -1, -1) if layer.config.get("go_backwards") else range(xs.shape[1])
    outs = []
    for t in order:
        out, state = step(facts, weights, xs[:, t], state)
        outs.append(out)
    first = np.stack(outs, 1) if layer.config.get("return_sequences") else outs[-1]
    result = [first]
    if layer.config.get("return_state"):
        result += [state[0], state[1]] if facts.kind == "lstm" else [state]
    return result


def _merge(mode: Optional[str], fw: np.ndarray, bw: np.ndarray, sequences: bool) -> np.ndarray:
    if sequences:
        bw = bw[:, ::-1]  # Keras reverses the backward layer's sequence back into time order
    if mode == "concat":
        return np.concatenate([fw, bw], -1)
    if mode == "sum":
        return fw + bw
    if mode == "mul":
        return fw * bw
    if mode == "ave":
        return (fw + bw) / 2
    raise UsageError(f"--verify cannot merge a Bidirectional layer with merge_mode={mode!r}")


def _inputs(model) -> dict:
    """Return a random batch for each model input (token ids where an Embedding reads it)."""
    rng = np.random.default_rng(0)
    feeds = {}
    for name in model.inputs:
        shape = model.input_shapes.get(name)
        if not shape or any(d is None for d in shape[2:]):
            raise UsageError(f"--verify needs the saved shape of input {name}; the file records {shape}")
        dims = [4] + [d if d is not None else 6 for d in shape[1:]]
        readers = [layer for layer in model.layers if any(n == name for n, _ in layer.inbound)]
        embedding = next((r for r in readers if r.class_name == "Embedding"), None)
        if embedding is not None:
            top = int(embedding.config.get("input_dim") or 2)
            feeds[name] = rng.integers(1, max(top, 2), dims).astype(np.int32)
        else:
            feeds[name] = rng.standard_normal(dims).astype(np.float32)
    return feeds


def verify_keras_file(path, step: Callable = keras_step) -> dict:
    """Run the Keras file with Keras and compare every recurrent layer's outputs with NumPy."""
    from ..graphdef.keras_file import weight_values
    from ..graphdef.loaders import load_keras_model  # noqa: PLC0415
    from ..model.keras_worker import run_worker  # noqa: PLC0415

    model, data = load_keras_model(path)
    model.check_safe_to_load()
    if model.form == "weights-h5":
        raise UsageError(f"--verify needs the model's config; {path} holds weights only")
    layers = model.recurrent()
    if not layers:
        raise UsageError(f"--verify found no recurrent Keras layer in {path}")
    values = weight_values(path, data, model)
    feeds = _inputs(model)
    with tempfile.TemporaryDirectory(prefix="rnngraph-verify-") as tmp:
        x_path = Path(tmp) / "x.npz"
        np.savez(x_path, **{f"in{k}": feeds[n] for k, n in enumerate(model.inputs)})
        report = run_worker("outputs", path, model.library, x_path)
    rows, worst, checked = [], 0.0, []
    outer_done = set()
    for layer, wrapper in layers:
        outer = wrapper if wrapper is not None else layer
        if outer.name in outer_done:
            continue
        outer_done.add(outer.name)
        got = [np.asarray(v, np.float32) for v in report["layers"].get(outer.name, [])]
        xs = np.asarray(report["inputs"].get(outer.name), np.float32)
        if not got or xs.ndim != 3:
            raise UsageError(f"--verify could not get layer {outer.name}'s input and output from Keras")
        if wrapper is None:
            parts = [layer]
        else:
            parts = wrapper.inner
        want = []
        for part in parts:
            weights = values.get(part.name, {})
            if "kernel" not in weights or "recurrent_kernel" not in weights:
                raise UsageError(f"--verify cannot find layer {part.name}'s kernel in the file's weights")
            want.append(numpy_layer(part, model.library, weights, xs, step))
        if wrapper is not None:
            seq = bool(parts[0].config.get("return_sequences"))
            merged = [_merge(wrapper.config.get("merge_mode"), want[0][0], want[1][0], seq)]
            if wrapper.config.get("merge_mode") is None:
                merged = [want[0][0], want[1][0]]
            want = [merged + want[0][1:] + want[1][1:]]
        want = want[0]
        if len(got) != len(want):
            raise UsageError(f"--verify: Keras returned {len(got)} output(s) for {outer.name}, the "
                             f"layer view predicts {len(want)}")
        for k, (g, w) in enumerate(zip(got, want)):
            if g.shape != w.shape:
                raise UsageError(f"--verify: {outer.name} output {k} is {g.shape} in Keras, "
                                 f"{w.shape} in NumPy")
            diff = float(np.max(np.abs(g - w)))
            worst = max(worst, diff)
            label = ("output" if k == 0 else f"state {k}")
            rows.append(f"{outer.name} ({outer.class_name}) {label} {tuple(g.shape)}: "
                        f"max |Keras − NumPy| = {diff:.3g}")
        checked.append(outer.name)
    summary = (f"Loaded {Path(path).name} with {report.get('library')} (safe mode) and ran each recurrent "
               f"layer on a random batch of 4 (seed 0); recomputed {', '.join(checked)} with NumPy from "
               f"the weights rnngraph read from the file and the config in its layer view, starting "
               f"from the input Keras feeds the layer.")
    return {"summary": summary, "rows": rows, "max_abs_diff": worst, "tolerance": TOLERANCE,
            "ok": worst < TOLERANCE, "batch": 4, "seed": 0}
