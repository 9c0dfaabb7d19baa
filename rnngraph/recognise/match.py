"""Match the nodes of two graphs by structure: recognised parts first, then data flow, names last.

Pure: two walked graphs (and their findings) in, a :class:`Matching` out.

The order is the issue's (#23):

1. **Anchors** — what the recognisers found in both graphs: cells paired by
   kind in order (kernel, bias, MatMul, activation, every step copy), while
   loops in order (their loop variables' Enter/Merge/Switch/…/Exit),
   TensorArrays/TensorLists by role, sequence_length and dropout machinery.
2. **Structure** — every node gets Weisfeiler-Lehman subgraph hashes
   (:func:`networkx.weisfeiler_lehman_subgraph_hashes`, two rounds, on a
   simple directed copy whose edge labels are the output/input port numbers)
   over its full label (op, attributes with names normalised, output dtypes
   and shapes), and one op-only round (the op and its neighbours' ops by
   port) that survives changed shapes.  A hash held by exactly one node on
   each side pairs them.  WL was chosen because it is networkx's maintained,
   linear-time refinement: it fingerprints a node by its neighbourhood
   without any name, so renamed and reordered graphs hash alike.
3. **Data flow** — from every matched pair outward: the inputs at the same
   port, and the consumers with the same op at the same ports, pair when the
   choice is unique (ties broken by the structural hash, then the name).  This
   pairs the 1,000 identical step copies of a static RNN one by one, and the
   bodies of functions through their callers (a renamed function is matched
   like any other node: its name is not part of any label).
4. **Names** only to break ties, with counter suffixes (``_1``, ``lstm_1_1``,
   ``__inference_call_1234``) normalised by :func:`normalise_name`.
5. Last, a node whose only unmatched neighbour slot faces one unmatched node
   on the other side pairs with it even when the op differs (Tanh → Relu is a
   *changed* activation, not a removal and an addition).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

import networkx as nx

__all__ = ["Matching", "match_graphs", "recognise_parts", "normalise_name", "canonical_attrs", "node_changes", "CALL_OPS"]

_COUNTER = re.compile(r"_\d+(?=_|$)")
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\ufffd]")
_WORD = re.compile(r"[A-Za-z_][\w/.]*")
_BINARY_WORDS = 24
_WL_ITERATIONS = 2
# Attributes that carry names or bookkeeping, not behaviour: compared through the matching instead.
_NAME_ATTRS = {"shared_name", "container", "_class", "debug_name"}


@lru_cache(maxsize=1 << 17)
def normalise_name(name: str) -> str:
    """Return ``name`` with the counter suffix of every scope component removed.

    ``functional_1_1/lstm_1_1/MatMul_2`` and ``functional_1/lstm_1/MatMul``
    both become ``functional/lstm/MatMul``; ``__inference_call_1234`` becomes
    ``__inference_call``.
    """
    return "/".join(_COUNTER.sub("", part) or part for part in name.split("/"))


def _canon(value):
    """Return ``value`` with function names and names in strings normalised (for comparing)."""
    if isinstance(value, dict):
        if "function" in value:
            return {"function": "<function>",
                    **{k: _canon(v) for k, v in value.items() if k not in ("function", "name")}}
        return {k: _canon(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        items = [_canon(v) for v in value]
        # a list of names (a SaveV2's tensor_names) is compared as a set: its order follows names
        return sorted(items) if items and all(isinstance(i, str) for i in items) else items
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if _BINARY.search(value):
            # A serialised proto (a SavedModel's object graph): its length prefixes change with
            # the names in it, so compare the words it holds, names normalised; only the first
            # few, as the walk keeps a string's first KiB and names of other lengths move the cut.
            return [normalise_name(w) for w in _WORD.findall(value)[:_BINARY_WORDS]]
        return normalise_name(value)
    return value


def canonical_attrs(data: dict) -> dict:
    """Return a node's attributes as compared by the diff (names normalised, bookkeeping left out)."""
    return {k: _canon(v) for k, v in sorted(data["attrs"].items())
            if k not in _NAME_ATTRS and not k.startswith("_")
            and not (k == "index" and data["op"] in ("_Arg", "_Retval"))}  # by what they carry: see _call_args


