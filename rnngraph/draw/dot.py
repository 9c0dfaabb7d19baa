"""networkx graph -> DOT text, deterministically (same graph and options, same bytes).

Name scopes become nested clusters, edges carry tensor shapes, control edges
are dashed, while-loop back edges (NextIteration -> Merge) are drawn against
the flow so the loop reads as a loop, and nodes are coloured by kind or
device.  Nothing here runs Graphviz or writes files: see ``statements.py`` (shared with ``tile.py``) and ``output.py``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

import networkx as nx

from ..errors import UsageError
from ..graphdef.walk import format_shape
from ..recognise.auxiliary import hidden_line
from .inputs import edge_shapes
from .layout import (CLUSTER, COLOR_BY, TARGET_BOXES, Layout, RenderOptions, auxiliary_of, box_map,
                     count_boxes, plan_detail, slide_view)
from .statements import (EDGE_STYLES, LOOP_IO_KINDS, box_statement, devices_palette, dot_quote,
                         edge_styles, format_value, group_rows, html_escape, legend_categories,
                         merged_edges, note_statements, short_name, scope_title, shown_quote)
from .style import CATEGORIES

__all__ = ["RenderOptions", "to_dot", "format_shape", "format_value", "dot_quote",
           "COLOR_BY", "MAX_LAYOUT_BOXES", "TARGET_BOXES", "plan_detail", "count_boxes",
           "Drawing", "drawing", "box_map", "hidden_text"]

# Above this many boxes plain `dot` takes minutes; refuse instead of hanging.
MAX_LAYOUT_BOXES = 1500
MAX_CLUSTER_DEPTH = 200  # nested name scopes drawn as nested clusters, at most
# Edge labels are xlabels: placed after the layout, so they cost no rank of their own (a
# labelled edge doubles the space between ranks in dot; the figures were half empty rows).


def to_dot(graph: nx.MultiDiGraph, options: Optional[RenderOptions] = None) -> str:
    """Return the DOT text of ``graph`` drawn with ``options``."""
    options = options or RenderOptions()
    layout = Layout(graph, options)
    boxes = layout.boxes()
    if len(boxes) > MAX_LAYOUT_BOXES:
        raise UsageError(
            f"{len(boxes)} boxes is too many for Graphviz to lay out in reasonable time; "
            f"draw less with --depth N (e.g. --depth 1) or --focus")
    palette = devices_palette(graph, layout.box_of) if options.color_by == "device" else {}
    out = ["digraph rnngraph {"]
    rows = slide_view(options)  # compact: narrow notes, the legend in a row under the title
    graph_attrs = [f"rankdir={options.rankdir}", "compound=true", "newrank=true",
                   'fontname="Helvetica"', "fontsize=12", f"nodesep={0.1 if rows else 0.25}",
                   f"ranksep={(0.15 if options.rankdir == 'LR' else 0.2) if rows else 0.4}",
                   "labelloc=t", "labeljust=l"]
    if len(boxes) > 150:
        graph_attrs += ["nslimit=2", "mclimit=0.3", "searchsize=30"]
    if options.title:
        graph_attrs.append(f"label={shown_quote(options.title)}")
    out.append("  graph [" + ", ".join(graph_attrs) + "];")
    margin = "0.04,0.02" if rows else "0.08,0.03"  # a slide's boxes: text closer to the border
    out.append('  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, '
               f'height=0.3, margin="{margin}"];')
    out.append('  edge [fontname="Helvetica", fontsize=10, color="#555555", arrowsize=0.6];')

    # Nested clusters, one per name scope that holds something to draw.
    members: dict[str, list] = defaultdict(list)
    for box in boxes:
        members[_clip_scope(layout.cluster_of(box))].append(box)
    notes = {n: text for n, text in options.annotations.items() if layout.box_of.get(n) == n}
    for node, text in sorted(options.annotations.items()):  # a folded node's note: beside its box
        box = layout.box_of.get(node)
        if box in layout.group_info and layout.group_info[box]["kind"] == "fold":
            notes[box] = f"{notes[box]}\n\n{text}" if box in notes else text
    scopes = set()
    for scope in members:
        while scope:
            scopes.add(scope)
            scope = scope.rpartition("/")[0]
    children: dict[str, list] = defaultdict(list)
    beside = False
    if notes and options.focus_nodes is not None:  # tall views keep their notes on the side
        from .rows import notes_beside  # noqa: PLC0415

        beside = options.notes_beside if options.notes_beside is not None else rows or notes_beside(
            boxes, [(k[0], k[1]) for k in merged_edges(graph, layout)], notes)
    for scope in sorted(scopes):
        children[scope.rpartition("/")[0]].append(scope)

    def emit_boxes(scope: str, indent: str) -> None:
        for box in members.get(scope, []):
            out.append(indent + box_statement(graph, layout, box, options, palette))
            if box in notes:
                out.extend(indent + line for line in note_statements(
                    box, notes[box], beside, 28 if options.rankdir == "LR" else 40,
                    before=beside and options.rankdir == "LR"))

    # Depth first without recursion: a file may nest thousands of scopes.
    stack: list = [("", "", "open")]
    while stack:
        scope, indent, step = stack.pop()
        if step == "close":
            out.append(f"{indent}}}")
            continue
        inner = indent + "  "
        if scope:
            frame = _frame_label(graph, layout, scope)
            out.append(f"{indent}subgraph {dot_quote(CLUSTER + scope)} {{")
            label = scope_title(scope) + (f"\n{frame}" if frame else "")
            style = 'style="rounded,dashed"; color="#d94801"; bgcolor="#fff8f0"' if frame \
                else 'style=rounded; color="#9e9e9e"'
            out.append(f"{inner}label={shown_quote(label)}; {style}; fontsize=11;")
        emit_boxes(scope, inner)
        for child in reversed(children.get(scope, [])):
            stack.append((child, inner, "close"))
            stack.append((child, inner, "open"))
    merged = merged_edges(graph, layout)
    out.extend(_edge_statements(merged, len(boxes), graph, rows))
    if options.focus_nodes is not None and not rows:  # unconnected pieces stacked, not in one wide strip
        from .rows import column_edges  # noqa: PLC0415

        drawn = [(key[0], key[1]) for key in merged]
        for bottom, top in column_edges(boxes, drawn, notes):
            out.append(f"  {dot_quote(bottom)} -> {dot_quote(top)} [style=invis, weight=0];")
    for a, b in options.after:
        if layout.box_of.get(a) == a and layout.box_of.get(b) == b:
            out.append(f"  {dot_quote(a)} -> {dot_quote(b)} [style=invis];")
    if options.legend and rows:
        out.append(f"  graph [label={_legend(graph, layout, options, palette, merged, True)}];")
    elif options.legend:
        out.append(_legend(graph, layout, options, palette, merged))
    out.append("}")
    return "\n".join(out) + "\n"


def _clip_scope(scope: str) -> str:
    """Return ``scope`` cut to ``MAX_CLUSTER_DEPTH`` levels (Graphviz's parser runs out of
    stack near 3,000 nested clusters; deeper boxes are drawn in their deepest allowed cluster)."""
    if scope.count("/") < MAX_CLUSTER_DEPTH:
        return scope
    return "/".join(scope.split("/")[:MAX_CLUSTER_DEPTH])


def _frame_label(graph: nx.MultiDiGraph, layout: Layout, scope: str) -> str:
    """Return 'while loop frame X' when the scope holds a v1 loop's Enter nodes."""
    frames = graph.graph.get("frames", {})
    for frame in sorted(frames):
        if frame.rpartition("/")[0] == scope:
            return "while loop (frame " + short_name(frame) + ")"
    return ""


