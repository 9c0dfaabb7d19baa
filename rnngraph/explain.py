"""Recognised structures -> a lesson in prose (text, markdown or JSON).

Every number and node name in the text is read from the findings of the real
graph, so ``--neurons 150`` changes the text.  Building the graphs is left to
the caller (``build``), and the numeric check lives in ``verify.py``.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from .errors import UsageError
from .graph import top_level_nodes
from .recognise import GATE_MEANING, Cell, Findings, WhileLoop, recognise
from .spec import CELL_CLASSES, ModelSpec

__all__ = ["TOPICS", "Section", "Explanation", "spec_for_topic", "explain", "render_text",
           "render_markdown", "render_json", "FORMATS"]

TOPICS = ("rnn", "lstm", "gru", "static", "dynamic", "while_loop", "tensor_array", "concat",
          "strided_slice")
FORMATS = ("text", "markdown", "json")
_CELL_TOPICS = {"rnn": ("rnn",), "lstm": ("lstm", "lstm-peephole"), "gru": ("gru",)}


@dataclass
class Section:
    """One titled part of an explanation.

    A paragraph starting with four spaces is kept as typed (equations, tables); a
    paragraph that is a list is a bullet list at that place; ``bullets`` come last.
    """

    title: str
    paragraphs: list = field(default_factory=list)
    bullets: list = field(default_factory=list)


@dataclass
class Explanation:
    topic: str
    title: str
    spec: dict
    sections: list
    findings: dict
    verify: Optional[dict] = None


def spec_for_topic(topic: str, spec: ModelSpec) -> ModelSpec:
    """Return ``spec`` adjusted to what ``topic`` is about (its cell or its kind)."""
    if topic not in TOPICS:
        raise UsageError(f"unknown topic {topic!r} (choose one of: {', '.join(TOPICS)})")
    if topic in _CELL_TOPICS:
        allowed = _CELL_TOPICS[topic]
        if spec.cell not in allowed and spec.cell != "rnn":
            raise UsageError(f"topic {topic!r} explains the {topic} cell, but --cell {spec.cell} "
                             f"was given (drop --cell or use one of: {', '.join(allowed)})")
        return spec if spec.cell in allowed else spec.replace(cell=allowed[0])
    if topic in ("static", "dynamic"):
        return spec.replace(kind=topic)
    if topic in ("while_loop", "tensor_array"):
        return spec.replace(kind="dynamic")
    return spec


def _dims(shape) -> str:
    if shape is None:
        return "?"
    return " × ".join("m" if d is None else str(d) for d in shape) if shape else "scalar"


def _num(value: float) -> str:
    """Return a float as written in code: 1.0, 0.5, 1e-05."""
    return repr(float(value))


def _cols(start: int, count: int) -> str:
    return f"columns {start}–{start + count - 1}"


def _kernel_text(cell: Cell) -> str:
    shape = cell.kernel_shape
    return f"({shape[0]}, {shape[1]})" if shape and len(shape) == 2 else "(shape not recorded)"


# ---------------------------------------------------------------- sections

def _overview(spec: ModelSpec, G, found: Findings) -> Section:
    nodes = len(top_level_nodes(G))
    cells = ", ".join(f"{c.kind} cell {c.scope}" for c in found.cells) or "no cell recognised"
    loops = ", ".join(f"{w.name} ({w.control_flow})" for w in found.while_loops) or "none"
    kind = f"{spec.kind}_rnn" + (" with control flow v2" if spec.control_flow == "v2"
                                 and spec.kind == "dynamic" else "")
    return Section("The graph", [
        f"rnngraph asked TensorFlow for {kind} over a {CELL_CLASSES[spec.cell]} "
        f"({spec.activation}): {spec.steps} steps of {spec.inputs} inputs, {spec.neurons} "
        f"neurons{'' if spec.layers == 1 else f' in each of {spec.layers} layers'}. The "
        f"GraphDef has {nodes} nodes. Recognised: {cells}; while loops: {loops}."])


def _equation(cell: Cell, layer: int) -> Section:
    n_in, n = cell.n_inputs, cell.n_neurons
    total = cell.kernel_shape[0] if cell.kernel_shape else None
    act = cell.activation or "φ"
    rows = [
        ("X_t", f"m × {n_in}", f"inputs at step t ({cell.x_input})"),
        ("Y_(t−1)", f"m × {n}", f"outputs of the previous step ({cell.h_input})"),
        ("[X_t, Y_(t−1)]", f"m × {total}", f"ConcatV2 on axis 1 ({cell.concat})"),
        ("[W_x; W_y]", f"{total} × {n}", f"the kernel {cell.kernel}: W_x is rows 0–{n_in - 1} "
                                         f"({n_in} × {n}), W_y rows {n_in}–{total - 1} ({n} × {n})"
         if isinstance(n_in, int) and isinstance(total, int) else f"the kernel {cell.kernel}"),
        ("b", _dims(cell.bias_shape), f"the bias {cell.bias}"),
        ("φ", act, f"the activation ({cell.activation_node})"),
        ("Y_t", f"m × {n}", "this step's output, which is also the state"),
    ]
    table = "\n".join(f"    {a:<15} {b:<9} {c}" for a, b, c in rows)
    where = "" if layer == 0 else f" (layer {layer + 1}, whose X_t is layer {layer}'s output)"
    return Section(f"The layer equation{where}", [
        "Every step computes, for the whole mini-batch at once:",
        "    Y_t = φ([X_t, Y_(t−1)] · [W_x; W_y] + b)",
        table,
        f"m is the number of instances in the mini-batch: the graph leaves it open (None in the "
        f"placeholder, ? in shapes) and reads it at run time. n_inputs = {n_in} is the size of "
        f"X_t, the features fed at each step. n_neurons = {n} is the number of recurrent units, "
        f"so Y_t has {n} columns and the state fed back is m × {n}.",
        f"TensorFlow does not compute X_t · W_x + Y_(t−1) · W_y as two products: it concatenates "
        f"X_t and Y_(t−1) into one m × {total} matrix and multiplies once by the stacked kernel "
        f"of shape {_kernel_text(cell)} — the same sum, one MatMul ({cell.matmul})."])


def _lstm(cell: Cell) -> Section:
    n, n_in = cell.n_neurons, cell.n_inputs
    total = cell.kernel_shape[0] if cell.kernel_shape else None
    bullets = []
    for index, gate in enumerate(cell.gates):
        info = cell.gate_nodes[gate]
        extra = ""
        if gate == "f" and cell.forget_bias is not None:
            extra = f"; the constant {_num(cell.forget_bias)} is added first ({cell.forget_bias_node})"
        if gate in cell.peepholes:
            extra += f"; peephole weights {cell.peepholes[gate]} add a multiple of c"
        bullets.append(f"{gate} = {_cols(index * n, n)} ({info['slice']}): {GATE_MEANING[gate]}, "
                       f"then {info['activation']}{extra}")
    fb = cell.forget_bias if cell.forget_bias is not None else 0.0
    open_gate = 1 / (1 + math.exp(-fb))
    peep = ""
    if cell.peepholes:
        peep = ("With peepholes the gates also see the cell state: i and f get w_i·c_(t−1) and "
                "w_f·c_(t−1) added, o gets w_o·c_t, each an elementwise product with a vector "
                f"of {n} weights ({', '.join(cell.peepholes.values())}).")
    return Section("The LSTM cell", [
        f"The cell {cell.scope} multiplies [X_t, h_(t−1)] (m × {total}) by one kernel of shape "
        f"{_kernel_text(cell)} = (n_inputs + n_neurons, 4·n_neurons) = ({n_in} + {n}, 4·{n}) — "
        f"rows match the concatenated input, columns are four blocks of {n} units, so it is "
        f"{_kernel_text(cell)}, not the transpose — and adds a bias of {_dims(cell.bias_shape)}. "
        f"The m × {4 * n if n else '?'} result is split on axis 1 into four blocks:",
        bullets,
        "Then, with σ the sigmoid:",
        f"    c_t = c_(t−1) · σ(f + {_num(fb)}) + σ(i) · {cell.activation}(j)   ({cell.outputs.get('c')})\n"
        f"    h_t = {cell.activation}(c_t) · σ(o)                   ({cell.outputs.get('h')})",
        f"The forget bias {_num(fb)} makes σ(f + {_num(fb)}) ≈ {open_gate:.2f} while f is still near "
        "zero at the start of training, so the cell keeps its memory by default instead of "
        f"forgetting before it has learned anything. The state is the pair (c, h), each m × {n}; "
        "h is also the step's output." + (" " + peep if peep else "")])


def _gru(cell: Cell) -> Section:
    n = cell.n_neurons
    cand = cell.candidate
    ks = cand.get("kernel_shape")
    return Section("The GRU cell", [
        f"The cell {cell.scope} has two kernels. The gates kernel {cell.kernel} of shape "
        f"{_kernel_text(cell)} = (n_inputs + n_neurons, 2·n_neurons) turns [X_t, h_(t−1)] into "
        f"m × {2 * n if n else '?'}; a sigmoid ({cell.gate_nodes['r']['activation']}) and a split "
        f"give r = {_cols(0, n)} (reset gate) and u = {_cols(n, n)} (update gate).",
        f"The candidate kernel {cand.get('kernel')} of shape "
        f"{tuple(ks) if ks else '(not recorded)'} is applied to [X_t, r · h_(t−1)] "
        f"({cand.get('concat')}): the reset gate decides how much of the old state the candidate "
        f"sees.",
        f"    c   = {cell.activation}([X_t, r · h_(t−1)] · W_c + b_c)   ({cand.get('activation_node')})\n"
        f"    h_t = u · h_(t−1) + (1 − u) · c               ({cell.outputs.get('h')})",
        "There is no separate cell state: h_t is both the output and the state, and u blends "
        "the old state with the candidate."])


def _stacked(found: Findings) -> Optional[Section]:
    if len(found.cells) < 2:
        return None
    return Section("Every cell in the graph", bullets=[
        f"{c.scope}: {c.kind}, kernel {_kernel_text(c)} = ({c.n_inputs} inputs + {c.n_neurons} "
        f"neurons) × {c.kernel_shape[1] if c.kernel_shape else '?'}" for c in found.cells])


def _static_dynamic(counts: dict, spec: ModelSpec, found: Findings) -> Section:
    s0, s1 = counts["static"]
    d0, d1 = counts["dynamic"]
    steps = spec.steps
    paras = [
        f"Node counts of the GraphDef (top level, function bodies not counted) at {steps} and "
        f"{steps + 1} steps, same cell and sizes:",
        f"    static_rnn:  {s0:>5} nodes at {steps} steps, {s1:>5} at {steps + 1} "
        f"(+{s1 - s0} per step)\n"
        f"    dynamic_rnn: {d0:>5} nodes at {steps} steps, {d1:>5} at {steps + 1} "
        f"(+{d1 - d0} per step)",
        f"static_rnn unrolls: it builds one copy of the cell per step, so the graph grows "
        f"linearly with the number of steps (about {s1 - s0} nodes a step here) and every copy "
        "reads the same kernel and bias. dynamic_rnn builds the cell once inside a while loop "
        "and runs it as many times as there are steps, so its size does not depend on the "
        "steps; the price is the loop machinery (Enter, Merge, Switch, NextIteration, Exit, "
        "TensorArrays) around the cell."]
    for cell in found.cells:
        if len(cell.instances) > 1:
            paras.append(
                f"In this graph the {len(cell.instances)} copies of {cell.kind} cell "
                f"({', '.join(cell.instances)}) have "
                f"{'the same' if cell.same_structure else 'different'} structure and read "
                f"{'the same variables' if cell.same_variables else 'different variables'} "
                f"({cell.kernel}, {cell.bias}).")
    return Section("static_rnn vs dynamic_rnn", paras)


def _loop_var_line(var) -> str:
    chain = " → ".join(x for x in (var.enter, var.merge, var.switch, var.identity) if x)
    start = f"starts as {var.initial}" if var.initial else ""
    ends = ""
    if var.exit:
        ends = f"; leaves through {var.exit}" + (" (used after the loop)" if var.exit_used
                                                 else " (not used after the loop)")
    where = f" via {chain}" if chain else ""
    return f"{var.carries}: {start}{where}; next value {var.next_value}{ends}"


def _while_v1(loop: WhileLoop) -> list:
    return [
        f"dynamic_rnn builds one while loop, frame {loop.frame}. Each of its "
        f"{len(loop.loop_vars)} loop variables runs through the same chain of nodes:",
        "    Enter → Merge → Switch ─true→ Identity → body → NextIteration → Merge\n"
        "                    Switch ─false→ Exit",
        "Step by step: (1) Enter brings the initial value into the frame, once. (2) Merge "
        "forwards whichever input arrives: Enter on the first iteration, NextIteration after. "
        f"(3) LoopCond ({loop.loop_cond}) evaluates the condition, {loop.condition}. (4) Switch "
        "sends the value to its true output (Identity, the body) while the condition holds "
        "and to its false output (Exit) once it fails. (5) The body computes the next value and "
        "NextIteration hands it back to Merge for the next iteration."]


def _while_v2(loop: WhileLoop) -> list:
    return [
        f"The loop is one op, {loop.name}, with a condition function {loop.cond_function} and a "
        f"body function {loop.body_function}. The loop variables are the op's inputs in order; "
        "the body returns the next value of each in the same order, and an input the body "
        "returns unchanged is a loop invariant. The condition is "
        f"{loop.condition}. At run time TensorFlow lowers this op to the same Enter/Merge/"
        "Switch/NextIteration/Exit machinery as control flow v1."]


def _while(loop: WhileLoop, found: Findings) -> Section:
    paras = _while_v1(loop) if loop.control_flow == "v1" else _while_v2(loop)
    bullets = [f"loop variable {v.index}, {_loop_var_line(v)}" for v in loop.loop_vars]
    bullets += [f"invariant {inv['node']}: {inv['what']}" for inv in loop.invariants]
    paras.append(f"The body holds {len(loop.body_nodes)} nodes besides the loop machinery. "
                 "Loop variables and invariants (Enter with is_constant=true: the same value "
                 "every iteration):")
    section = Section(f"The while loop {loop.name}", paras, bullets)
    return section


def _why_two_counters(loop: WhileLoop) -> Optional[Section]:
    comps = {c["var"]: c for c in loop.comparisons}
    if "time" not in comps or "iteration counter" not in comps:
        return None
    it, tm = comps["iteration counter"], comps["time"]
    return Section("Why both time and iteration_counter", [
        f"The condition compares the iteration counter with {it['bound']} = {it['bound_expr']}"
        f"{', the ' + it['meaning'] if it['meaning'] else ''}: that is maximum_iterations, "
        "which dynamic_rnn passes to tf.while_loop, and while_loop adds a counter of its own "
        "to enforce it whatever the body does.",
        f"The loop variable time is dynamic_rnn's own: it is the index of every TensorArray read "
        f"and write, and it is compared with {tm['bound']} = {tm['bound_expr']}, the number of "
        "steps to run (the longest sequence_length when one is given, at least 1). Both count "
        "0, 1, 2, … in this graph; they are separate because one belongs to while_loop and the "
        "other to the RNN."])


def _tensor_arrays(found: Findings) -> Section:
    bullets = []
    for ta in found.tensor_arrays:
        if ta.role == "unused":
            bullets.append(f"{ta.name} ({ta.kind}): created but never used (dynamic_rnn makes it "
                           "and then unstacks the input with a fresh list instead)")
            continue
        parts = [f"{ta.name} ({ta.kind}, {ta.role}): size {ta.size or 'dynamic'}, "
                 f"elements {_dims(ta.element_shape)}"]
        if ta.unstack:
            parts.append(f"unstacked before the loop from {ta.unstack_source} (the time-major "
                         f"input) by {ta.unstack}, one element per step")
        if ta.reads:
            parts.append(f"read at index time by {', '.join(ta.reads)} (that is X_t)")
        if ta.writes:
            parts.append(f"written at index time by {', '.join(ta.writes)} (the step's output)")
        if ta.stack:
            parts.append(f"stacked after the loop by {ta.stack} into one time-major tensor")
        bullets.append("; ".join(parts))
    v1 = any(t.kind == "TensorArray" for t in found.tensor_arrays)
    paras = ["A while loop cannot slice a Python list by the loop index, so dynamic_rnn turns "
             "the input into an array of per-step slices and collects the outputs in another:",
             bullets]
    if v1:
        paras.append("A v1 TensorArray is a handle (a resource) plus a flow scalar: each write "
                     "returns a new flow value that the next operation takes as input, which is "
                     "how the graph orders the writes before the final gather. The output "
                     "array's flow is therefore a loop variable (TensorArray flow), while the "
                     "handles enter the loop as invariants.")
    else:
        paras.append("With control flow v2 the arrays are TensorLists: variant tensors that hold "
                     "the list itself and pass through the While op as loop variables; "
                     "TensorListGetItem reads and TensorListSetItem writes one element.")
    return Section("TensorArrays", paras)


def _sequence_length(found: Findings) -> Section:
    if not found.sequence_length:
        return Section("sequence_length", [
            "This graph has no sequence_length (add --sequence-length to see it). With one, "
            "each step compares time with every sequence's length: outputs past a sequence's "
            "length are zeros, and its state is copied through unchanged, so the final state "
            "is the state at each sequence's last real step."])
    seq = found.sequence_length[0]
    return Section("sequence_length", [
        f"The graph takes sequence_length from {seq.length}. Each step compares time with it "
        f"({seq.compare}, one flag per sequence in the batch) and selects: "
        f"{', '.join(seq.zero_outputs) or 'no Select'} output zeros where a sequence has ended, "
        f"so outputs past each sequence's length are zeros; {', '.join(seq.copy_state) or 'none'}"
        " keep the previous state there, so the state is copied through and the final state is "
        "the state at each sequence's last real step."])


def _outputs(G, found: Findings, spec: ModelSpec) -> Section:
    from .exprs import consumers, out_shape

    n = found.cells[-1].n_neurons if found.cells else spec.neurons
    stacked = next((t.stack for t in found.tensor_arrays if t.role == "output" and t.stack), None)
    final = None
    if stacked:
        final = next((d for d, _ in consumers(G, stacked, 0) if G.nodes[d]["op"] == "Transpose"), None)
    if final:
        where = (f"the output array is stacked by {stacked} into {_dims(out_shape(G, stacked))} "
                 f"(time-major) and transposed back by {final} into "
                 f"{_dims(out_shape(G, final))} = m × steps × n_neurons")
    else:
        last = found.cells[-1] if found.cells else None
        where = ("each copy of the cell produces its step's output "
                 f"({', '.join(map(str, last.instance_outputs)) if last else '?'}); the list is what static_rnn "
                 "returns")
    return Section("Outputs of every step", [
        f"The RNN returns two things: the outputs of every step and the final state. Here {where}. "
        f"The final state is m × {n} (for an LSTM the pair c, h).",
        "Because every step's output is there, not only the final state, the per-step outputs "
        f"can feed a dense layer too: reshape m × steps × {n} to (m·steps) × {n}, apply one "
        "dense layer, reshape back — a prediction per time step (the series head does this). "
        "A classifier of whole sequences uses the final state instead (the mnist head)."])


def _concats(found: Findings) -> Section:
    return Section("concat", [
        "ConcatV2 joins tensors along one axis (its last input); all other dimensions must "
        "match. In an RNN graph it does two different jobs: joining data ([X_t, h_(t−1)] on "
        "axis 1) and assembling shape vectors and permutations out of small int32 pieces "
        "(axis 0)."], [
        f"{c.name}, axis {c.axis}: "
        + ", ".join(f"{i['name']} ({_dims(i['shape'])})" for i in c.inputs)
        + f" → {_dims(c.shape)}; {c.meaning}" for c in found.concats])


def _slices(found: Findings) -> Section:
    bullets = []
    for s in found.strided_slices:
        masks = ", ".join(f"{k}={v}" for k, v in s.masks.items() if v) or "no masks"
        bullets.append(f"{s.name} = {s.slice}: begin {s.begin}, end {s.end}, strides {s.strides}, "
                       f"{masks}" + (f" → {s.meaning}" if s.meaning else ""))
    return Section("strided_slice", [
        "tf.strided_slice is what Python indexing x[...] becomes. begin, end and strides give "
        "one entry per indexed axis; five bit masks say how to read them: bit k of begin_mask "
        "or end_mask means 'ignore begin[k] / end[k]' (an empty side of ':'), "
        "shrink_axis_mask means 'take the single element begin[k] and drop the axis' "
        "(x[0] rather than x[0:1]), new_axis_mask inserts an axis (None) and ellipsis_mask "
        "marks '...'. RNN graphs use it mostly to read one dimension of a Shape: the batch "
        "size or the number of steps, which are only known at run time."], bullets)


# ---------------------------------------------------------------- assembling


def _node_counts(spec: ModelSpec, build: Callable) -> dict:
    from .graph import walk

    counts = {}
    for kind in ("static", "dynamic"):
        counts[kind] = tuple(len(top_level_nodes(walk(build(spec.replace(kind=kind, steps=s)))))
                             for s in (spec.steps, spec.steps + 1))
    return counts


def explain(topic: str, spec: ModelSpec, build: Optional[Callable] = None,
            verify: bool = False) -> Explanation:
    """Return the explanation of ``topic`` for the graph of ``spec`` (``build``: spec -> BuiltGraph).

    With ``verify`` the graph is also run and checked against NumPy (see ``verify.py``).
    """
    spec = spec_for_topic(topic, spec)
    if build is None:
        from .builder import build_graph as build  # noqa: PLC0415 (imports TensorFlow)
    from .graph import walk

    built = build(spec)
    G = walk(built)
    found = recognise(G)
    sections = [_overview(spec, G, found)]
    first = found.cells[0] if found.cells else None
    loop = found.while_loops[0] if found.while_loops else None
    add = sections.append
    if topic in ("rnn", "lstm", "gru") and first is not None:
        if first.kind == "rnn":
            add(_equation(first, 0))
        add({"lstm": _lstm, "gru": _gru}.get(first.kind, lambda c: None)(first))
        add(_stacked(found))
        add(_outputs(G, found, spec))
        add(_sequence_length(found))
    elif topic in ("static", "dynamic"):
        add(_static_dynamic(_node_counts(spec, build), spec, found))
        if first is not None and first.kind == "rnn":
            add(_equation(first, 0))
        if topic == "dynamic" and loop is not None:
            add(_while(loop, found))
            add(_why_two_counters(loop))
            add(_tensor_arrays(found))
        add(_outputs(G, found, spec))
        add(_sequence_length(found))
    elif topic == "while_loop" and loop is not None:
        add(_while(loop, found))
        add(_why_two_counters(loop))
        add(_sequence_length(found))
    elif topic == "tensor_array":
        add(_tensor_arrays(found))
        add(_outputs(G, found, spec))
    elif topic == "concat":
        add(_concats(found))
    elif topic == "strided_slice":
        add(_slices(found))
    title = f"rnngraph explain {topic}: {spec.kind}_rnn, {CELL_CLASSES[spec.cell]}, " \
            f"{spec.inputs} inputs, {spec.neurons} neurons, {spec.steps} steps"
    checked = None
    if verify:
        from .verify import verify as run_check  # noqa: PLC0415

        checked = run_check(built, found)
    return Explanation(topic=topic, title=title, spec=spec.as_dict(),
                       sections=[s for s in sections if s is not None], findings=found.as_dict(),
                       verify=checked)


# ---------------------------------------------------------------- output formats

def _wrap(text: str, width: int, indent: str = "", first: str = "") -> str:
    if text.startswith("    "):
        return text
    return textwrap.fill(text, width=width, initial_indent=first or indent,
                         subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def render_text(expl: Explanation, width: int = 88) -> str:
    """Return the explanation as plain text for a terminal."""
    lines = [expl.title, "=" * min(len(expl.title), width), ""]
    for section in expl.sections:
        lines += [section.title, "-" * len(section.title)]
        for para in section.paragraphs + ([section.bullets] if section.bullets else []):
            if isinstance(para, list):
                lines += [_wrap(b, width, indent="    ", first="  - ") for b in para] + [""]
            else:
                lines += [_wrap(para, width), ""]
    if expl.verify:
        lines += _verify_lines(expl.verify)
    return "\n".join(lines).rstrip() + "\n"


def _verify_lines(result: dict) -> list:
    lines = ["Verify", "------", textwrap.fill(result["summary"], 88), ""]
    lines += [f"    {row}" for row in result["rows"]]
    lines += ["", f"largest absolute difference: {result['max_abs_diff']:.3g} "
                  f"({'below' if result['ok'] else 'NOT below'} {result['tolerance']:g})"]
    return lines


def render_markdown(expl: Explanation) -> str:
    """Return the explanation as Markdown."""
    lines = [f"# {expl.title}", ""]
    for section in expl.sections:
        lines += [f"## {section.title}", ""]
        for para in section.paragraphs + ([section.bullets] if section.bullets else []):
            if isinstance(para, list):
                lines += [f"- {b}" for b in para] + [""]
            elif para.startswith("    "):
                lines += ["```", textwrap.dedent(para), "```", ""]
            else:
                lines += [para, ""]
    if expl.verify:
        body = _verify_lines(expl.verify)
        lines += ["## Verify", "", body[2], "", "```"] + [r.strip() for r in body[4:-2]] + \
                 ["```", "", f"**{body[-1]}**"]
    return "\n".join(lines).rstrip() + "\n"


def render_json(expl: Explanation) -> str:
    """Return the explanation, its findings and any verification as JSON."""
    return json.dumps(asdict(expl), indent=2, sort_keys=True, default=str) + "\n"
