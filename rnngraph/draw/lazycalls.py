"""The function calls left closed (past walk's expansion budget, or recursive), opened in the page.

walk expands function calls until a budget proportional to the file is spent; the calls left
stay boxes.  The page opens them one at a time: for every function such a call reaches (the
closed calls' functions, and the functions their bodies call, transitively) it embeds ONE
template, keyed by the function's name, made of the same pieces as the page's own scene
(``scene.py``: box statements, scopes, edges, folded constants; ``html.page_data``: the nodes'
panel data) for one copy of the body expanded under a stand-in caller.  ``viewer.js`` copies a
template under the clicked call (the stand-in's key replaced by the call's), wires the call's
inputs to the body's arguments and its results back to the call as walk does, and lays out
again.  The body's own calls stay closed boxes that open the same way, so a recursive function
opens one level per click.  The page holds each function once: its size follows the file, never
the expansion.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Callable

import networkx as nx

from ..graphdef.walk import body_prefix, calls_of, expand_body, retval_key
from .layout import RenderOptions
from .roles import structure_labels
from .scene import scene_data

__all__ = ["closed_calls", "lazy_data", "with_call_labels", "CALLER", "ROLE", "OPEN_LINE",
           "RECURSIVE_LINE"]

# The stand-in caller and role of a template.  Both hold walk's reserved "::", which no node
# name of a file can hold, so replacing them in the page never touches a name of the file.
CALLER = "rg::C"
ROLE = "rg::R"
# The label line of a closed call's box (viewer.js removes it once the call is open).
OPEN_LINE = "▸ closed: click to open its body"
RECURSIVE_LINE = "▸ recursive: click to open one level"


def _recursive(graph: nx.MultiDiGraph) -> set:
    return {name for group in graph.graph.get("recursion", []) for name in group}


def _closed(attrs: dict, opened: set, library: dict, recursive: set) -> list:
    return [[role, fname, fname in recursive] for role, fname in calls_of(attrs)
            if fname in library and role not in opened]


def closed_calls(graph: nx.MultiDiGraph) -> dict:
    """Return ``{node: [[role, function, recursive], ...]}`` of the calls walk left unexpanded.

    A role (``f``, ``body``, ``cond``...) is closed when no body was expanded under the node
    for it; ``recursive``: the function calls itself, directly or through others.
    """
    library = graph.graph.get("_library") or {}
    if not library:
        return {}
    opened: dict = {}
    for name, data in graph.nodes(data=True):
        caller = data.get("parent_op")
        if caller and name.startswith(caller + "/"):
            opened.setdefault(caller, set()).add(name[len(caller) + 1:].split("/")[0][:-2])
    recursive = _recursive(graph)
    out = {}
    for name in sorted(graph.nodes):
        calls = _closed(graph.nodes[name]["attrs"], opened.get(name, set()), library, recursive)
        if calls:
            out[name] = calls
    return out


def with_call_labels(graph: nx.MultiDiGraph, options: RenderOptions, calls: dict) -> RenderOptions:
    """Return ``options`` with each closed call's box saying it opens on a click (or is recursive)."""
    if not calls:
        return options
    labels = dict(options.labels)
    said = structure_labels(graph)
    for name, found in calls.items():
        line = RECURSIVE_LINE if any(rec for _, _, rec in found) else OPEN_LINE
        before = labels.get(name) or "\n".join(said.get(name, []))
        labels[name] = f"{before}\n{line}" if before else line
    return dataclasses.replace(options, labels=labels)


