"""Load a Keras file with Keras itself (safe mode) in a child process, and report on it as JSON.

A child process because tf_keras must be chosen (``TF_USE_LEGACY_KERAS=1``) before TensorFlow
is imported, and the file says which Keras wrote it.  Safe mode: ``safe_mode=True`` (no
``Lambda`` bytecode, no arbitrary classes); before Keras sees the file, rnngraph's own reader
has already refused any class Keras does not register, and ``Lambda`` layers are refused here
by name.  Actions::

    python -m rnngraph.model.keras_worker convert FILE          # LiteRT ops the converter writes
    python -m rnngraph.model.keras_worker outputs FILE X.npy    # each recurrent layer's output on X
    python -m rnngraph.model.keras_worker trace FILE OUT.pb     # the model's call as a GraphDef

:func:`run_worker` starts it and returns the JSON it printed, or raises one clear error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_worker", "library_env", "LEGACY_LIBRARIES"]

_REFUSED = ("Lambda",)
# files these wrote are loaded with tf_keras (TF_USE_LEGACY_KERAS=1); Keras 3 files with Keras 3
LEGACY_LIBRARIES = ("tf_keras", "Keras 2 (multi-backend)", "Keras 1")


def library_env(library: str) -> dict:
    """Return the environment that makes ``import tensorflow`` pick the Keras that wrote the file."""
    legacy = library in LEGACY_LIBRARIES
    return dict(os.environ, TF_USE_LEGACY_KERAS="1" if legacy else "0", TF_CPP_MIN_LOG_LEVEL="3",
                PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2])] +
                                           [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))


def run_worker(action: str, path, library: str, *extra, timeout: int = 300) -> dict:
    """Run the worker on ``path`` with the Keras of ``library``; return its JSON report."""
    from ..errors import DependencyMissing, GraphFileError  # noqa: PLC0415

    cmd = [sys.executable, "-m", "rnngraph.model.keras_worker", action, str(path), *map(str, extra)]
    try:
        done = subprocess.run(cmd, env=library_env(library), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GraphFileError(f"loading {path} with Keras took more than {timeout} s; stopped") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise GraphFileError(f"Keras could not load {path}: {tail}")
    report = json.loads(lines[-1])
    if "refused" in report:
        raise GraphFileError(report["refused"])
    if "missing" in report:
        raise DependencyMissing(report["missing"])
    return report


def _keras():
    import tensorflow as tf  # noqa: PLC0415

    if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
        import tf_keras as keras  # noqa: PLC0415
    else:
        import keras  # noqa: PLC0415
    return tf, keras


def _layer_classes(model) -> list:
    found = []
    for layer in model.layers:
        found.append(type(layer).__name__)
        for inner in ("forward_layer", "backward_layer", "layer"):
            if hasattr(layer, inner):
                found.append(type(getattr(layer, inner)).__name__)
    return found


def _load(path: str):
    tf, keras = _keras()
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except TypeError as exc:  # an older load_model without safe_mode
        raise SystemExit(json.dumps({"refused": f"Keras cannot load {path} in safe mode ({exc})"}))
    except Exception as exc:  # noqa: BLE001  any Keras failure becomes one line
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise SystemExit(json.dumps({"refused": f"Keras refused {path} in safe mode: {text}"}))
    refused = sorted(set(_layer_classes(model)) & set(_REFUSED))
    if refused:
        raise SystemExit(json.dumps({"refused": f"{path} holds a {refused[0]} layer (code saved in "
                                                f"the file); rnngraph does not run it"}))
    return tf, keras, model


def _recurrent(model) -> list:
    """Return (name, layer, wrapper) of each recurrent layer, Bidirectional halves included."""
    found = []
    for layer in model.layers:
        if hasattr(layer, "forward_layer"):
            found.append((layer.name, layer, layer))
        elif hasattr(layer, "cell"):
            found.append((layer.name, layer, None))
    return found


def action_convert(path: str) -> dict:
    if Path(path).is_dir():  # a SavedModel: nothing of Keras is loaded, the converter reads the graph
        import tensorflow as tf  # noqa: PLC0415

        converter = tf.lite.TFLiteConverter.from_saved_model(path)
    else:
        tf, keras, model = _load(path)
        # batch fixed at 1: at a dynamic batch the converter (built-in ops only) refuses the
        # TensorList loop and cannot fuse an LSTM (CheckFusableKerasLstm needs a static batch)
        spec = tf.TensorSpec([1] + list(model.inputs[0].shape[1:]), tf.float32)
        concrete = tf.function(lambda x: model(x)).get_concrete_function(spec)
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    library = "tf_keras" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "Keras 3"
    try:
        blob = converter.convert()
    except Exception as exc:  # noqa: BLE001  the converter's refusal is the finding
        lines = [line for line in str(exc).splitlines() if "error:" in line] or str(exc).splitlines() or ["?"]
        return {"error": lines[0].strip()[:300], "library": library}
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        return {"missing": "counting the converter's ops needs ai-edge-litert (pip install ai-edge-litert)"}
    counts: dict = {}
    for op in Interpreter(model_content=blob)._get_ops_details():
        counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
    return {"counts": counts, "library": library, "bytes": len(blob)}


def action_outputs(path: str, x_path: str) -> dict:
    import numpy as np  # noqa: PLC0415

    tf, keras, model = _load(path)
    with np.load(x_path) as saved:
        feeds = [saved[f"in{k}"] for k in range(len(saved.files))]
    x = feeds[0] if len(feeds) == 1 else feeds
    report = {"layers": {}, "library": "tf_keras" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "Keras 3"}
    for name, layer, wrapper in _recurrent(model):
        # the layer's own output on x: a model from the input to the layer
        inputs = model.inputs
        sub = keras.Model(inputs, layer.output)
        out = sub(x)
        out = [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]
        report["layers"][name] = [o.tolist() for o in out]
        # the layer's input, as Keras computes it, so NumPy can start from it
        feed = keras.Model(inputs, layer.input)(x)
        report.setdefault("inputs", {})[name] = np.asarray(feed).tolist()
    return report


def _record_scopes(tf, model) -> tuple:
    """Wrap each top-level layer's (and Keras 3 operation's) ``call`` to note what it builds.

    Returns ({layer name: [name scopes]}, {layer name: [op names]}), filled while the model is
    traced: the scope the call really ran in, whatever Keras 3 or tf_keras call it, and the ops
    created in the traced graph while it ran (a shared layer called twice has both).
    """
    scopes: dict = {}
    ops: dict = {}
    # Keras 3 lists the operations of its functional graph (keras.ops.not_equal ...) apart from its layers
    for layer in getattr(model, "operations", None) or model.layers:
        original = layer.call

        def call(*args, _original=original, _name=layer.name, **kwargs):
            graph = tf.compat.v1.get_default_graph()
            scope = graph.get_name_scope()
            if scope not in scopes.setdefault(_name, []):
                scopes[_name].append(scope)
            before = len(graph.get_operations())
            result = _original(*args, **kwargs)
            ops.setdefault(_name, []).extend(op.name for op in graph.get_operations()[before:])
            return result

        object.__setattr__(layer, "call", call)  # past Keras' attribute tracking
    return scopes, ops


def _add_loop_body_shapes(tf, graph_def) -> None:
    """Record ``_output_shapes`` in the cond and body functions of every While, as
    ``as_graph_def(add_shapes=True)`` does for the top level only: TensorFlow's own shape
    inference over each function, its arguments shaped as the While's ``output_shapes`` say
    (nested loops from their own While).  A function TensorFlow cannot re-import keeps none."""
    from tensorflow.python.framework.function_def_to_graph import function_def_to_graph  # noqa: PLC0415

    functions = {f.signature.name: f for f in graph_def.library.function}
    done, todo = set(), [graph_def.node]
    while todo:
        for node in todo.pop():
            if node.op not in ("While", "StatelessWhile"):
                continue
            shapes = [tf.TensorShape(s) for s in node.attr["output_shapes"].list.shape]
            for role in ("cond", "body"):
                fdef = functions.get(node.attr[role].func.name)
                if fdef is None or fdef.signature.name in done:
                    continue
                done.add(fdef.signature.name)
                try:
                    func_graph = function_def_to_graph(fdef, input_shapes=shapes or None)
                except Exception:  # noqa: BLE001 - TensorFlow's own import refused it: no shapes
                    continue
                for node_def in fdef.node_def:
                    try:
                        outputs = func_graph.get_operation_by_name(node_def.name).outputs
                    except KeyError:
                        continue
                    if outputs and "_output_shapes" not in node_def.attr:
                        node_def.attr["_output_shapes"].list.shape.extend(o.shape.as_proto() for o in outputs)
                todo.append(fdef.node_def)


def action_trace(path: str, out: str) -> dict:
    tf, keras, model = _load(path)
    shape = list(model.inputs[0].shape)
    spec = tf.TensorSpec([None] + [d for d in shape[1:]], tf.float32, name="x")
    scopes, ops = _record_scopes(tf, model)
    fn = tf.function(lambda x: model(x))
    concrete = fn.get_concrete_function(spec)
    # frozen (weights as constants, the loop kept as a v2 While with its functions): the walker and
    # the Keras recogniser read kernel shapes and values from the constants
    from tensorflow.python.framework.convert_to_constants import (  # noqa: PLC0415
        convert_variables_to_constants_v2)

    graph_def = convert_variables_to_constants_v2(concrete, lower_control_flow=False).graph.as_graph_def(
        add_shapes=True)
    _add_loop_body_shapes(tf, graph_def)
    Path(out).write_bytes(graph_def.SerializeToString())
    return {"nodes": len(graph_def.node), "functions": len(graph_def.library.function),
            "input_shape": [d for d in shape], "scopes": scopes, "ops": ops,
            "layers": [layer.name for layer in model.layers]}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    action, path, *rest = argv
    actions = {"convert": action_convert, "outputs": action_outputs, "trace": action_trace}
    try:
        report = actions[action](path, *rest)
    except SystemExit as stop:
        print(stop.code if isinstance(stop.code, str) else json.dumps({"refused": "stopped"}))
        return 0
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
