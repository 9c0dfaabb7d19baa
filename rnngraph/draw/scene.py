"""What the page lays out in the browser: every box's DOT statement, the scopes, the edges.

The interactive page lays the graph out itself (Graphviz compiled to
WebAssembly), so any scope can be opened or closed where it stands.  Python
hands it the pieces the static drawing is made of, at full detail (stacked
step copies and op series as in the static drawing): one DOT statement per
box (``box_statement``, so colours, shapes, folded constants, auxiliary
nodes and fill colours set there show up unchanged), one collapsed box and
one cluster header per name scope, the edges between boxes with their
shapes, and the notes.  ``viewer.js`` picks the boxes of the scopes that are
open and assembles DOT with the same attributes ``dot.py`` writes.

Text only: nothing here runs Graphviz or writes files.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from typing import Iterable, Optional

import networkx as nx

from ..graphdef.walk import RESERVED, body_prefix
from .dot import hidden_text
from .inputs import edge_shapes
from .layout import CLUSTER, Layout, RenderOptions
from .statements import (EDGE_STYLES, GROUP_ROWS, box_statement, devices_palette, dot_quote,
                         edge_styles, graphviz_title, group_rows, group_statement,
                         legend_categories, merged_edges, note_statements, short_name, scope_title,
                         shown_quote)
from .style import CATEGORIES

__all__ = ["scene_data", "odd_ids", "initial_open", "displayed_box", "count_shown", "scope_chain",
           "function_roots", "READABLE_BOXES", "GRAPH_HEAD"]

READABLE_BOXES = 30  # about what fits a window with 10 px labels
# The graph, node and edge defaults of dot.py's drawings (the page adds nslimit etc. for big views).
GRAPH_HEAD = [
    '  graph [rankdir=TB, compound=true, newrank=true, fontname="Helvetica", fontsize=12, '
    'nodesep=0.25, ranksep=0.4, labelloc=t, labeljust=l];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, height=0.3, '
    'margin="0.08,0.03"];',
    '  edge [fontname="Helvetica", fontsize=10, color="#555555", arrowsize=0.6];',
]


def scope_chain(scope: str) -> list:
    """Return the scopes from the outermost to ``scope`` itself ("a", "a/b", ...); [] for ""."""
    return list(_chain(scope))


@functools.lru_cache(maxsize=4096)
def _chain(scope: str) -> tuple:
    # Cached: initial_open asks for the same clusters' chains hundreds of times, and a hostile
    # file may nest scopes thousands deep (the chain is then megabytes of text).
    if not scope:
        return ()
    ends, at = [], scope.find("/")
    while at >= 0:
        ends.append(at)
        at = scope.find("/", at + 1)
    return tuple(scope[:end] for end in ends) + (scope,)


def displayed_box(box: str, cluster: str, open_scopes: set) -> str:
    """Return the box that shows ``box`` (in ``cluster``) when only ``open_scopes`` are open.

    Stacked step copies stay a box of their own (in the deepest open scope), as in ``dot.py``.
    """
    if box.startswith("stack::"):
        return box
    for scope in _chain(cluster):
        if scope not in open_scopes:
            return "scope::" + scope
    return box


class _Collapsed:
    """The two fields of a Layout that ``group_statement`` reads, for one collapsed scope."""

    def __init__(self, box: str, members: list):
        self.group_info = {box: {"kind": "scope"}}
        self.groups = {box: members}


def _frame_label(graph: nx.MultiDiGraph, scope: str) -> str:
    for frame in sorted(graph.graph.get("frames", {})):
        if frame.rpartition("/")[0] == scope:
            return "while loop (frame " + short_name(frame) + ")"
    return ""


def _cluster_head(graph: nx.MultiDiGraph, scope: str) -> str:
    """Return the label and style lines of the cluster of ``scope``, as ``dot.py`` writes them."""
    frame = _frame_label(graph, scope)
    label = scope_title(scope) + (f"\n{frame}" if frame else "")
    style = 'style="rounded,dashed"; color="#d94801"; bgcolor="#fff8f0"' if frame \
        else 'style=rounded; color="#9e9e9e"'
    return f"label={shown_quote(label)}; {style}; fontsize=11;"


def function_roots(graph: nx.MultiDiGraph) -> dict:
    """Return {calling node: [[role, body scope, function name], ...]} of the expanded functions."""
    roots: dict = defaultdict(dict)
    for name, data in graph.nodes(data=True):
        caller = data.get("parent_op")
        if not caller or not name.startswith(caller + "/"):
            continue
        role = name[len(caller) + 1:].split("/")[0].removesuffix(RESERVED)
        roots[caller].setdefault(role, [role, body_prefix(caller, role)[:-1], data["function"]])
    return {caller: sorted(found.values()) for caller, found in sorted(roots.items())}


def _legend_rows(graph: nx.MultiDiGraph, layout: Layout, options: RenderOptions,
                 palette: dict) -> list:
    """Return [[text, colour]] of the fill colours used, as ``dot.py``'s legend lists them."""
    if options.color_by == "device":
        rows = [[device, colour] for device, colour in palette.items()]
        if any(not graph.nodes[n]["device"] for n in layout.box_of):
            rows.append(["(no device)", "#ffffff"])
        return rows
    rows = [[CATEGORIES[c][0], CATEGORIES[c][1]] for c in legend_categories(graph, layout)]
    rows += [list(row) for row in group_rows(layout)]
    if any(scope_chain(layout.cluster_of(b)) for b in layout.boxes()):  # scopes the page closes
        rows.append(list(GROUP_ROWS["scope"]))
    return list(map(list, dict.fromkeys(map(tuple, rows))))


