"""Bound every v1 while loop of a GraphDef: past N iterations its condition fails an Assert.

``parallel_iterations`` limits how many iterations run at once, not how many
run, so a loop whose condition never turns false runs forever.  For each
``LoopCond`` this adds a counter as one more loop variable of the same frame
(Enter, Merge, Switch, +1, NextIteration, as ``tf.while_loop`` builds its own),
and routes the condition through an ``Assert(counter < N or not cond)``: a loop
that wants iteration N+1 stops with an error whose message holds
:data:`MARKER`.  A loop that ends by itself within N iterations computes the
same values as before.  Functional ``While`` ops keep their bodies; only the
wall-clock limit stops those.  Pure protobuf: no TensorFlow here.
"""

from __future__ import annotations

from . import protos

__all__ = ["bound_v1_loops", "MARKER"]

MARKER = "rnngraph-max-iterations"


def _node(graph_def, name: str, op: str, inputs=(), **attrs):
    node = graph_def.node.add(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        if isinstance(value, bool):
            node.attr[key].b = value
        elif isinstance(value, int):
            node.attr[key].type = value  # every int attr below is a DataType
        elif isinstance(value, bytes):
            node.attr[key].s = value
        elif isinstance(value, protos.AttrValue):
            node.attr[key].CopyFrom(value)
    return node


def _const(graph_def, name: str, value, control: str):
    node = _node(graph_def, name, "Const", [f"^{control}"])
    tensor = node.attr["value"].tensor
    if isinstance(value, str):
        node.attr["dtype"].type = tensor.dtype = protos.DTYPE_ENUM["DT_STRING"]
        tensor.string_val.append(value.encode("utf-8"))
    else:
        node.attr["dtype"].type = tensor.dtype = protos.DTYPE_ENUM["DT_INT64"]
        tensor.int64_val.append(value)
    return node


def _frame_enter(graph_def, loop_cond: str, by_name: dict):
    """Return an Enter node of the frame ``loop_cond`` ends (through a Switch and its Merge), or None."""
    for node in graph_def.node:
        if node.op != "Switch" or len(node.input) < 2 or node.input[1].split(":")[0] != loop_cond:
            continue
        merge = by_name.get(node.input[0].split(":")[0])
        if merge is None or merge.op != "Merge":
            continue
        for ref in merge.input:
            enter = by_name.get(ref.lstrip("^").split(":")[0])
            if enter is not None and enter.op == "Enter" and enter.input:
                return enter
    return None


def bound_v1_loops(graph_def, limit: int) -> set:
    """Add the counter and Assert to every ``LoopCond`` of ``graph_def`` (in place).

    Returns the names of the nodes added.
    """
    by_name = {node.name: node for node in graph_def.node}
    conds = [node for node in graph_def.node if node.op == "LoopCond" and node.input]
    int64, boolean = protos.DTYPE_ENUM["DT_INT64"], protos.DTYPE_ENUM["DT_BOOL"]
    added: set = set()
    for index, cond in enumerate(conds):
        enter = _frame_enter(graph_def, cond.name, by_name)
        if enter is None:
            continue
        base = f"rnngraph_bound_{index}"
        while any(name.startswith(base) for name in by_name):
            base += "_"
        outer = enter.input[0].lstrip("^").split(":")[0]  # in the frame around the loop
        pred, first = cond.input[0], len(graph_def.node)
        _const(graph_def, f"{base}/zero", 0, outer)
        counter = _node(graph_def, f"{base}/enter", "Enter", [f"{base}/zero"], T=int64)
        counter.attr["frame_name"].CopyFrom(enter.attr["frame_name"])
        counter.attr["parallel_iterations"].CopyFrom(enter.attr["parallel_iterations"])
        counter.attr["is_constant"].b = False
        _node(graph_def, f"{base}/merge", "Merge", [f"{base}/enter", f"{base}/next"], T=int64).attr["N"].i = 2
        _const(graph_def, f"{base}/limit", limit, f"{base}/merge")
        _node(graph_def, f"{base}/below", "Less", [f"{base}/merge", f"{base}/limit"], T=int64)
        _node(graph_def, f"{base}/done", "LogicalNot", [pred])
        _node(graph_def, f"{base}/ok", "LogicalOr", [f"{base}/below", f"{base}/done"])
        _const(graph_def, f"{base}/message", MARKER, f"{base}/merge")
        check = _node(graph_def, f"{base}/check", "Assert", [f"{base}/ok", f"{base}/message"])
        check.attr["T"].list.type.append(protos.DTYPE_ENUM["DT_STRING"])
        check.attr["summarize"].i = 3
        _node(graph_def, f"{base}/pred", "Identity", [pred, f"^{base}/check"], T=boolean)
        cond.input[0] = f"{base}/pred"
        _node(graph_def, f"{base}/switch", "Switch", [f"{base}/merge", cond.name], T=int64)
        _node(graph_def, f"{base}/body", "Identity", [f"{base}/switch:1"], T=int64)
        _const(graph_def, f"{base}/one", 1, f"{base}/body")
        _node(graph_def, f"{base}/add", "AddV2", [f"{base}/body", f"{base}/one"], T=int64)
        _node(graph_def, f"{base}/next", "NextIteration", [f"{base}/add"], T=int64)
        new = {node.name: node for node in graph_def.node[first:]}
        by_name.update(new)
        added |= set(new)
    return added