def _edge_statements(merged: dict, box_count: int, graph, rows: bool = False) -> list:
    label_key = "xlabel"
    lines = []
    for (a, b, control, kind, back), datas in sorted(merged.items()):
        attrs = []
        if rows and a in graph and graph.nodes[a]["op"] == "LoopCond":
            # Each loop variable's row runs Enter → Merge → Switch; the condition, read by
            # every Switch, would otherwise push the Switches three columns right.
            attrs.append("constraint=false")
        shapes = edge_shapes(graph, a, b, datas)
        count = f" ×{len(datas)}" if len(datas) > 1 and len(shapes) == 1 and ":" not in shapes[0] else ""
        if a == b:  # a stack of step copies: the state handed from each copy to the next
            text = " to the next step: " + ", ".join(shapes)
            attrs += [f"{label_key}={dot_quote(text)}", 'color="#2171b5"', "penwidth=1.6"]
        elif control:
            attrs += ["style=dashed", 'color="#9e9e9e"', "arrowhead=odot"]
        elif len(shapes) == 1:
            attrs.append(f"{label_key}={dot_quote(' ' + shapes[0] + count)}")
        elif shapes:
            attrs.append(f"{label_key}={dot_quote(f' {len(datas)} tensors')}")
        if len(datas) > 1 and a != b:
            attrs.append(f"penwidth={min(1 + 0.4 * (len(datas) - 1), 4):.1f}")
        if kind in ("call", "return"):
            attrs += ["style=dotted", 'color="#525252"']
            if kind == "return":
                attrs.append("constraint=false")
        elif kind in LOOP_IO_KINDS:  # a v2 loop's way in, out and its test
            attrs.append(f'color="{EDGE_STYLES["loop_io"][1]}"')
        if back:
            # Drawn from Merge down to NextIteration with the arrow at Merge, so the
            # loop body hangs between them and the edge visibly climbs back.
            attrs += ["dir=back", 'color="#d94801"', "penwidth=1.6"]
            lines.append(f"  {dot_quote(b)} -> {dot_quote(a)} [{', '.join(attrs)}];")
            continue
        lines.append(f"  {dot_quote(a)} -> {dot_quote(b)}" + (f" [{', '.join(attrs)}];" if attrs else ";"))
    return lines


