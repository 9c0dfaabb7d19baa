"""Focus views: one recognised structure plus one hop of context, with notes for the renderer.

``focus_view(G, topic)`` returns the nodes to draw, a note per node worth
explaining (drawn beside it) and short extra label lines ("loop var: time",
"gate f").  ``annotate_all(G)`` gives every note for the full view.  Pure
Python over the walked graph; the texts come from the recognisers' findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import networkx as nx

from ..errors import UsageError
from ..graphdef.walk import body_prefix, format_shape
from ..recognise import GATE_MEANING, Findings, recognise
from .roles import short_names
from .statements import const_text, short_name

__all__ = ["FocusView", "FOCUS_TOPICS", "focus_view", "annotate_all", "topics_present"]

FOCUS_TOPICS = ("while_loop", "tensor_array", "concat", "strided_slice", "gates", "cell")


@dataclass
class FocusView:
    """What to draw: ``nodes``; a note beside some (``annotations``); extra label lines (``labels``).

    ``folds`` draws some nodes as one box labelled with what they compute ("fold::…" ->
    (nodes, label[, wrap width])), ``rankdir`` the direction that fits the view on a slide.
    """

    nodes: set = field(default_factory=set)
    annotations: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    folds: dict = field(default_factory=dict)
    rankdir: str = "TB"
    notes_beside: Optional[bool] = None  # None: the drawing decides from its shape
    after: list = field(default_factory=list)  # (a, b): b drawn a rank after a (invisible edge)

    def merge(self, other: "FocusView") -> "FocusView":
        self.nodes |= other.nodes
        for key, fold in other.folds.items():
            self.folds.setdefault(key, fold)
        for key, text in other.annotations.items():
            self.annotations.setdefault(key, text)
        for key, text in other.labels.items():
            self.labels.setdefault(key, text)
        return self


def _with_context(G: nx.MultiDiGraph, core: set) -> set:
    """Return ``core`` plus every node one data or control edge away."""
    nodes = set(core)
    for node in core:
        nodes.update(G.predecessors(node))
        nodes.update(G.successors(node))
    return nodes


def cell_formula(cell, parts: int = 1) -> list:
    """Return the lines saying what a recognised cell computes, from its findings.

    The first names the cell by the last ``parts`` parts of its scope.
    """
    act = cell.activation or "φ"
    head = f"{'/'.join(cell.scope.split('/')[-parts:])}: {cell.kind.upper()} cell" + (
        f", {cell.n_neurons} neurons" if cell.n_neurons else "")
    if cell.kind == "lstm" and cell.form == "tf1":
        return [head, *_lstm_notes(cell).values()]
    if cell.kind == "gru" and cell.form == "tf1":
        return [head, "h_t = u⊙h_(t−1) + (1 − u)⊙c", f"c = {act}([X_t, r⊙h_(t−1)] · W_c + b_c)"]
    if cell.kind == "rnn" and cell.activation:
        return [head, f"h_t = {act}([X_t, h_(t−1)] · W + b)"]
    return [head]


def _fold_cells(G, found: Findings, view: FocusView, inside, box: str) -> None:
    """Draw the cells whose nodes ``inside`` accepts as one box ``box`` saying what they compute.

    The loop's views are about the loop variables; the cell's own ops have their own view
    (``--focus cell`` / ``gates``).  Constants read only by the cells fold with them.
    """
    members, heads, formulas = set(), [], []
    for cell in found.cells:
        mine = {n for n in cell.nodes if n in G and inside(n)}
        if mine:  # with the rest of its scope: a peephole's products and their Enters
            mine |= {n for n, d in G.nodes(data=True) if inside(n) and (
                d["scope"] == cell.scope or d["scope"].startswith(cell.scope + "/"))}
        if not mine:
            continue
        members |= mine
        lines = cell_formula(cell, 2 if len(found.cells) > 1 else 1)  # layers: cell_0/gru_cell
        heads.append(lines[0])
        if lines[1:] not in formulas:
            formulas.append(lines[1:])
    if len(members) < 2:
        return
    for node in list(members):
        for const in G.predecessors(node):
            if G.nodes[const]["op"] == "Const" and set(G.successors(const)) <= members:
                members.add(const)
    if len(heads) > 1 and len(formulas) == 1:  # stacked layers of one kind: the formula once
        lines = [f"{len(heads)} layers, one after the other:", *heads, "each:", *formulas[0]]
    else:
        lines = [line for head, formula in zip(heads, formulas * len(heads)) for line in (head, *formula)]
    view.folds[box] = (frozenset(members), "\n".join(lines))


def _fold_tuple(G, loop, view: FocusView) -> None:
    """Draw a v2 loop's body arguments as one table: the loop-variable tuple, one line each.

    A row of one box per argument is wider than a slide; the notes on an argument are
    drawn beside the table, and a constant a loop variable starts from is written in it.
    """
    rows = {}
    for var in loop.loop_vars:
        if not var.identity:
            continue
        start = short_name(var.initial)
        if var.initial in G and G.nodes[var.initial]["op"] == "Const":
            start += f" = {const_text(G.nodes[var.initial])}"
            view.nodes.discard(var.initial)
        rows[var.index] = (var.identity, f"{var.index} {var.name or var.carries} ← {start}")
    for inv in loop.invariants:
        name, what = inv.get("name") or inv["what"], short_names(inv["what"])
        said = all(word in name for word in what.split())  # "kernel kernel": nothing new
        source = "" if said or name == inv["what"] else f" = {what}"
        if "index" in inv:  # "kernel rnn/…/kernel" says its name again: only its role then
            rows[inv["index"]] = (inv["node"], f"{inv['index']} {name} (invariant){source}")
    if len(rows) < 2:
        return
    lines = [f"loop-variable tuple: {len(rows)} arguments", *(rows[i][1] for i in sorted(rows))]
    view.folds[f"fold::{loop.name}::tuple"] = (frozenset(node for node, _ in rows.values()),
                                               "\n".join(lines), 48)  # a table: one line a row


def _loop_context(G, loop, core: set) -> set:
    """Return a v1 loop's frame plus what its loop variables start from and end in.

    An invariant's Enter says in its label what it brings in ("invariant: bound
    Shape(rnn/transpose)[0]"), so its source is not drawn again beside it.
    """
    nodes = set(core)
    for var in loop.loop_vars:
        if var.enter:
            nodes.update(G.predecessors(var.enter))
        if var.exit:
            nodes.update(G.successors(var.exit))
    return nodes


def _fold_condition(G, loop, view: FocusView) -> None:
    """Draw the ops computing a v1 loop's condition, with the bounds they read, as one box.

    LoopCond only hands their boolean to the Switches; the note beside it says so.
    """
    ops = set(loop.condition_ops)
    if len(ops) < 2:
        return
    bounds = {inv["node"] for inv in loop.invariants
              if set(G.successors(inv["node"])) <= ops}
    names = ", ".join(sorted(short_name(n) for n in ops))
    label = f"condition ({names}):\n{loop.condition}"
    if bounds:
        label += "\nbounds: loop invariants"
    view.folds[f"fold::{loop.name}::condition"] = (frozenset(ops | bounds), label)
    view.annotations[loop.loop_cond] = ("LoopCond: hands the condition's boolean to every "
                                        "Switch (true: run the body again)")


def _fold_sequence_length(G, found: Findings, loop, view: FocusView) -> None:
    """Draw a v1 loop's sequence_length masking (the comparison, its Selects) in the cells' box."""
    invariant = {inv["node"] for inv in loop.invariants}
    for seq in found.sequence_length:
        ops = {seq.compare, *seq.zero_outputs, *seq.copy_state}
        if not all(n in G and G.nodes[n]["frame"] == loop.frame for n in ops):
            continue
        ops |= {p for n in ops for p in G.predecessors(n)
                if p in invariant and set(G.successors(p)) <= ops}
        text = (f"then sequence_length {short_name(seq.length)}: rows whose time ≥ their length "
                "output zeros and keep their state")
        cells = f"fold::{loop.name}::cells"  # the step's computation: one box, one column
        if cells in view.folds:
            members, label = view.folds[cells]
            view.folds[cells] = (members | ops, f"{label}\n{text}")
        else:
            view.folds[f"fold::{seq.compare}"] = (frozenset(ops), text[len("then "):])


def _fold_array_ops(G, found: Findings, loop, view: FocusView) -> None:
    """Draw each TensorArray read / write in the loop with its invariant Enters as one box."""
    invariant = {inv["node"]: inv["what"] for inv in loop.invariants}
    for ta in found.tensor_arrays:
        role = "input" if ta.role == "input" else "output"
        steps = [(n, f"{G.nodes[n]['op']}: X_t = {role} TensorArray[time]") for n in ta.reads]
        steps += [(n, f"{G.nodes[n]['op']}: {role} TensorArray[time] = this step's output")
                  for n in ta.writes]
        for node, text in steps:
            if G.nodes[node]["frame"] != loop.frame:
                continue
            brought = sorted(p for p in set(G.predecessors(node)) if p in invariant)
            if brought:
                # What each brings ("TensorArray handle"), its source's name in the tooltip.
                said = ", ".join(re.sub(r"\s*\(?[\w.\-]+(?:/[\w.\-]+)+\)?", "", invariant[p])
                                 for p in brought)
                view.folds[f"fold::{node}"] = (frozenset([node, *brought]),
                                               f"{text}\n(loop invariants: {said})")


def _while_loop(G, found: Findings) -> FocusView:
    view = FocusView()
    for loop in found.while_loops:
        core = set(loop.body_nodes if loop.control_flow == "v2" else [])
        if loop.control_flow == "v1":
            core |= {n for n, d in G.nodes(data=True) if d["frame"] == loop.frame}
            core |= {v.exit for v in loop.loop_vars if v.exit}
            if loop.loop_cond:
                view.annotations[loop.loop_cond] = f"LoopCond: {loop.condition}"
                _fold_condition(G, loop, view)
        else:
            _while_v2(G, loop, view, core)
            # As in v1: the loop-variable tuple says what each invariant brings in; its source is not drawn.
            sources = {inv["source"] for inv in loop.invariants} - core
            view.nodes |= _with_context(G, core) - sources
            body = set(loop.body_nodes)
            _fold_cells(G, found, view, body.__contains__, f"fold::{loop.name}::cells")
            outs = {n for n in G.successors(loop.name) if G.nodes[n]["op"] == "Identity"}
            if len(outs) > 1:  # TensorFlow's one Identity per output: a row of look-alike boxes
                view.folds[f"fold::{loop.name}::outputs"] = (frozenset(outs), (
                    f"the {G.nodes[loop.name]['op']}'s outputs: one Identity per loop variable"))
            view.notes_beside = False
            _fold_tuple(G, loop, view)
            continue
        layer_of = {s.node: s.layer for r in found.rnns if r.loop == loop.name for s in r.final_state}
        for var in loop.loop_vars:
            carries = var.carries
            if len(set(layer_of.values())) > 1 and var.exit in layer_of:  # not the cell's scope
                carries = re.sub(r" of \S+$", f" of layer {layer_of[var.exit] + 1}", carries)
            for node in (var.enter, var.merge, var.switch, var.identity, var.next_iteration, var.exit):
                if node:
                    view.labels[node] = f"loop var: {carries}"
        for inv in loop.invariants:
            view.labels[inv["node"]] = f"invariant: {inv['what']}"
        if loop.loop_vars and loop.control_flow == "v1":
            first = loop.loop_vars[0]
            # The Enter note beside a loop variable whose initial value is drawn (h's zeros).
            starts = next((v for v in reversed(loop.loop_vars) if v.enter and any(
                G.nodes[p]["op"] != "Const" for p in G.predecessors(v.enter))), first)
            notes = {
                starts.enter: "Enter: brings the initial value into the loop's frame, once",
                first.merge: "Merge: takes Enter on the first iteration, NextIteration after",
                first.switch: "Switch: true → Identity (the body), false → Exit (leave the loop)",
                first.next_iteration: "NextIteration: hands the body's next value back to Merge",
            }
            view.annotations.update({k: v for k, v in notes.items() if k})
            returned = {s.node: s for r in found.rnns if r.loop == loop.name for s in r.final_state}
            layers = len({s.layer for s in returned.values()})
            for var in loop.loop_vars:
                state = returned.get(var.exit)
                if state is not None:
                    part = "" if state.part == "state" else f" {state.part}"
                    layer = f" of layer {state.layer + 1}" if layers > 1 else ""
                    view.annotations[var.exit] = (f"Exit: the final state{part}{layer}, "
                                                  "returned by the RNN")
                elif var.exit and var.exit_used:
                    view.annotations.setdefault(var.exit, f"Exit: the {var.carries} after the "
                                                          "last iteration, read after the loop")
        view.nodes |= _loop_context(G, loop, core)
        view.rankdir = "LR"
        # Every Enter a column right of the initial values drawn outside the loop, so those
        # stand left of the loop's frame rather than in a band above it.
        starts = sorted(p for v in loop.loop_vars if v.enter for p in G.predecessors(v.enter)
                        if p in view.nodes and G.nodes[p]["frame"] != loop.frame)
        view.after += [(starts[0], v.enter) for v in loop.loop_vars if starts and v.enter]
        _fold_cells(G, found, view, lambda n, f=loop.frame: G.nodes[n]["frame"] == f,
                    f"fold::{loop.name}::cells")
        _fold_array_ops(G, found, loop, view)
        _fold_sequence_length(G, found, loop, view)
    return view


def _while_v2(G, loop, view: FocusView, core: set) -> None:
    """Add a v2 loop's notes in its own terms: one op, two functions, a loop-variable tuple."""
    core.add(loop.name)
    core |= {n for n, d in G.nodes(data=True) if d.get("parent_op") == loop.name}
    op = G.nodes[loop.name]["op"]
    view.annotations[loop.name] = (
        f"{op}: one op runs the whole loop. Its inputs are the loop-variable tuple "
        f"({len(loop.loop_vars) + len(loop.invariants)} tensors: {len(loop.loop_vars)} carried, "
        f"{len(loop.invariants)} invariant); cond {loop.cond_function} and body "
        f"{loop.body_function} are functions of that tuple; its outputs are the tuple after "
        "the last iteration")
    cond_ret = next((n for n, d in G.nodes(data=True) if d.get("parent_op") == loop.name
                     and d["op"] == "_Retval" and n.startswith(body_prefix(loop.name, "cond"))), None)
    cond = body_prefix(loop.name, "cond")
    computes = {n for n, d in G.nodes(data=True) if d.get("parent_op") == loop.name
                and n.startswith(cond) and d["op"] not in ("_Arg", "_Retval", "Const")}
    if len(computes) > 1 and loop.condition:  # the comparisons and their AND: one box
        view.folds[f"fold::{loop.name}::condition"] = (frozenset(computes), (
            "the comparisons and AND\nthat compute the condition"))
    if cond_ret and loop.condition:
        # Its label already says the condition; the note, what the While does with it.
        view.annotations[cond_ret] = "cond returns this condition: the body runs again while it is true"
    carried = next((v for v in loop.loop_vars if v.carries not in ("iteration counter",)), None)
    if carried and carried.identity:
        view.annotations[carried.identity] = (
            f"loop variable {carried.index} ({carried.name or carried.carries}): the While's input "
            f"{carried.index} on the first iteration, the body's result {carried.index} after")
        ret = next((n for n, d in G.nodes(data=True) if d.get("parent_op") == loop.name
                    and d["op"] == "_Retval" and n.startswith(body_prefix(loop.name, "body"))
                    and d["attrs"].get("index") == carried.index), None)
        if ret:
            view.annotations[ret] = (f"body result {carried.index}: the next "
                                     f"{carried.name or carried.carries}, handed back to loop "
                                     "variable " f"{carried.index} (v1: NextIteration → Merge)")
    invariant = next((inv for inv in loop.invariants if inv.get("name") in ("kernel",)),
                     loop.invariants[0] if loop.invariants else None)
    if invariant:
        view.annotations[invariant["node"]] = (
            f"invariant {invariant.get('name') or invariant['what']}: the body returns it "
            "unchanged, so every iteration reads the same value")