def _outputs_key(data: dict) -> tuple:
    return tuple((o.get("dtype"), None if o.get("shape") is None else tuple(o["shape"]))
                 for o in data.get("outputs") or [])


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class Matching:
    """Which node of A is which node of B, and how each pair was found."""

    pairs: dict = field(default_factory=dict)  # node of A -> node of B
    how: dict = field(default_factory=dict)  # node of A -> "part" | "structure" | "flow" | "name" | "position"
    only_a: list = field(default_factory=list)  # removed: nodes of A with no partner
    only_b: list = field(default_factory=list)  # added: nodes of B with no partner
    suspects: frozenset = frozenset()  # nodes of A whose pair may differ (all others do not)

    @property
    def reverse(self) -> dict:
        return {b: a for a, b in self.pairs.items()}


class _Side:
    """One graph's lookup tables: labels, hashes, ports."""

    def __init__(self, graph: nx.MultiDiGraph):
        self.graph = graph
        self.op = {n: d["op"] for n, d in graph.nodes(data=True)}
        self.fine = {n: _digest(repr((d["op"], canonical_attrs(d), _outputs_key(d))))
                     for n, d in graph.nodes(data=True)}
        self.norm = {n: normalise_name(n) for n in graph.nodes}
        self.inputs: dict = defaultdict(dict)  # node -> {port: (src, src_output)}
        self.controls: dict = defaultdict(list)  # node -> [control source]
        self.consumers: dict = defaultdict(list)  # node -> [(dst, src_output, port)]
        self.waiters: dict = defaultdict(list)  # node -> [control destination]
        simple = nx.DiGraph()
        simple.add_nodes_from((n, {"fine": self.fine[n]})
                              for n, d in graph.nodes(data=True))
        ports: dict = defaultdict(list)
        self.args: dict = defaultdict(list)  # caller -> [(role, index, _Arg node)]
        calls = []
        for src, dst, key, data in graph.edges(keys=True, data=True):
            if data.get("kind") == "call":
                calls.append((src, dst, data.get("src_output", 0)))
                continue
            if data.get("control"):
                self.controls[dst].append(src)
                self.waiters[src].append(dst)
                ports[(src, dst)].append("^")
                continue
            self.inputs[dst][key] = (src, data.get("src_output", 0))
            self.consumers[src].append((dst, data.get("src_output", 0), key))
            output = "*" if self.op[src] in _UNORDERED_OUTPUTS else data.get("src_output", 0)
            port = "*" if self.op[dst] in _UNORDERED_INPUTS else key  # a signature's order
            ports[(src, dst)].append("return" if data.get("kind") == "return" else f"{output}>{port}")
        for src, dst, index in calls:
            # Which argument a body node reads is matched through the caller's inputs (a
            # function may take the same tensors in another order), not by its position; its
            # edge is labelled with what the caller passes there (a variable of that shape).
            role = dst[len(src) + 1:].partition("/")[0]
            self.args[src].append((role, index, dst))
            source = _arg_sources(self, src).get(index)
            ports[(src, dst)].append("call " + (self.fine[source[0]] if source else ""))
        simple.add_edges_from((s, d, {"port": ",".join(sorted(p))}) for (s, d), p in ports.items())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # networkx warns that directed hashes changed in 3.5
            fine = nx.weisfeiler_lehman_subgraph_hashes(
                simple, edge_attr="port", node_attr="fine", iterations=_WL_ITERATIONS,
                digest_size=8, include_initial_labels=True) if graph.number_of_nodes() else {}
        # The op-only fingerprint is one WL step, taken directly from the port tables (a second
        # networkx pass over a 17,000-node graph cost as much as reading the file).
        coarse = {}
        for n in graph.nodes:
            ins = sorted((port, self.op[src], out) for port, (src, out) in self.inputs.get(n, {}).items())
            outs = sorted((out, "*" if self.op[dst] in _UNORDERED_INPUTS else str(port), self.op[dst])
                          for dst, out, port in self.consumers.get(n, ()))
            coarse[n] = _digest(repr((self.op[n], ins, outs, len(self.controls.get(n, ())),
                                      len(self.waiters.get(n, ())))))
        self.levels = [{n: h[-1] for n, h in fine.items()},
                       {n: h[1] for n, h in fine.items()},
                       coarse]
        self.coarse_count = Counter(self.levels[2].values())


