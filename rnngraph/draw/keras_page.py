"""The linked page of a Keras file: each Keras layer a closed box that opens to its ops.

The graph drawn is the traced op view with every op renamed under its Keras layer
(``graphdef/keras_groups.py``), so each layer is one top-level name scope.  The page is the
ordinary interactive page (same viewer, no new script); only the closed box and the frame of
each layer's scope are labelled with the layer's facts read from the file (class, units,
activations, flags, weight shapes), and the scopes inside a layer that the op view would open
(the loop, the cell) are marked open, so opening a layer shows its cell with the gates.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import networkx as nx

from .dot import RenderOptions
from .statements import dot_quote

__all__ = ["layer_label", "render_linked_html", "linked_scopes"]

_FILL, _BORDER = "#dbe9f6", "#2171b5"  # Keras layers: blue, unlike the grey of a plain scope


def _shape(shape: list) -> str:
    return "×".join("?" if d is None else str(d) for d in shape) or "scalar"


def _headline(facts: dict) -> str:
    parts = [facts["class"]]
    if "units" in facts:
        parts.append(f"{facts['units']} unit{'s' if facts['units'] != 1 else ''}")
    if facts.get("activation") is not None:
        act = facts["activation"]
        if facts.get("recurrent_activation") is not None and facts["class"] != "SimpleRNN":
            act += f" / {facts['recurrent_activation']}"
        parts.append(act)
    if facts.get("merge_mode") is not None:
        parts.append(f"merge {facts['merge_mode']}")
    if facts.get("mask_value") is not None:
        parts.append(f"mask_value {facts['mask_value']}")
    return ", ".join(parts)


def layer_label(facts: dict, ops: Optional[int] = None) -> list:
    """Return the lines of a Keras layer's closed box, every value from :func:`layer_facts`."""
    lines = [facts["name"], _headline(facts)]
    if facts["flags"]:
        lines.append(" ".join(facts["flags"]))
    if facts["weights"]:
        lines.append(", ".join(f"{n} {_shape(s)}" for n, s in facts["weights"]))
    for inner in facts["inner"]:
        lines.append(f"{inner['name']}: {_headline(inner)}" + (f"; {' '.join(inner['flags'])}"
                                                             if inner["flags"] else ""))
        if inner["weights"]:
            lines.append("  " + ", ".join(f"{n} {_shape(s)}" for n, s in inner["weights"]))
    if ops is not None:
        lines.append(f"{ops} op{'s' if ops != 1 else ''} — click to open")
    return lines


def linked_scopes(graph: nx.MultiDiGraph) -> list:
    """Return the top-level name scopes of the grouped graph (one per Keras layer that made ops)."""
    return sorted({d["scope"].split("/")[0] for _, d in graph.nodes(data=True) if d["scope"]})


def render_linked_html(graph: nx.MultiDiGraph, facts: dict, options: Optional[RenderOptions] = None) -> str:
    """Return the linked page: layer boxes (``facts``: {layer name: layer_facts}) over their ops."""
    from .html import interactive_data, page_text  # noqa: PLC0415

    options = dataclasses.replace(options or RenderOptions(), depth=None)
    data = interactive_data(graph, options, stack_steps=False)  # unrolled steps stay in their layer
    scopes = data["scene"]["scopes"]
    for scope in [s for s in linked_scopes(graph) if s in scopes and s in facts]:
        statement, head, count = scopes[scope]
        layer = facts[scope]
        tooltip = (f"Keras layer {scope} ({layer['class']}), read from the file; click to open the "
                   f"{count} ops TensorFlow builds for it")
        box = dot_quote("scope::" + scope)
        scopes[scope] = [f"{box} [shape=box3d, style=filled, fillcolor=\"{_FILL}\", color=\"{_BORDER}\", "
                         f"penwidth=1.5, label={dot_quote(chr(10).join(layer_label(layer, count)))}, "
                         f"tooltip={dot_quote(tooltip)}];",
                         f"label={dot_quote(scope + ' — Keras layer: ' + _headline(layer))}; "
                         f"style=rounded; color=\"{_BORDER}\"; fontsize=12;",
                         count]
    # every op's panel names its layer ("Part of"), with the facts the closed box showed
    for name, layer in sorted(facts.items()):
        members = [k for k, node in enumerate(data["nodes"]) if node["n"].split("/")[0] == name]
        if members:
            data["structures"].append({"title": f"Keras layer {name} ({layer['class']})",
                                       "text": "; ".join(layer_label(layer)[1:]) + " (read from the file)."})
            for k in members:
                data["nodes"][k]["s"].append(len(data["structures"]) - 1)
    # the scopes inside a layer that the op view opens stay marked open: opening the layer shows them
    data["open"] = sorted(s for s in data["open"] if "/" in s)
    data["gatesOnOpen"] = True  # viewer.js: opening the layer that holds the cell brings its gates in view
    return page_text(options.title or "rnngraph", [], data)