def _tensor_array(G, found: Findings) -> FocusView:
    view, core = FocusView(), set()
    for ta in found.tensor_arrays:
        if ta.role == "unused":
            continue
        core |= {ta.name, *ta.reads, *ta.writes, *([ta.unstack] if ta.unstack else []),
                 *([ta.stack] if ta.stack else []), *ta.flow}
        view.annotations[ta.name] = (f"{ta.kind} ({ta.role}): {ta.size or 'dynamic'} elements "
                                     f"of {format_shape(ta.element_shape, scalar='?')}")
        if ta.unstack and ta.unstack != ta.name:
            view.annotations[ta.unstack] = (f"unstack: scatters {ta.unstack_source} (time-major) "
                                            "into one element per step")
        if ta.kind == "TensorList":  # v2: values, not handles; the list itself is carried
            _tensor_list(ta, view)
            continue
        for read in ta.reads:
            view.annotations[read] = "read element [time]: X_t for this step"
        for write in ta.writes:
            view.annotations[write] = "write this step's output at index [time]"
        if ta.stack:
            view.annotations[ta.stack] = "stack: every step's output in one time-major tensor"
    for loop in found.while_loops:
        if loop.control_flow == "v2":
            continue  # its loop variables are drawn with their names (outputs TensorList)
        for var in loop.loop_vars:
            if var.carries in ("TensorArray flow", "TensorList"):
                for node in (var.enter, var.merge, var.switch, var.identity, var.next_iteration,
                             var.exit):
                    if node:
                        core.add(node)
                        view.labels[node] = var.carries
    view.nodes = _with_context(G, core)
    if any(loop.control_flow == "v1" for loop in found.while_loops):
        # Input and output arrays as two rows, left to right (in, loop, out); the cell they
        # feed and are fed by is one box.
        view.rankdir, view.notes_beside = "LR", False
        _fold_cells(G, found, view, lambda n: n in view.nodes, "fold::cells")
    return view


