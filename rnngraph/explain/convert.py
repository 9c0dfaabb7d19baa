"""``explain convert FILE``: predict what TensorFlow's LiteRT converter builds for each recurrent layer.

The rule is TensorFlow's own (``tensorflow/compiler/mlir/lite/transforms/
prepare_composite_functions_tf.cc``): the converter fuses a function into
``UNIDIRECTIONAL_SEQUENCE_LSTM`` only when its ``api_implements`` attribute starts with
``lstm_`` (tf_keras' LSTM wraps its loop in such a function when it can use the CuDNN-compatible
kernel: tanh and sigmoid, no recurrent dropout, a bias, not unrolled; Keras 3 runs a plain
loop and sets none), and ``CheckFusableKerasLstm`` passes: only outputs 0 and 1 of the layer's
five are used (``return_state`` and ``stateful`` use the states, outputs 2 and 3), and no mask
is passed (a function of 7 arguments).  Anything else stays a ``WHILE`` loop (or, unrolled, plain
ops).  Every reason printed here is a finding read from the file: the Keras version that wrote
it, the layer's config, the layers around it, the function attribute in a SavedModel.

The fused op gets ``cell_clip = 10.0`` (``lstm_utils.cc``, ``ConvertKerasLSTMLayer``), which
Keras never applies: a cell state above 10 in magnitude makes LiteRT's output differ from
Keras' (measured by ``tests/fixtures/measure_cell_clip.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import UsageError
from ..model.keras_worker import LEGACY_LIBRARIES
from .prose import Explanation, Section

__all__ = ["LayerPrediction", "predict_keras_file", "predict_saved_model", "explain_convert"]

_CUDNN_ACTIVATIONS = {"activation": "tanh", "recurrent_activation": "sigmoid"}
_MASKING = ("Masking",)


@dataclass
class LayerPrediction:
    """What the converter is predicted to build for one recurrent layer, and why."""

    layer: str
    kind: str  # LSTM, GRU, SimpleRNN
    wrapper: Optional[str]  # Bidirectional layer name
    form: str  # "fused", "while", "unrolled"
    reasons: list = field(default_factory=list)
    marker: Optional[bool] = None  # api_implements lstm_* expected / found
    findings: dict = field(default_factory=dict)

    @property
    def fused(self) -> bool:
        return self.form == "fused"


def _masked(model, layer_name: str) -> Optional[str]:
    """Return the layer upstream that makes a mask (Masking, Embedding(mask_zero=True)), if any."""
    seen, todo = set(), [layer_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            layer = model.layer(name)
        except KeyError:
            continue
        if name != layer_name and (layer.class_name in _MASKING or
                                   (layer.class_name == "Embedding" and layer.config.get("mask_zero"))):
            return name
        todo.extend(n for n, _ in layer.inbound)
    return None


def _states_used(model, layer_name: str) -> bool:
    """True when something reads a state output (index 1 or more) of the layer."""
    refs = [ref for layer in model.layers for ref in layer.inbound] + list(model.outputs)
    return any(name == layer_name and index >= 1 for name, index in refs)


def predict_keras_file(model) -> list:
    """Return one :class:`LayerPrediction` per recurrent layer of a Keras file's layer view."""
    predictions = []
    library = model.library
    for layer, wrapper in model.recurrent():
        config = layer.config
        outer = wrapper.name if wrapper is not None else layer.name
        p = LayerPrediction(layer=layer.name, kind=layer.class_name,
                            wrapper=wrapper.name if wrapper is not None else None, form="while")
        p.findings = {k: config.get(k) for k in ("activation", "recurrent_activation", "use_bias",
                                                 "recurrent_dropout", "unroll", "return_state",
                                                 "stateful", "go_backwards")}
        p.findings["library"] = library
        p.findings["keras_version"] = model.keras_version
        written = f"the file was written by {library}" + (f" {model.keras_version}" if model.keras_version else "")
        if library in LEGACY_LIBRARIES and library != "tf_keras":
            # the marker comes from the Keras that runs the model, not from the file
            written += (" and is converted as tf_keras loads it (TF_USE_LEGACY_KERAS=1, as --check does; "
                        "loaded with Keras 3 it would stay a WHILE)")
            library = "tf_keras"
        if config.get("unroll"):
            p.form = "unrolled"
            p.reasons.append("unroll=True: Keras writes one copy of the cell per step, so there is no "
                             "loop and no function to fuse")
            predictions.append(p)
            continue
        if layer.class_name != "LSTM":
            p.reasons.append(f"{layer.class_name}: the converter fuses only LSTM functions (api_implements "
                             f"starting with 'lstm_'); a {layer.class_name} stays a WHILE loop")
            predictions.append(p)
            continue
        if library != "tf_keras":
            p.marker = False
            p.reasons.append(f"{written}, whose LSTM runs a plain while loop without TensorFlow's "
                             f"api_implements marker (only tf_keras sets 'lstm_<id>'), so nothing marks "
                             f"it for fusion")
            predictions.append(p)
            continue
        off = [f"{k}={config.get(k)!r}" for k, want in _CUDNN_ACTIVATIONS.items()
               if config.get(k, want) != want]
        if config.get("recurrent_dropout"):
            off.append(f"recurrent_dropout={config['recurrent_dropout']}")
        if config.get("use_bias") is False:
            off.append("use_bias=False")
        if off:
            p.marker = False
            p.reasons.append(f"{written}, but {', '.join(off)}: tf_keras then uses its generic loop, "
                             f"not the marked function (it marks only the CuDNN-compatible LSTM)")
            predictions.append(p)
            continue
        p.marker = True
        p.reasons.append(f"{written}: tf_keras runs its LSTM inside a function marked api_implements='lstm_<id>', "
                         f"which the converter's prepare-composite-functions pass looks for")
        blocked = []
        if config.get("return_state") and _states_used(model, outer):
            blocked.append("return_state=True and the states h, c are used (outputs 2 and 3 of the "
                           "layer's function; CheckFusableKerasLstm allows only outputs 0 and 1)")
        if config.get("stateful"):
            blocked.append("stateful=True: the layer writes its final states back (outputs 2 and 3 used)")
        mask = _masked(model, outer)
        if mask:
            blocked.append(f"a mask reaches it from layer {mask} (the function then takes 7 arguments; "
                           f"the fused op has no mask input)")
        p.findings["mask_from"] = mask
        if blocked:
            p.reasons.extend(blocked)
            predictions.append(p)
            continue
        p.form = "fused"
        p.reasons.append("only the output (outputs 0 and 1) is used, no mask is passed: CheckFusableKerasLstm "
                         "passes, so the converter writes one UNIDIRECTIONAL_SEQUENCE_LSTM"
                         + (" (time reversed with REVERSE_V2 around it)" if config.get("go_backwards") else ""))
        predictions.append(p)
    return predictions


