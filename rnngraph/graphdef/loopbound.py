"""Bound every v1 while loop of a GraphDef: past N iterations its condition fails an Assert.

``parallel_iterations`` limits how many iterations run at once, not how many
run, so a loop whose condition never turns false runs forever.  For each
``LoopCond`` this adds a counter as one more loop variable of the same frame
(Enter, Merge, Switch, +1, NextIteration, as ``tf.while_loop`` builds its own),
and routes the condition through an ``Assert(counter < N or not cond)``: a loop
that wants iteration N+1 stops with an error whose message holds
:data:`MARKER`.  A loop that ends by itself within N iterations computes the
same values as before.  Functional ``While`` ops (control flow v2) get the same counter as one
more loop variable, through copies of their cond and body functions (:func:`bound_v2_loops`).
Pure protobuf: no TensorFlow here.
"""

from __future__ import annotations

from . import protos

__all__ = ["bound_v1_loops", "bound_v2_loops", "MARKER"]

MARKER = "rnngraph-max-iterations"


def _node(nodes, name: str, op: str, inputs=(), **attrs):
    """Add a node to ``nodes`` (a GraphDef's ``node`` or a FunctionDef's ``node_def``)."""
    node = nodes.add(name=name, op=op, input=list(inputs))
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


def _const(nodes, name: str, value, control: str = ""):
    node = _node(nodes, name, "Const", [f"^{control}"] if control else [])
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
        _const(graph_def.node, f"{base}/zero", 0, outer)
        counter = _node(graph_def.node, f"{base}/enter", "Enter", [f"{base}/zero"], T=int64)
        counter.attr["frame_name"].CopyFrom(enter.attr["frame_name"])
        counter.attr["parallel_iterations"].CopyFrom(enter.attr["parallel_iterations"])
        counter.attr["is_constant"].b = False
        _node(graph_def.node, f"{base}/merge", "Merge", [f"{base}/enter", f"{base}/next"], T=int64).attr["N"].i = 2
        _const(graph_def.node, f"{base}/limit", limit, f"{base}/merge")
        _node(graph_def.node, f"{base}/below", "Less", [f"{base}/merge", f"{base}/limit"], T=int64)
        _node(graph_def.node, f"{base}/done", "LogicalNot", [pred])
        _node(graph_def.node, f"{base}/ok", "LogicalOr", [f"{base}/below", f"{base}/done"])
        _const(graph_def.node, f"{base}/message", MARKER, f"{base}/merge")
        check = _node(graph_def.node, f"{base}/check", "Assert", [f"{base}/ok", f"{base}/message"])
        check.attr["T"].list.type.append(protos.DTYPE_ENUM["DT_STRING"])
        check.attr["summarize"].i = 3
        _node(graph_def.node, f"{base}/pred", "Identity", [pred, f"^{base}/check"], T=boolean)
        cond.input[0] = f"{base}/pred"
        _node(graph_def.node, f"{base}/switch", "Switch", [f"{base}/merge", cond.name], T=int64)
        _node(graph_def.node, f"{base}/body", "Identity", [f"{base}/switch:1"], T=int64)
        _const(graph_def.node, f"{base}/one", 1, f"{base}/body")
        _node(graph_def.node, f"{base}/add", "AddV2", [f"{base}/body", f"{base}/one"], T=int64)
        _node(graph_def.node, f"{base}/next", "NextIteration", [f"{base}/add"], T=int64)
        new = {node.name: node for node in graph_def.node[first:]}
        by_name.update(new)
        added |= set(new)
    return added


# ---- functional (control flow v2) loops: While / StatelessWhile with cond and body functions

_WHILE_OPS = ("While", "StatelessWhile")


def _unique(taken: set, base: str) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _add_data_input(node, ref: str) -> None:
    """Append a data input to ``node``, before its control inputs (NodeDef keeps them last)."""
    refs = list(node.input)
    at = next((k for k, r in enumerate(refs) if r.startswith("^")), len(refs))
    refs.insert(at, ref)
    del node.input[:]
    node.input.extend(refs)


def _append_scalar_shape(node, key: str) -> None:
    if key in node.attr and node.attr[key].WhichOneof("value") == "list":
        node.attr[key].list.shape.add()  # a scalar: no dims


def _bounded_cond(library, cond, counter_arg: str, name: str, limit: int, tag: str):
    """Add to ``library`` a copy of ``cond`` taking one more int64 input: its predicate passes
    through ``Assert(counter < limit or not predicate)`` (message ``MARKER #tag``)."""
    fdef = library.function.add()
    fdef.CopyFrom(cond)
    fdef.signature.name = name
    fdef.signature.is_stateful = True  # Assert
    int64 = protos.DTYPE_ENUM["DT_INT64"]
    fdef.signature.input_arg.add(name=counter_arg, type=int64)
    out = fdef.signature.output_arg[0].name
    pred = fdef.ret[out]
    taken = {n.name for n in fdef.node_def} | {a.name for a in fdef.signature.input_arg}
    limit_node = _unique(taken, "rnngraph_limit")
    below, done, ok = (_unique(taken, f"rnngraph_{part}") for part in ("below", "done", "ok"))
    message, check, passed = (_unique(taken, f"rnngraph_{part}") for part in ("message", "check", "pred"))
    _const(fdef.node_def, limit_node, limit)
    _node(fdef.node_def, below, "Less", [counter_arg, f"{limit_node}:output:0"], T=int64)
    _node(fdef.node_def, done, "LogicalNot", [pred])
    _node(fdef.node_def, ok, "LogicalOr", [f"{below}:z:0", f"{done}:y:0"])
    _const(fdef.node_def, message, f"{MARKER} #{tag}")
    node = _node(fdef.node_def, check, "Assert", [f"{ok}:z:0", f"{message}:output:0"])
    node.attr["T"].list.type.append(protos.DTYPE_ENUM["DT_STRING"])
    node.attr["summarize"].i = 3
    _node(fdef.node_def, passed, "Identity", [pred, f"^{check}"], T=protos.DTYPE_ENUM["DT_BOOL"])
    fdef.ret[out] = f"{passed}:output:0"


