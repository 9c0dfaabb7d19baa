"""``explain --verify``: run the graph and recompute every step of every layer with NumPy.

The NumPy side implements the equations ``explain`` prints and reads everything
else from the recognised findings: the weights (each cell's variables, set to
random non-zero values first, biases included), the gate order (the Split
output each gate comes from), the forget bias, the peepholes, the activation,
the output projection, the initial state (the recognised zero-state tensors are
fed random non-zero values) and the dropout keep-masks (recorded from the run).
It compares every step's output and every final-state tensor the recogniser
names, so a wrong recogniser, a wrong equation or a wrong claim about what the
RNN returns shows up as a difference.  TensorFlow runs the graph in a
``tf.compat.v1.Session``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..errors import UsageError
from ..recognise import Cell, Findings, RnnInfo
from ..recognise.exprs import natural_key

__all__ = ["verify_built", "verify_file", "verify_session", "numpy_step", "TOLERANCE", "MIN_STEPS",
           "NUMPY_ACTIVATIONS"]

TOLERANCE = 1e-5
MIN_STEPS = 3
# The activations a recognised cell may name, in NumPy (shared with the Keras check).
NUMPY_ACTIVATIONS = {
    "tanh": np.tanh, "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "relu": lambda v: np.maximum(v, 0.0), "softsign": lambda v: v / (1.0 + np.abs(v)),
    "elu": lambda v: np.where(v > 0, v, np.exp(np.minimum(v, 0)) - 1.0), "linear": lambda v: v}
_ACT = NUMPY_ACTIVATIONS
_sigmoid = NUMPY_ACTIVATIONS["sigmoid"]


def _blocks(cell: Cell, value, count: int) -> dict:
    """Return {gate: block} of ``value`` split on axis 1 in the order the recogniser read."""
    parts = np.split(value, count, 1)
    return {g: parts[int(cell.gate_nodes[g]["slice"].rpartition(":")[2])] for g in cell.gates}


def numpy_step(cell: Cell, w: dict, x, state):
    """Return (output, new state) of one step of ``cell``; state is h, or (c, h) for an LSTM."""
    act = _ACT[cell.activation or "tanh"]
    if cell.kind == "rnn":
        h = act(np.concatenate([x, state], 1) @ w["kernel"] + w["bias"])
        return h, h
    if cell.kind == "gru":
        gates = _blocks(cell, _sigmoid(np.concatenate([x, state], 1) @ w["kernel"] + w["bias"]), 2)
        r, u = gates["r"], gates["u"]
        c = act(np.concatenate([x, r * state], 1) @ w["cand_kernel"] + w["cand_bias"])
        h = u * state + (1 - u) * c
        return h, h
    c_prev, h_prev = state
    g = _blocks(cell, np.concatenate([x, h_prev], 1) @ w["kernel"] + w["bias"], 4)
    peep = {k: w.get(f"peep_{k}", 0.0) for k in "ifo"}
    f = g["f"] + (cell.forget_bias or 0.0) + peep["f"] * c_prev
    i = g["i"] + peep["i"] * c_prev
    c = c_prev * _sigmoid(f) + _sigmoid(i) * act(g["j"])
    h = act(c) * _sigmoid(g["o"] + peep["o"] * c)
    return h, (c, h)


@dataclass
class Run:
    """What to feed and fetch: tensor names, plus how the weights are read and set."""

    x: list  # one name ([batch, steps, inputs]) or one per step
    steps: int
    inputs: int
    seq_length: Optional[str] = None
    keep_prob: Optional[str] = None
    outputs: list = field(default_factory=list)  # names: one batch-major tensor or one per step
    state: list = field(default_factory=list)  # [(layer, part, name)]
    randomise: bool = True  # set the weights to random values (False: use the file's)
    notes: list = field(default_factory=list)


def _weight_names(cell: Cell) -> dict:
    names = {"kernel": cell.kernel, "bias": cell.bias}
    if cell.candidate:
        names.update(cand_kernel=cell.candidate.get("kernel"), cand_bias=cell.candidate.get("bias"))
    names.update({f"peep_{g}": v for g, v in cell.peepholes.items()})
    return names


def _variable_tensor(G, graph, name: str):
    """Return a tensor holding the value of variable (or constant) ``name``."""
    op = G.nodes[name]["op"] if name in G else None
    if op == "VarHandleOp":
        reads = [d for d in G.successors(name) if G.nodes[d]["op"] == "ReadVariableOp"
                 and not G.nodes[d]["frame"] and G.nodes[d]["parent_op"] is None]
        if reads:
            return graph.get_tensor_by_name(f"{sorted(reads)[0]}:0")
        from ..model.tfcompat import tf  # noqa: PLC0415

        with graph.as_default():
            return tf().raw_ops.ReadVariableOp(resource=graph.get_tensor_by_name(f"{name}:0"),
                                               dtype=tf().float32)
    return graph.get_tensor_by_name(f"{name}:0")


def _set_weights(sess, G, names: list, rng, randomise: bool) -> dict:
    """Return {name: value}; with ``randomise`` every weight is first set to random non-zero values."""
    graph = sess.graph
    values = {}
    for name in names:
        value_t = _variable_tensor(G, graph, name)
        if randomise and G.nodes[name]["op"] != "Const":
            shape = value_t.shape.as_list()
            value = (rng.standard_normal(shape) * 0.5).astype(np.float32)
            _assign(sess, G, name, value)
        values[name] = sess.run(value_t)
    return values


def _watch(sess, names: list):
    """Return (run options that dump ``names`` every time they run, the dump folder)."""
    from ..model.tfcompat import tf  # noqa: PLC0415

    tf()
    from tensorflow.core.protobuf import config_pb2  # noqa: PLC0415
    from tensorflow.python.debug.lib import debug_utils  # noqa: PLC0415

    folder = tempfile.mkdtemp(prefix="rnngraph-verify-")
    options = config_pb2.RunOptions()
    debug_utils.watch_graph(options, sess.graph, debug_urls=[f"file://{folder}"],
                            node_name_regex_allowlist="|".join(f"^{re.escape(n)}$" for n in names))
    return options, folder


def _dumped(folder: str, names: list) -> dict:
    """Return {name: every value ``name:0`` took during the run, in the order it ran}."""
    import shutil  # noqa: PLC0415

    from tensorflow.python.debug.lib import debug_data  # noqa: PLC0415

    try:
        dump = debug_data.DebugDumpDir(folder)
        return {name: [d.get_tensor() for d in sorted(dump.watch_key_to_data(f"{name}:0:DebugIdentity"),
                                                      key=lambda d: d.timestamp)]
                for name in names}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _step_of(G, cell: Cell, select: str) -> Optional[int]:
    """Return the step whose copy of ``cell`` reads ``select`` as X_t (unrolled graphs)."""
    from ..recognise.exprs import input_of, trace_source  # noqa: PLC0415

    for k, concat in enumerate(cell.instance_concats):
        src = input_of(G, concat, 0)
        if src and trace_source(G, *src)[0] == select:
            return k
    return None


def _plan_masks(G, rnn: RnnInfo, cells: list, run: Run) -> dict:
    """Return {layer: [mask node per step]} to record, or {} (and a note) when dropout cannot be."""
    if not rnn.dropout:
        return {}
    if run.keep_prob is None:
        run.notes.append("dropout left at its default (its keep probability is not a placeholder)")
        return {}
    if any(d.in_loop and G.nodes[d.mask]["parent_op"] is not None for d in rnn.dropout):
        run.notes.append("dropout not exercised: its masks run inside a control-flow-v2 loop "
                         "function, where they cannot be recorded")
        run.keep_prob = None
        return {}
    plan: dict = {}
    for drop in rnn.dropout:
        order = 0 if drop.in_loop else _step_of(G, cells[drop.layer], drop.select)
        plan.setdefault(drop.layer, []).append((order, drop.mask))
    return {layer: [m for _, m in sorted(items)] for layer, items in plan.items()}


def verify_session(sess, G, findings: Findings, run: Run, batch: int = 4, seed: int = 0,
                   step: Callable = numpy_step) -> dict:
    """Run the graph in ``sess`` on random inputs, state and weights; compare with NumPy."""
    if not findings.rnns:
        raise UsageError("--verify found no RNN (cells in a loop or unrolled) to check")
    rnn = findings.rnns[0]
    by_scope = {c.scope: c for c in findings.cells}
    cells = [by_scope[s] for s in rnn.layers]
    if any(c.n_neurons is None for c in cells):
        raise UsageError("--verify cannot read the cells' sizes from this graph")
    rng = np.random.default_rng(seed)
    weights = []
    names = _weight_nodes(findings)
    proj = rnn.projection
    missing = [n for n in names if n not in G]
    if missing:
        raise UsageError(f"--verify cannot find the weight(s) {', '.join(missing)} in the graph")
    values = _set_weights(sess, G, names, rng, run.randomise)
    for cell in cells:
        weights.append({k: values[n] for k, n in _weight_names(cell).items() if n})
    graph = sess.graph
    x = rng.standard_normal((batch, run.steps, run.inputs)).astype(np.float32)
    feed = {}
    if len(run.x) == 1:
        feed[graph.get_tensor_by_name(f"{run.x[0]}:0")] = x
    else:
        feed.update({graph.get_tensor_by_name(f"{p}:0"): x[:, i] for i, p in enumerate(run.x)})
    lengths = None
    if run.seq_length:
        lengths = rng.integers(1, run.steps + 1, batch).astype(np.int32)
        lengths[0] = run.steps  # at least one full-length sequence
        feed[graph.get_tensor_by_name(f"{run.seq_length}:0")] = lengths
    # A random, non-zero initial state fed into the recognised zero-state tensors.
    states = []
    start_rows = []
    for layer, cell in enumerate(cells):
        parts = {}
        for state in [s for s in rnn.final_state if s.layer == layer]:
            value = rng.standard_normal((batch, cell.n_neurons)).astype(np.float32) * 0.5
            if state.initial and state.initial_kind == "zeros":
                feed[graph.get_tensor_by_name(f"{state.initial}:0")] = value
            else:
                value = np.zeros_like(value)
                start_rows.append(f"layer {layer + 1} {state.part}: starts as zeros (not fed)")
            parts[state.part] = value
        if not parts:
            zero = np.zeros((batch, cell.n_neurons), np.float32)
            parts = {"c": zero, "h": zero} if cell.kind == "lstm" else {"state": zero}
        states.append((parts["c"], parts["h"]) if cell.kind == "lstm" else parts["state"])
    masks_plan = _plan_masks(G, rnn, cells, run)
    keep = 1.0
    if run.keep_prob and masks_plan:
        keep = 0.6
        feed[graph.get_tensor_by_name(f"{run.keep_prob}:0")] = np.float32(keep)
    fetch_out = [graph.get_tensor_by_name(f"{n}:0") for n in run.outputs]
    fetch_state = [graph.get_tensor_by_name(n if ":" in n else f"{n}:0") for _, _, n in run.state]
    options, folder, masks = None, None, {}
    in_loop = any(d.in_loop for d in rnn.dropout) and masks_plan
    if masks_plan and in_loop:
        watched = sorted({m for ms in masks_plan.values() for m in ms})
        options, folder = _watch(sess, watched)
        got_out, got_state = sess.run([fetch_out, fetch_state], feed, options=options)
        recorded = _dumped(folder, watched)
        for layer, nodes in masks_plan.items():
            masks[layer] = recorded[nodes[0]] if len(nodes) == 1 else None
    elif masks_plan:
        mask_t = {layer: [graph.get_tensor_by_name(f"{m}:0") for m in nodes]
                  for layer, nodes in masks_plan.items()}
        got_out, got_state, got_masks = sess.run([fetch_out, fetch_state, mask_t], feed)
        masks = got_masks
    else:
        got_out, got_state = sess.run([fetch_out, fetch_state], feed)
    if masks_plan and any(m is None or len(m) != run.steps for m in masks.values()):
        raise UsageError("--verify could not record one dropout mask per step")
    got_outputs = np.stack(got_out, 1) if len(got_out) > 1 else got_out[0]
    rows, worst = [], 0.0
    for t in range(run.steps):
        layer_in = x[:, t]
        alive = np.ones((batch, 1), bool) if lengths is None else (t < lengths)[:, None]
        for k, cell in enumerate(cells):
            if k in masks:
                layer_in = np.where(masks[k][t], layer_in / np.float32(keep), 0.0)
            out, new = step(cell, weights[k], layer_in, states[k])
            # Past a sequence's length: the state is copied through.
            states[k] = tuple(np.where(alive, n, o) for n, o in zip(new, states[k])) \
                if isinstance(new, tuple) else np.where(alive, new, states[k])
            layer_in = out
        if proj is not None:
            layer_in = layer_in @ values[proj.kernel] + (values[proj.bias] if proj.bias else 0.0)
        expected = np.where(alive, layer_in, 0.0)
        diff = float(np.max(np.abs(got_outputs[:, t] - expected)))
        worst = max(worst, diff)
        rows.append(f"step {t}: max |TensorFlow − NumPy| = {diff:.3g}")
    for (layer, part, name), got in zip(run.state, got_state):
        want = states[layer]
        want = (want[0] if part == "c" else want[1]) if isinstance(want, tuple) else want
        diff = float(np.max(np.abs(got - want)))
        worst = max(worst, diff)
        label = " ".join(x for x in (f"layer {layer + 1}" if len(cells) > 1 else "",
                                     "" if part == "state" else part) if x)
        rows.append(f"final state {label + ' ' if label else ''}({name}): "
                    f"max |TensorFlow − NumPy| = {diff:.3g}")
    names_text = ", ".join(f"{c.kernel} {tuple(c.kernel_shape or ())}" for c in cells)
    facts = [f"a random batch of {batch} sequences of {run.steps} steps (seed {seed})"]
    if lengths is not None:
        facts.append(f"random sequence lengths {lengths.tolist()}")
    if run.randomise:
        facts.append("every weight, biases included, set to random non-zero values")
    else:
        facts.append("the file's own weights")
    if any(s.initial_kind == "zeros" for s in rnn.final_state):
        facts.append("a random non-zero initial state fed into the zero-state tensors")
    if masks:
        facts.append(f"dropout on with keep probability {keep}, the masks recorded from the run")
    summary = ("Ran the graph in a tf.compat.v1.Session with " + "; ".join(facts) +
               f", and recomputed every step of every layer with NumPy from the graph's own "
               f"variables ({names_text}"
               + (f", projection {proj.kernel}" if proj is not None else "") + ")."
               + "".join(f" Note: {n}." for n in run.notes + start_rows))
    return {"summary": summary, "rows": rows, "max_abs_diff": worst, "tolerance": TOLERANCE,
            "ok": worst < TOLERANCE, "batch": batch, "seed": seed, "steps": run.steps}


def _state_fetches(rnn: RnnInfo, built) -> list:
    if rnn.final_state:
        return [(s.layer, s.part, s.node if s.output == 0 else f"{s.node}:{s.output}")
                for s in rnn.final_state]
    # Not recognised: what TensorFlow returned.
    from ..model.tfcompat import tf  # noqa: PLC0415

    flat = tf().nest.flatten(built.tensors["states"])
    per = 2 if built.spec.is_lstm else 1
    parts = ("c", "h") if per == 2 else ("state",)
    return [(i // per, parts[i % per], t.op.name) for i, t in enumerate(flat)]


def verify_built(built, build: Optional[Callable] = None, batch: int = 4, seed: int = 0,
                 step: Callable = numpy_step) -> dict:
    """Verify a graph rnngraph built (rebuilt with at least :data:`MIN_STEPS` steps)."""
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..model.tfcompat import tf  # noqa: PLC0415
    from ..recognise import recognise  # noqa: PLC0415

    spec = built.spec
    if spec.steps < MIN_STEPS:
        if build is None:
            from ..model.builder import build_graph as build  # noqa: PLC0415
        built = build(spec.replace(steps=MIN_STEPS))
        spec = built.spec
    G = walk(built)
    findings = recognise(G)
    if not findings.rnns:
        raise UsageError("--verify found no RNN to check in this graph")
    rnn = findings.rnns[0]
    tensors = built.tensors
    x = [tensors["X"].op.name] if "X" in tensors else [p.op.name for p in tensors["X_list"]]
    outputs = rnn.outputs
    if not outputs:
        returned = tensors.get("output_list") or tensors["outputs"]
        outputs = [t.op.name for t in (returned if isinstance(returned, list) else [returned])]
    run = Run(x=x, steps=spec.steps, inputs=spec.inputs,
              seq_length=tensors["seq_length"].op.name if "seq_length" in tensors else None,
              keep_prob=tensors["keep_prob"].op.name if "keep_prob" in tensors else None,
              outputs=outputs, state=_state_fetches(rnn, built))
    if not rnn.final_state or not rnn.outputs:
        run.notes.append("the output and final-state tensors were not recognised; TensorFlow's "
                         "returned tensors are compared, from a zero initial state")
    # A private copy of the graph: setting the weights adds assign ops, which must not
    # change the caller's graph (a later walk of it would count them).
    graph = tf().Graph()
    with graph.as_default():
        tf().compat.v1.import_graph_def(built.graph.as_graph_def(), name="")
    with tf().compat.v1.Session(graph=graph) as sess:
        sess.run(graph.get_operation_by_name(tensors["init"].name))
        return verify_session(sess, G, findings, run, batch=batch, seed=seed, step=step)


def _input_placeholders(G, rnn: RnnInfo, findings: Findings) -> list:
    """Return the float placeholders the RNN's first layer reads, searched backwards."""
    cell = next(c for c in findings.cells if c.scope == rnn.layers[0])
    starts = [cell.x_input]
    found, seen = [], set()
    while starts and len(seen) < 500:
        node = starts.pop()
        if node in seen or node not in G:
            continue
        seen.add(node)
        data = G.nodes[node]
        if data["op"] == "Placeholder" and (data["attrs"].get("dtype") in ("float32", "DT_FLOAT", 1)
                                            or "float" in str(data["attrs"].get("dtype"))):
            found.append(node)
            continue
        if data["op"] == "_Arg" and data.get("parent_op"):
            starts.append(data["parent_op"])
        starts.extend(G.predecessors(node))
    return sorted(set(found), key=natural_key)