def _unique_twins(hashes_a: dict, hashes_b: dict) -> tuple:
    """Return ({a: b}, {b: a}) of nodes whose hash is held by exactly one node on each side."""
    groups_a, groups_b = defaultdict(list), defaultdict(list)
    for n, key in hashes_a.items():
        groups_a[key].append(n)
    for n, key in hashes_b.items():
        groups_b[key].append(n)
    ab = {groups_a[k][0]: groups_b[k][0] for k in groups_a.keys() & groups_b.keys()
          if len(groups_a[k]) == 1 and len(groups_b[k]) == 1}
    return ab, {b: a for a, b in ab.items()}


_RETURN_KEYS = -2000  # walk: edge keys of a function's results into its caller
_CONDITION_FIRST = {"If", "StatelessIf", "Case", "StatelessCase"}
CALL_OPS = {"StatefulPartitionedCall", "PartitionedCall"}
# Ops whose inputs (or outputs) come in the order of their names or of a function signature,
# which TensorFlow does not keep stable between two exports: compared as a set.
_UNORDERED_INPUTS = CALL_OPS | {"SaveV2", "RestoreV2"}
_UNORDERED_OUTPUTS = {"RestoreV2"}


def _arg_sources(side: "_Side", caller: str) -> dict:
    """Return {argument index: (source node, output)} of a caller (If/Case: input 0 is the condition)."""
    inputs = side.inputs.get(caller, {})
    ports = sorted(k for k in inputs if k >= 0)
    if side.op[caller] in _CONDITION_FIRST:
        ports = ports[1:]
    return {i: inputs[port] for i, port in enumerate(ports)}