def predict_saved_model(graph_def) -> list:
    """Return predictions for a SavedModel's Keras layers, from its library functions.

    The marker is read from the file (a function's ``api_implements`` attribute), the outputs
    used from the calls to it, the mask from its argument count.
    """
    functions = {f.signature.name: f for f in graph_def.library.function}
    calls: dict = {}
    for fdef in graph_def.library.function:
        for node in fdef.node_def:
            if node.op in ("PartitionedCall", "StatefulPartitionedCall") and "f" in node.attr:
                calls.setdefault(node.attr["f"].func.name, []).append((fdef, node))
    predictions, seen = [], set()
    for name, fdef in sorted(functions.items()):
        if "api_implements" not in fdef.attr:
            continue
        marker = fdef.attr["api_implements"].s.decode("utf-8", "replace")
        if marker in seen:  # TensorFlow keeps a CPU and a GPU variant under one marker
            continue
        seen.add(marker)
        kind = marker.split("_")[0].upper()
        p = LayerPrediction(layer=name, kind=kind, wrapper=None, form="while", marker=kind == "LSTM")
        p.findings = {"api_implements": marker, "arguments": len(fdef.signature.input_arg)}
        if kind != "LSTM":
            p.reasons.append(f"its function {name} carries api_implements={marker!r}: the converter fuses "
                             f"only 'lstm_' functions, so this stays a WHILE loop")
            predictions.append(p)
            continue
        p.reasons.append(f"its function {name} carries api_implements={marker!r}, which the "
                         f"converter's prepare-composite-functions pass looks for")
        used = set()
        for caller, node in calls.get(name, []):
            prefix = node.name + ":"
            for other in caller.node_def:
                for inp in other.input:
                    if inp.startswith(prefix):
                        try:
                            used.add(int(inp.rsplit(":", 1)[1]))
                        except ValueError:
                            pass
            for value in caller.ret.values():
                if value.startswith(prefix):
                    try:
                        used.add(int(value.rsplit(":", 1)[1]))
                    except ValueError:
                        pass
        p.findings["outputs_used"] = sorted(used)
        blocked = []
        if used - {0, 1}:
            blocked.append(f"outputs {sorted(used - {0, 1})} of its calls are used (only 0 and 1 may be)")
        if len(fdef.signature.input_arg) == 7:
            blocked.append("it takes 7 arguments, the 7th a mask (the fused op has no mask input)")
        if blocked:
            p.reasons.extend(blocked)
        else:
            p.form = "fused"
            p.reasons.append("only outputs 0 and 1 are used and no mask is passed: one "
                             "UNIDIRECTIONAL_SEQUENCE_LSTM")
        predictions.append(p)
    return predictions


