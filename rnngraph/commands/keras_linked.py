"""``--view linked``: one html page of a Keras file's layers, each opening to its traced ops."""

from __future__ import annotations

__all__ = ["check_linked_options", "load_linked", "linked_facts", "linked_lines", "write_linked"]


def check_linked_options(args) -> bool:
    """Return whether to draw the linked page; refuse the drawing options it does not take.

    Asked for by name (``--view linked``), those options are refused before anything is
    traced; as the html default, they choose the layer view instead.
    """
    from ..errors import UsageError  # noqa: PLC0415

    for flag, given in (("--full", args.full), ("--depth", args.depth is not None), ("--open", args.open),
                        ("--focus", args.focus), ("--overlay", args.overlay)):
        if given and args.view != "linked":
            return False
        if given:
            raise UsageError(f"{flag} does not apply to the linked Keras page (it opens on the "
                             f"layers); use --view ops for the op view alone")
    return True


def load_linked(args, load) -> tuple:
    """Return (GraphDef grouped by layer, kind, layer view, "linked") of ``args.file``.

    ``load(path)`` returns (GraphDef, kind) of the layer view (``inspect``'s reader).
    Where the linked page was not asked for by name (the html default) and the file cannot be
    traced (weights only, several inputs, Keras refuses it), return the layer view instead,
    "layers" last, and say why in one line.
    """
    import sys  # noqa: PLC0415

    from ..errors import RnnGraphError  # noqa: PLC0415
    from .keras_view import linked_view  # noqa: PLC0415

    if not check_linked_options(args):
        return (*load(args.file), None, "layers")
    layers = load(args.file) if args.view != "linked" else None  # a file rnngraph cannot read stops here
    try:
        graph_def, kind, model, _ = linked_view(args.file)
    except RnnGraphError as exc:
        if layers is None:
            raise
        print(f"rnngraph: {exc}; the page is the layer view only", file=sys.stderr)
        return (*layers, None, "layers")
    return graph_def, kind, model, "linked"


def linked_facts(model) -> dict:
    """Return {layer name: layer facts} of the file's top-level layers (the closed boxes' labels)."""
    from ..graphdef.keras_groups import layer_facts  # noqa: PLC0415

    return {layer.name: layer_facts(layer) for layer in model.layers}


def linked_lines(graph, model) -> list:
    """Return the summary lines of the linked page: layers drawn as boxes, layers with no op."""
    from ..graphdef.keras_groups import PLUMBING  # noqa: PLC0415

    heads = {name.split("/")[0] for name in graph.nodes}  # a layer's ops: "<layer>" or "<layer>/..."
    drawn = [layer.name for layer in model.layers if layer.name in heads]
    empty = [layer.name for layer in model.layers if layer.name not in heads]
    plumbing = sum(1 for name in graph.nodes if name.split("/")[0] not in drawn)
    lines = [f"linked page: {len(drawn)} Keras layers drawn as boxes that open to their ops "
             f"({', '.join(drawn)}); {plumbing} ops of {PLUMBING} (made by no layer) at the top level"]
    if empty:
        lines.append(f"  layers TensorFlow builds no op for: {', '.join(empty)}")
    return lines


def write_linked(graph, model, options, output: str) -> str:
    """Write the linked page to ``output``; return the path written."""
    from ..draw.keras_page import render_linked_html  # noqa: PLC0415
    from ..files import write_atomic  # noqa: PLC0415

    import dataclasses  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    title = (f"{Path(model.path).name} — {len(model.layers)} Keras layers, each opening to the ops "
             f"TensorFlow builds for it ({graph.number_of_nodes()} ops)")
    options = dataclasses.replace(options, title=title)
    return write_atomic(output, render_linked_html(graph, linked_facts(model), options))