def scene_data(graph: nx.MultiDiGraph, options: RenderOptions, names: list) -> dict:
    """Return the page's layout material for ``graph`` drawn with ``options`` at full depth.

    ``names`` is the page's node order: ``node`` maps each to the index of the
    box that draws it at full depth (-1: not drawn).  Boxes are
    ``[id, statement, cluster, extra statements]``; ``scopes`` maps each name
    scope to ``[collapsed box statement, cluster header, member count]``;
    ``edges`` are ``[box a, box b, control, kind, back, [shapes], count]``;
    ``folded`` maps a single-use constant's box to its consumer's and
    ``folds`` a consumer's box to ``[[constant boxes], [statement per subset
    folded]]`` (see :func:`_fold_statements`); ``ids`` is :func:`odd_ids` of
    the boxes, collapsed scopes, clusters and notes.
    """
    leaf = dataclasses.replace(options, depth=None, open_scopes=None)  # the page opens and closes them
    layout = Layout(graph, leaf)
    palette = devices_palette(graph, layout.box_of) if leaf.color_by == "device" else {}
    folded_into = {const: consumer for consumer, items in layout.folded.items() for _, const in items}
    # Folded constants are boxes too: drawn in their consumer's label while both are shown, as a
    # box of their own (or inside their collapsed scope) otherwise, as dot.py draws them at a depth.
    boxes = sorted(set(layout.boxes()) | set(folded_into))
    index = {b: i for i, b in enumerate(boxes)}
    notes = {n: text for n, text in leaf.annotations.items() if layout.box_of.get(n) == n}
    box_rows, folds = [], {}
    for box in boxes:
        extra = note_statements(box, notes[box]) if box in notes else []
        box_rows.append([box, box_statement(graph, layout, box, leaf, palette),
                         layout.lift(layout.node_scope(box)) if box in folded_into else layout.cluster_of(box),
                         "\n".join(extra)])
        if layout.folded.get(box):
            folds[str(index[box])] = _fold_statements(graph, layout, box, leaf, palette, index)
    node_box = [index[name] if name in folded_into else
                index.get(layout.box_of.get(name), -1) for name in names]
    members: dict = defaultdict(list)  # scope -> the visible nodes inside it, at any depth
    stacked = {n for box, info in layout.group_info.items() if info["kind"] == "stack"
               for n in layout.groups[box]}  # stacks are never collapsed into a scope
    for name in sorted(layout.visible - stacked):
        for scope in scope_chain(layout.node_scope(name)):
            members[scope].append(name)
    scopes = set()
    for box in boxes:
        scopes.update(scope_chain(layout.cluster_of(box)))
    scope_rows = {}
    for scope in sorted(scopes):
        box = "scope::" + scope
        statement = group_statement(graph, _Collapsed(box, members[scope]), box)
        scope_rows[scope] = [statement, _cluster_head(graph, scope), len(members[scope])]
    merged = dict(merged_edges(graph, layout))
    if folded_into:  # the edges of the folded constants, as drawn when they are boxes
        unfolded = Layout(graph, dataclasses.replace(leaf, show_consts=True))
        for key, datas in merged_edges(graph, unfolded).items():
            if key[0] in folded_into or key[1] in folded_into:
                merged.setdefault(key, datas)
    edges = []
    for (a, b, control, kind, back), datas in sorted(merged.items()):
        shapes = edge_shapes(graph, a, b, datas)
        edges.append([index[a], index[b], 1 if control else 0, kind, 1 if back else 0, shapes,
                      len(datas)])
    ids = boxes + [f"{prefix}{scope}" for scope in scope_rows for prefix in ("scope::", CLUSTER)]
    return {"head": GRAPH_HEAD, "boxes": box_rows, "scopes": scope_rows, "edges": edges,
            "ids": odd_ids(ids + [f"note::{box}" for box in notes]), "node": node_box,
            "legend": _legend_rows(graph, layout, leaf, palette),
            "edge_legend": [list(EDGE_STYLES[key]) for key in edge_styles(merged)],
            "hidden": hidden_text(graph, leaf),
            "functions": function_roots(graph), "folds": folds,
            "folded": {str(index[c]): index[b] for c, b in sorted(folded_into.items())}}


