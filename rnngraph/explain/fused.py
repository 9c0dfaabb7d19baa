"""Fused RNN kernels explained (BlockLSTM, LSTMBlockCell, GRUBlockCell, CudnnRNN*) and verified.

Every sentence formats a recognised fact (``cell.fused``: the op, its named inputs, the
attributes read from the file).  ``verify_fused`` runs the file's own graph with TensorFlow,
records every execution of each fused op (tfdbg watches: a cell inside a while loop runs once
per iteration) and recomputes the op's outputs with NumPy from the recorded inputs, the
weights stored in the file and the recognised gate order, forget bias, clip and peepholes.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from typing import Optional

import numpy as np

from ..errors import DeviceError, UsageError
from ..recognise import Cell
from ..recognise.fused import CUDNN_GATES, FUSED_GATE_MEANING
from .prose import Section, dims
from .verify import NUMPY_ACTIVATIONS, TOLERANCE

__all__ = ["fused_cell", "numpy_fused", "verify_fused", "NO_GPU"]

_sigmoid = NUMPY_ACTIVATIONS["sigmoid"]
NO_GPU = "--verify is unavailable without a GPU: TensorFlow has no CPU kernel for {op} (cuDNN)"
_NO_CPU_RUN = ("--verify cannot check {node}: TensorFlow has no CPU kernel for {op} (cuDNN), and "
               "rnngraph runs --verify on the CPU")
_INPUT_MEANING = {
    "seq_len_max": "how many steps to run (later steps give zeros)",
    "x": "the inputs", "cs_prev": "the initial cell state c", "h_prev": "the initial output h",
    "w": "the kernel over [x_t, h_(t−1)]", "wci": "peephole weights of the input gate",
    "wcf": "peephole weights of the forget gate", "wco": "peephole weights of the output gate",
    "b": "the bias", "w_ru": "the kernel of the reset and update gates over [x_t, h_(t−1)]",
    "w_c": "the kernel of the candidate over [x_t, r ⊙ h_(t−1)]", "b_ru": "the gates' bias",
    "b_c": "the candidate's bias", "input": "the inputs",
    "input_h": "the initial h of every layer and direction", "input_c": "the initial c (LSTM only)",
    "params": "every weight and bias in one flat buffer (cuDNN's layout)",
    "sequence_lengths": "each sequence's length"}


_STEP_MEANING = {"x": "this step's inputs", "cs_prev": "the previous step's cell state c",
                 "h_prev": "the previous step's output h"}


def _inputs_table(cell: Cell) -> str:
    f = cell.fused
    rows = []
    for i in f["inputs"]:
        meaning = _INPUT_MEANING.get(i["name"], "")
        if f["steps"] == "one" and i["name"] in _STEP_MEANING:
            meaning = _STEP_MEANING[i["name"]]
        if i["name"] in ("wci", "wcf", "wco") and f.get("use_peephole") is False:
            meaning += " (unused: use_peephole is false)"
        if i["name"] in ("w", "b") and cell.kind == "lstm":
            meaning += f", column blocks {', '.join(cell.gates)}"
        if i["name"] == "x" and f.get("time_major"):
            meaning += ", time-major [time, batch, features]"
        if i["name"] == "seq_len_max" and f.get("seq_len_max") is not None:
            meaning += f" = {f['seq_len_max']}"
        source = i["weight"] or i["source"] or "absent"
        rows.append(f"    {i['name']:<16} {dims(i['shape']):<10} {source}: {meaning}")
    return "\n".join(rows)


def _lstm_lines(cell: Cell) -> list:
    f = cell.fused
    peep = f.get("use_peephole")
    fb = f" + {cell.forget_bias:g}" if cell.forget_bias else ""
    blocks = ", ".join(cell.gates)
    c_new = "ci ⊙ i + c_(t−1) ⊙ f"
    if f.get("cell_clip") is not None:
        c_new = f"clip({c_new}, −{f['cell_clip']:g}, {f['cell_clip']:g})"
    return [
        f"    [{blocks}] = [x_t, h_(t−1)] · w + b        (four column blocks of {cell.n_neurons})",
        "    i  = σ(i" + (" + wci ⊙ c_(t−1)" if peep else "") + ")",
        f"    f  = σ(f{fb}" + (" + wcf ⊙ c_(t−1)" if peep else "") + ")",
        "    ci = tanh(ci)",
        f"    c_t = {c_new}",
        "    o  = σ(o" + (" + wco ⊙ c_t" if peep else "") + ")",
        "    h_t = tanh(c_t) ⊙ o"]


_GRU_LINES = ["    [r, u] = σ([x_t, h_(t−1)] · w_ru + b_ru)",
              "    c   = tanh([x_t, r ⊙ h_(t−1)] · w_c + b_c)",
              "    h_t = u ⊙ h_(t−1) + (1 − u) ⊙ c"]
_CUDNN_LINES = {
    "lstm": ["    g = W_g · x_t + R_g · h_(t−1) + bW_g + bR_g   for g in i, f, c, o",
             "    c_t = σ(f) ⊙ c_(t−1) + σ(i) ⊙ tanh(c)", "    h_t = σ(o) ⊙ tanh(c_t)"],
    "gru": ["    r = σ(W_r · x_t + R_r · h_(t−1) + bW_r + bR_r),  u likewise",
            "    c = tanh(W_c · x_t + r ⊙ (R_c · h_(t−1) + bR_c) + bW_c)",
            "    h_t = (1 − u) ⊙ c + u ⊙ h_(t−1)"],
    "rnn_tanh": ["    h_t = tanh(W · x_t + R · h_(t−1) + bW + bR)"],
    "rnn_relu": ["    h_t = relu(W · x_t + R · h_(t−1) + bW + bR)"]}


def _direction(cell: Cell) -> str:
    f = cell.fused
    if f["steps"] == "one":
        where = f" inside the while loop {cell.loops[0]}, once per iteration" if cell.loops else ""
        return f"{f['op']} computes one step{where}; the loop around it carries the state."
    if f["direction"] == "backward":
        before, *after = f["reversed_by"]
        back = f", and {after[0]} turns its output back, so output step t lines up with input " \
               "step t" if after else ""
        return (f"It runs backward in time: its x comes through {before}, which reverses the time "
                f"axis{back}. With a forward op beside it this is one direction of a bidirectional RNN.")
    return "It runs forward in time over the whole sequence in one call."


def fused_cell(cell: Cell) -> Section:
    """Return the section explaining a fused kernel from its recognised facts."""
    f = cell.fused
    op = f["op"]
    paras = [f"TensorFlow computes this {cell.kind.upper()} in one op, {op} ({cell.scope}): no "
             f"MatMul, Split or activation appears in the graph, so everything below is read from "
             f"the op's attributes and the shapes of its {len(f['inputs'])} inputs, named as its "
             f"OpDef names them:", _inputs_table(cell)]
    if "rnn_mode" in f:
        gates = CUDNN_GATES[f["rnn_mode"]]
        layers = f["layers"] if f["layers"] is not None else "an unknown number of"
        paras.append(f"rnn_mode {f['rnn_mode']}, {layers} layer(s), {f['direction']} "
                     f"({f['directions']} direction(s)), {cell.n_inputs} inputs, {cell.n_neurons} "
                     f"units, input_mode {f['input_mode']}, "
                     + ("time-major [time, batch, features]" if f["time_major"]
                        else "batch-major [batch, time, features] (time_major false)")
                     + (f", projection to {f['num_proj']}" if f.get("num_proj") else "") + ".")
        paras.append(f"cuDNN keeps one input matrix W_g and one recurrent matrix R_g per gate, in "
                     f"the order {', '.join(gates)}, and two biases per gate:")
        paras.append("\n".join(_CUDNN_LINES[f["rnn_mode"]]))
        params = f["params"]
        if params["size"] is not None:
            text = f"The params buffer holds {params['size']:,} values"
            if params["expected"] is not None:
                text += (f"; the canonical layout for these sizes needs {params['expected']:,}, "
                         + ("which matches." if params["size"] == params["expected"]
                            else "which does not match: the sizes read from the shapes disagree with it."))
            paras.append(text + (f" {params['canonical']} packs it from the canonical weights and "
                                 "biases." if params["canonical"] else ""))
        if params["matrices"] is not None:
            paras.append(f"In canonical form it is {params['matrices']} weight matrices (W_g and R_g "
                         f"per gate, layer and direction) and as many bias vectors.")
        for each in params["unpacked_by"]:
            paras.append(f"{each['node']} unpacks the buffer into {each['weights']} weight matrices "
                         f"and {each['biases']} biases.")
        paras.append(NO_GPU.format(op=op) + ".")
        return Section(f"The fused kernel {cell.scope} ({op})", paras)
    if cell.kind == "lstm":
        paras.append("Each step, with the gate order and settings read from the op "
                     f"({', '.join(f'{g}: {FUSED_GATE_MEANING[g]}' for g in cell.gates)}):")
        paras.append("\n".join(_lstm_lines(cell)))
        notes = [f"forget_bias {cell.forget_bias:g}" + (" (BlockLSTMV2 has no forget_bias: it adds "
                                                         "none)" if op == "BlockLSTMV2" else "")]
        notes.append(f"cell_clip {f['cell_clip']:g}" if f.get("cell_clip") is not None
                     else "no cell clip (cell_clip ≤ 0)")
        notes.append("peepholes wci, wcf, wco" if f.get("use_peephole") else "no peepholes")
        paras.append("Read from the op: " + ", ".join(notes) + ".")
    else:
        paras.append("Each step (gates r: reset, u: update; c: the candidate):")
        paras.append("\n".join(_GRU_LINES))
    paras.append(_direction(cell))
    paras.append(f"Its outputs, by index: {', '.join(f'{i} {n}' for i, n in enumerate(f['outputs']))}.")
    return Section(f"The fused kernel {cell.scope} ({op})", paras)


def numpy_fused(cell: Cell, weights: dict, values: dict) -> dict:
    """Return the fused op's outputs {name: array} computed with NumPy from the recognised facts.

    ``weights`` and ``values`` hold the op's inputs by their OpDef names (the weights from the
    file, the rest as recorded in the run).
    """
    f = cell.fused
    get = {**values, **weights}
    if cell.kind == "gru":
        x, h = get["x"], get["h_prev"]
        ru = _sigmoid(np.concatenate([x, h], 1) @ get["w_ru"] + get["b_ru"])
        gates = dict(zip(cell.gates[:2], np.split(ru, 2, 1)))  # the recognised order of w_ru's blocks
        r, u = gates["r"], gates["u"]
        c = np.tanh(np.concatenate([x, r * h], 1) @ get["w_c"] + get["b_c"])
        return {"r": r, "u": u, "c": c, "h": u * h + (1 - u) * c}
    xs = get["x"] if f["steps"] == "sequence" else get["x"][None]
    steps = xs.shape[0]
    if f["steps"] == "sequence" and f.get("seq_len_max") is not None:
        steps = min(steps, int(f["seq_len_max"]))
    cs, h = get["cs_prev"], get["h_prev"]
    peep = bool(f.get("use_peephole"))
    fb = cell.forget_bias or 0.0
    outs = {name: [] for name in f["outputs"]}
    for t in range(xs.shape[0]):
        if t >= steps:
            for name in outs:
                outs[name].append(np.zeros_like(h))
            continue
        blocks = dict(zip(cell.gates, np.split(np.concatenate([xs[t], h], 1) @ get["w"] + get["b"],
                                              4, 1)))
        i = _sigmoid(blocks["i"] + (cs * get["wci"] if peep else 0))
        fg = _sigmoid(blocks["f"] + fb + (cs * get["wcf"] if peep else 0))
        ci = np.tanh(blocks["ci"])
        cs = ci * i + cs * fg
        if f.get("cell_clip") is not None:
            cs = np.clip(cs, -f["cell_clip"], f["cell_clip"])
        o = _sigmoid(blocks["o"] + (cs * get["wco"] if peep else 0))
        co = np.tanh(cs)
        h = co * o
        for name, value in zip(("i", "cs", "f", "o", "ci", "co", "h"), (i, cs, fg, o, ci, co, h)):
            outs[name].append(value)
    if f["steps"] == "one":
        return {name: v[0] for name, v in outs.items()}
    return {name: np.stack(v) for name, v in outs.items()}


def _const_array(graph_def, name: str) -> Optional[np.ndarray]:
    """Return the float32 value of Const ``name`` in the file, or None."""
    from ..graphdef.walk import dtype_name  # noqa: PLC0415

    node = next((n for n in graph_def.node if n.name == name and n.op == "Const"), None)
    if node is None:
        return None
    tensor = node.attr["value"].tensor
    shape = [d.size for d in tensor.tensor_shape.dim]
    if dtype_name(tensor.dtype) != "float32":
        return None
    count = int(np.prod(shape)) if shape else 1
    if tensor.tensor_content:
        values = np.frombuffer(tensor.tensor_content, "<f4")
    else:
        values = np.array(tensor.float_val, np.float32)
        values = np.resize(values, count) if values.size else np.zeros(count, np.float32)
    return values.reshape(shape) if values.size == count else None


def _feeds(graph_def, batch: int, rng) -> dict:
    """Return random values for every float placeholder something reads (unknown dims: ``batch``)."""
    used = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    feeds = {}
    for node in graph_def.node:
        if node.op != "Placeholder" or node.name not in used:
            continue
        shape_attr = node.attr["shape"].shape
        if shape_attr.unknown_rank or node.attr["dtype"].type != 1:
            raise UsageError(f"--verify feeds random values to the graph's inputs, but {node.name} "
                             f"has {'no known rank' if shape_attr.unknown_rank else 'a non-float dtype'}")
        shape = [d.size if d.size > 0 else batch for d in shape_attr.dim]
        feeds[f"{node.name}:0"] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def _recorded(dump, tensor: str) -> list:
    node, _, slot = tensor.partition(":")
    data = dump.watch_key_to_data(f"{node}:{slot or 0}:DebugIdentity")
    return [d.get_tensor() for d in sorted(data, key=lambda d: d.timestamp)]


def verify_fused(kind: str, graph_def, cells: list, batch: int = 4, seed: int = 0) -> dict:
    """Run the file's graph with TensorFlow and compare every fused op's outputs with NumPy."""
    from ..model.tfcompat import tf as _tf  # noqa: PLC0415

    gpu_only = [c for c in cells if c.fused.get("gpu_only")]
    if gpu_only:
        raise DeviceError(_NO_CPU_RUN.format(op=gpu_only[0].fused["op"], node=gpu_only[0].scope))
    weights = {}
    for cell in cells:
        for i in cell.fused["inputs"]:
            if i["name"] in ("x", "cs_prev", "h_prev", "seq_len_max"):
                continue
            value = _const_array(graph_def, i["weight"]) if i["weight"] else None
            if value is None:
                if kind not in ("graphdef", "graphdef-text"):
                    raise UsageError(f"--verify needs the weights in the file (a frozen GraphDef); "
                                     f"this is a {kind}")
                raise UsageError(f"--verify needs the weights in the file; {cell.scope}'s input "
                                 f"{i['name']} ({i['source']}) is not a float constant")
            weights[(cell.scope, i["name"])] = value
    rng = np.random.default_rng(seed)
    feeds = _feeds(graph_def, batch, rng)
    tf = _tf()
    from tensorflow.core.protobuf import config_pb2  # noqa: PLC0415
    from tensorflow.python.debug.lib import debug_data, debug_utils  # noqa: PLC0415

    watched = {}
    for cell in cells:
        for i in cell.fused["inputs"]:
            if i["name"] in ("x", "cs_prev", "h_prev"):
                watched[(cell.scope, i["name"])] = i["source"]
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString()),
                                      name="")
    nodes = sorted({t.partition(":")[0] for t in watched.values()} | {c.scope for c in cells})
    used = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    fetches = [f"{n.name}:0" for n in graph_def.node if n.name not in used and n.op not in
               ("NoOp", "Placeholder", "Const")]
    folder = tempfile.mkdtemp(prefix="rnngraph-verify-")
    try:
        options = config_pb2.RunOptions()
        debug_utils.watch_graph(options, graph, debug_urls=[f"file://{folder}"],
                                node_name_regex_allowlist="|".join(f"^{re.escape(n)}$" for n in nodes))
        config = config_pb2.ConfigProto()  # run the graph as written: no Grappler rewrites
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        config.graph_options.optimizer_options.opt_level = config_pb2.OptimizerOptions.L0
        with tf.compat.v1.Session(graph=graph, config=config) as sess:
            try:
                sess.run(fetches, feeds, options=options)
            except tf.errors.OpError as exc:
                first = (exc.message or str(exc)).strip().splitlines()
                raise UsageError(f"--verify could not run the graph: TensorFlow says "
                                 f"{first[-1][:300] if first else type(exc).__name__}") from None
        dump = debug_data.DebugDumpDir(folder)
        rows, worst = [], 0.0
        for cell in cells:
            outs = {name: _recorded(dump, f"{cell.scope}:{k}")
                    for k, name in enumerate(cell.fused["outputs"])}
            runs = len(outs["h"])
            ins = {}
            for (scope, name), tensor in watched.items():
                if scope != cell.scope:
                    continue
                fed = feeds.get(tensor if ":" in tensor else f"{tensor}:0")
                # a fed placeholder never runs (nothing to record): its value is the feed
                ins[name] = [fed] * runs if fed is not None else _recorded(dump, tensor)
            if runs == 0 or any(len(v) != runs for v in ins.values()):
                raise UsageError(f"--verify could not record every run of {cell.scope}")
            w = {name: value for (scope, name), value in weights.items() if scope == cell.scope}
            cell_worst = 0.0
            for k in range(runs):
                want = numpy_fused(cell, w, {name: v[k] for name, v in ins.items()})
                for name, value in want.items():
                    cell_worst = max(cell_worst, float(np.max(np.abs(outs[name][k] - value))))
            worst = max(worst, cell_worst)
            each = f" ({runs} runs, one per loop iteration)" if runs > 1 else ""
            rows.append(f"{cell.scope} ({cell.fused['op']}){each}, outputs "
                        f"{', '.join(cell.fused['outputs'])}: max |TensorFlow − NumPy| = {cell_worst:.3g}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"summary": f"Ran the file's graph with TensorFlow on random inputs (batch {batch}, seed "
                       f"{seed}), recorded every run of each fused op, and recomputed its outputs "
                       f"with NumPy from the recorded inputs, the weights stored in the file and the "
                       f"recognised gate order, forget bias, cell clip and peepholes.",
            "rows": rows, "max_abs_diff": worst, "tolerance": TOLERANCE, "ok": worst < TOLERANCE,
            "batch": batch, "seed": seed}
