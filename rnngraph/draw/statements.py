"""DOT statements for one box and the edges between boxes, shared by ``dot.py`` and ``tile.py``.

Text only: nothing here lays out, runs Graphviz or writes files.
"""

from __future__ import annotations

import html
import re
import struct
import zlib
from collections import defaultdict
from typing import Iterable

import networkx as nx

from ..graphdef.names import display_text
from ..graphdef.walk import format_shape
from .inputs import input_name
from .layout import Layout, RenderOptions, slide_view
from .overlay import overlay_style, text_colour
from .roles import input_role, structure_labels
from .style import CATEGORIES, DEVICE_PALETTE, category_of

__all__ = ["visible_controls", "dot_quote", "html_escape", "format_value", "short_name", "scope_title", "const_text", "attr_lines",
           "node_tooltip", "devices_palette", "wrap_text", "op_summary", "group_statement",
           "box_statement", "merged_edges", "BACK_OPS", "MAX_ATTR_TEXT", "bounded_text",
           "bounded_list", "graphviz_title", "shown_quote", "MAX_TEXT", "box_category", "legend_categories",
           "EDGE_STYLES", "LOOP_IO_KINDS", "note_statements", "edge_styles", "group_rows", "GROUP_ROWS"]

BACK_OPS = ("NextIteration", "RefNextIteration")
MAX_ATTR_TEXT = 80


MAX_TEXT = 4000  # characters of one label or tooltip (Graphviz: 16,384 per quoted string)
MAX_LINES = 60  # lines of one label or tooltip
MAX_LIST = 20  # items listed in a tooltip line before "… and 1,150 more"
_QUOTED_PIECE = 16000  # Graphviz's lexer refuses a quoted string longer than 16,384
# C0 controls (but tab and newline), DEL and NUL cannot go into DOT or XML: show them as the
# Unicode control pictures (U+2400...), which keeps them visible and the output valid.
_CONTROLS = {code: chr(0x2400 + code) for code in range(32) if code not in (9, 10)}
_CONTROLS[127] = "\u2421"
_SURROGATES = re.compile("[\ud800-\udfff]")
_C1 = {code: "\ufffd" for code in range(0x80, 0xa0)}  # C1 controls (0x9b is a terminal CSI)
_C1.update({0xFFFE: "\ufffd", 0xFFFF: "\ufffd"})  # not XML characters: an SVG holding one is invalid
# Bidirectional embeddings, overrides and isolates would reorder a label or a line of text.
_C1.update({code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                         0x200E, 0x200F, 0x061C)})


def visible_controls(text) -> str:
    """Return ``text`` with control characters as visible symbols (tab and newline kept).

    Safe to print on a terminal: no escape sequence of a hostile file reaches it.
    """
    return _SURROGATES.sub("\ufffd", str(text).translate(_CONTROLS).translate(_C1))


def bounded_text(text, limit: int = MAX_TEXT, max_lines: int = MAX_LINES) -> str:
    """Return ``text`` valid in DOT, SVG and HTML whatever bytes the file held, and short.

    Control characters become visible symbols, lone surrogates U+FFFD; past ``max_lines``
    lines or ``limit`` characters the text is cut with "… and N more lines/characters" and
    a short checksum of the whole, so two long names cut alike stay distinct.
    """
    text = visible_controls(text)
    if len(text) <= limit and text.count("\n") < max_lines:
        return text
    checksum = f"#{zlib.crc32(text.encode('utf-8')):08x}"
    lines = text.split("\n")
    tail = ""
    if len(lines) > max_lines:
        tail = f"\n… and {len(lines) - max_lines:,} more lines ({checksum})"
        text = "\n".join(lines[:max_lines])
    if len(text) > limit:
        tail = f"… and {len(text) - limit:,} more characters ({checksum})" + tail
        text = text[:limit]
    return text + tail


def bounded_list(items: list, limit: int = MAX_LIST) -> list:
    """Return the first ``limit`` items, then "… and N more" when there are more."""
    items = list(items)
    if len(items) <= limit:
        return items
    return items[:limit] + [f"… and {len(items) - limit:,} more"]


def _dot_escaped(text: str) -> str:
    # Graphviz reads "&name;" entities in every string, and "\\x" escapes in labels and
    # tooltips; "&amp;" and "\\\\" keep both literal.
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
            .replace("\n", "\\n"))