def _bounded_body(library, body, counter_arg: str, name: str) -> None:
    """Add to ``library`` a copy of ``body`` that also takes the counter and returns it plus one."""
    fdef = library.function.add()
    fdef.CopyFrom(body)
    fdef.signature.name = name
    int64 = protos.DTYPE_ENUM["DT_INT64"]
    fdef.signature.input_arg.add(name=counter_arg, type=int64)
    taken = {n.name for n in fdef.node_def} | {a.name for a in fdef.signature.input_arg}
    out_names = {a.name for a in fdef.signature.output_arg}
    out = _unique(out_names | taken, "rnngraph_counter_next")
    one, step = _unique(taken, "rnngraph_one"), _unique(taken, "rnngraph_step")
    _const(fdef.node_def, one, 1)
    _node(fdef.node_def, step, "AddV2", [counter_arg, f"{one}:output:0"], T=int64)
    fdef.signature.output_arg.add(name=out, type=int64)
    fdef.ret[out] = f"{step}:z:0"


def bound_v2_loops(graph_def, limit: int) -> tuple:
    """Give every functional ``While``/``StatelessWhile`` of ``graph_def`` (in place) a counter.

    Each loop carries one more loop variable, an int64 counting from 0 (the last input and
    output: the loop's own outputs keep their indices); its cond, called through a copy, fails
    an ``Assert`` whose message holds ``MARKER #tag`` when the counter has reached ``limit`` and
    the cond asks for one more iteration; its body, a copy, adds one.  Loops inside functions
    (nested loops, loops in branches) are bounded as well.  A StatelessWhile becomes a While
    (its cond now holds a stateful Assert); a cond whose result is not a bool is left alone.

    Returns ``(the names of the top-level nodes added, {tag: the loop's name}, the counters'
    outputs of the top-level loops as "node:index")``.
    """
    library = graph_def.library
    functions = {f.signature.name: f for f in library.function}
    taken_functions = set(functions)
    int64, boolean = protos.DTYPE_ENUM["DT_INT64"], protos.DTYPE_ENUM["DT_BOOL"]
    loops: dict = {}
    added: set = set()
    outputs: list = []
    bodies: dict = {}  # original body name -> bounded copy's name
    pending = []  # (cond name, bounded cond name, tag), made once every While is rewritten
    top_names = {n.name for n in graph_def.node}
    containers = [(None, graph_def.node)] + [(f, f.node_def) for f in list(library.function)]
    for fdef, nodes in containers:
        in_function = fdef is not None
        local = {n.name for n in nodes} | ({a.name for a in fdef.signature.input_arg} if in_function
                                           else set())
        for node in list(nodes):
            if node.op not in _WHILE_OPS:
                continue
            cond_name, body_name = node.attr["cond"].func.name, node.attr["body"].func.name
            cond, body = functions.get(cond_name), functions.get(body_name)
            if cond is None or body is None or len(cond.signature.output_arg) != 1 \
                    or cond.signature.output_arg[0].type != boolean:
                continue
            tag = str(len(loops))
            loops[tag] = node.name if not in_function else \
                f"{node.name} (in function {fdef.signature.name})"
            zero = _unique(local | top_names if not in_function else local, f"rnngraph_bound_v2_{tag}")
            if in_function:
                _const(fdef.node_def, zero, 0)
                _add_data_input(node, f"{zero}:output:0")
            else:
                _const(graph_def.node, zero, 0)
                _add_data_input(node, zero)
                added.add(zero)
                top_names.add(zero)
                outputs.append(f"{node.name}:{len(node.attr['T'].list.type)}")
            if body_name not in bodies:
                bodies[body_name] = _unique(taken_functions, f"{body_name}_rnngraph_bound")
            bounded_cond = _unique(taken_functions, f"{cond_name}_rnngraph_bound_{tag}")
            pending.append((cond_name, bounded_cond, tag))
            node.op = "While"
            node.attr["T"].list.type.append(int64)
            _append_scalar_shape(node, "output_shapes")
            _append_scalar_shape(node, "_output_shapes")
            node.attr["cond"].func.name = bounded_cond
            node.attr["body"].func.name = bodies[body_name]
    # Copies are made after every While was rewritten, so a body's nested loops are bounded too.
    for body_name, bounded in sorted(bodies.items()):
        body = functions[body_name]
        arg = _unique({a.name for a in body.signature.input_arg} | {n.name for n in body.node_def},
                      "rnngraph_iterations")
        _bounded_body(library, body, arg, bounded)
    for cond_name, bounded, tag in pending:
        cond = functions[cond_name]
        arg = _unique({a.name for a in cond.signature.input_arg} | {n.name for n in cond.node_def},
                      "rnngraph_iterations")
        _bounded_cond(library, cond, arg, bounded, limit, tag)
    return added, loops, outputs

