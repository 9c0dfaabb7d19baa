"""networkx graph -> one self-contained, offline HTML page to explore it.

The page holds what the drawing is made of (``scene.py``: one DOT statement
per box and per collapsed scope, the edges), the data of every node as JSON,
Graphviz compiled to WebAssembly (``static/vendor/``, inlined) and a script
that assembles the DOT of the scopes open now and lays it out in the page:
any scope opens or closes where it stands, function bodies can be entered as
their own graph, and search, a side panel per node, input tracing, a
minimap, the view in the URL and SVG/PNG export work offline.  ``--full``
pages hold one drawing pre-rendered by Graphviz instead.  Nothing is
fetched: no CDN, no fonts, no images.

Hooks for other features: box fill colours come from ``statements.box_statement``
(so an overlay colouring boxes there shows in the page unchanged), legend rows
from ``data["scene"]["legend"]``; ``viewer.js`` documents its JavaScript hooks
(``window.rgViewers``, the ``rg-layout`` event, ``window.rgPanelHooks``).
:func:`page_text` only assembles text; only ``--full`` pages run Graphviz here.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from importlib import resources
from typing import Optional

import networkx as nx

from ..errors import UsageError
from ..graphdef.names import display_name, display_text
from ..graphdef.opdocs import describe
from .dot import RenderOptions, format_shape, format_value
from .lazycalls import closed_calls, lazy_data, with_call_labels
from .statements import bounded_text, graphviz_title

__all__ = ["render_html", "interactive_data", "render_compare", "page_text", "page_data", "structures", "svg_titles"]

_NODE_TITLE = re.compile(r'<g id="[^"]*" class="node">\s*<title>(.*?)</title>', re.S)
_BACK_OPS = ("NextIteration", "RefNextIteration")


def _asset(name: str) -> str:
    return resources.files("rnngraph.draw").joinpath("static", name).read_text(encoding="utf-8")


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


def _reach_cell_text(cell, gates: str) -> str:
    """Return the structures-panel text of a Keras, fused or hand-written cell."""
    if cell.form == "fused":
        f = cell.fused
        return (f"TensorFlow's fused {f['op']} kernel: one op computes the {cell.kind} cell "
                f"({cell.n_inputs} inputs, {cell.n_neurons} units; gates: {gates}; "
                f"{'the whole sequence' if f['steps'] == 'sequence' else 'one step'}, "
                f"{f['direction']}), reading " + ", ".join(i["name"] for i in f["inputs"]) + ".")
    if cell.form == "custom":
        return (f"A hand-written cell: {len(cell.parts)} gate-like part(s), each a product of "
                f"what it reads by its own weights, then an activation; the loop feeds back a "
                f"state of {cell.n_neurons if cell.n_neurons is not None else '?'} units.")
    return (f"Keras {cell.kind} layer {cell.layer}: x_t · kernel ({format_shape(cell.kernel_shape)}) "
            f"+ h_(t-1) · recurrent_kernel ({format_shape(cell.recurrent_kernel_shape)})"
            f"{' + bias' if cell.bias else ''}, two MatMuls and no concat; gates: {gates}; "
            f"activation {cell.activation}.")


def structures(graph: nx.MultiDiGraph, found=None) -> list:
    """Return the recognised structures as ``{"title", "text", "nodes"}``, most specific first.

    ``found``: the graph's findings, when already recognised.
    """
    from ..recognise import recognise  # noqa: PLC0415

    found = found if found is not None else recognise(graph)
    out = []
    for cell in found.cells:
        gates = ", ".join(cell.gates) if cell.gates else "none"
        if cell.form != "tf1":  # Keras (x·W + h·U) and hand-written cells
            out.append({"title": f"{cell.kind.upper()} cell {cell.layer}",
                        "text": _reach_cell_text(cell, gates), "nodes": list(cell.nodes)})
            continue
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

    ``levels`` is a list of ``(label, depth, svg_text)`` pre-rendered with
    ``options`` (only ``--full`` pages have one; others lay out in the page);
    ``notes`` the structures (see :func:`structures`).
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
        shown = display_name(name)  # "v": what the panel shows; "n", the key, stays the id
        nodes.append({
            **({"v": shown} if shown != name else {}),
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
            "structures": [{"title": display_text(s["title"]), "text": display_text(s["text"])}
                           for s in notes],
            "levels": page_levels}


def _json_for_script(data: dict) -> str:
    """Return JSON that is safe inside a <script> element (no ``</script``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_HINT = ("Click a box to see its details; click a grey 3-D box (a collapsed scope) to open it "
         "where it stands, a scope's frame label to close it. Drag to pan, wheel to zoom; / "
         "searches, Enter opens the scope under the pointer, Esc goes back.")
_HINT_FULL = "Click a box to see its details. Drag to pan, wheel to zoom; / searches."


def _engine_script() -> str:
    """Return the inline script that defines ``window.RgGraphviz`` (vendored, see vendor/)."""
    return _asset("vendor/graphviz.js")


def page_text(title: str, levels: list, data: dict, initial: int = 0, addon: str = "") -> str:
    """Return the HTML page.

    Pages with ``data["scene"]`` lay the graph out in the browser (the
    vendored Graphviz WebAssembly is inlined); others show ``levels``
    (``(label, depth, svg)``, pre-rendered), ``initial`` first.  ``addon`` is HTML
    appended to the body after the viewer (the run's step-through).
    """
    in_page = "scene" in data
    templates = "\n".join(f'<template id="rg-level-{i}">{_clean_svg(svg)}</template>'
                          for i, (_, _, svg) in enumerate(levels))
    heading = html.escape(title.split("\n")[0])
    wasm = " 'wasm-unsafe-eval'" if in_page else ""
    engine = f"<script>\n{_engine_script()}</script>\n" if in_page else ""
    tools = ('<span id="rg-crumbs" class="rg-crumbs"></span>\n'
             '<button type="button" id="rg-collapse" class="rg-collapse" title="close every scope">'
             'collapse all</button>\n'
             '<button type="button" id="rg-export-svg" class="rg-export-svg">SVG</button>\n'
             '<button type="button" id="rg-export-png" class="rg-export-png">PNG</button>\n'
             ) if in_page else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        f"script-src 'unsafe-inline'{wasm}; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{heading} — rnngraph</title>\n<style>\n{_asset('viewer.css')}</style>\n</head>\n"
        f'<body data-initial="{initial}">\n<header id="rg-bar" class="rg-bar">\n'
        f'<span id="rg-title" class="rg-title" title="{html.escape(title)}">{heading}</span>\n'
        '<input id="rg-search" class="rg-search" type="search" '
        'placeholder="search name or op (/ or Enter)" '
        'autocomplete="off" spellcheck="false">\n'
        f"{tools}"
        '<button type="button" id="rg-trace" class="rg-trace" disabled>trace inputs</button>\n'
        '<button type="button" id="rg-clear" class="rg-clear">clear</button>\n'
        '<button type="button" id="rg-fit" class="rg-fit">fit</button>\n'
        '<span id="rg-status" class="rg-status" role="status"></span>\n'
        "</header>\n"
        '<main><div id="rg-view" class="rg-view" tabindex="0"></div>\n'
        '<aside id="rg-panel" class="rg-panel"><p class="rg-hint">'
        f"{_HINT if in_page else _HINT_FULL}</p></aside></main>\n"
        f"{templates}\n"
        f'<script type="application/json" id="rg-data">{_json_for_script(data)}</script>\n'
        f"{engine}<script>\n{_asset('viewer.js')}</script>\n{addon}</body>\n</html>\n")