_FORM_TEXT = {"fused": "a fused UNIDIRECTIONAL_SEQUENCE_LSTM", "while": "a WHILE loop (cond and body "
              "subgraphs)", "unrolled": "plain ops, one copy per step (no loop)"}


def _clip_section(measured: Optional[dict]) -> Section:
    paragraphs = [
        "The fused op the converter builds from a Keras LSTM gets cell_clip = 10.0 (TensorFlow's "
        "lstm_utils.cc, ConvertKerasLSTMLayer); Keras never clips its cell state. While |c| stays "
        "at or below 10 the two agree; once Keras' c goes beyond 10, LiteRT holds it at ±10."]
    if measured:
        paragraphs.append(
            f"Measured (TensorFlow {measured['tensorflow']}, ai-edge-litert interpreter): a one-unit "
            f"LSTM with open gates fed {measured['input'].count(1.0)} steps of +1 then "
            f"{measured['input'].count(-1.0)} of −1; Keras' c exceeds 10 from step "
            f"{measured['first_step_c_over_10']}, h first differs by more than 1e-3 at step "
            f"{measured['first_step_over_1e-3']}, and the largest |Keras − LiteRT| in h is "
            f"{measured['max_abs_diff']:.3g}. While c is clipped, h = o·tanh(c) hides it (tanh(10) "
            f"≈ 1); the outputs part when c comes back down, because LiteRT's c starts lower.")
    return Section("Where a fused LSTM departs from Keras: cell_clip", paragraphs)