class _Matcher:
    def __init__(self, graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph):
        self.a, self.b = _Side(graph_a), _Side(graph_b)
        self.a.unique0, self.b.unique0 = _unique_twins(self.a.levels[0], self.b.levels[0])
        self.ab: dict = {}
        self.ba: dict = {}
        self.how: dict = {}
        self.queue: list = []

    def pair(self, a: str, b: str, how: str) -> bool:
        if a in self.ab or b in self.ba or a not in self.a.op or b not in self.b.op:
            return False
        self.ab[a], self.ba[b], self.how[a] = b, a, how
        self.queue.append((a, b))
        return True

    def suspects(self) -> frozenset:
        """Return the matched nodes of A whose label or inputs differ from their partner's.

        A quick over-approximation (inputs by position) from the tables built
        for matching, so :func:`node_changes` need not look at every pair.
        """
        out = set()
        for a, b in self.ab.items():
            if self.a.fine[a] != self.b.fine[b]:
                out.add(a)
                continue
            ins_a, ins_b = self.a.inputs.get(a, {}), self.b.inputs.get(b, {})
            if len(ins_a) != len(ins_b) or any(
                    (self.ab.get(src), out_a) != ins_b.get(port) for port, (src, out_a) in ins_a.items()):
                out.add(a)
        return frozenset(out)

    def agree(self, a: str, b: str, sure: bool = False) -> bool:
        """True unless the structure contradicts pairing ``a`` with ``b``.

        Neither node may have an exact structural twin that is unique on both
        sides but is not the other.  Then, ``sure`` (the part is the only one
        of its kind on both sides): any op may pair (Tanh -> Relu is a changed
        activation).  Otherwise the op-only fingerprint must agree (attributes
        and shapes may differ: that is a change) and be held by no other node
        (step copies ordered by name are not told apart by a recogniser).
        """
        if a not in self.a.op or b not in self.b.op:
            return False
        if self.a.unique0.get(a, b) != b or self.b.unique0.get(b, a) != a:
            return False
        if sure:
            return True
        key = self.a.levels[2].get(a)
        return key == self.b.levels[2].get(b) and self.a.coarse_count[key] == 1 \
            and self.b.coarse_count[key] == 1

    def alike(self, a: str, b: str) -> bool:
        """True if two nodes of different ops could be one changed node: same inputs and output types."""
        da, db = self.a.graph.nodes[a], self.b.graph.nodes[b]
        return (len(self.a.inputs.get(a, ())) == len(self.b.inputs.get(b, ()))
                and [o.get("dtype") for o in da["outputs"]] == [o.get("dtype") for o in db["outputs"]])

    def _choose(self, cands_a: list, cands_b: list, how: str, names: bool = True) -> None:
        """Pair candidates that agree on a key when it leaves one node per side."""
        if len(cands_a) == 1 and len(cands_b) == 1:
            self.pair(cands_a[0], cands_b[0], how)
            return
        for index in range(len(self.a.levels)):
            by_a, by_b = defaultdict(list), defaultdict(list)
            for n in cands_a:
                by_a[self.a.levels[index].get(n)].append(n)
            for n in cands_b:
                by_b[self.b.levels[index].get(n)].append(n)
            done = False
            for key, group_a in by_a.items():
                group_b = by_b.get(key, [])
                if len(group_a) == 1 and len(group_b) == 1:
                    done |= self.pair(group_a[0], group_b[0], how)
            if done:
                return
        if names:
            self._by_name(cands_a, cands_b, how)

    def _by_name(self, cands_a: list, cands_b: list, how: str) -> None:
        names_b = defaultdict(list)
        for n in cands_b:
            names_b[self.b.norm[n]].append(n)
        names_a = defaultdict(list)
        for n in cands_a:
            names_a[self.a.norm[n]].append(n)
        for name, group_a in names_a.items():
            group_b = names_b.get(name, [])
            exact = [n for n in group_a if n in group_b and self.a.fine[n] == self.b.fine[n]]
            for n in exact:
                self.pair(n, n, how)
            group_a = [n for n in group_a if n not in self.ab]
            group_b = [n for n in group_b if n not in self.ba]
            if len(group_a) == 1 and len(group_b) == 1 and \
                    self.a.op[group_a[0]] == self.b.op[group_b[0]]:
                self.pair(group_a[0], group_b[0], how)

    def propagate(self, mode: str = "fine") -> None:
        """Pair inputs and consumers of every matched pair outward until nothing changes.

        ``mode`` says which neighbours may pair: "fine" the same full label (op,
        attributes, shapes), "op" the same op, "relaxed" also another op of the
        same inputs and output types.  Stricter first, so that a position
        (input 9 of a SaveV2 whose order follows the names) does not outvote
        what the nodes are.
        """
        a_side, b_side = self.a, self.b
        while self.queue:
            a, b = self.queue.pop()
            ins_a, ins_b = a_side.inputs.get(a, {}), b_side.inputs.get(b, {})
            for port, (src_a, out_a) in ins_a.items():
                if port <= _RETURN_KEYS:
                    continue  # a function's results pair through its body, not by position
                hit = ins_b.get(port)
                if hit is None or src_a in self.ab or hit[0] in self.ba or hit[1] != out_a:
                    continue
                if self._compatible(src_a, hit[0], mode):
                    self.pair(src_a, hit[0], "flow")
            self._call_args(a, b)
            if a_side.op[a] not in _UNORDERED_OUTPUTS:
                self._group(a_side.consumers.get(a, ()), b_side.consumers.get(b, ()), mode)
            # control edges say only "after": their many ends are not told apart by name
            self._group([(n, 0, 0) for n in a_side.controls.get(a, ())],
                        [(n, 0, 0) for n in b_side.controls.get(b, ())], mode, names=False)
            self._group([(n, 0, 0) for n in a_side.waiters.get(a, ())],
                        [(n, 0, 0) for n in b_side.waiters.get(b, ())], mode, names=False)

    def _compatible(self, a: str, b: str, mode: str) -> bool:
        if mode == "fine":
            return self.a.fine[a] == self.b.fine[b]
        return self.a.op[a] == self.b.op[b] or (mode == "relaxed" and self.alike(a, b))

    def again(self, mode: str) -> None:
        """Propagate from every pair found so far, now allowing ``mode``'s neighbours."""
        self.queue = list(self.ab.items())
        self.propagate(mode)

    def _call_args(self, a: str, b: str) -> None:
        """Pair the function arguments of matched callers by the matched tensors they receive."""
        args_a, args_b = self.a.args.get(a), self.b.args.get(b)
        if not args_a or not args_b:
            return
        sources_a, sources_b = _arg_sources(self.a, a), _arg_sources(self.b, b)
        by_source = defaultdict(list)
        for role, index, node in sorted(args_b):
            by_source[(role, sources_b.get(index))].append(node)
        positional = {(role, index): node for role, index, node in args_b}
        for role, index, node in sorted(args_a):
            if node in self.ab:
                continue
            source = sources_a.get(index)
            if source is not None and source[0] not in self.ab:
                continue  # which tensor it is is not known yet: again() comes back to it
            mapped = (self.ab[source[0]], source[1]) if source else None
            candidates = [n for n in by_source.get((role, mapped), []) if n not in self.ba]
            partner = candidates[0] if mapped and candidates else positional.get((role, index))
            if partner is not None and partner not in self.ba and (mapped is None or candidates):
                self.pair(node, partner, "flow")

    def _group(self, items_a, items_b, mode: str, names: bool = True) -> None:
        if not items_a or not items_b:
            return
        label_a = self.a.fine if mode == "fine" else self.a.op
        label_b = self.b.fine if mode == "fine" else self.b.op
        by_a, by_b = defaultdict(list), defaultdict(list)
        for n, out, port in items_a:
            if n not in self.ab:
                by_a[(out, port) if mode == "relaxed" else (label_a[n], out, port)].append(n)
        for n, out, port in items_b:
            if n not in self.ba:
                by_b[(out, port) if mode == "relaxed" else (label_b[n], out, port)].append(n)
        for key, group_a in by_a.items():
            group_b = by_b.get(key)
            if group_b:
                group_a, group_b = sorted(set(group_a)), sorted(set(group_b))
                if mode == "relaxed":
                    if len(group_a) == 1 and len(group_b) == 1 and self.alike(group_a[0], group_b[0]):
                        self.pair(group_a[0], group_b[0], "position")
                else:
                    self._choose(group_a, group_b, "flow", names)

    def by_key(self, index: int, names: bool = False) -> None:
        """Pair the unmatched nodes whose structural hash at ``levels[index]`` is unique on both sides.

        ``names``: instead, pair nodes of one hash held by several by their names; done after the
        unique ones have been propagated, so that what a unique pair reads is found by the flow
        (an Identity of a RestoreV2, told apart only by the variable it is assigned to).
        """
        groups_a, groups_b = defaultdict(list), defaultdict(list)
        for n, key in self.a.levels[index].items():
            if n not in self.ab:
                groups_a[key].append(n)
        for n, key in self.b.levels[index].items():
            if n not in self.ba:
                groups_b[key].append(n)
        for key in sorted(groups_a.keys() & groups_b.keys()):
            group_a, group_b = groups_a[key], groups_b[key]
            if len(group_a) == 1 and len(group_b) == 1:
                if not names:
                    self.pair(group_a[0], group_b[0], "structure")
            elif names:
                self._by_name(group_a, group_b, "name")

    def leftovers(self) -> None:
        """Pair nodes of identical structure that nothing tells apart (symmetric copies), in name order."""
        groups_a, groups_b = defaultdict(list), defaultdict(list)
        for n, key in self.a.levels[0].items():
            if n not in self.ab:
                groups_a[key].append(n)
        for n, key in self.b.levels[0].items():
            if n not in self.ba:
                groups_b[key].append(n)
        for key in sorted(groups_a.keys() & groups_b.keys()):
            ordered_a = sorted(groups_a[key], key=lambda n: (self.a.norm[n], n))
            ordered_b = sorted(groups_b[key], key=lambda n: (self.b.norm[n], n))
            free = iter(ordered_b)
            for x in ordered_a:
                if x in self.ab:
                    continue
                y = next((y for y in free if y not in self.ba), None)  # each of B looked at once
                if y is None:
                    break
                self.pair(x, y, "structure")
                self.propagate("op")  # pair what hangs off this copy before choosing the next