def _tensor_list(ta, view: FocusView) -> None:
    """Add a v2 TensorList's notes: FromTensor / GetItem / SetItem / Stack, a value carried by the loop."""
    if ta.unstack and ta.unstack != ta.name:
        view.annotations[ta.unstack] = (f"TensorListFromTensor: splits {ta.unstack_source} "
                                        "(time-major) into one element per step")
    elif ta.unstack:
        view.annotations[ta.name] += (f"; TensorListFromTensor splits {ta.unstack_source} "
                                      "(time-major), one element per step")
    for read in ta.reads:
        view.annotations[read] = "TensorListGetItem(list, time): X_t for this step"
    for write in ta.writes:
        view.annotations[write] = ("TensorListSetItem(list, time, output): a new list with this "
                                   "step's output; the body returns it as the next loop variable")
    if ta.stack:
        view.annotations[ta.stack] = ("TensorListStack: the final list from the While's output, "
                                      "every step's output in one time-major tensor")


def _concat(G, found: Findings) -> FocusView:
    view = FocusView()
    for concat in found.concats:
        view.labels[concat.name] = f"axis {concat.axis}"
        view.annotations[concat.name] = f"concat: {concat.meaning}"
    view.nodes = _with_context(G, {c.name for c in found.concats})
    return view