def dot_quote(text: str) -> str:
    """Return ``text`` as a quoted DOT string (newlines become ``\\n``), bounded and valid.

    See :func:`bounded_text`; a long result is split into pieces joined by DOT's ``+``
    (escapes are per character, so cutting the text first never cuts an escape).
    """
    text = bounded_text(text)
    escaped = _dot_escaped(text)
    if len(escaped) <= _QUOTED_PIECE:
        return f'"{escaped}"'
    step = _QUOTED_PIECE // 5  # "&amp;" is the longest escape
    return " + ".join(f'"{_dot_escaped(text[i:i + step])}"' for i in range(0, len(text), step))


def shown_quote(text: str) -> str:
    """Return text shown to people (a label, a tooltip, a note) as a quoted DOT string: keys of
    function-body nodes in it by their display names (ids stay :func:`dot_quote` of the key)."""
    return dot_quote(display_text(text))


def graphviz_title(text: str) -> str:
    """Return the title Graphviz writes (HTML-unescaped) for a box named ``dot_quote(text)``.

    Graphviz keeps a node name's backslashes and entities as written, except ``\\"``.
    """
    escaped = _dot_escaped(bounded_text(text))
    return html.unescape(re.sub(r'\\(.)', lambda m: m.group(1) if m.group(1) == '"' else m.group(0),
                                escaped, flags=re.S))


def html_escape(text: str) -> str:
    """Return ``text`` (bounded, see :func:`bounded_text`) escaped for a Graphviz HTML label."""
    return (bounded_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _float32_text(value: float) -> str:
    """Return the shortest text of ``value`` that reads back as the same float32.

    Constants are float32 (a .tflite's vectors, a GraphDef's float_val) but reach the label as
    doubles: -0.23744353652000427 is -0.23744354 in float32.
    """
    if value != value or value in (float("inf"), float("-inf")):
        return repr(value)
    want = struct.pack("<f", value) if abs(value) <= 3.4e38 else None
    for digits in range(1, 10):
        text = repr(float(f"{value:.{digits}g}"))
        if want is not None and struct.pack("<f", float(text)) == want:
            return text
    return repr(value)


def format_value(value, limit: int = 24) -> str:
    """Return a short text for a small constant value."""
    text = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, list) and value and all(type(v) is float for v in value):
        text = "[" + ",".join(_float32_text(v) for v in value) + "]"
    text = text.replace(", ", ",")
    if isinstance(value, float):
        text = f"{value:g}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_name(name: str) -> str:
    return name.rpartition("/")[2] or name


def scope_title(scope: str) -> str:
    """Return the heading of a scope's box: its last part; an expanded function's body or cond
    (a key part ending in walk's reserved "::") is titled as the function it is."""
    part = short_name(scope)
    return f"{part[:-2]} (function)" if part.endswith("::") and len(part) > 2 else part


def const_text(data: dict) -> str:
    value = data["attrs"].get("value")
    if isinstance(value, dict):
        shape = value.get("shape") or []
        if "value" in value and len(shape) <= 1:  # a matrix's first values tell nothing: its shape does
            return format_value(value["value"])
        if "value" in value and shape:
            return f"{format_shape(shape)} {value.get('dtype', '')}".strip()
        if "value" in value:
            return format_value(value["value"])
        return f"{format_shape(value.get('shape'))} {value.get('dtype', '')}".strip()
    return "const"


def attr_lines(data: dict) -> list:
    lines = []
    for key, value in data["attrs"].items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict) and "dtype" in value and "shape" in value:
            text = f"tensor {value['dtype']} {format_shape(value['shape'])}"
            if "value" in value:
                text += f" = {format_value(value['value'], 40)}"
        elif isinstance(value, str):
            text = bounded_text(value, 200, 1)  # e.g. a SavedModel's serialised config_proto
        else:
            text = format_value(value, MAX_ATTR_TEXT)
        lines.append(f"{key}: {text}")
    return lines


def node_tooltip(name: str, data: dict) -> str:
    lines = [name, f"op: {data['op']}"]
    if data.get("device"):
        lines.append(f"device: {data['device']}")
    if data.get("frame"):
        lines.append(f"while frame: {data['frame']}")
    if data.get("function"):
        lines.append(f"in function: {data['function']}")
    outs = [format_shape(o["shape"], o["dtype"]) + (f" {o['dtype']}" if o["dtype"] and o["dtype"] not in ("resource", "variant") else "")
            for o in data.get("outputs", [])]
    if outs:
        lines.append("outputs: " + ", ".join(bounded_list(outs)))
    lines.extend(attr_lines(data))
    return "\n".join(lines)