def _load_measurement() -> Optional[dict]:
    import json  # noqa: PLC0415

    path = Path(__file__).resolve().parent / "cell_clip.json"  # tests/fixtures/measure_cell_clip.py
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def explain_convert(path, check: bool = False) -> Explanation:
    """Return the explanation of what the converter builds for each recurrent layer in ``path``."""
    from ..graphdef.keras_file import is_keras_zip, HDF5_SIGNATURE, read_keras_model  # noqa: PLC0415
    from ..graphdef.loaders import load_graph_def  # noqa: PLC0415

    path = Path(path)
    model = None
    if path.is_file():
        head = path.open("rb").read(8)
        if head.startswith(HDF5_SIGNATURE) or is_keras_zip(head):
            from ..graphdef.loaders import load_keras_model  # noqa: PLC0415

            model, _ = load_keras_model(path)
    if model is not None:
        if check:  # before anything else: Keras will load the file
            model.check_safe_to_load()
        if model.form == "weights-h5":
            raise UsageError(f"{path} holds weights only: the layers' config (return_state, masks, "
                             f"the Keras that wrote it) that decides the converter's choice is not in it")
        predictions = predict_keras_file(model)
        source = f"{model.library} {model.keras_version or ''} file".replace("  ", " ")
    else:
        graph_def, kind = load_graph_def(path)
        if kind != "savedmodel":
            raise UsageError(f"explain convert reads a Keras file (.keras, .h5) or a Keras SavedModel; "
                             f"{path} is a {kind}")
        from ..graphdef.walk import walk  # noqa: PLC0415
        from ..recognise import recognise  # noqa: PLC0415

        cells = [c for c in recognise(walk(graph_def)).cells if c.form == "keras"]
        predictions = predict_saved_model(graph_def)
        for p in predictions:  # name the Keras layer whose cell runs in the marked function
            marker = p.findings.get("api_implements") or ""
            layer = next((c.layer for c in cells if marker and marker in (c.implementation or "")), None)
            if layer:
                p.findings["function"], p.layer = p.layer, layer
        if not predictions:  # no marker anywhere: each recognised Keras cell stays a loop
            for cell in cells:
                if cell.form != "keras":
                    continue
                predictions.append(LayerPrediction(
                    layer=cell.layer or cell.scope, kind=cell.kind.upper(), wrapper=None, form="while",
                    marker=False, findings={"api_implements": None},
                    reasons=["no function in the SavedModel carries an api_implements marker (Keras 3 "
                             "writes a plain while loop), so nothing marks it for fusion"]))
        source = "SavedModel"
    if not predictions:
        raise UsageError(f"{path}: no recurrent Keras layer found, so there is no converter choice to explain")
    bullets = []
    for p in predictions:
        label = f"{p.wrapper}/{p.layer}" if p.wrapper else p.layer
        bullets.append(f"{label} ({p.kind}): {_FORM_TEXT[p.form]}, because " + "; ".join(p.reasons) + ".")
    shapes = ""
    if model is not None and model.input_shapes:
        listed = "; ".join(f"{name} {['?' if d is None else d for d in shape]}"
                           for name, shape in sorted(model.input_shapes.items()))
        dynamic = any(shape and shape[0] is None for shape in model.input_shapes.values())
        shapes = (f" The saved input shape: {listed}." + (
            " Its batch is dynamic: the converter needs it fixed (--check converts at batch 1); at a "
            "dynamic batch, with built-in ops only, TensorFlow 2.21 refuses the TensorList loop and "
            "fuses nothing." if dynamic else ""))
    sections = [Section(f"What TensorFlow's LiteRT converter builds from {path.name}", [
        f"Read from the {source}. TensorFlow fuses an LSTM only when its function carries the "
        f"api_implements marker 'lstm_…' and CheckFusableKerasLstm passes (prepare_composite_functions_tf.cc): "
        f"only outputs 0 and 1 used, no mask, a static batch.{shapes}", bullets])]
    if any(p.fused for p in predictions):
        sections.append(_clip_section(_load_measurement()))
    findings = {"layers": [asdict(p) for p in predictions]}
    if check:
        from ..model.convert_check import run_converter  # noqa: PLC0415

        real = run_converter(path, model.library if model is not None else "savedmodel")
        findings["check"] = compare_with_converter(predictions, real)
        sections.append(Section("Checked with the converter", [findings["check"]["summary"],
                                                               findings["check"]["rows"]]))
    return Explanation(topic="convert", title=f"rnngraph explain convert: {path}",
                       spec={"file": str(path)}, sections=sections, findings=findings)


def expected_ops(predictions: list) -> dict:
    """Return the counts the predictions imply: fused LSTM ops, and whether a WHILE must appear."""
    return {"fused": sum(p.fused for p in predictions),
            "while": any(p.form == "while" for p in predictions)}


def compare_with_converter(predictions: list, real: dict) -> dict:
    """Return a verify-style report: the prediction against what the converter really wrote."""
    want = expected_ops(predictions)
    if "error" in real:
        got_fused, got_while = 0, None
        rows = [f"the converter refused the model: {real['error']}"]
    else:
        got_fused = real["counts"].get("UNIDIRECTIONAL_SEQUENCE_LSTM", 0)
        got_while = real["counts"].get("WHILE", 0) > 0
        rows = [f"converter ops: " + ", ".join(f"{k} ×{v}" for k, v in sorted(real["counts"].items()))]
    ok = got_fused == want["fused"] and (got_while is None or not want["while"] or got_while)
    rows.append(f"predicted {want['fused']} fused UNIDIRECTIONAL_SEQUENCE_LSTM"
                + (" and a WHILE" if want["while"] else "") + f"; the converter wrote {got_fused}"
                + ("" if got_while is None else (" and a WHILE" if got_while else " and no WHILE")))
    rows.append("the prediction holds" if ok else "the prediction does NOT hold")
    return {"summary": f"Ran TensorFlow's LiteRT converter (built-in ops only; model loaded with "
                       f"{real.get('library', '?')}) and counted the ops it wrote (the ai-edge-litert "
                       f"interpreter's op list).", "rows": rows, "ok": ok, "converter": real}