def _strided_slice(G, found: Findings) -> FocusView:
    view = FocusView()
    for sl in found.strided_slices:
        # The label says what it picks (draw/roles.py); the note, why it is a slice at all.
        if sl.slice.startswith("Shape(") and sl.meaning:
            note = "reads this number from the input's shape when the graph runs"
        else:
            note = f"element [begin:end:strides] of {short_name(sl.input)}"
        view.annotations[sl.name] = f"{short_name(sl.name)}: {note}"
    view.nodes = _with_context(G, {s.name for s in found.strided_slices})
    return view


def _lstm_notes(cell) -> dict:
    """Return the notes for an LSTM's c_t and h_t, from the recognised activation and peepholes."""
    act = cell.activation or "φ"
    peep = cell.peepholes
    fb = f" + {cell.forget_bias!r}" if cell.forget_bias is not None else ""
    f_in = f"f{fb}" + (" + w_f⊙c_(t−1)" if "f" in peep else "")
    i_in = "i" + (" + w_i⊙c_(t−1)" if "i" in peep else "")
    o_in = "o" + (" + w_o⊙c_t" if "o" in peep else "")
    notes = {}
    if cell.outputs.get("c"):
        notes[cell.outputs["c"]] = f"c_t = c_(t−1)⊙σ({f_in}) + σ({i_in})⊙{act}(j)"
    if cell.outputs.get("h"):
        notes[cell.outputs["h"]] = f"h_t = {act}(c_t)⊙σ({o_in})"
    return notes