def devices_palette(graph: nx.MultiDiGraph, names: Iterable[str]) -> dict:
    devices = sorted({graph.nodes[n]["device"] for n in names if graph.nodes[n]["device"]})
    return {dev: DEVICE_PALETTE[i % len(DEVICE_PALETTE)] for i, dev in enumerate(devices)}


def wrap_text(text: str, width: int = 42) -> str:
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def op_summary(graph, members: list, limit: int = 3) -> tuple[str, dict]:
    ops: dict = defaultdict(int)
    for name in members:
        ops[graph.nodes[name]["op"]] += 1
    top = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in top), ops


def _ops(count: int) -> str:
    return "1 op" if count == 1 else f"{count} ops"


def group_statement(graph, layout: Layout, box: str, overlay=None) -> str:
    info, members = layout.group_info[box], layout.groups[box]
    if overlay is not None:  # measured values recolour the box; stacks also show the spread
        steps = None
        if info["kind"] == "stack":
            steps = [[m for m in members if layout.step_index.get(m) == t]
                     for t in range(info["first"], info["last"] + 1)]
        fill, note = overlay_style(overlay, members, steps)
        text = group_statement(graph, layout, box)
        text = re.sub(r'fillcolor="[^"]*"', f'fillcolor="{fill}", fontcolor="{text_colour(fill)}"',
                      text, count=1)
        return text.replace(', label="', ', label="' + dot_quote(note)[1:-1] + "\\n", 1) if note else text
    kind = info["kind"]
    if kind == "stack":
        per_step = info["per_step"]
        detail, ops = op_summary(graph, members[:per_step], limit=4)
        count = info["last"] - info["first"] + 1
        label = (f"{short_name(info['scope'])} × {count}\nsteps {info['first']}–{info['last']} "
                 f"of {info['total']}, {_ops(per_step)} each\n{detail}")
        tooltip = (f"{info['scope']}: {count} identical copies of the cell (steps {info['first']}–"
                   f"{info['last']}), checked op by op and input by input; each reads the same "
                   f"shared variables.\nOps per copy:\n"
                   + "\n".join(f"{op}: {n}" for op, n in sorted(ops.items()))
                   + "\nSee every copy with --full, or the first and last with --expand-ends.")
        return (f"{dot_quote(box)} [shape=box3d, style=filled, fillcolor=\"#c6dbef\", color=\"#2171b5\", "
                f"penwidth=1.5, label={shown_quote(label)}, tooltip={shown_quote(tooltip)}];")
    if kind == "series":
        label = f"{info['label']}\n{info['op']} ×{len(members)}"
        tooltip = f"{len(members)} {info['op']} ops in {info['cluster'] or 'the top scope'}:\n" + \
            "\n".join(members[:20]) + ("\n…" if len(members) > 20 else "")
        _, fill, border = CATEGORIES[category_of(info["op"])]
        return (f"{dot_quote(box)} [shape=box3d, style=filled, fillcolor=\"{fill}\", color=\"{border}\", "
                f"label={shown_quote(label)}, tooltip={shown_quote(tooltip)}];")
    if kind == "fold":
        detail, ops = op_summary(graph, members, limit=4)
        wrap = info["wrap"]  # lines longer than a third more than it are wrapped to it
        label = "\n".join([*(wrap_text(line, wrap) if len(line) > wrap * 4 // 3 else line
                             for line in info["label"].split("\n")),
                           f"{_ops(len(members))}: {detail}"])
        tooltip = f"{info['label']}\ndrawn as one box here:\n" + "\n".join(bounded_list(sorted(members)))
        return (f"{dot_quote(box)} [shape=box3d, style=filled, fillcolor=\"{GROUP_ROWS['fold'][1]}\", "
                f"color=\"#2171b5\", label={shown_quote(label)}, tooltip={shown_quote(tooltip)}];")
    scope = box[len("scope::"):]
    detail, ops = op_summary(graph, members)
    label = f"{short_name(scope)}\n{_ops(len(members))}\n{detail}"
    tooltip = f"{scope}: {_ops(len(members))} collapsed (use a larger --depth to open it)\n" + \
        "\n".join(f"{op}: {n}" for op, n in sorted(ops.items()))
    return (f"{dot_quote(box)} [shape=box3d, style=filled, fillcolor=\"#eeeeee\", "
            f"color=\"#616161\", label={shown_quote(label)}, tooltip={shown_quote(tooltip)}];")


