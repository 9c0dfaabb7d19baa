"""The Python API: ``rnngraph.build(...)`` and ``rnngraph.inspect(path)`` give a :class:`Graph`.

A :class:`Graph` holds the walked graph, finds recognised structures,
explains them, draws itself to a file and displays itself in Jupyter
(``_repr_html_``: the diagram as compact SVG with pan and zoom; ``page()``: the
interactive page, on request).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional, Union

import networkx as nx

from .errors import UsageError
from .model.spec import ModelSpec

__all__ = ["Graph", "Page", "build", "inspect", "keras_page", "FIND_TOPICS"]

# topic -> the Findings field listing it ("gates": the cells, whose gate_nodes say which is which)
FIND_TOPICS = {"while_loop": "while_loops", "tensor_array": "tensor_arrays", "cell": "cells",
               "gates": "cells", "concat": "concats", "strided_slice": "strided_slices",
               "sequence_length": "sequence_length"}
_SUFFIX_FORMATS = {"svg", "png", "pdf", "dot", "json", "html"}


class Graph:
    """A TensorFlow graph walked into networkx, with its recognised structures."""

    def __init__(self, graph: nx.MultiDiGraph, title: str, spec: Optional[ModelSpec] = None,
                 built: Any = None):
        self.networkx = graph
        self.title = title
        self.spec = spec
        self._built = built
        self._findings = None

    def __repr__(self) -> str:
        return f"<rnngraph.Graph {self.title!r}: {len(self.nodes)} nodes>"

    @property
    def nodes(self) -> list:
        """The node names, sorted."""
        return sorted(self.networkx.nodes)

    def op(self, name: str) -> str:
        """Return the op of node ``name``."""
        if name not in self.networkx:
            raise UsageError(f"no node {name!r} in this graph")
        return self.networkx.nodes[name]["op"]

    @property
    def findings(self):
        """Everything the recognisers found (computed once)."""
        if self._findings is None:
            from .recognise import recognise  # noqa: PLC0415

            self._findings = recognise(self.networkx)
        return self._findings

    def find(self, topic: str) -> list:
        """Return the recognised structures of ``topic`` (while_loop, cell, gates, concat, ...)."""
        if topic not in FIND_TOPICS:
            raise UsageError(f"unknown structure {topic!r} (choose one of: "
                             f"{', '.join(sorted(FIND_TOPICS))})")
        found = getattr(self.findings, FIND_TOPICS[topic])
        return [c for c in found if c.gates] if topic == "gates" else list(found)

    def explain(self, topic: str = "rnn") -> str:
        """Return ``rnngraph explain TOPIC`` for a built graph, or the structures found in a file."""
        if self.spec is not None:
            from .explain import explain, render_text  # noqa: PLC0415

            def build_again(spec):
                if spec == self.spec:
                    return self._built
                from .model.builder import build_graph  # noqa: PLC0415

                return build_graph(spec)

            return render_text(explain(topic, self.spec, build=build_again))
        from .draw.html import structures  # noqa: PLC0415

        words = {"rnn": "cell", "lstm": "cell", "gru": "cell", "while_loop": "while loop",
                 "tensor_array": "Tensor", "concat": "concat", "strided_slice": "strided_slice"}
        key = words.get(topic, topic).lower()
        found = [s for s in structures(self.networkx) if key in s["title"].lower()]
        if not found:
            return f"No {topic} recognised in {self.title}."
        from .graphdef.names import display_text  # noqa: PLC0415

        return display_text("\n\n".join(f"{s['title']}\n{s['text']}" for s in found)) + "\n"

    def options(self, focus: Optional[str] = None, depth: Optional[int] = None,
                color_by: str = "kind", annotate: bool = False):
        """Return the RenderOptions ``render`` uses (as ``rnngraph render`` chooses them)."""
        from .draw.dot import RenderOptions, plan_detail  # noqa: PLC0415

        title, focus_nodes, annotations, labels = self.title, None, {}, {}
        folds, rankdir, beside, after = {}, "TB", None, ()
        if focus or annotate:
            from .draw import focus as focus_views  # noqa: PLC0415

            view = focus_views.focus_view(self.networkx, focus) if focus \
                else focus_views.annotate_all(self.networkx)
            annotations, labels = view.annotations, view.labels
            if focus:
                focus_nodes = frozenset(view.nodes)
                title = f"{title}\nfocus: {focus}"
                folds, rankdir, beside = view.folds, view.rankdir, view.notes_beside
                after = tuple(view.after)
        options = RenderOptions(depth=depth, color_by=color_by, focus_nodes=focus_nodes,
                                annotations=annotations, labels=labels, title=title,
                                folds=folds, notes_beside=beside, after=after, rankdir=rankdir)
        return plan_detail(self.networkx, options)[0] if depth is None else options

    def render(self, path: Union[str, Path], fmt: Optional[str] = None, **options) -> str:
        """Draw the graph into ``path`` (format from ``fmt`` or the extension); return the path.

        ``options``: ``focus``, ``depth``, ``color_by``, ``annotate`` (see :meth:`options`).
        """
        from .files import write_atomic  # noqa: PLC0415

        fmt = fmt or Path(path).suffix.lower().lstrip(".")
        if fmt not in _SUFFIX_FORMATS:
            raise UsageError(f"cannot draw format {fmt!r} (choose one of: "
                             f"{', '.join(sorted(_SUFFIX_FORMATS))})")
        return write_atomic(path, self._drawn(fmt, self.options(**options)))

    def _drawn(self, fmt: str, options) -> Union[str, bytes]:
        from .draw.output import graph_json, run_graphviz  # noqa: PLC0415
        from .draw.dot import drawing  # noqa: PLC0415

        if fmt == "json":
            return graph_json(self.networkx)
        if fmt == "html":
            from .draw.html import render_html  # noqa: PLC0415

            return render_html(self.networkx, options)
        drawn = drawing(self.networkx, options)
        return drawn.dot if fmt == "dot" else run_graphviz(drawn.dot, fmt, drawn.engine, drawn.no_op)

    def _repr_html_(self) -> str:
        # The diagram as compact SVG with pan/zoom: well under the full page's 1 MB per output.
        from .notebook import notebook_html  # noqa: PLC0415

        return notebook_html(self._drawn("svg", self.options()).decode("utf-8"))

    def page(self, **options) -> "Page":
        """Return the interactive page (search, open scopes, structures) to display in Jupyter.

        ``options`` as for :meth:`render`.  It embeds the whole viewer (about 1 MB), so
        the default display is the diagram; ask for the page where it is needed.
        """
        chosen = self.options(**options)
        return Page(self._drawn("html", chosen), self._drawn("svg", chosen).decode("utf-8"))


class Page:
    """The interactive page of a graph, shown in Jupyter as a sandboxed iframe.

    ``svg``: its diagram, what an untrusted notebook shows instead (JupyterLab removes
    the iframe there).
    """

    def __init__(self, html_text: str, svg: str):
        self.html = html_text
        self.svg = svg

    def _repr_html_(self) -> str:
        from .notebook import page_iframe  # noqa: PLC0415

        return page_iframe(self.html, self.svg)


def build(kind: str = "dynamic", cell: str = "rnn", steps: int = 2, **fields) -> Graph:
    """Return the :class:`Graph` TensorFlow builds for this model (any ModelSpec field)."""
    from .model.builder import build_graph  # noqa: PLC0415 (imports TensorFlow)
    from .commands.render import title_of  # noqa: PLC0415
    from .graphdef.walk import walk  # noqa: PLC0415

    try:
        spec = ModelSpec(kind=kind, cell=cell, steps=steps, **fields)
    except TypeError as exc:
        names = ", ".join(f.name for f in dataclasses.fields(ModelSpec))
        raise UsageError(f"{exc} (ModelSpec fields: {names})") from None
    built = build_graph(spec)
    graph = walk(built)
    return Graph(graph, title_of(spec, graph), spec=spec, built=built)


def inspect(path: Union[str, Path]) -> Graph:
    """Return the :class:`Graph` stored in a .pb/.pbtxt/SavedModel/.meta/event file."""
    from .graphdef.walk import top_level_nodes, walk  # noqa: PLC0415
    from .graphdef.library import function_attrs  # noqa: PLC0415
    from .graphdef.loaders import load_graph_def  # noqa: PLC0415

    graph_def, kind = load_graph_def(path)
    graph = walk(graph_def)
    graph.graph["function_attrs"] = function_attrs(graph_def)  # Keras' api_implements pairs
    return Graph(graph, f"{Path(path).name} ({kind}) — {len(top_level_nodes(graph))} nodes")


def keras_page(path: Union[str, Path]) -> Page:
    """Return the linked page of a .keras/.h5 file: each Keras layer a closed box, opening to its ops.

    Keras loads the file in safe mode in a child process and its call is traced (TensorFlow
    needed); shown in Jupyter as the interactive page.  ``inspect --render PAGE.html`` writes it.
    """
    from .commands.keras_linked import linked_facts  # noqa: PLC0415
    from .commands.keras_view import linked_view  # noqa: PLC0415
    from .draw.dot import RenderOptions  # noqa: PLC0415
    from .draw.keras_page import render_linked_html  # noqa: PLC0415
    from .graphdef.walk import walk  # noqa: PLC0415

    graph_def, _, model, _ = linked_view(path)
    title = f"{Path(path).name} — Keras layers and the ops TensorFlow builds for them"
    layers = inspect(path)  # the layer view, read from the file: what an untrusted notebook shows
    return Page(render_linked_html(walk(graph_def), linked_facts(model), RenderOptions(title=title)),
                layers._drawn("svg", layers.options()).decode("utf-8"))