def _wanted_scopes(graph: nx.MultiDiGraph, found) -> list:
    """Return the scopes to open first: what holds the loops and cells, then they themselves."""
    from .roles import story_scopes  # noqa: PLC0415

    return story_scopes(graph, found)


def render_html(graph: nx.MultiDiGraph, options: Optional[RenderOptions] = None,
                full: bool = False, open_scopes: tuple = (), depth: Optional[int] = None,
                addon: str = "") -> str:
    """Return the interactive HTML page of ``graph``.

    The page lays the graph out in the browser and opens on what the graph
    is about: the loop's scope open with the cell open inside it (the
    machinery around them closed), centred on the cell's gates; or the
    scopes up to ``depth``, plus ``open_scopes`` (and what contains them).  ``full``
    pre-renders one drawing with every node instead (unrolled steps tiled).
    """
    options = options or RenderOptions()
    if full:
        return _full_page(graph, options)
    data = interactive_data(graph, options, open_scopes, depth)
    return page_text(options.title or "rnngraph", [], data, addon=addon)


def interactive_data(graph: nx.MultiDiGraph, options: RenderOptions, open_scopes: tuple = (),
                     depth: Optional[int] = None, found=None, stack_steps: bool = True) -> dict:
    """Return the data of a page laid out in the browser (see :func:`render_html`).

    ``stack_steps=False`` keeps an unrolled RNN's step copies apart (a stack is never inside a
    closed scope, so a page that opens on closed scopes draws none).
    """
    from ..recognise import recognise  # noqa: PLC0415
    from .scene import initial_open, scene_data, scope_chain  # noqa: PLC0415

    names = sorted(graph.nodes)
    found = found if found is not None else recognise(graph)
    # the page opens and closes scopes itself: a scope the static drawing closes (open_scopes,
    # from `inspect --render`) would be a box without its scope row, which the viewer cannot draw
    options = dataclasses.replace(options, open_scopes=None)
    options = _stacked(graph, options, depth) if stack_steps else options
    closed = closed_calls(graph)
    options = with_call_labels(graph, options, closed)
    scene = scene_data(graph, options, names)
    unknown = [s for s in open_scopes if s not in scene["scopes"]]
    if unknown:
        known = sorted(scene["scopes"], key=lambda s: (s.count("/"), s))
        raise UsageError(f"--open {unknown[0]!r} is not a name scope of this graph (scopes: "
                         f"{', '.join(known[:12])}{', …' if len(known) > 12 else ''})")
    if options.focus_nodes is not None:
        opened = sorted(scene["scopes"])
    else:
        opened = initial_open(scene, _wanted_scopes(graph, found), depth)
    opened = sorted(set(opened).union(*(scope_chain(s) for s in open_scopes)))
    data = page_data(graph, [], structures(graph, found), options)
    data["scene"] = scene
    data["open"] = opened
    data["start"] = _start_node(graph, found)
    data["gates"] = _gate_nodes(graph, found)
    lazy = lazy_data(graph, options, closed, page_data)
    if lazy:
        data["lazy"] = lazy
    return data