def _gates(G, found: Findings) -> FocusView:
    view, core = FocusView(), set()
    for cell in found.cells:
        if not cell.gates or cell.form != "tf1":  # the notes below are TF1's i, j, f, o / r, u
            continue
        split = None
        by_activation: dict = {}
        for gate, info in cell.gate_nodes.items():
            split = info["slice"].rpartition(":")[0]
            core |= {split, *info["preact"]}
            if info["activation"]:
                # The gate and the products it scales (whose other input is c or h of t−1).
                core |= {info["activation"], *G.successors(info["activation"])}
                by_activation.setdefault(info["activation"], []).append(gate)
        for node, gates in by_activation.items():
            # One activation computing several gates (a GRU's sigmoid of r and u) says so.
            view.labels.setdefault(node, f"gate {gates[0]}" if len(gates) == 1
                                   else f"gates {', '.join(gates)} (split after)")
        n = cell.n_neurons
        order = sorted(cell.gates, key=lambda g: int(cell.gate_nodes[g]["slice"].rpartition(":")[2]))
        if cell.kind == "lstm":
            view.annotations[split] = f"split: 4 blocks of {n} columns, one per gate"
            if cell.forget_bias_node:
                view.annotations[cell.forget_bias_node] = (
                    f"f + {cell.forget_bias!r}: forget bias keeps the forget gate open at the start")
            view.annotations.update(_lstm_notes(cell))
        else:
            view.annotations[split] = (f"split: σ of the gates kernel's {2 * n} columns; "
                                       + ", ".join(f"{g}: {GATE_MEANING[g]}" for g in order))
            if cell.candidate.get("activation_node"):
                core.add(cell.candidate["activation_node"])
                view.annotations[cell.candidate["activation_node"]] = (
                    f"candidate c = {cell.activation or 'φ'}([X_t, r⊙h] · W_c + b_c)")
            if cell.outputs.get("h"):
                view.annotations[cell.outputs["h"]] = "h_t = u⊙h_(t−1) + (1 − u)⊙c"
        core |= set(cell.outputs.values())
    view.nodes = _with_context(G, core)
    return view