def _template(fdef, caller_op: str, options: RenderOptions, library: dict, recursive: set,
              base: nx.MultiDiGraph, page_data: Callable) -> dict:
    """Return the page's pieces of one copy of ``fdef`` under the stand-in caller."""

    graph = nx.MultiDiGraph()
    graph.graph.update(frames={}, recursion=base.graph.get("recursion", []), _library=library,
                       functions=base.graph.get("functions", []),
                       function_attrs=base.graph.get("function_attrs", {}))
    graph.add_node(CALLER, name=CALLER, op=caller_op, device="", attrs={}, outputs=[], scope="",
                   frame="", function=None, parent_op=None, missing=False, order=0)
    keys = expand_body(graph, CALLER, ROLE, fdef)
    calls = {}
    for key in keys:
        found = _closed(graph.nodes[key]["attrs"], set(), library, recursive)
        if found:
            calls[key] = found
    options = with_call_labels(graph, options, calls)
    names = sorted(n for n in graph.nodes if n != CALLER)
    scene = scene_data(graph, options, names)
    graph.remove_node(CALLER)  # the call's own edges are wired in the page, to the real call
    data = page_data(graph, [], [], options)
    scene = _without_box(scene, CALLER)
    prefix = body_prefix(CALLER, ROLE)
    index = {n: i for i, n in enumerate(names)}
    return {"nodes": data["nodes"], "ops": data["ops"], "boxes": scene["boxes"],
            "scopes": scene["scopes"], "edges": scene["edges"], "node": scene["node"],
            "folds": scene["folds"], "folded": scene["folded"], "ids": scene["ids"],
            "args": [index[prefix + arg.name] for arg in fdef.signature.input_arg],
            "rets": [index[retval_key(prefix, arg.name)] for arg in fdef.signature.output_arg],
            "calls": calls}


def _without_box(scene: dict, box: str) -> dict:
    """Return ``scene`` without box ``box`` (the stand-in caller): indices renumbered."""
    ids = [b[0] for b in scene["boxes"]]
    if box not in ids:
        return scene
    gone = ids.index(box)

    def at(k: int) -> int:
        return k - 1 if k > gone else k

    out = dict(scene)
    out["boxes"] = [b for k, b in enumerate(scene["boxes"]) if k != gone]
    out["edges"] = [[at(e[0]), at(e[1]), *e[2:]] for e in scene["edges"] if gone not in e[:2]]
    out["node"] = [-1 if k == gone else at(k) if k >= 0 else k for k in scene["node"]]
    out["folds"] = {str(at(int(k))): [[at(c) for c in v[0]], v[1]]
                    for k, v in scene["folds"].items() if int(k) != gone}
    out["folded"] = {str(at(int(k))): at(v) for k, v in scene["folded"].items()
                     if int(k) != gone and v != gone}
    return out


def lazy_data(graph: nx.MultiDiGraph, options: RenderOptions, calls: dict,
              page_data: Callable) -> dict:
    """Return the page's ``lazy`` data: the closed calls and one template per function they reach.

    ``{"calls": {node: [[role, function, recursive]]}, "templates": {function: template},
    "caller": CALLER, "role": ROLE, "lines": [OPEN_LINE, RECURSIVE_LINE]}``; empty if no call
    is closed.  Functions are taken breadth first from the closed calls, each once.
    ``page_data``: html's, which gives the nodes' panel data (html imports this module).
    """
    if not calls:
        return {}
    library = graph.graph.get("_library") or {}
    recursive = _recursive(graph)
    template_options = dataclasses.replace(options, labels={}, annotations={}, focus_nodes=None,
                                           group_steps=False, expand_ends=False)
    op_of: dict = {}
    for name, found in calls.items():
        for _, fname, _ in found:
            op_of.setdefault(fname, graph.nodes[name]["op"])
    queue = deque(sorted(op_of))
    templates = {}
    while queue:
        fname = queue.popleft()
        if fname in templates:
            continue
        template = _template(library[fname], op_of[fname], template_options, library, recursive,
                             graph, page_data)
        templates[fname] = template
        ops = {node["n"]: node["o"] for node in template["nodes"]}
        for key, found in template["calls"].items():
            for _, inner, _ in found:
                if inner not in op_of:
                    op_of[inner] = ops[key]
                    queue.append(inner)
    return {"calls": calls, "templates": dict(sorted(templates.items())), "caller": CALLER,
            "role": ROLE, "lines": [OPEN_LINE, RECURSIVE_LINE]}

