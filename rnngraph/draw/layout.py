"""What to draw: the drawing options, and which box shows each node.

Boxes are real nodes, constants folded into their consumer, collapsed
scopes (``scope::``), stacked step copies (``stack::``) and op series
(``series::``).  ``plan_detail`` picks the grouping and depth that keep a
big graph readable.  Pure: no Graphviz, no files.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from ..errors import UsageError
from ..recognise.auxiliary import Auxiliary, find_auxiliary
from .functional import routing

__all__ = ["RenderOptions", "Layout", "slide_view", "COLOR_BY", "TARGET_BOXES", "count_boxes", "box_map",
           "plan_detail", "scope_parent", "auxiliary_of", "CLUSTER"]

COLOR_BY = ("kind", "device")
# The id of a scope's cluster: DOT draws a subgraph named "cluster…" as a box; "::" keeps these
# ids, like "scope::", apart from every node name (graphdef.walk.RESERVED).
CLUSTER = "cluster::"
_AUXILIARY: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def auxiliary_of(graph: nx.MultiDiGraph) -> Auxiliary:
    """Return :func:`find_auxiliary` of ``graph``, found once per graph object."""
    found = _AUXILIARY.get(graph)
    if found is None or found[0] != graph.number_of_nodes():
        found = _AUXILIARY[graph] = (graph.number_of_nodes(), find_auxiliary(graph))
    return found[1]


@dataclass(frozen=True)
class RenderOptions:
    """How to draw a graph; every field has a default that gives the full view."""

    depth: Optional[int] = None  # collapse scopes deeper than this into one box
    show_consts: bool = False  # draw single-use constants instead of folding them
    color_by: str = "kind"  # "kind" or "device"
    focus_nodes: Optional[frozenset] = None  # draw only these nodes
    annotations: dict = field(default_factory=dict)  # node -> note text beside it
    labels: dict = field(default_factory=dict)  # node -> extra label line
    title: str = ""
    legend: bool = True
    rankdir: str = "TB"
    group_steps: bool = False  # stack identical unrolled cell copies into one box
    expand_ends: bool = False  # ...but draw the first and last copy in full
    group_series: bool = False  # op series (add, add_1, ...) as one box
    aux_threshold: Optional[int] = 12  # nodes with this many distinct neighbours drawn once, edges elided
    overlay: Optional[object] = None  # draw.overlay.Overlay: fill colours from measured values
    show_init: bool = False  # draw initializers, saver, summaries and unused constants too
    open_scopes: Optional[frozenset] = None  # else: scopes not in it collapse (see roles.story_scopes)
    folds: dict = field(default_factory=dict)  # "fold::…" box -> (members, label[, wrap]): one box for them
    notes_beside: Optional[bool] = None  # focus notes beside their box (None: from the drawing's shape)
    after: tuple = ()  # (node a, node b): b drawn at least a rank after a

    def __post_init__(self):
        if self.depth is not None and (isinstance(self.depth, bool) or not isinstance(self.depth, int)
                                       or self.depth < 0):
            raise UsageError(f"depth must be an integer >= 0, got {self.depth!r}")
        if self.color_by not in COLOR_BY:
            raise UsageError(f"unknown colouring {self.color_by!r} (choose one of: {', '.join(COLOR_BY)})")


def slide_view(options: RenderOptions) -> bool:
    """Return whether ``options`` draw a focus view made compact for a slide (one that folds ops)."""
    return options.focus_nodes is not None and bool(options.folds)


class Layout:
    """The boxes to draw: real nodes, folded constants and grouped boxes.

    Group boxes are collapsed scopes (``scope::``), stacked step copies
    (``stack::``) and op series (``series::``); ``groups`` maps each to its
    members and ``group_info`` to its label, tooltip and cluster.
    """

    def __init__(self, graph: nx.MultiDiGraph, options: RenderOptions):
        self.graph = graph
        self.options = options
        hidden = set() if options.show_init else auxiliary_of(graph).nodes
        nodes = sorted(n for n in graph.nodes if n not in hidden and (
            options.focus_nodes is None or n in options.focus_nodes))
        self.visible = set(nodes)
        self.box_of: dict[str, str] = {}
        self.groups: dict[str, list] = defaultdict(list)  # box id -> member nodes
        self.group_info: dict[str, dict] = {}
        self.step_index: dict[str, int] = {}  # stacked node -> its time step
        self.merged: dict[str, list] = defaultdict(list)  # box -> nodes folded into it (routing)
        if options.group_steps:
            self._stack_steps()
        for box, (members, label, *wrap) in sorted(options.folds.items()):
            inside = sorted(m for m in members if m in self.visible and m not in self.box_of)
            if inside:  # a focus view's "what this computes" box (a whole cell in the loop view)
                scope = _common_scope([self.node_scope(m) for m in inside])
                if all(n in members for n in self.visible if self.node_scope(n) == scope):
                    scope = scope_parent(scope)  # the fold is the whole scope: no box around it
                for name in inside:
                    self._join(box, name, kind="fold", cluster=scope, label=label,
                               wrap=wrap[0] if wrap else 30)
        opened = set(options.open_scopes or ())
        for name in nodes:
            if name in self.box_of:
                continue
            scope = self.node_scope(name)
            parts = scope.split("/") if scope else []
            if options.depth is not None and len(parts) > options.depth:
                box = "scope::" + "/".join(parts[: options.depth + 1])
                self._join(box, name, kind="scope", cluster=scope_parent(box[7:]))
            elif options.depth is None and options.open_scopes is not None and scope and \
                    scope not in opened:
                closed = next(p for p in _prefixes(scope) if p not in opened)
                self._join("scope::" + closed, name, kind="scope", cluster=scope_parent(closed))
            else:
                self.box_of[name] = name
        for box, members in list(self.groups.items()):  # a scope of one op is drawn as that op
            if self.group_info[box]["kind"] == "scope" and len(members) == 1:
                self.box_of[members[0]] = members[0]
                del self.groups[box], self.group_info[box]
        # Functional control flow: loop variables, branches and calls wired through their caller.
        self.routing = routing(graph, set(self.box_of))
        if options.group_series:
            self._group_series()
        entries = defaultdict(list)  # source -> the arguments it flows into instead of its caller
        for src, dst, data in self.routing.extra:
            if data["kind"] in ("enter", "argument"):
                entries[src].append(dst)
        # Constants read by one drawn node only are shown inside that node's label.
        self.folded: dict[str, list] = defaultdict(list)  # consumer -> [(input index, const)]
        if not options.show_consts:
            for name in nodes:
                data = graph.nodes[name]
                if data["op"] != "Const" or name in options.annotations or self.box_of[name] != name:
                    continue
                outs = list(graph.out_edges(name, keys=True, data=True))
                if len(outs) != 1 or outs[0][3]["control"]:
                    continue
                consumer, key = outs[0][1], outs[0][2]
                if (name, consumer, key) in self.routing.skip and len(entries[name]) == 1:
                    consumer, key = entries[name][0], 0  # the loop variable it starts
                if self.box_of.get(consumer) == consumer:
                    self.folded[consumer].append((key, name))
                    del self.box_of[name]
        for name, into in sorted(self.routing.merge.items()):
            if name in self.box_of and into in self.box_of:
                self.box_of[name] = self.box_of[into]
                if self.box_of[into] == into:
                    self.merged[into].append(name)
        self._sizes: Optional[dict] = None  # scope -> visible nodes in it (for lift)
        # The same for control edges: a frozen graph's NoOp waiting on every scope would
        # otherwise cross the whole drawing (ResNet50: 170 such edges, 120 s in dot).
        self.aux, self.control_aux = self._auxiliary()

    def _join(self, box: str, name: str, kind: str, cluster: str, **info) -> None:
        self.box_of[name] = box
        self.groups[box].append(name)
        self.group_info.setdefault(box, dict(kind=kind, cluster=cluster, **info))

    def _stack_steps(self) -> None:
        from ..recognise.repeats import cached_unrolled  # noqa: PLC0415

        unrolled = cached_unrolled(self.graph)
        if unrolled is None:
            return
        for run in unrolled.runs:
            first, last, members = run.first, run.last, run.members
            if self.options.expand_ends:
                first, last, members = first + 1, last - 1, members[1:-1]
            if len(members) < 2:
                continue
            box = f"stack::{run.scope}::{first}-{last}"
            cluster = scope_parent(run.scope)
            if self.options.depth is not None:
                cluster = "/".join(cluster.split("/")[: self.options.depth]) if cluster else ""
            for offset, step_nodes in enumerate(members):
                for name in step_nodes:
                    if name in self.visible:
                        self.step_index[name] = first + offset
                        self._join(box, name, kind="stack", cluster=cluster, scope=run.scope,
                                   first=first, last=last, per_step=len(step_nodes),
                                   total=unrolled.steps)

    def _group_series(self) -> None:
        from ..recognise.repeats import find_series  # noqa: PLC0415

        singles = [n for n, b in self.box_of.items() if b == n and n not in self.routing.structural]
        for series in find_series(self.graph, singles):
            box = f"series::{series.scope}::{series.base}::{series.op}"
            for name in series.members:
                self._join(box, name, kind="series", cluster=series.scope, label=series.label,
                           op=series.op)

    def _auxiliary(self) -> tuple:
        """Return ({box: (consumers, producers)} for boxes with very many distinct neighbours
        by data edges, the same by control edges), from one pass over the edges."""
        threshold = self.options.aux_threshold
        if not threshold:
            return {}, {}
        outs: tuple = (defaultdict(set), defaultdict(set))  # [control] -> box -> boxes
        ins: tuple = (defaultdict(set), defaultdict(set))
        box_of = self.box_of
        for src, dst, control in self.graph.edges(data="control"):
            a, b = box_of.get(src), box_of.get(dst)
            if a is not None and b is not None and a != b:
                outs[bool(control)][a].add(b)
                ins[bool(control)][b].add(a)
        structural = {box_of[n] for n in self.routing.structural if n in box_of}
        found = []
        for kind in (0, 1):
            aux = {}
            for box in sorted((set(outs[kind]) | set(ins[kind])) - structural):
                many_out = len(outs[kind][box]) >= threshold
                many_in = len(ins[kind][box]) >= threshold and box == box_of.get(box)
                if many_out or many_in:
                    aux[box] = (len(outs[kind][box]) if many_out else 0,
                                len(ins[kind][box]) if many_in else 0)
            found.append(aux)
        return found[0], found[1]

    def boxes(self) -> list:
        return sorted(set(self.box_of.values()))

    def node_scope(self, name: str) -> str:
        """Return the scope a node is drawn in: its own, but a constant TensorFlow made for one
        op (``rnn/strided_slice_1/stack``) is drawn in that op's scope, so it folds into its label."""
        data = self.graph.nodes[name]
        scope = data["scope"]
        if data["op"] == "Const" and scope in self.graph:
            return self.graph.nodes[scope]["scope"]
        return scope

    def cluster_of(self, box: str) -> str:
        """Return the scope whose cluster draws ``box`` (scopes of one box are not drawn)."""
        if box in self.group_info:
            return self.lift(self.group_info[box]["cluster"])
        return self.lift(self.node_scope(box))

    def lift(self, scope: str) -> str:
        """Return ``scope``, or the nearest scope holding it that draws more than one node."""
        if self._sizes is None:
            self._sizes = defaultdict(int)
            folded = set()
            for name, box in self.box_of.items():
                home = self.node_scope(name)
                if self.group_info.get(box, {}).get("kind") == "fold":  # one box, counted once
                    if box in folded:
                        continue
                    folded.add(box)
                    home = self.group_info[box]["cluster"]
                for part in _prefixes(home):
                    self._sizes[part] += 1
        while scope and self._sizes.get(scope, 0) <= 1:
            scope = scope.rpartition("/")[0]
        return scope


