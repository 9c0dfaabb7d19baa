"""networkx graph -> one self-contained, offline HTML page to explore it.

The page holds the diagram drawn by Graphviz at several scope depths
(``--depth`` 0, 1, ... and the full view, as far as each can be laid out),
the data of every node as JSON, and a small inline script for pan and zoom,
search, a side panel per node, expanding a collapsed scope (switching to the
next depth that opens it) and tracing a node's inputs.  Nothing is fetched:
no CDN, no fonts, no images.

:func:`page_text` only assembles text; :func:`render_html` runs Graphviz.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from importlib import resources
from typing import Callable, Optional

import networkx as nx

from ..errors import UsageError
from ..graphdef.opdocs import describe
from .dot import RenderOptions, count_boxes, format_shape, format_value, to_dot
from .statements import bounded_text, graphviz_title

__all__ = ["render_html", "page_text", "page_data", "structures", "level_depths", "svg_titles",
           "MAX_LEVELS", "MAX_LEVEL_BOXES"]

MAX_LEVELS = 8  # pre-rendered depths per page, the full view included
MAX_LEVEL_BOXES = 600  # deeper levels would keep Graphviz busy for minutes
_NODE_TITLE = re.compile(r'<g id="[^"]*" class="node">\s*<title>(.*?)</title>', re.S)
_BACK_OPS = ("NextIteration", "RefNextIteration")


def _asset(name: str) -> str:
    return resources.files("rnngraph.draw").joinpath("static", name).read_text(encoding="utf-8")


def _deepest(graph: nx.MultiDiGraph) -> int:
    return max((len(d["scope"].split("/")) for _, d in graph.nodes(data=True) if d["scope"]),
               default=0)


def level_depths(graph: nx.MultiDiGraph) -> list:
    """Return the scope depths worth drawing: 0 up to the deepest scope, then None (all)."""
    return list(range(min(_deepest(graph), MAX_LEVELS - 1))) + [None]


def svg_titles(svg: str) -> list:
    """Return the ids of the boxes (Graphviz nodes) drawn in ``svg``, in document order."""
    return [html.unescape(t) for t in _NODE_TITLE.findall(svg)]


def _clean_svg(svg: str) -> str:
    """Drop the XML prolog, doctype and comments: the SVG goes inline into the page."""
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)


def _box_of(graph: nx.MultiDiGraph, titles: set, options: RenderOptions) -> dict:
    """Return node -> the box that shows it: itself, its collapsed scope, group or consumer."""
    from . import dot as render  # noqa: PLC0415

    exact = getattr(render, "box_map", None)  # the renderer's own answer, where it gives one
    boxes = {n: b for n, b in exact(graph, options).items() if b in titles} if exact else {}
    for name in graph.nodes:
        if name in boxes:
            continue
        if name in titles:
            boxes[name] = name
            continue
        scope = graph.nodes[name]["scope"]
        while scope:
            if "scope::" + scope in titles:
                boxes[name] = "scope::" + scope
                break
            scope = scope.rpartition("/")[0]
    for name in graph.nodes:  # constants folded into their one consumer's label
        if name not in boxes:
            for _, dst in graph.out_edges(name):
                if dst in boxes:
                    boxes[name] = boxes[dst]
                    break
    return boxes


def _title_ids(graph: nx.MultiDiGraph, options: RenderOptions, depth, titles: list) -> list:
    """Return the box id behind each SVG title (they differ for names with ``\\``, ``&``, NUL...)."""
    from . import dot as render  # noqa: PLC0415

    candidates = set(graph.nodes) | {"scope::" + d["scope"] for _, d in graph.nodes(data=True)}
    candidates |= set(render.box_map(graph, dataclasses.replace(options, depth=depth)).values())
    back = {}
    for box in candidates:
        title = graphviz_title(box)
        if title != box:
            back[title] = box
    return [back.get(t, t) for t in titles]


def _attr_text(value) -> str:
    if isinstance(value, dict) and "dtype" in value and "shape" in value:
        text = f"tensor {value['dtype']} {format_shape(value['shape'])}"
        return text + (f" = {format_value(value['value'], 200)}" if "value" in value else "")
    if isinstance(value, dict) and "function" in value:
        return f"function {value['function']}"
    return value if isinstance(value, str) else format_value(value, 200)


def _tensor_text(shape, dtype) -> str:
    text = format_shape(shape, dtype)
    return text if dtype in (None, "resource", "variant") else f"{text} {dtype}"


def structures(graph: nx.MultiDiGraph) -> list:
    """Return the recognised structures as ``{"title", "text", "nodes"}``, most specific first."""
    from ..recognise import recognise  # noqa: PLC0415

    found = recognise(graph)
    out = []
    for cell in found.cells:
        gates = ", ".join(cell.gates) if cell.gates else "none"
        out.append({
            "title": f"{cell.kind.upper()} cell {cell.scope}",
            "text": (f"One {cell.kind} cell: [X_t, h_(t-1)] ({cell.n_inputs}+{cell.n_neurons} "
                     f"columns) times kernel {cell.kernel} ({format_shape(cell.kernel_shape)}), "
                     f"plus bias, then {cell.activation or 'no activation'}; gates: {gates}. "
                     f"{len(cell.instances)} cop{'y' if len(cell.instances) == 1 else 'ies'} "
                     f"in the graph" + (", all sharing one kernel and bias."
                                        if cell.same_variables and len(cell.instances) > 1
                                        else ".")),
            "nodes": list(cell.nodes)})
    for ta in found.tensor_arrays:
        uses = [f"{len(ta.reads)} read(s)", f"{len(ta.writes)} write(s)"]
        if ta.unstack:
            uses.append(f"filled by unstacking {ta.unstack_source}")
        if ta.stack:
            uses.append(f"stacked by {ta.stack}")
        out.append({
            "title": f"{ta.kind} {ta.name} ({ta.role})",
            "text": (f"A {ta.kind} of {ta.size or '?'} elements of shape "
                     f"{format_shape(ta.element_shape)}, one per time step; " + "; ".join(uses) + "."),
            "nodes": [n for n in [ta.name, ta.unstack, ta.stack, *ta.reads, *ta.writes, *ta.flow]
                      if n]})
    for concat in found.concats:
        out.append({"title": f"concat {concat.name}", "text": concat.meaning or "",
                    "nodes": [concat.name] + [i["name"] for i in concat.inputs]})
    for item in found.strided_slices:
        out.append({"title": f"strided_slice {item.name}",
                    "text": f"{item.slice}" + (f": {item.meaning}" if item.meaning else ""),
                    "nodes": [item.name]})
    for seq in found.sequence_length:
        out.append({"title": "sequence_length", "text": f"Rows stop at {seq.length}: "
                    f"finished rows output zeros and keep their state.",
                    "nodes": [seq.compare, *seq.zero_outputs, *seq.copy_state]})
    for loop in found.while_loops:
        plumbing = [getattr(v, f) for v in loop.loop_vars for f in
                    ("enter", "merge", "switch", "identity", "next_iteration", "exit")]
        carried = "; ".join(f"{v.index}: {v.carries}" for v in loop.loop_vars)
        out.append({
            "title": f"while loop {loop.name} (control flow {loop.control_flow})",
            "text": (f"Repeats while {loop.condition}. Loop variables: {carried}. "
                     f"{len(loop.invariants)} loop-invariant input(s) enter the frame once."),
            "nodes": [n for n in [loop.name, loop.loop_cond, *plumbing, *loop.body_nodes,
                                  *(i["node"] for i in loop.invariants)] if n]})
    return out


def page_data(graph: nx.MultiDiGraph, levels: list, notes: Optional[list] = None,
              options: Optional[RenderOptions] = None) -> dict:
    """Return the page's JSON data: nodes (sorted), op descriptions, structures and levels.

    ``levels`` is a list of ``(label, depth, svg_text)`` drawn with ``options``
    at each depth; ``notes`` the structures (see :func:`structures`).
    """
    options = options or RenderOptions()
    names = sorted(graph.nodes)
    index = {n: i for i, n in enumerate(names)}
    member: dict = {}
    notes = notes or []
    for number, item in enumerate(notes):
        for node in item["nodes"]:
            base = node.partition(":")[0]
            if base in index and number not in member.setdefault(base, []):
                member[base].append(number)
    nodes = []
    for name in names:
        data = graph.nodes[name]
        inputs = []
        for src, _, key, edge in sorted(graph.in_edges(name, keys=True, data=True),
                                        key=lambda e: (e[3]["control"], abs(e[2]), e[0])):
            inputs.append([index[src], edge["src_output"], 1 if edge["control"] else 0,
                           "" if edge["control"] else _tensor_text(edge["shape"], edge["dtype"]),
                           1 if graph.nodes[src]["op"] in _BACK_OPS else 0])
        nodes.append({
            "n": name, "o": data["op"], "d": data["device"], "f": data["frame"],
            "a": [bounded_text(f"{k}: {_attr_text(v)}", 1000, 20)
                  for k, v in sorted(data["attrs"].items()) if not k.startswith("_")],
            "t": [_tensor_text(o["shape"], o["dtype"]) for o in data["outputs"]],
            "i": inputs, "s": member.get(name, [])})
    page_levels = []
    for label, depth, svg in levels:
        titles = svg_titles(svg)
        box_ids = _title_ids(graph, options, depth, titles)
        position = {t: i for i, t in enumerate(box_ids)}
        boxes = _box_of(graph, set(box_ids), dataclasses.replace(options, depth=depth))
        alias = {t: b for t, b in zip(titles, box_ids) if t != b}
        page_levels.append({"label": label, "depth": depth, "boxes": box_ids, "alias": alias,
                            "box": [position.get(boxes.get(n), -1) for n in names]})
    return {"nodes": nodes, "ops": {op: describe(op) for op in sorted({d["o"] for d in nodes})},
            "structures": [{"title": s["title"], "text": s["text"]} for s in notes],
            "levels": page_levels}


def _json_for_script(data: dict) -> str:
    """Return JSON that is safe inside a <script> element (no ``</script``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_text(title: str, levels: list, data: dict, initial: int) -> str:
    """Return the HTML page: ``levels`` as ``(label, depth, svg)``, ``initial`` shown first."""
    templates = "\n".join(f'<template id="rg-level-{i}">{_clean_svg(svg)}</template>'
                          for i, (_, _, svg) in enumerate(levels))
    buttons = "".join(f'<button type="button" class="rg-level" data-level="{i}">'
                      f"{html.escape(label)}</button>" for i, (label, _, _) in enumerate(levels))
    heading = html.escape(title.split("\n")[0])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{heading} — rnngraph</title>\n<style>\n{_asset('viewer.css')}</style>\n</head>\n"
        f'<body data-initial="{initial}">\n<header id="rg-bar">\n'
        f'<span id="rg-title" title="{html.escape(title)}">{heading}</span>\n'
        '<input id="rg-search" type="search" placeholder="search name or op (Enter)" '
        'autocomplete="off" spellcheck="false">\n'
        f'<span id="rg-levels">depth: {buttons}</span>\n'
        '<button type="button" id="rg-trace" disabled>trace inputs</button>\n'
        '<button type="button" id="rg-clear">clear</button>\n'
        '<button type="button" id="rg-fit">fit</button>\n'
        '<span id="rg-status" role="status"></span>\n</header>\n'
        '<main><div id="rg-view" tabindex="0"></div>\n'
        '<aside id="rg-panel"><p class="rg-hint">Click a box to see its details; click a grey '
        "3-D box (a collapsed scope) to open it. Drag to pan, wheel to zoom.</p></aside></main>\n"
        f"{templates}\n"
        f'<script type="application/json" id="rg-data">{_json_for_script(data)}</script>\n'
        f"<script>\n{_asset('viewer.js')}</script>\n</body>\n</html>\n")