def _cell(G, found: Findings) -> FocusView:
    view, core = FocusView(), set()
    for cell in found.cells:
        core |= set(cell.nodes)
        if cell.form == "fused":  # one op is the whole cell: say what it computes, as read from it
            view.annotations[cell.matmul] = fused_note(cell)
            view.labels[cell.matmul] = f"{cell.kind} cell"
        if cell.form != "tf1":  # no [X_t, h] concat to annotate
            continue
        shape = cell.kernel_shape
        view.annotations[cell.concat] = (f"[X_t, h_(t−1)]: m × {cell.n_inputs} and m × {cell.n_neurons}"
                                         f" → m × {shape[0] if shape else '?'}")
        view.annotations[cell.matmul] = (f"one MatMul with the kernel {format_shape(shape, scalar='?')} "
                                         f"({cell.kind}, {cell.n_neurons} neurons)")
        view.labels[cell.matmul] = f"{cell.kind} cell"
        if cell.kind == "rnn" and cell.activation_node:
            view.annotations[cell.activation_node] = f"h_t = {cell.activation}([X_t, h_(t−1)] · W + b)"
    view.nodes = _with_context(G, core)
    return view


def fused_settings(cell) -> list:
    """Return a fused kernel's settings as short phrases: gates, forget bias, clip, peepholes."""
    f = cell.fused
    out = [f"gates {' '.join(cell.gates)}"] if cell.gates else []
    if cell.forget_bias is not None:
        out.append(f"forget bias {cell.forget_bias:g}")
    if f.get("cell_clip") is not None:
        out.append(f"cell clip {f['cell_clip']:g}")
    elif f.get("use_peephole") is not None:  # the LSTM kernels that have the attribute
        out.append("no cell clip")
    if f.get("use_peephole") is not None:
        out.append("peepholes wci wcf wco" if f["use_peephole"] else "no peepholes")
    return out