def _anchor_pairs(found_a, found_b) -> list:
    """Return [(node of A, node of B, sure)] of the recognised parts both graphs have.

    Only parts a graph has one of per recognised structure (a cell's kernel,
    bias, first MatMul, activation; a loop's condition; a TensorArray's
    handle): lists such as step copies are ordered by name, which a renaming
    changes, so they are left to the data flow.  ``sure``: the structure is
    the only one of its kind on both sides (one cell of that kind with one
    copy, one loop, one TensorArray of that role), so its parts pair even
    where their surroundings changed (a v1 frame against a v2 body).
    """
    out = []

    def add(x, y, sure):
        if x and y and isinstance(x, str) and isinstance(y, str):
            out.append((x, y, sure))

    for kind in sorted({c.kind for c in found_a.cells} & {c.kind for c in found_b.cells}):
        cells_a = [c for c in found_a.cells if c.kind == kind]
        cells_b = [c for c in found_b.cells if c.kind == kind]
        for ca, cb in zip(cells_a, cells_b):
            one = len(cells_a) == len(cells_b) == 1
            for attr in ("kernel", "bias", "recurrent_kernel"):
                add(getattr(ca, attr), getattr(cb, attr), one)  # one variable whatever the copies
            sure = one and len(ca.instances) <= 1 and len(cb.instances) <= 1
            for attr in ("matmul", "concat", "activation_node", "forget_bias_node"):  # per copy
                add(getattr(ca, attr), getattr(cb, attr), sure)
    sure = len(found_a.while_loops) == len(found_b.while_loops) == 1
    for la, lb in zip(found_a.while_loops, found_b.while_loops):
        if la.control_flow == lb.control_flow == "v2":
            add(la.name, lb.name, sure)
        add(la.loop_cond, lb.loop_cond, sure)
    for role in ("input", "output"):
        arrays_a = [t for t in found_a.tensor_arrays if t.role == role]
        arrays_b = [t for t in found_b.tensor_arrays if t.role == role]
        sure = len(arrays_a) == len(arrays_b) == 1
        for ta, tb in zip(arrays_a, arrays_b):
            for attr in ("name", "unstack", "stack"):
                add(getattr(ta, attr), getattr(tb, attr), sure)
    for sa, sb in zip(found_a.sequence_length, found_b.sequence_length):
        add(sa.compare, sb.compare, len(found_a.sequence_length) == len(found_b.sequence_length) == 1)
    for da, db in zip(found_a.dropout, found_b.dropout):
        for attr in ("mask", "select", "random"):
            add(getattr(da, attr), getattr(db, attr), len(found_a.dropout) == len(found_b.dropout) == 1)
    return out


