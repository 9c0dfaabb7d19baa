"""Sections about static_rnn against dynamic_rnn and the while loop."""

from __future__ import annotations

from typing import Optional

from ..model.spec import ModelSpec
from ..recognise import Findings, WhileLoop
from .prose import Section

__all__ = ['static_vs_dynamic', 'loop_var_line', 'while_v1', 'while_v2', 'while_loop', 'why_two_counters']


def static_vs_dynamic(counts: dict, spec: ModelSpec, found: Findings) -> Section:
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
        "steps; the price is the loop machinery "
        + ("around the cell: one While op with cond and body functions, and TensorLists carried "
           "through it." if spec.control_flow == "v2" else
           "(Enter, Merge, Switch, NextIteration, Exit, TensorArrays) around the cell.")]
    for cell in found.cells:
        if len(cell.instances) > 1:
            paras.append(
                f"In this graph the {len(cell.instances)} copies of {cell.kind} cell "
                f"({', '.join(cell.instances)}) have "
                f"{'the same' if cell.same_structure else 'different'} structure and read "
                f"{'the same variables' if cell.same_variables else 'different variables'} "
                f"({cell.kernel}, {cell.bias}).")
    return Section("static_rnn vs dynamic_rnn", paras)


def loop_var_line(var, returned: Optional[tuple] = None) -> str:
    """Return one loop variable's path; ``returned`` is (node, what) when the RNN returns its result."""
    chain = " → ".join(x for x in (var.enter, var.merge, var.switch, var.identity) if x)
    start = f"starts as {var.initial}" if var.initial else ""
    ends = ""
    if returned:
        node, what = returned
        via = f"leaves through {var.exit}" if var.exit else f"its result {node}"
        ends = f"; {via}" + (f" ({node})" if var.exit and node != var.exit else "") + \
            f", which is {what} the RNN returns"
    elif var.exit:
        ends = f"; leaves through {var.exit}" + (" (read after the loop)" if var.exit_used
                                                 else " (nothing in this graph reads it)")
    where = f" via {chain}" if chain else ""
    return f"{var.carries}: {start}{where}; next value {var.next_value}{ends}"


def _returned(loop: WhileLoop, found: Findings) -> dict:
    """Return {loop variable index: (node, 'the final state c of layer 2')} for this loop."""
    names = {}
    for rnn in found.rnns:
        if rnn.loop != loop.name:
            continue
        layers = len({s.layer for s in rnn.final_state})
        for state in rnn.final_state:
            part = "" if state.part == "state" else f" {state.part}"
            layer = f" of layer {state.layer + 1}" if layers > 1 else ""
            names[state.loop_var] = (state.node, f"the final state{part}{layer}")
    return names


def _and(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _condition_step(loop: WhileLoop) -> str:
    """Return step (3): which ops evaluate the condition, and what LoopCond does with it."""
    hands = f"LoopCond ({loop.loop_cond}) only hands that boolean to every Switch"
    if not loop.condition_ops:
        return f"(3) {hands}."
    verb = "evaluates" if len(loop.condition_ops) == 1 else "evaluate"
    return (f"(3) {_and(loop.condition_ops)} {verb} the condition, {loop.condition}; {hands}.")


def while_v1(loop: WhileLoop) -> list:
    return [
        f"The while loop {loop.name} runs in the frame {loop.frame}. Each of its "
        f"{len(loop.loop_vars)} loop variables runs through the same chain of nodes:",
        "    Enter → Merge → Switch ─true→ Identity → body → NextIteration → Merge\n"
        "                    Switch ─false→ Exit",
        "Step by step: (1) Enter brings the initial value into the frame, once. (2) Merge "
        "forwards whichever input arrives: Enter on the first iteration, NextIteration after. "
        f"{_condition_step(loop)} (4) Switch "
        "sends the value to its true output (Identity, the body) while the condition holds "
        "and to its false output (Exit) once it fails. (5) The body computes the next value and "
        "NextIteration hands it back to Merge for the next iteration."]


def while_v2(loop: WhileLoop) -> list:
    """Return the paragraphs on a v2 loop: one op, two functions, a loop-variable tuple."""
    entries = sorted([(v.index, v.name or v.carries, "") for v in loop.loop_vars]
                     + [(inv["index"], inv.get("name") or inv["what"], " (invariant)")
                        for inv in loop.invariants if "index" in inv])
    size = len(entries)
    tuple_text = ", ".join(f"{index} {name}{kind}" for index, name, kind in entries)
    paras = [
        f"The loop is one op, {loop.name}. Control flow v2 puts no loop frame in the graph: the "
        f"condition and the body are functions in the graph's library, {loop.cond_function} and "
        f"{loop.body_function}. The op's {size} inputs are the loop-variable tuple ({tuple_text}). "
        "cond takes the tuple and returns one boolean"
        + (f", {loop.condition}" if loop.condition else "")
        + "; body takes the tuple and returns the next tuple, in the same order. A body result "
        f"that is its own argument unchanged is an invariant, the same value every iteration: "
        f"{len(loop.invariants)} of the {size} here. When cond returns false, the op's outputs "
        "are the tuple as it stands."]
    if loop.tensor_list_reads or loop.tensor_list_writes:
        parts = []
        if loop.tensor_list_reads:
            parts.append("reads this step's input with TensorListGetItem(list, time) ("
                         + ", ".join(loop.tensor_list_reads) + ")")
        if loop.tensor_list_writes:
            parts.append("writes this step's output with TensorListSetItem(list, time, output) ("
                         + ", ".join(loop.tensor_list_writes) + "), which returns a new list: "
                         "that list is the body's result for the outputs TensorList, carried to "
                         "the next iteration like any other loop variable")
        paras.append("The inputs and outputs per step are TensorLists, values passed through the "
                     "tuple rather than the handles of v1's TensorArrays: the body "
                     + " and ".join(parts) + ".")
    if loop.lowered:
        paras.append("At run time TensorFlow lowers the op to the Enter/Merge/Switch/"
                     "NextIteration/Exit machinery of control flow v1 (its "
                     "_lower_using_switch_merge attribute is true).")
    return paras


def while_loop(loop: WhileLoop, found: Findings) -> Section:
    paras = while_v1(loop) if loop.control_flow == "v1" else while_v2(loop)
    returned = _returned(loop, found)
    bullets = [f"loop variable {v.index}, {loop_var_line(v, returned.get(v.index))}"
               for v in loop.loop_vars]
    bullets += [f"invariant {inv['node']}: {inv['what']}" for inv in loop.invariants]
    invariant = ("Enter with is_constant=true: the same value every iteration"
                 if loop.control_flow == "v1" else
                 "inputs the body returns unchanged: the same value every iteration")
    paras.append(f"The body holds {len(loop.body_nodes)} nodes besides the loop machinery. "
                 f"Loop variables and invariants ({invariant}):")
    section = Section(f"The while loop {loop.name}", paras, bullets)
    return section


def why_two_counters(loop: WhileLoop) -> Optional[Section]:
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