def note_statements(box: str, text: str, beside: bool = False, width: int = 40,
                    before: bool = False) -> list:
    """Return the DOT statements of a focus note beside ``box``: just below it (``beside``: right of it).

    The leader is a short, heavy edge that keeps its ranking constraint, so Graphviz
    places each note under its own box (notes on their box's rank lined up in a row
    whose leaders crossed, and made focus views too wide for a slide).  ``before``: the
    leader runs from the note to the box (in a left-to-right drawing's column, dot then keeps
    the note next to its box rather than at the column's top).
    """
    note_id = f"note::{box}"
    ends = (note_id, box) if before else (box, note_id)
    lines = [f'{dot_quote(note_id)} [shape=note, style=filled, fillcolor="#fffbd6", color="#b8a200", '
             f"fontsize=10, label={shown_quote(wrap_text(text, width))}];",
             f"{dot_quote(ends[0])} -> {dot_quote(ends[1])} "
             '[style=dotted, arrowhead=none, color="#b8a200", weight=8, minlen=1];']
    if beside:  # a tall drawing: the note on its box's rank, right of it (a flat edge)
        lines.insert(1, f"{{rank=same; {dot_quote(box)}; {dot_quote(note_id)}}}")
    return lines


def _said(line: str) -> str:
    """Return a label line reduced to its words ("axis = 1" and "axis 1" say the same)."""
    return " ".join(line.replace("=", " ").replace(":", " ").split())


def box_category(graph, layout: Layout, box: str) -> str:
    """Return the colour category a node's box is drawn with (its role's, else its op's)."""
    role = layout.routing.roles.get(box)
    if role is not None and role.category:
        return role.category
    return category_of(graph.nodes[box]["op"], box)


def legend_categories(graph, layout: Layout) -> list:
    """Return the categories of the node boxes drawn, in :data:`CATEGORIES` order."""
    present = {box_category(graph, layout, b) for b in layout.boxes() if b not in layout.group_info}
    present |= {category_of(info["op"]) for info in layout.group_info.values()
                if info["kind"] == "series"}
    return sorted(present, key=list(CATEGORIES).index)


GROUP_ROWS = {"scope": ("name scope, closed (3-D box)", "#eeeeee"),
              "stack": ("identical step copies, stacked", "#c6dbef"),
              "fold": ("several ops drawn as one box (3-D)", "#deebf7")}


def group_rows(layout: Layout) -> list:
    """Return the legend rows (text, fill) of the grouped boxes drawn: closed scopes, stacks."""
    kinds = {layout.group_info[b]["kind"] for b in layout.boxes() if b in layout.group_info}
    return [GROUP_ROWS[k] for k in GROUP_ROWS if k in kinds]


EDGE_STYLES = {  # edge legend rows: (text, colour) by what marks the edge
    "control": ("- - -> control edge", "#9e9e9e"),
    "back": ("orange: loop back edge (next value)", "#d94801"),
    "loop_io": ("brown: into or out of the loop", "#8c510a"),
    "call": ("dotted: call / return", "#525252"),
    "step": ("blue loop: state to the next step", "#2171b5"),
}
LOOP_IO_KINDS = ("enter", "exit", "condition")


def edge_styles(merged: dict) -> list:
    """Return the :data:`EDGE_STYLES` keys the edges in ``merged`` use, in that order."""
    used = set()
    for a, b, control, kind, back in merged:
        if a == b:
            used.add("step")
        elif back:
            used.add("back")
        elif control:
            used.add("control")
        elif kind in LOOP_IO_KINDS:
            used.add("loop_io")
        elif kind in ("call", "return"):
            used.add("call")
    return [key for key in EDGE_STYLES if key in used]