def _gate_nodes(graph: nx.MultiDiGraph, found) -> list:
    """Return the first cell's split and gate activations: the first view keeps them in sight."""
    nodes: list = []
    for cell in found.cells[:1]:
        for info in cell.gate_nodes.values():
            for name in (info.get("slice", "").rpartition(":")[0], info.get("activation")):
                if name in graph and name not in nodes:
                    nodes.append(name)
    return nodes


def _stacked(graph: nx.MultiDiGraph, options: RenderOptions, depth=None) -> RenderOptions:
    """Return ``options`` with an unrolled RNN's inner step copies stacked (first and last drawn).

    So the page opens on one step's cell, not on every copy side by side.
    """
    from ..recognise.repeats import cached_unrolled  # noqa: PLC0415

    if options.group_steps or options.focus_nodes is not None or depth is not None:
        return options
    unrolled = cached_unrolled(graph)
    if unrolled is None or not unrolled.runs:
        return options
    return dataclasses.replace(options, group_steps=True, expand_ends=True)


def _start_node(graph: nx.MultiDiGraph, found) -> str:
    """Return the node the page centres on when the drawing is larger than the window.

    The first cell's gates (the split that makes them), else its MatMul, else the loop.
    """
    for cell in found.cells:
        for info in cell.gate_nodes.values():
            split = info.get("slice", "").rpartition(":")[0]
            if split in graph:
                return split
        if cell.matmul in graph:
            return cell.matmul
    for loop in found.while_loops:
        for name in (loop.loop_cond, loop.name):
            if name in graph:
                return name
    return ""


def _full_page(graph: nx.MultiDiGraph, options: RenderOptions) -> str:
    """Return the page with a single pre-rendered level: every node, as ``render --full`` draws it."""
    from .output import run_graphviz  # noqa: PLC0415
    from .dot import drawing  # noqa: PLC0415

    every = dataclasses.replace(options, group_steps=False, expand_ends=False, group_series=False,
                                depth=None)
    drawn = drawing(graph, every, full=True)
    svg = run_graphviz(drawn.dot, "svg", drawn.engine, drawn.no_op).decode("utf-8")
    levels = [("every node", None, svg)]
    data = page_data(graph, levels, structures(graph), every)
    return page_text(options.title or "rnngraph", levels, data, 0)