def recognise_parts(G: nx.MultiDiGraph):
    """Return the :class:`Findings` the diff uses: cells, loops, TensorArrays, sequence_length, dropout.

    :func:`rnngraph.recognise.recognise` without the concat, slice and RNN
    passes, which the diff does not read (on a 17,000-node graph the concats
    alone take longer than loading the file).
    """
    from . import (Findings, find_cells, find_dropout, find_sequence_length,  # noqa: PLC0415
                   find_tensor_arrays, find_while_loops)

    cells = find_cells(G)
    return Findings(while_loops=find_while_loops(G, cells), tensor_arrays=find_tensor_arrays(G),
                    cells=cells, sequence_length=find_sequence_length(G), dropout=find_dropout(G, cells))


def match_graphs(graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph, found_a=None,
                 found_b=None) -> Matching:
    """Return the :class:`Matching` of ``graph_a``'s nodes to ``graph_b``'s (see the module doc)."""
    matcher = _Matcher(graph_a, graph_b)
    if found_a is not None and found_b is not None:
        for x, y, sure in _anchor_pairs(found_a, found_b):
            if matcher.agree(x, y, sure):
                matcher.pair(x, y, "part")
    matcher.propagate("fine")
    for index in range(len(matcher.a.levels)):
        matcher.by_key(index)
        matcher.propagate("fine")
        if index == 0:
            matcher.by_key(index, names=True)
            matcher.propagate("fine")
    matcher.again("op")
    matcher._by_name(sorted(n for n in graph_a.nodes if n not in matcher.ab),
                     sorted(n for n in graph_b.nodes if n not in matcher.ba), "name")
    matcher.propagate("op")
    matcher.leftovers()
    matcher.propagate("op")
    matcher.again("relaxed")
    pairs = dict(sorted(matcher.ab.items()))
    return Matching(pairs=pairs, how={a: matcher.how[a] for a in pairs}, suspects=matcher.suspects(),
                    only_a=sorted(n for n in graph_a.nodes if n not in matcher.ab),
                    only_b=sorted(n for n in graph_b.nodes if n not in matcher.ba))


