"""Auxiliary machinery: what a graph holds besides the computation (initializers, saver, summaries).

Like TensorBoard's auxiliary nodes, these are left out of drawings by
default (``render --show-init`` draws them); ``inspect`` still counts every
node.  Found by structure: an assignment into a variable that an ``init``
NoOp (or nothing else) runs, the variable's is-initialized test, the
saver's and summaries' ops, what only feeds them, and constants nothing
reads.  Pure Python over networkx, no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

__all__ = ["Auxiliary", "find_auxiliary", "hidden_line"]

_ASSIGN_OPS = frozenset({"Assign", "AssignVariableOp"})
_INIT_TEST_OPS = frozenset({"VarIsInitializedOp", "IsVariableInitialized"})
_SAVER_OPS = frozenset({"SaveV2", "RestoreV2", "Save", "Restore", "RestoreSlice", "SaveSlices",
                        "ShardedFilename", "ShardedFilespec", "MergeV2Checkpoints"})
_SUMMARY_OPS = frozenset({"ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummary",
                          "TensorSummary", "TensorSummaryV2", "MergeSummary", "WriteSummary",
                          "WriteScalarSummary", "WriteHistogramSummary"})
# Never hidden by the closure: the variables themselves and the graph's inputs.
_KEEP_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable", "Placeholder", "PlaceholderV2",
                       "PlaceholderWithDefault", "_Arg", "_Retval"})


@dataclass
class Auxiliary:
    """The auxiliary nodes of a graph, by what they are for."""

    nodes: set = field(default_factory=set)
    variables: list = field(default_factory=list)  # variables whose initializer is hidden
    saver: int = 0  # saver ops hidden
    summaries: int = 0  # summary ops hidden
    unused_constants: int = 0


def _is_variable(G: nx.MultiDiGraph, node: str) -> bool:
    return G.nodes[node]["op"] in ("VarHandleOp", "VariableV2", "Variable")


def _init_assigns(G: nx.MultiDiGraph) -> dict:
    """Return {assign node: variable} of the assignments that initialise a variable.

    An assignment into a variable (its first input) that runs only for a
    NoOp (the ``init`` op) or for nothing at all: a training step's assigns
    feed the step's outputs instead.
    """
    found = {}
    for name, data in G.nodes(data=True):
        if data["op"] not in _ASSIGN_OPS:
            continue
        firsts = [s for s, _, k, d in G.in_edges(name, keys=True, data=True)
                  if k == 0 and not d["control"]]
        if not firsts or not _is_variable(G, firsts[0]):
            continue
        readers = list(G.successors(name))
        if all(G.nodes[r]["op"] == "NoOp" for r in readers) and _fresh_value(G, name):
            found[name] = firsts[0]
    return found


def _fresh_value(G: nx.MultiDiGraph, assign: str) -> bool:
    """Return whether the value an assignment writes reads no variable and no input.

    An initializer's value is made from constants and random numbers; an optimizer's
    assignment (Adam's ``beta1_power * beta1``) reads a variable, and is not hidden.
    """
    values = [s for s, _, k, d in G.in_edges(assign, keys=True, data=True)
              if k == 1 and not d["control"]]
    seen, stack = set(), values
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if G.nodes[node]["op"] in _KEEP_OPS or len(seen) > 200:
            return False
        stack.extend(s for s, _, d in G.in_edges(node, data=True) if not d["control"])
    return True


def find_auxiliary(G: nx.MultiDiGraph) -> Auxiliary:
    """Return the auxiliary nodes of ``G`` (see the module docstring)."""
    assigns = _init_assigns(G)
    aux = Auxiliary(variables=sorted(set(assigns.values())))
    seeds = set(assigns)
    for name, data in G.nodes(data=True):
        op = data["op"]
        if op in _INIT_TEST_OPS:
            seeds.add(name)
        elif op in _SAVER_OPS:
            seeds.add(name)
            aux.saver += 1
        elif op in _SUMMARY_OPS:
            seeds.add(name)
            aux.summaries += 1
        elif op == "NoOp" and G.in_degree(name) and G.out_degree(name) == 0 and all(
                s in assigns for s in G.predecessors(name)):
            seeds.add(name)  # the `init` op: it runs the initializers and nothing else
        elif op == "Const" and G.out_degree(name) == 0 and not data.get("missing"):
            seeds.add(name)
            aux.unused_constants += 1
    hidden = set(seeds)
    # What only feeds hidden nodes is hidden too (the initializer's random values, the
    # saver's tensor names, the is-initialized test's reduction), never a variable itself.
    pending = [p for s in seeds for p in G.predecessors(s)]
    while pending:
        node = pending.pop()
        if node in hidden or G.nodes[node]["op"] in _KEEP_OPS or not G.out_degree(node):
            continue
        if all(succ in hidden for succ in G.successors(node)):
            hidden.add(node)
            pending.extend(G.predecessors(node))
    # NoOps that only wait on hidden nodes (`init`, and the per-device `init/NoOp_1` it groups)
    grew = True
    while grew:
        grew = False
        for name, data in G.nodes(data=True):
            if name not in hidden and data["op"] == "NoOp" and G.in_degree(name) and all(
                    s in hidden for s in G.predecessors(name)) and all(
                    d in hidden or G.nodes[d]["op"] == "NoOp" for d in G.successors(name)):
                hidden.add(name)
                grew = True
    aux.nodes = hidden
    return aux


def hidden_line(aux: Auxiliary) -> str:
    """Return the one line that says what a drawing leaves out ("" when nothing)."""
    parts = []
    if aux.variables:
        count = len(aux.variables)
        parts.append(f"initializers of {count} variable{'s' if count != 1 else ''}")
    if aux.saver:
        parts.append(f"{aux.saver} saver op{'s' if aux.saver != 1 else ''}")
    if aux.summaries:
        parts.append(f"{aux.summaries} summary op{'s' if aux.summaries != 1 else ''}")
    if aux.unused_constants:
        count = aux.unused_constants
        parts.append(f"{count} unused constant{'s' if count != 1 else ''}")
    if not parts:
        if aux.nodes:
            parts.append(f"{len(aux.nodes)} is-initialized test op"
                         f"{'s' if len(aux.nodes) != 1 else ''}")
        else:
            return ""
    return f"{', '.join(parts)} hidden; --show-init draws them"