def box_statement(graph, layout: Layout, box: str, options: RenderOptions, palette: dict) -> str:
    if box in layout.group_info:
        return group_statement(graph, layout, box, options.overlay)
    data = graph.nodes[box]
    short, op = short_name(box), data["op"]
    lines = [short] if short == op else [short, op]
    role = layout.routing.roles.get(box)
    if role is not None:  # a loop variable, a function argument or result, a caller
        lines = list(role.label)
        if slide_view(options):  # narrow boxes
            lines = [part for line in lines for part in wrap_text(line, 36).split("\n")]
    starts = "starts as " if role is not None else ""
    for index, const in sorted(layout.folded.get(box, [])):
        named = None if role is not None else (input_name(graph, box, index)  # a fused kernel's input
                                                 or input_role(graph, box, index))
        lines.append(f"{starts}{named or short_name(const)} = {const_text(graph.nodes[const])}")
    # A focus label can be long ("invariant: bound min(Shape(…)[0], …)"): wrapped, it keeps the box narrow.
    extra = wrap_text(options.labels[box], 20).split("\n") if box in options.labels \
        else structure_labels(graph).get(box, [])
    said = {_said(line) for line in lines}
    lines.extend(line for line in extra if line and _said(line) not in said)  # each fact once
    readers, sources = layout.aux.get(box, (0, 0))
    if readers:
        lines.append(f"read by {readers} ops (edges not drawn)")
    if sources:
        lines.append(f"collects from {sources} ops (edges not drawn)")
    waits_on, waited_by = layout.control_aux.get(box, (0, 0))[::-1]
    if waits_on:
        lines.append(f"runs after {waits_on} ops (control edges not drawn)")
    if waited_by:
        lines.append(f"runs before {waited_by} ops (control edges not drawn)")
    category = box_category(graph, layout, box)
    _, fill, border = CATEGORIES[category]
    if options.color_by == "device":
        fill = palette.get(data["device"], "#ffffff")
    if options.overlay is not None:
        fill, note = overlay_style(options.overlay, [box])
        if note:
            lines.append(note)
    tooltip = node_tooltip(box, data)
    if role is not None:
        tooltip = "\n".join([*role.tooltip, *(f"also drawn here: {n}" for n in layout.merged.get(box, [])),
                             tooltip])
    attrs = [f"label={shown_quote(chr(10).join(lines))}", f'fillcolor="{fill}"', f'color="{border}"',
             f"tooltip={shown_quote(tooltip)}"]
    if options.overlay is not None:
        attrs.append(f'fontcolor="{text_colour(fill)}"')
    if role is not None and role.shape:
        attrs.append(f"shape={role.shape}")
    elif category == "placeholder":
        attrs.append("shape=invhouse")
    elif category == "variable" and op in ("VarHandleOp", "VariableV2", "Variable"):
        attrs.append("shape=cylinder")
    elif op in ("Merge", "RefMerge", "Switch", "RefSwitch", "LoopCond"):
        attrs.append("shape=diamond" if op == "LoopCond" else "shape=hexagon")
    if data.get("missing"):
        attrs.append('style="dashed"')
    elif readers or sources or waits_on or waited_by:
        attrs.append('style="rounded,filled,dashed"')
    return f"{dot_quote(box)} [{', '.join(attrs)}];"


_ELEMENTWISE = frozenset({"Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum", "Identity"})


def _scalar_result(graph, node: str) -> bool:
    """Return whether an elementwise op of scalars (``time + 1`` in a v2 body) gives a scalar.

    Function bodies often leave such shapes unknown; the drawing then said "?" beside "scalar".
    """
    if graph.nodes[node]["op"] not in _ELEMENTWISE:
        return False
    ins = [d for _, _, k, d in graph.in_edges(node, keys=True, data=True)
           if not d["control"] and k >= 0]
    return bool(ins) and all(d["shape"] == [] for d in ins)


def merged_edges(graph, layout: Layout) -> dict:
    """Return {(box a, box b, control, kind, back): [edge data]} of the edges to draw."""
    merged: dict[tuple, list] = {}
    for src, dst, key, data in sorted(graph.edges(keys=True, data=True),
                                      key=lambda e: (e[1], e[2], e[0])):
        if src not in layout.box_of or dst not in layout.box_of:
            continue
        a, b = layout.box_of[src], layout.box_of[dst]
        if a == b and (not a.startswith("stack::")
                       or layout.step_index[src] == layout.step_index[dst]):
            continue
        aux = layout.control_aux if data["control"] else layout.aux
        if aux.get(a, (0, 0))[0] or aux.get(b, (0, 0))[1]:
            continue  # drawn once beside the graph, with a count instead of a fan of edges
        if (src, dst, key) in layout.routing.skip:
            continue  # drawn below as the loop / call it stands for
        back = graph.nodes[src]["op"] in BACK_OPS and a not in layout.group_info
        if data["shape"] is None and not data["control"] and _scalar_result(graph, src):
            data = dict(data, shape=[])
        merged.setdefault((a, b, data["control"], data["kind"], back), []).append(data)
    for src, dst, data in layout.routing.extra:  # never elided: they are the loop's structure
        if src in layout.box_of and dst in layout.box_of:
            a, b = layout.box_of[src], layout.box_of[dst]
            if a != b:
                merged.setdefault((a, b, False, data["kind"], data["back"]), []).append(data)
    return merged