def _data_inputs(graph: nx.MultiDiGraph, node: str) -> dict:
    """Return {port: (source, output)} of a node's data inputs, as the diff compares them.

    A function argument's edge from its caller is left out (the caller's
    inputs are compared); the output of an op whose outputs follow its
    names' order (RestoreV2) counts as its output 0.
    """
    out = {}
    for src, _, key, data in graph.in_edges(node, keys=True, data=True):
        if data.get("control") or data.get("kind") == "call":
            continue
        output = 0 if graph.nodes[src]["op"] in _UNORDERED_OUTPUTS else data.get("src_output", 0)
        out[key] = (src, output)
    return out


def _shape_text(shape) -> str:
    if shape is None:
        return "unknown"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def node_changes(graph_a: nx.MultiDiGraph, a: str, graph_b: nx.MultiDiGraph, b: str,
                 pairs: Optional[dict] = None) -> list:
    """Return ``[(what, before, after)]``: how matched node ``b`` differs from ``a``.

    Compares the op, the attributes (names normalised), each output's dtype
    and shape and, given ``pairs``, where each data input comes from.
    """
    da, db = graph_a.nodes[a], graph_b.nodes[b]
    out = []
    if da["op"] != db["op"]:
        out.append(("op", da["op"], db["op"]))
    attrs_a, attrs_b = canonical_attrs(da), canonical_attrs(db)
    for key in sorted(attrs_a.keys() | attrs_b.keys()):
        if attrs_a.get(key) != attrs_b.get(key):
            out.append((f"attr {key}", attrs_a.get(key), attrs_b.get(key)))
    outs_a, outs_b = _outputs_key(da), _outputs_key(db)
    for index in range(max(len(outs_a), len(outs_b))):
        (dt_a, sh_a) = outs_a[index] if index < len(outs_a) else (None, None)
        (dt_b, sh_b) = outs_b[index] if index < len(outs_b) else (None, None)
        label = "shape" if max(len(outs_a), len(outs_b)) == 1 else f"output {index} shape"
        if sh_a != sh_b:
            out.append((label, _shape_text(sh_a), _shape_text(sh_b)))
        if dt_a != dt_b:
            out.append((label.replace("shape", "dtype"), dt_a, dt_b))
    if pairs is not None:
        ins_a, ins_b = _data_inputs(graph_a, a), _data_inputs(graph_b, b)
        if da["op"] in _UNORDERED_INPUTS and db["op"] == da["op"]:
            # a call's arguments follow its function's signature, whose order may differ; the
            # bodies are matched through what each argument receives, so compare them as a set
            mapped = sorted((str(pairs.get(s)), o) for s, o in ins_a.values())
            if mapped == sorted((s, o) for s, o in ins_b.values()):
                ins_a, ins_b = {}, {}
        for port in sorted(ins_a.keys() | ins_b.keys()):
            src_a, src_b = ins_a.get(port), ins_b.get(port)
            mapped = (pairs.get(src_a[0]), src_a[1]) if src_a else None
            if mapped != src_b:
                out.append((f"input {port}", f"{src_a[0]}:{src_a[1]}" if src_a else "none",
                            f"{src_b[0]}:{src_b[1]}" if src_b else "none"))
    return out