def _legend(graph, layout: Layout, options: RenderOptions, palette: dict, merged: dict,
            across: bool = False) -> str:
    """Return the legend node's statement, or (``across``) the graph label: title, legend in a row."""
    rows = []
    if options.overlay is not None:
        from .overlay import legend_rows  # noqa: PLC0415

        rows = legend_rows(options.overlay)
    elif options.color_by == "device":
        for device, colour in palette.items():
            rows.append((device, colour))
        if any(not graph.nodes[n]["device"] for n in layout.box_of):
            rows.append(("(no device)", "#ffffff"))
    else:
        rows = [(CATEGORIES[c][0], CATEGORIES[c][1]) for c in legend_categories(graph, layout)]
        rows += group_rows(layout)
    cells = [f'<TD BGCOLOR="{colour}" ALIGN="LEFT">{html_escape(text)}</TD>'
             if colour else f'<TD ALIGN="LEFT"><I>{html_escape(text)}</I></TD>' for text, colour in rows]
    cells += [f'<TD ALIGN="LEFT"><FONT COLOR="{EDGE_STYLES[key][1]}">'
              f'{html_escape(EDGE_STYLES[key][0])}</FONT></TD>' for key in edge_styles(merged)]
    hidden = hidden_text(graph, options)
    if hidden:
        cells.append(f'<TD ALIGN="LEFT"><I>{html_escape(hidden)}</I></TD>')
    table = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
    if across:  # one row under the title: a column of its own would make the drawing taller
        title = "".join(f"{html_escape(line)}<BR ALIGN=\"LEFT\"/>" for line in options.title.split("\n"))
        return (f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD ALIGN="LEFT">{title}</TD></TR>'
                f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="10">{table}<TR><TD><B>legend</B></TD>'
                f'{"".join(cells)}</TR></TABLE></FONT></TD></TR></TABLE>>')
    return (f'  "legend::" [shape=plaintext, style="", fontsize=10, label=<{table}<TR><TD><B>legend</B>'
            f'</TD></TR>{"".join(f"<TR>{c}</TR>" for c in cells)}</TABLE>>];')


def hidden_text(graph: nx.MultiDiGraph, options: RenderOptions) -> str:
    """Return the line saying which auxiliary nodes ``options`` leaves out ("" if none)."""
    if options.show_init:
        return ""
    aux = auxiliary_of(graph)
    if options.focus_nodes is not None and not aux.nodes & options.focus_nodes:
        return ""
    return hidden_line(aux)


@dataclass(frozen=True)
class Drawing:
    """DOT text and the Graphviz program (and mode) that draws it."""

    dot: str
    engine: str = "dot"
    no_op: Optional[int] = None  # 2: positions fixed (neato -n2)


def drawing(graph: nx.MultiDiGraph, options: RenderOptions, full: bool = False) -> Drawing:
    """Return the Drawing of ``graph``; ``full`` draws every node, tiling unrolled copies."""
    if not full:
        return Drawing(to_dot(graph, options))
    from ..recognise.repeats import cached_unrolled  # noqa: PLC0415
    from .tile import TILE_ENGINE, TILE_NO_OP, tiled_dot  # noqa: PLC0415

    every = dataclasses.replace(options, group_steps=False, expand_ends=False, group_series=False,
                                depth=None)
    boxes = count_boxes(graph, every)
    if boxes > TARGET_BOXES and every.focus_nodes is None:
        text = tiled_dot(graph, every, cached_unrolled(graph))
        if text is not None:
            return Drawing(text, TILE_ENGINE, TILE_NO_OP)
    if boxes > MAX_LAYOUT_BOXES:
        raise UsageError(
            f"--full: {boxes} boxes and no repeated steps to tile, so Graphviz would not finish; "
            f"draw less with --depth N or --focus TOPIC")
    return Drawing(to_dot(graph, every))