def _prefixes(scope: str) -> list:
    """Return "a", "a/b", ... for scope "a/b/..." (the scope itself last)."""
    if not scope:
        return []
    parts = scope.split("/")
    if len(parts) > 400:  # a hostile file's scopes thousands deep: count the outer ones only
        parts = parts[:400]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _common_scope(scopes: list) -> str:
    """Return the deepest scope holding every scope in ``scopes``."""
    parts = [s.split("/") if s else [] for s in scopes]
    common = []
    for column in zip(*parts):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    return "/".join(common)


def scope_parent(scope: str) -> str:
    """Return the scope that contains ``scope`` ("" at the top)."""
    return scope.rpartition("/")[0]


TARGET_BOXES = 300  # the default level of detail keeps the drawing around this size


def count_boxes(graph: nx.MultiDiGraph, options: RenderOptions) -> int:
    """Return how many boxes ``options`` would draw."""
    return len(Layout(graph, options).boxes())


def box_map(graph: nx.MultiDiGraph, options: RenderOptions) -> dict:
    """Return node -> id of the box that draws it (itself, a collapsed scope or a group)."""
    return dict(Layout(graph, options).box_of)


def plan_detail(graph: nx.MultiDiGraph, options: RenderOptions) -> tuple:
    """Return (options, summary) choosing grouping and depth so the drawing stays readable.

    Small graphs are drawn as they are (summary ""); big ones get their
    unrolled cell copies stacked, op series grouped and, if still too big,
    deep scopes collapsed, and the summary says what was done.
    """
    boxes = count_boxes(graph, options)
    if boxes <= TARGET_BOXES or options.focus_nodes is not None:
        return options, ""
    done = []
    from ..recognise.repeats import cached_unrolled  # noqa: PLC0415

    unrolled = cached_unrolled(graph)
    if unrolled is not None and unrolled.runs and not options.group_steps:
        options = dataclasses.replace(options, group_steps=True)
        stacked = sum(r.count for r in unrolled.runs)
        done.append(f"stacked {stacked} identical copies of {unrolled.runs[0].scope}")
        boxes = count_boxes(graph, options)
    if boxes > TARGET_BOXES and not options.group_series:
        options = dataclasses.replace(options, group_series=True)
        after = count_boxes(graph, options)
        if after < boxes:
            done.append("grouped op series")
        boxes = after
    if boxes > TARGET_BOXES and options.depth is None:
        deepest = max((len(d["scope"].split("/")) for _, d in graph.nodes(data=True) if d["scope"]),
                      default=0)
        # The deepest depth that fits: fewer boxes at a smaller depth, so a binary search
        # (a hostile file may nest scopes thousands deep; one layout per depth was quadratic).
        low, high, fits = 0, deepest - 1, None
        while low <= high:
            middle = (low + high) // 2
            count = count_boxes(graph, dataclasses.replace(options, depth=middle))
            if count <= TARGET_BOXES:
                fits, low = (middle, count), middle + 1
            else:
                high = middle - 1
        if fits is None and deepest:  # nothing fits: the shallowest view
            fits = (0, count_boxes(graph, dataclasses.replace(options, depth=0)))
        if fits is not None:
            options, boxes = dataclasses.replace(options, depth=fits[0]), fits[1]
        done.append(f"collapsed scopes deeper than {options.depth}")
    total = sum(1 for _, d in graph.nodes(data=True) if not d["missing"])
    summary = (f"{total} nodes drawn as {boxes} boxes: {', '.join(done)}; "
               f"see more with --depth N, --expand-ends or --full")
    return options, summary