def verify_file(path, kind: str, graph_def, findings: Findings, batch: int = 4, seed: int = 0,
                step: Callable = numpy_step) -> dict:
    """Verify a graph read from a file: a SavedModel, or a frozen GraphDef (weights as constants)."""
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..model.tfcompat import tf  # noqa: PLC0415

    if not findings.rnns or not findings.rnns[0].final_state or not findings.rnns[0].outputs:
        raise UsageError("--verify needs a recognised RNN whose outputs and final state are named; "
                         "none was recognised in this graph")
    rnn = findings.rnns[0]
    G = walk(graph_def)
    cells = [c for c in findings.cells if c.scope in rnn.layers]
    weight_ops = {G.nodes[n]["op"] for c in cells for n in _weight_names(c).values() if n and n in G}
    t = tf()
    if kind == "savedmodel":
        randomise = True
    elif kind in ("graphdef", "graphdef-text") and weight_ops <= {"Const"}:
        randomise = False
    else:
        raise UsageError(f"--verify needs the weights: a SavedModel directory or a frozen GraphDef "
                         f"(weights as constants); {path} is a {kind} whose weights are not in it")
    xs = _input_placeholders(G, rnn, findings)
    if len(xs) != 1:
        raise UsageError(f"--verify needs one float placeholder as the RNN's input, found "
                         f"{len(xs)} ({', '.join(xs) or 'none'})")
    shape = G.nodes[xs[0]]["attrs"].get("shape") or G.nodes[xs[0]]["outputs"][0].get("shape")
    cell = cells[0]
    # The check feeds X as (batch, steps, inputs); an input reshaped inside the graph (say
    # (None, 784) into 28 × 28) cannot be mapped to the steps with certainty: say so.
    if not (isinstance(shape, list) and len(shape) == 3 and shape[2] in (None, -1, cell.n_inputs)):
        what = ("has no recorded shape" if shape is None else
                f"has shape {shape} and is reshaped inside the graph")
        raise UsageError(f"--verify feeds the input as (batch, steps, {cell.n_inputs}); {xs[0]} {what}, "
                         f"which rnngraph cannot map to the steps")
    steps = shape[1] if shape[1] and shape[1] > 0 else MIN_STEPS
    run = Run(x=xs, steps=steps, inputs=cell.n_inputs,
              seq_length=rnn.sequence_length if rnn.sequence_length in G else None,
              keep_prob=next((d.keep_prob for d in rnn.dropout if d.keep_prob in G), None),
              outputs=list(rnn.outputs), randomise=randomise,
              state=[(s.layer, s.part, s.node if s.output == 0 else f"{s.node}:{s.output}")
                     for s in rnn.final_state])
    if kind == "savedmodel":
        graph_def = _checked_subgraph(path, graph_def, G, findings, run)
    graph = t.Graph()
    with graph.as_default():
        sess = t.compat.v1.Session(graph=graph)
        try:  # rnngraph's own protobuf classes: hand TensorFlow its own
            t.compat.v1.import_graph_def(
                t.compat.v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
            if kind == "savedmodel":
                _restore_others(sess, path, G, graph_def, set(_weight_nodes(findings)))
            return verify_session(sess, G, findings, run, batch=batch, seed=seed, step=step)
        finally:
            sess.close()


def _weight_nodes(findings: Findings) -> list:
    """Return the variables (or constants) of the first RNN's cells and projection, in order."""
    rnn = findings.rnns[0]
    by_scope = {c.scope: c for c in findings.cells}
    names = [n for s in rnn.layers if s in by_scope for n in _weight_names(by_scope[s]).values() if n]
    if rnn.projection is not None:
        names += [n for n in (rnn.projection.kernel, rnn.projection.bias) if n]
    return names


def _checked_subgraph(path, graph_def, G, findings: Findings, run: Run):
    """Return the part of a SavedModel's graph that --verify runs, admitted by the run-policy.

    What the check fetches, feeds and sets (outputs, final state, inputs, weights and the
    reads of them), and what those read: never the checkpoint's save and restore ops, whose
    file names come from the graph itself, so the policy admits none of them.
    """
    from ..graphdef.prune import needed_subgraph  # noqa: PLC0415
    from ..graphdef.runpolicy import check_runnable  # noqa: PLC0415

    rnn = findings.rnns[0]
    weights = _weight_nodes(findings)
    reads = [d for w in weights if w in G and G.nodes[w]["op"] == "VarHandleOp"
             for d in G.successors(w) if G.nodes[d]["op"] == "ReadVariableOp"]
    wanted = [*run.outputs, *(n.split(":")[0] for _, _, n in run.state), *run.x, *weights, *reads,
              *(n for n in (run.seq_length, run.keep_prob) if n),
              *(s.initial for s in rnn.final_state if s.initial), *(d.mask for d in rnn.dropout)]
    pruned = needed_subgraph(graph_def, wanted)
    check_runnable(pruned, path)
    return pruned


_VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")


def _restore_others(sess, path, G, graph_def, weights: set) -> None:
    """Give the variables the check reads but does not set their values from the checkpoint.

    Read with TensorFlow's checkpoint reader from the SavedModel's own ``variables/`` folder
    (never by the graph's restore ops, which read files the graph names).
    """
    from pathlib import Path  # noqa: PLC0415

    from ..model.tfcompat import tf  # noqa: PLC0415

    others = sorted(n.name for n in graph_def.node if n.op in _VARIABLE_OPS and n.name not in weights)
    if not others:
        return
    t = tf()
    try:
        reader = t.train.load_checkpoint(str(Path(path) / "variables" / "variables"))
    except (t.errors.OpError, ValueError) as exc:
        raise UsageError(f"--verify cannot read the checkpoint of {path}: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    for name in others:
        if not reader.has_tensor(name):
            raise UsageError(f"--verify needs variable {name!r}, which the checkpoint of {path} "
                             f"does not hold")
        _assign(sess, G, name, reader.get_tensor(name))


def _assign(sess, G, name: str, value) -> None:
    """Set variable ``name`` (a resource handle or a ref variable) to ``value`` in ``sess``."""
    from ..model.tfcompat import tf  # noqa: PLC0415

    t, graph = tf(), sess.graph
    handle = graph.get_tensor_by_name(f"{name}:0")
    with graph.as_default():
        if G.nodes[name]["op"] == "VarHandleOp":
            assign = t.raw_ops.AssignVariableOp(resource=handle, value=value)
        else:
            assign = t.compat.v1.assign(handle, value)
    sess.run(assign)