def render_html(graph: nx.MultiDiGraph, options: Optional[RenderOptions] = None,
                draw: Optional[Callable[[str], str]] = None, full: bool = False) -> str:
    """Return the interactive HTML page of ``graph`` (runs Graphviz once per depth drawn).

    Depths whose diagram has too many boxes for Graphviz are left out; the
    page opens at ``options.depth`` (or the deepest depth drawn).  ``full``
    draws one level with every node instead (unrolled steps tiled).
    """
    options = options or RenderOptions()
    if full:
        return _full_page(graph, options)
    if draw is None:
        from .output import run_graphviz  # noqa: PLC0415

        def draw(text: str) -> str:
            return run_graphviz(text, "svg").decode("utf-8")

    levels, seen, refused = [], set(), None
    for depth in level_depths(graph):
        at_depth = dataclasses.replace(options, depth=depth)
        if levels and count_boxes(graph, at_depth) > MAX_LEVEL_BOXES:
            break  # deeper levels only grow; the page lists what such boxes hold instead
        try:
            text = to_dot(graph, at_depth)
        except UsageError as exc:  # too many boxes at this depth and every deeper one
            refused = exc
            break
        if text in seen:
            continue
        seen.add(text)
        levels.append(("all" if depth is None else str(depth), depth, draw(text)))
    if not levels:
        raise UsageError(f"nothing can be drawn: {refused}")
    initial = len(levels) - 1
    if options.depth is not None and options.depth < _deepest(graph):
        initial = max((i for i, (_, d, _) in enumerate(levels) if d is not None and d <= options.depth),
                      default=0)
    data = page_data(graph, levels, structures(graph), options)
    return page_text(options.title or "rnngraph", levels, data, initial)


def _full_page(graph: nx.MultiDiGraph, options: RenderOptions) -> str:
    """Return the page with a single level: every node, as ``render --full`` draws it."""
    from .output import run_graphviz  # noqa: PLC0415
    from .dot import drawing  # noqa: PLC0415

    every = dataclasses.replace(options, group_steps=False, expand_ends=False, group_series=False,
                                depth=None)
    drawn = drawing(graph, every, full=True)
    svg = run_graphviz(drawn.dot, "svg", drawn.engine, drawn.no_op).decode("utf-8")
    levels = [("every node", None, svg)]
    data = page_data(graph, levels, structures(graph), every)
    return page_text(options.title or "rnngraph", levels, data, 0)