def odd_ids(ids: Iterable[str]) -> dict:
    """Return ``{id: [DOT spelling, Graphviz title]}`` of the ids DOT cannot take as ``"id"``.

    Names with ``\\``, ``"``, ``&``, control characters or too many characters
    are written by :func:`dot_quote` and come back in the SVG as
    :func:`graphviz_title` (the same functions ``dot.py`` and pre-rendered
    pages use); ``viewer.js`` writes every other id as ``"id"`` and reads its
    title as the id itself.
    """
    out = {}
    for name in sorted(set(ids)):
        quoted = dot_quote(name)
        if quoted != f'"{name}"':
            out[name] = [quoted, graphviz_title(name)]
    return out


_MAX_FOLDS = 4  # a statement for every subset of at most this many folded constants


def _fold_statements(graph, layout: Layout, box: str, options: RenderOptions, palette: dict,
                     index: dict) -> list:
    """Return ``[[const box indices], [statement per subset]]`` of a consumer's folded constants.

    Statement ``mask`` (bit j: constant j is folded now) lists just those
    constants in its label.  Beyond ``_MAX_FOLDS`` constants there are two:
    none folded, all folded.
    """
    items = sorted(layout.folded[box])
    masks = range(1 << len(items)) if len(items) <= _MAX_FOLDS else (0, (1 << len(items)) - 1)
    statements = []
    for mask in masks:
        layout.folded[box] = [item for j, item in enumerate(items) if mask >> j & 1]
        statements.append(box_statement(graph, layout, box, options, palette))
    layout.folded[box] = items
    return [[index[const] for _, const in items], statements]


def count_shown(scene: dict, open_scopes: set) -> int:
    """Return how many boxes are drawn with ``open_scopes`` open (folded constants not counted)."""
    boxes = scene["boxes"]
    shown = [displayed_box(b[0], b[2], open_scopes) for b in boxes]
    for const, consumer in scene["folded"].items():
        if shown[int(const)] == boxes[int(const)][0] and shown[consumer] == boxes[consumer][0]:
            shown[int(const)] = shown[consumer]
    return len(set(shown))


def initial_open(scene: dict, wanted: Iterable[str] = (), depth: Optional[int] = None,
                 budget: int = READABLE_BOXES) -> list:
    """Return the scopes open when the page opens, sorted.

    With ``depth``, every scope up to that depth.  Otherwise every scope in
    ``wanted`` (what the graph is about: the loops and the cells in them,
    with the scopes holding them) is opened, and the rest stays closed as
    labelled boxes (zero state, TensorArray plumbing...).  Without
    ``wanted``, scopes open breadth first while the view stays within
    ``budget`` boxes (or does not grow).  At most 400 are tried (a hostile
    file may nest scopes thousands deep).
    """
    known = scene["scopes"]
    if depth is not None:
        return sorted(s for s in known if len(s.split("/")) <= depth)
    wanted = [s for s in wanted if s in known][:400]
    if wanted:
        return sorted(set().union(*(_chain(s) for s in wanted)))
    opened: set = set()
    rest = sorted(known, key=lambda s: (s.count("/"), s))[:400]
    now = count_shown(scene, opened)
    for number, scope in enumerate(wanted + rest):
        trial = opened | set(_chain(scope))
        if trial == opened:
            continue
        count = count_shown(scene, trial)
        # within the budget, or no bigger than before (a scope of constants that fold away)
        if (number == 0 and wanted) or count <= max(budget, now):
            opened, now = trial, count
    return sorted(opened)