def fused_note(cell) -> str:
    """Return the note beside a fused kernel: the cell it computes, with the settings read from it."""
    f = cell.fused
    head = f"{f['op']}: the whole {cell.kind} cell in one op" + (
        " over the whole sequence" if f["steps"] == "sequence" else ", one step")
    tail = [f["direction"]] if f.get("direction") in ("backward", "bidirectional") else []
    return "; ".join([head, *fused_settings(cell), *tail])


_BUILDERS: dict[str, Callable] = {
    "while_loop": _while_loop, "tensor_array": _tensor_array, "concat": _concat,
    "strided_slice": _strided_slice, "gates": _gates, "cell": _cell}


def topics_present(found: Findings) -> list:
    """Return the focus topics this graph has something to show for."""
    present = {"while_loop": bool(found.while_loops),
               "tensor_array": any(t.role != "unused" for t in found.tensor_arrays),
               "concat": bool(found.concats), "strided_slice": bool(found.strided_slices),
               "gates": any(c.gates for c in found.cells), "cell": bool(found.cells)}
    return [t for t in FOCUS_TOPICS if present[t]]


def focus_view(G: nx.MultiDiGraph, topic: str) -> FocusView:
    """Return the focus view of ``topic`` (one of :data:`FOCUS_TOPICS`) in ``G``."""
    if topic not in _BUILDERS:
        raise UsageError(f"unknown focus topic {topic!r} (choose one of: {', '.join(FOCUS_TOPICS)})")
    found = recognise(G)
    present = topics_present(found)
    if topic not in present:
        raise UsageError(f"this graph has no {topic} to focus on "
                         f"(topics present: {', '.join(present) or 'none'})")
    return _BUILDERS[topic](G, found)


def annotate_all(G: nx.MultiDiGraph) -> FocusView:
    """Return every topic's notes and labels over the whole graph (``render --annotate``)."""
    found = recognise(G)
    view = FocusView()
    for topic in topics_present(found):
        view.merge(_BUILDERS[topic](G, found))
    view.nodes = set(G.nodes)
    return view
