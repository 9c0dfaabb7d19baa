"""Full-detail drawings of unrolled graphs in linear time: lay out one step, tile the copies.

Graphviz ``dot`` is superlinear (a 1,750-node static LSTM runs for minutes),
but an unrolled RNN is one subgraph repeated.  ``tiled_dot`` lays out the
reference step once with ``dot``, translates that layout to every identical
copy, lays out the remaining nodes (inputs, variables, zero state, outputs)
with ``dot`` on their own, and emits DOT with fixed positions that Graphviz
only has to draw (``neato -n2``, straight edges).  Copies that differ from
the reference are laid out on their own, so nothing is forced into a shape
that is not its own.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from typing import Optional

import networkx as nx

from ..errors import RenderError
from ..graphdef.walk import format_shape
from .statements import box_statement, devices_palette, dot_quote, merged_edges

__all__ = ["tiled_dot", "TILE_ENGINE", "TILE_NO_OP"]

TILE_ENGINE = "neato"
TILE_NO_OP = 2  # neato -n2: positions are given in points; only draw
_GAP = 36.0  # points between tiles
_EDGE_LABELS_UP_TO = 6000  # edges; beyond this shapes go to tooltips only


def _plain_positions(dot_text: str) -> tuple[dict, float, float]:
    """Return ({node: (x, y)}, width, height) in points from ``dot -Tplain``."""
    from .output import run_graphviz  # noqa: PLC0415

    plain = run_graphviz(dot_text, "plain").decode("utf-8", "replace")
    positions, width, height = {}, 0.0, 0.0
    plain = plain.replace("\\\n", "")  # Graphviz breaks long lines with a backslash-newline
    for line in plain.splitlines():
        parts = shlex.split(line)
        if not parts:
            continue
        if parts[0] == "graph":
            width, height = float(parts[2]) * 72, float(parts[3]) * 72
        elif parts[0] == "node":
            positions[parts[1]] = (float(parts[2]) * 72, float(parts[3]) * 72)
    return positions, width, height


def _sub_dot(statements: list, edges: list) -> str:
    head = ['digraph tile {', '  graph [rankdir=TB, nodesep=0.25, ranksep=0.4, nslimit=2, mclimit=0.3];',
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, '
            'height=0.3, margin="0.08,0.03"];']
    return "\n".join(head + statements + edges + ["}"]) + "\n"


def _with_pos(statement: str, x: float, y: float) -> str:
    return statement[:-2] + f', pos="{x:.1f},{y:.1f}!"];'


def tiled_dot(graph: nx.MultiDiGraph, options, unrolled) -> Optional[str]:
    """Return positioned DOT drawing every node of an unrolled graph, or None if it has no copies."""
    from .layout import Layout  # noqa: PLC0415

    if unrolled is None or not any(unrolled.matching):
        return None
    options = dataclasses.replace(options, group_steps=False, group_series=False, depth=None)
    layout = Layout(graph, options)
    palette = devices_palette(graph, layout.box_of) if options.color_by == "device" else {}
    statement = {box: box_statement(graph, layout, box, options, palette)
                 for box in layout.boxes()}
    merged = merged_edges(graph, layout)

    def step_boxes(t: int) -> list:
        return [n for n in unrolled.step_nodes[t] if layout.box_of.get(n) == n]

    tiles = {t: step_boxes(t) for t in range(unrolled.steps)}
    reference = tiles[unrolled.reference]
    in_tiles = {box for boxes in tiles.values() for box in boxes}

    def edges_within(boxes: set) -> list:
        return [f"  {dot_quote(a)} -> {dot_quote(b)};"
                for (a, b, control, kind, back) in sorted(merged) if a in boxes and b in boxes and a != b]

    ref_set = set(reference)
    ref_pos, tile_w, tile_h = _plain_positions(
        _sub_dot([statement[b] for b in reference], edges_within(ref_set)))
    rest = [b for b in layout.boxes() if b not in in_tiles]
    rest_pos, rest_w, rest_h = _plain_positions(
        _sub_dot([statement[b] for b in rest], edges_within(set(rest)))) if rest else ({}, 0.0, 0.0)

    # Tiles in rows, about as wide as tall overall; the rest above them.
    columns = max(1, math.ceil(math.sqrt(unrolled.steps * (tile_h + _GAP) / (tile_w + _GAP))))
    rows = math.ceil(unrolled.steps / columns)
    grid_h = rows * (tile_h + _GAP)
    positions = {box: (x, y + grid_h + _GAP) for box, (x, y) in rest_pos.items()}
    frames = []
    for t in range(unrolled.steps):
        row, column = divmod(t, columns)
        left = column * (tile_w + _GAP)
        bottom = grid_h - (row + 1) * (tile_h + _GAP)
        boxes = tiles[t]
        if unrolled.matching[t] and len(boxes) == len(reference):
            own = {box: ref_pos[ref] for box, ref in zip(boxes, reference)}
        else:  # a copy that differs: its own layout, scaled into the tile if needed
            own, w, h = _plain_positions(_sub_dot([statement[b] for b in boxes], edges_within(set(boxes))))
            scale = min(1.0, tile_w / max(w, 1.0), tile_h / max(h, 1.0))
            own = {b: (x * scale, y * scale) for b, (x, y) in own.items()}
        for box, (x, y) in own.items():
            positions[box] = (left + x, bottom + y)
        label = f"step {t}" + ("" if unrolled.matching[t] else " (differs from the other steps)")
        frames.append(
            f'  "tile::{t}" [shape=box, style="dashed,rounded", color="#9ecae1", fontcolor="#6baed6", '
            f'fontsize=9, label="{label}", labelloc=t, fixedsize=true, width={(tile_w + _GAP / 2) / 72:.2f}, '
            f'height={(tile_h + _GAP / 2) / 72:.2f}, pos="{left + tile_w / 2:.1f},{bottom + tile_h / 2:.1f}!"];')
    missing = [b for b in layout.boxes() if b not in positions]
    if missing:
        raise RenderError(f"tiled layout lost {len(missing)} boxes (e.g. {missing[0]}); use --depth instead")

    title = options.title + ("\n" if options.title else "") + \
        f"every node: {unrolled.steps} steps tiled from one laid-out copy"
    out = ["// rnngraph tiled layout: positions are fixed; draw with `neato -n2 -Tsvg`",
           "digraph rnngraph {",
           f'  graph [splines=false, outputorder=edgesfirst, overlap=true, fontname="Helvetica", '
           f'fontsize=12, labelloc=t, labeljust=l, label={dot_quote(title)}];',
           '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, '
           'height=0.3, margin="0.08,0.03"];',
           '  edge [fontname="Helvetica", fontsize=7, color="#555555", arrowsize=0.5];']
    out.extend(frames)
    for box in layout.boxes():
        out.append("  " + _with_pos(statement[box], *positions[box]))
    label_edges = len(merged) <= _EDGE_LABELS_UP_TO
    for (a, b, control, kind, back), datas in sorted(merged.items()):
        if a == b:
            continue
        shapes = sorted({format_shape(d["shape"], d["dtype"]) for d in datas if not d["control"]})
        attrs = []
        if control:
            attrs += ["style=dashed", 'color="#9e9e9e"']
        elif shapes:
            text = " " + ", ".join(shapes)
            attrs.append(f"{'label' if label_edges else 'tooltip'}={dot_quote(text)}")
        if back:
            attrs += ['color="#d94801"']
        out.append(f"  {dot_quote(a)} -> {dot_quote(b)}" + (f" [{', '.join(attrs)}];" if attrs else ";"))
    out.append("}")
    return "\n".join(out) + "\n"