def _side_data(graph: nx.MultiDiGraph, options: RenderOptions, found) -> dict:
    """Return one side's page data, laid out in the page and opened readable."""
    from .scene import initial_open, scene_data  # noqa: PLC0415

    options = _stacked(graph, options)
    scene = scene_data(graph, options, sorted(graph.nodes))
    data = page_data(graph, [], structures(graph, found), options)
    data["scene"] = scene
    data["open"] = initial_open(scene, _wanted_scopes(graph, found))
    data["start"] = _start_node(graph, found)
    data["gates"] = _gate_nodes(graph, found)
    return data


def _pane(side: str, title: str) -> str:
    return (f'<section class="rg-pane" id="rg-pane-{side}">\n<div class="rg-bar">'
            f'<span class="rg-side" title="{html.escape(title)}">{side.upper()}: '
            f"{html.escape(title.split(chr(10))[0])}</span>"
            '<input class="rg-search" type="search" placeholder="search (/)" autocomplete="off" '
            'spellcheck="false"><span class="rg-crumbs"></span>'
            '<button type="button" class="rg-trace" disabled>trace inputs</button>'
            '<button type="button" class="rg-clear">clear</button>'
            '<button type="button" class="rg-fit">fit</button>'
            '<span class="rg-status" role="status"></span></div>\n'
            '<div class="rg-view" tabindex="0"></div>\n'
            '<div class="rg-panel"><p class="rg-hint">Click a box for its details; a recognised part '
            "(cell, kernel, input split, loop) highlights its partner in the other graph.</p></div>\n"
            "</section>\n")


def render_compare(graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph, title_a: str, title_b: str,
                   options_a: Optional[RenderOptions] = None,
                   options_b: Optional[RenderOptions] = None, extra_links: tuple = (),
                   open_scopes: Optional[tuple] = None) -> tuple:
    """Return ``(page, links)``: both graphs side by side, recognised parts linked.

    ``links`` are :func:`rnngraph.draw.pair.links` (node names) plus
    ``extra_links`` (``rnngraph diff``: matched nodes); the page holds them as
    node indices of each side.  ``open_scopes``: (scopes of A, scopes of B)
    to open instead of the readable default.
    """
    from ..recognise import recognise  # noqa: PLC0415
    from .pair import links as find_links  # noqa: PLC0415

    found_a, found_b = recognise(graph_a), recognise(graph_b)
    linked = find_links(graph_a, found_a, graph_b, found_b) + list(extra_links)
    index_a = {n: i for i, n in enumerate(sorted(graph_a.nodes))}
    index_b = {n: i for i, n in enumerate(sorted(graph_b.nodes))}
    page_links = [{"t": link["title"], "a": [index_a[n] for n in link["a"]],
                   "b": [index_b[n] for n in link["b"]]} for link in linked]
    data_a = _side_data(graph_a, options_a or RenderOptions(), found_a)
    data_b = _side_data(graph_b, options_b or RenderOptions(), found_b)
    if open_scopes is not None:
        for data, scopes in zip((data_a, data_b), open_scopes):
            data["open"] = sorted(set(scopes) & set(data["scene"]["scopes"]))
    heading = html.escape(f"{title_a.split(chr(10))[0]}  vs  {title_b.split(chr(10))[0]}")
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{heading} — rnngraph compare</title>\n<style>\n{_asset('viewer.css')}</style>\n"
        '</head>\n<body class="rg-compare">\n<header id="rg-bar">\n'
        f'<span id="rg-title">{heading}</span>\n'
        f'<span class="rg-hint">{len(linked)} linked part{"s" if len(linked) != 1 else ""}</span>\n'
        "</header>\n<main>\n" + _pane("a", title_a) + _pane("b", title_b) + "</main>\n"
        f'<script type="application/json" id="rg-data-a">{_json_for_script(data_a)}</script>\n'
        f'<script type="application/json" id="rg-data-b">{_json_for_script(data_b)}</script>\n'
        f'<script type="application/json" id="rg-links">{_json_for_script(page_links)}</script>\n'
        f"<script>\n{_engine_script()}</script>\n<script>\n{_asset('viewer.js')}</script>\n"
        f"<script>\n{_asset('compare.js')}</script>\n</body>\n</html>\n")
    return page, linked
