"""``explain --file SAVEDMODEL --verify`` for Keras SavedModels: one report per recognised Keras layer.

TensorFlow loads the SavedModel (its variables included), freezes its serving signature (weights
become constants, every function call is inlined, the loops stay v2 ``While``), and rnngraph
recognises the Keras cells in that graph.  For each cell it fetches, in one run on a random
batch, the sequence the loop reads (the input of its ``TensorListFromTensor``: time-major, already
reversed for ``go_backwards``), the loop's final states and the layer's stacked outputs; NumPy
recomputes the layer from that input with the weights and facts recognised in the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UsageError
from .keras import keras_step, weights_from_graph_def
from .verify import TOLERANCE

__all__ = ["verify_keras_saved_model"]


def _loop_input(graph_def, loop: str):
    """Return the tensor the layer's loop unstacks into steps (TensorListFromTensor's input)."""
    scope = loop.rsplit("/", 1)[0] + "/"
    for node in graph_def.node:
        if node.op == "TensorListFromTensor" and node.name.startswith(scope) and node.input:
            return node.input[0]
    return None


def _frozen(path):
    from ..model.tfcompat import tf as _tf  # noqa: PLC0415

    tf = _tf()
    from tensorflow.python.framework.convert_to_constants import (  # noqa: PLC0415
        convert_variables_to_constants_v2)

    if not (Path(path) / "variables").is_dir():
        raise UsageError(f"--verify needs the SavedModel's weights; {path} has no variables/ folder")
    loaded = tf.saved_model.load(str(path))
    signatures = dict(loaded.signatures)
    if not signatures:
        raise UsageError(f"--verify runs a serving signature; {path} has none")
    name = "serving_default" if "serving_default" in signatures else sorted(signatures)[0]
    frozen = convert_variables_to_constants_v2(signatures[name], lower_control_flow=False)
    if len(frozen.inputs) != 1 or frozen.inputs[0].shape.rank != 3:
        raise UsageError(f"--verify feeds one input of rank 3 (batch, steps, features); signature "
                         f"{name} of {path} takes {[t.shape.as_list() for t in frozen.inputs]}")
    return tf, frozen, name


def verify_keras_saved_model(path, batch: int = 4, seed: int = 0, step: Callable = keras_step) -> dict:
    """Run a Keras SavedModel and compare every recognised Keras layer with NumPy, one row each."""
    from ..graphdef import protos  # noqa: PLC0415
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..recognise import recognise  # noqa: PLC0415

    tf, frozen, signature = _frozen(path)
    graph_def = protos.GraphDef()
    graph_def.ParseFromString(frozen.graph.as_graph_def().SerializeToString())
    found = recognise(walk(graph_def))
    cells = {c.scope: c for c in found.cells if c.form == "keras"}
    plans = []
    for rnn in found.rnns:
        cell = cells.get(rnn.layers[0]) if len(rnn.layers) == 1 else None
        if cell is None or not cell.loops:
            continue
        source = _loop_input(graph_def, cell.loops[0])
        weights = weights_from_graph_def(graph_def, cell)
        if source is None or "kernel" not in weights or "recurrent_kernel" not in weights:
            continue
        fetch = {"x": source if ":" in source else f"{source}:0"}
        for s in rnn.final_state:
            fetch[s.part] = f"{s.node}:{s.output}"
        if rnn.outputs:
            fetch["outputs"] = f"{rnn.outputs[0]}:0"
        plans.append((cell, weights, fetch))
    if not plans:
        raise UsageError(f"--verify found no Keras layer whose loop, weights and input it can read in "
                         f"{path}")
    shape = frozen.inputs[0].shape.as_list()
    steps = shape[1] if shape[1] else 5
    x = np.random.default_rng(seed).standard_normal((batch, steps, shape[2])).astype(np.float32)
    # What runs is the frozen serving signature (every call inlined): checked with nothing
    # admitted, so a save or file op in the model's call is refused before it runs (the library
    # check before loading admits the checkpoint's save and restore functions).
    from ..graphdef.runpolicy import check_runnable  # noqa: PLC0415

    check_runnable(graph_def, path)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(frozen.graph.as_graph_def(), name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        got = sess.run([p[2] for p in plans], {frozen.inputs[0].name: x})
    rows, worst = [], 0.0
    for (cell, weights, _), values in zip(plans, got):
        xs = values["x"]  # time-major
        n = weights["recurrent_kernel"].shape[0]
        zeros = np.zeros((xs.shape[1], n), np.float32)
        state = (zeros, zeros) if cell.kind == "lstm" else zeros
        outs = []
        for t in range(xs.shape[0]):
            out, state = step(cell, weights, xs[t], state)
            outs.append(out)
        want = {"h": state[0], "c": state[1]} if cell.kind == "lstm" else {"state": state}
        if "outputs" in values:
            seq = values["outputs"]
            if seq.shape[:2] == (xs.shape[1], xs.shape[0]):  # batch-major sequence
                want["outputs"] = np.stack(outs, 1)
            else:  # time-major; a layer without return_sequences keeps only the last step
                want["outputs"] = np.stack(outs[-seq.shape[0]:] if seq.ndim == 3 else outs, 0)
        for key, value in values.items():
            if key == "x":
                continue
            if value.shape != want[key].shape:
                raise UsageError(f"--verify: {cell.layer} {key} is {value.shape} in TensorFlow, "
                                 f"{want[key].shape} in NumPy")
            diff = float(np.max(np.abs(value - want[key])))
            worst = max(worst, diff)
            rows.append(f"{cell.layer} ({cell.kind}) {'sequence' if key == 'outputs' else 'final ' + key} "
                        f"{tuple(value.shape)}: max |TensorFlow − NumPy| = {diff:.3g}")
    return {"summary": f"Loaded {path} with TensorFlow, froze its signature {signature} (weights as "
                       f"constants, calls inlined) and ran it on a random batch of {batch} (seed {seed}); "
                       f"for each of the {len(plans)} recognised Keras layers NumPy recomputed every step "
                       f"from the sequence the layer's loop reads, with the weights and facts recognised "
                       f"in the frozen graph.",
            "rows": rows, "max_abs_diff": worst, "tolerance": TOLERANCE, "ok": worst < TOLERANCE,
            "batch": batch, "seed": seed}
