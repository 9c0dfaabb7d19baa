"""What changed between two graphs, told through the recognised parts (``rnngraph diff``).

:func:`diff_report` turns a :class:`~rnngraph.recognise.match.Matching` and
both graphs' findings into data (the JSON document); :func:`diff_text`
formats it.  Every line comes from a field of the report: a matched pair,
a node's changed attribute, a recognised part's fact (a cell's units,
kernel shape, activation), an unmatched node.  Lists are bounded so two
unrelated 17,000-node graphs still give a short report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Optional

import networkx as nx

from ..recognise.match import Matching, node_changes, normalise_name

__all__ = ["diff_report", "diff_text", "diff_caption", "node_status", "weight_differences", "MAX_ENTRIES"]

MAX_ENTRIES = 40  # entries of one list in the report; the rest are counted
_EXAMPLES = 6  # node names given per entry
_SCOPE_DEPTH = 2


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _shape(shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _scope(name: str) -> str:
    parts = name.split("/")[:-1][:_SCOPE_DEPTH]
    return "/".join(parts) if parts else "(top)"


def _parts(graph: nx.MultiDiGraph, found) -> dict:
    """Return {node: recognised part label} (cells, dropout, sequence_length, loops, TensorArrays)."""
    part: dict = {}
    for loop in found.while_loops:
        for n in loop.body_nodes:
            part.setdefault(n, f"while loop {loop.frame or loop.name}")
    for ta in found.tensor_arrays:
        for n in [ta.name, ta.unstack, ta.stack, *ta.reads, *ta.writes]:
            if n:
                part[n] = f"{ta.kind} ({ta.role})"
    for seq in found.sequence_length:
        for n in [seq.compare, *seq.zero_outputs, *seq.copy_state]:
            part[n] = "sequence_length"
    for drop in found.dropout:
        for n in (drop.mask, drop.select, drop.random):
            part[n] = "dropout"
    for cell in found.cells:
        label = f"{cell.kind} cell {cell.layer or cell.scope}"
        scopes = tuple(s + "/" for s in {cell.scope, *cell.instance_scopes} if s)
        for n in graph.nodes:
            if scopes and n.startswith(scopes):
                part[n] = label
        for n in [cell.kernel, cell.bias, cell.recurrent_kernel, cell.matmul, cell.activation_node,
                  *cell.nodes, *cell.instances, *cell.instance_matmuls]:
            if n:
                part[n] = label
    return part


def _cell_facts(a, b) -> list:
    """Return [{"what", "a", "b"}] of what differs between two recognised cells."""
    facts = []
    for what, attr, fmt in (("cell", "kind", str), ("units", "n_neurons", str), ("inputs", "n_inputs", str),
                            ("activation", "activation", str),
                            ("recurrent activation", "recurrent_activation", str),
                            ("kernel", "kernel_shape", _shape),
                            ("recurrent_kernel", "recurrent_kernel_shape", _shape),
                            ("bias", "bias_shape", _shape), ("forget_bias", "forget_bias", str)):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            facts.append({"what": what, "a": fmt(va) if va is not None else "none",
                          "b": fmt(vb) if vb is not None else "none"})
    if _runs_key(a) != _runs_key(b):  # by structure: the loops' names may carry counters
        facts.append({"what": "runs as", "a": _runs_as(a), "b": _runs_as(b)})
    return facts


def _runs_key(cell) -> tuple:
    return max(1, len(cell.instances)), tuple(lp.startswith("frame ") for lp in cell.loops)


def _runs_as(cell) -> str:
    """Return how a recognised cell's ops run: copies per step, or one copy in a loop."""
    copies = max(1, len(cell.instances))
    if cell.loops:
        where = ", ".join(f"the v1 loop frame {lp.removeprefix('frame ')}" if lp.startswith("frame ")
                          else f"the While op {lp}" for lp in cell.loops)
        return f"{'one copy' if copies == 1 else f'{copies} copies'} inside {where}, run once per step"
    return f"{copies} unrolled cop{'y' if copies == 1 else 'ies'}, one per step" if copies > 1 else "one copy"


def _pair_cells(found_a, found_b, pairs: dict) -> list:
    """Return [(cell of A, cell of B)]: the same layer on both sides.

    Cells of one kind are paired best first, by how many of these agree: the kernel matched
    to the other's kernel, the MatMul to the other's MatMul, the same kernel shape; then by
    how many of the cell's nodes were matched into the other cell.  (The matching may pair a
    layer's variables with one cell and its ops with another when several look alike: a
    second layer, a Bidirectional's two directions.)
    """
    def score(i, a, j, b):
        own_b = set(b.nodes) | {b.kernel, b.matmul}
        agree = ((pairs.get(a.kernel) == b.kernel) + (pairs.get(a.matmul) == b.matmul)
                 + (a.kernel_shape == b.kernel_shape))
        overlap = sum(pairs.get(n) in own_b for n in {*a.nodes, a.kernel, a.matmul})
        return agree, overlap, -abs(i - j), -i, -j

    ranked = sorted(((score(i, a, j, b), i, j) for i, a in enumerate(found_a.cells)
                     for j, b in enumerate(found_b.cells) if a.kind == b.kind), reverse=True)
    out, used_a, used_b = [], set(), set()
    for _, i, j in ranked:
        if i not in used_a and j not in used_b:
            out.append((found_a.cells[i], found_b.cells[j]))
            used_a.add(i)
            used_b.add(j)
    return sorted(out, key=lambda pair: found_a.cells.index(pair[0]))


def _component_text(graph: nx.MultiDiGraph, nodes: list, found, part_of: dict,
                    paired: Optional[dict] = None) -> tuple:
    """Return (what, description) of one added or removed group of nodes.

    ``paired``: {id(cell): True if its variables match its partner's} for this side's cells
    that :func:`_pair_cells` paired with a cell of the other graph; the others are new layers.
    """
    paired = paired or {}
    ops = Counter(graph.nodes[n]["op"] for n in nodes)
    node_set = set(nodes)
    # a cell with no partner: its variables, or all of its first copy, are here
    cells = [c for c in found.cells if id(c) not in paired and (
        c.kernel in node_set or (c.matmul in node_set and set(c.nodes) <= node_set))]
    if cells:
        described = "; ".join(
            f"{c.kind} cell {c.layer or c.scope} (units {c.n_neurons}, kernel {_shape(c.kernel_shape)})"
            for c in cells)
        return "cell", f"{'a layer' if len(cells) == 1 else f'{len(cells)} layers'}: {described}"
    # the same layer's cell, its variables matched, its ops built another way (static ↔ dynamic)
    copies = [(c, sum(m in node_set for m in c.instances or [c.matmul])) for c in found.cells
              if paired.get(id(c)) and c.kernel not in node_set]
    copies = [(c, k) for c, k in copies if k]
    if copies:
        loops = [lp.name for lp in found.while_loops if lp.name in node_set or lp.loop_cond in node_set]
        described = "; ".join(
            f"{c.kind} cell {c.layer or c.scope}: "
            + (_runs_as(c) if k == max(1, len(c.instances)) else f"{k} of its {len(c.instances)} copies")
            for c, k in copies)
        extra = f", and the while loop {', '.join(loops)} that runs it" if loops else ""
        return "cell ops", (f"{described}{extra} (the cell's variables match the other graph's: "
                            "the same layer, built another way)")
    drops = [d for d in found.dropout if d.select in node_set or d.random in node_set]
    if drops or ("RandomUniform" in ops and ("Floor" in ops or "GreaterEqual" in ops)):
        masks = ops.get("RandomUniform", 0)
        pattern = ("RandomUniform → GreaterEqual → Select" if "GreaterEqual" in ops
                   else "RandomUniform → Floor → Mul")
        inside = any(d.in_loop for d in drops)
        holders = [n for n in nodes if graph.nodes[n]["op"] in ("Placeholder", "PlaceholderWithDefault")]
        text = (f"dropout: {masks} random keep-mask{'s' if masks != 1 else ''} ({pattern})"
                + (" inside the loop, drawn again every step" if inside else ""))
        if drops and drops[0].keep_prob:
            text += f"; keep probability {drops[0].keep_prob}"
        if holders:
            text += f"; placeholder{'s' if len(holders) > 1 else ''} {', '.join(holders[:3])}"
        return "dropout", text
    seqs = [s for s in found.sequence_length if s.compare in node_set
            or node_set & set(s.zero_outputs + s.copy_state)]
    if seqs or (part_of and any(part_of.get(n) == "sequence_length" for n in nodes)):
        selects = sum(len(s.zero_outputs) + len(s.copy_state) for s in seqs)
        lengths = ", ".join(sorted({s.length for s in seqs if s.length}))
        text = (f"sequence_length: {selects} Select op{'s' if selects != 1 else ''} per step "
                f"(time >= length keeps the state and writes zeros)")
        if lengths:
            text += f"; lengths from {lengths}"
        if ops.get("Assert"):
            text += f"; {ops['Assert']} Assert checking the lengths"
        return "sequence_length", text
    labels = Counter(part_of.get(n) for n in nodes if part_of.get(n))
    where = labels.most_common(1)[0][0] if labels else ", ".join(sorted({_scope(n) for n in nodes})[:3])
    return "scope", f"{where}: " + ", ".join(f"{count} {op}" for op, count in ops.most_common(6)) + \
        (" …" if len(ops) > 6 else "")


def _groups(graph: nx.MultiDiGraph, nodes: list) -> list:
    """Return the unmatched nodes as groups: connected pieces, single nodes gathered by scope."""
    sub = graph.subgraph(nodes)
    pieces, singles = [], defaultdict(list)
    for comp in nx.weakly_connected_components(sub):
        if len(comp) == 1:
            (n,) = comp
            singles[_scope(n)].append(n)
        else:
            pieces.append(sorted(comp))
    pieces += [sorted(v) for v in singles.values()]
    return sorted(pieces, key=lambda p: (-len(p), p[0]))


def _unmatched(graph: nx.MultiDiGraph, nodes: list, found, part_of: dict,
               paired: Optional[dict] = None) -> list:
    out = []
    for group in _groups(graph, nodes):
        what, text = _component_text(graph, group, found, part_of, paired)
        out.append({"what": what, "text": text, "nodes": len(group),
                    "ops": dict(Counter(graph.nodes[n]["op"] for n in group).most_common()),
                    "examples": group[:_EXAMPLES]})
    # A recognised group (dropout, a layer) before the rest; merge recognised pieces of one kind.
    merged: dict = {}
    rest = []
    for entry in out:
        if entry["what"] in ("dropout", "sequence_length", "cell", "cell ops"):
            key = (entry["what"], entry["text"])
            if key in merged:
                merged[key]["nodes"] += entry["nodes"]
                merged[key]["examples"] = (merged[key]["examples"] + entry["examples"])[:_EXAMPLES]
                continue
            merged[key] = entry
        else:
            rest.append(entry)
    return list(merged.values()) + rest


def _renamed(pairs: dict) -> list:
    """Return the renamings as groups {"from", "to", "nodes", "why", "examples"}."""
    groups: dict = defaultdict(list)
    for a, b in pairs.items():
        if a == b:
            continue
        if normalise_name(a) == normalise_name(b):
            pa, pb = a.split("/"), b.split("/")
            key = ("/".join(pa[:-1][:_SCOPE_DEPTH]) or "(top)", "/".join(pb[:-1][:_SCOPE_DEPTH]) or "(top)",
                   "counter suffixes")
        else:
            pa, pb = a.split("/"), b.split("/")
            while len(pa) > 1 and len(pb) > 1 and normalise_name(pa[-1]) == normalise_name(pb[-1]):
                pa, pb = pa[:-1], pb[:-1]
            key = ("/".join(pa), "/".join(pb), "scope renamed or moved")
        groups[key].append((a, b))
    return [{"from": f, "to": t, "why": why, "nodes": len(members),
             "examples": [list(p) for p in members[:_EXAMPLES]]}
            for (f, t, why), members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _matched(pairs: dict) -> list:
    groups: Counter = Counter((_scope(a), _scope(b)) for a, b in pairs.items())
    return [{"a": sa, "b": sb, "nodes": n}
            for (sa, sb), n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))]


def weight_differences(values_a: dict, values_b: dict, pairs: dict) -> dict:
    """Return {"compared", "differ": [{"a", "b", "shape", "max_abs", "mean_abs"}]} of matched constants."""
    import numpy as np  # noqa: PLC0415

    compared, differ = 0, []
    for a, b in pairs.items():
        va, vb = values_a.get(a), values_b.get(b)
        if va is None or vb is None or va.shape != vb.shape:
            continue
        compared += 1
        delta = np.abs(va.astype(np.float64) - vb.astype(np.float64))
        largest = float(np.nanmax(delta)) if delta.size else 0.0
        if largest > 0 or np.isnan(delta).any():
            differ.append({"a": a, "b": b, "shape": list(va.shape), "max_abs": largest,
                           "mean_abs": float(np.nanmean(delta))})
    differ.sort(key=lambda d: (-d["max_abs"], d["a"]))
    return {"compared": compared, "differ": differ}


def diff_report(graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph, found_a, found_b,
                matching: Matching, weights: Optional[dict] = None) -> dict:
    """Return the diff as data: matched, renamed, changed, added, removed (lists) and a summary."""
    pairs = matching.pairs
    part_a, part_b = _parts(graph_a, found_a), _parts(graph_b, found_b)
    changed: dict = defaultdict(lambda: {"facts": [], "nodes": [], "count": 0})
    for cell_a, cell_b in _pair_cells(found_a, found_b, pairs):
        facts = _cell_facts(cell_a, cell_b)
        if facts:
            changed[f"{cell_b.kind} cell {cell_b.layer or cell_b.scope}"]["facts"] += facts
    node_count = 0
    for a in sorted(matching.suspects):
        b = pairs[a]
        changes = node_changes(graph_a, a, graph_b, b, pairs)
        if not changes:
            continue
        node_count += 1
        entry = changed[part_b.get(b) or part_a.get(a) or _scope(b)]
        entry["count"] += 1
        if len(entry["nodes"]) < MAX_ENTRIES:
            entry["nodes"].append({"a": a, "b": b, "changes": [
                {"what": w, "a": _short(x), "b": _short(y)} for w, x, y in changes]})
    changed_list = [{"part": part, **entry} for part, entry in
                    sorted(changed.items(), key=lambda kv: (-len(kv[1]["facts"]), -kv[1]["count"], kv[0]))]
    cell_pairs = _pair_cells(found_a, found_b, pairs)
    added = _unmatched(graph_b, matching.only_b, found_b, part_b,
                       {id(b): pairs.get(a.kernel) == b.kernel for a, b in cell_pairs})
    removed = _unmatched(graph_a, matching.only_a, found_a, part_a,
                         {id(a): pairs.get(a.kernel) == b.kernel for a, b in cell_pairs})
    renamed = _renamed(pairs)
    report = {
        "summary": {
            "nodes_a": graph_a.number_of_nodes(), "nodes_b": graph_b.number_of_nodes(),
            "matched": len(pairs), "renamed": sum(1 for a, b in pairs.items() if a != b),
            "counter_renamed": sum(r["nodes"] for r in renamed if r["why"] == "counter suffixes"),
            "changed": node_count, "added": len(matching.only_b), "removed": len(matching.only_a),
            "identical": not (node_count or matching.only_a or matching.only_b
                              or any(e["facts"] for e in changed_list)),
            "how": dict(Counter(matching.how.values()).most_common()),
        },
        "matched": _matched(pairs)[:MAX_ENTRIES],
        "renamed": renamed[:MAX_ENTRIES],
        "changed": changed_list[:MAX_ENTRIES],
        "added": added[:MAX_ENTRIES],
        "removed": removed[:MAX_ENTRIES],
    }
    report["summary"]["left_out"] = {k: len(v) - MAX_ENTRIES for k, v in (
        ("matched", _matched(pairs)), ("renamed", renamed), ("changed", changed_list),
        ("added", added), ("removed", removed)) if len(v) > MAX_ENTRIES}
    report["summary"]["weights_differ"] = len(weights["differ"]) if weights else 0
    report["summary"]["same"] = report["summary"]["identical"] and not report["summary"]["weights_differ"]
    if weights is not None:
        report["weights"] = {"compared": weights["compared"], "differ": weights["differ"][:MAX_ENTRIES],
                             "differ_count": len(weights["differ"]),
                             **{k: weights[k] for k in ("sources", "notes", "not_compared") if k in weights}}
    return report


def _weight_note(entry: dict) -> str:
    return (f"weights {_shape(entry['shape'])}: largest |Δ| {entry['max_abs']:.6g}, "
            f"mean |Δ| {entry['mean_abs']:.6g}")


def node_status(report_matching: Matching, graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph,
                weights: Optional[dict] = None) -> tuple:
    """Return ({node of A: status}, {node of B: status}, {node of B: change text}).

    Status is "matched", "changed", "removed" (A only) or "added" (B only); a matched variable or
    constant whose values differ (the report's ``weights``) is "changed", its note the difference.
    """
    pairs = report_matching.pairs
    status_a = {n: "removed" for n in report_matching.only_a}
    status_b = {n: "added" for n in report_matching.only_b}
    notes = {}
    for a, b in pairs.items():
        changes = node_changes(graph_a, a, graph_b, b, pairs) if a in report_matching.suspects else []
        state = "changed" if changes else "matched"
        status_a[a] = status_b[b] = state
        if changes:
            notes[b] = "; ".join(f"{w}: {_short(x)} → {_short(y)}" for w, x, y in changes[:4])
    for entry in (weights or {}).get("differ", []):
        a, b = entry["a"], entry["b"]
        if pairs.get(a) == b:
            status_a[a] = status_b[b] = "changed"
            notes[b] = "; ".join(filter(None, [notes.get(b), _weight_note(entry)]))
    return status_a, status_b, notes


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def diff_text(report: dict, title_a: str, title_b: str) -> str:
    """Return the report as text: a verdict, then the changes by part, the additions and removals."""
    s = report["summary"]
    lines = [f"A: {title_a}", f"B: {title_b}", ""]
    if s["identical"]:
        lines.append(f"identical structure: all {s['matched']} nodes match"
                     + (f"; the values of {_plural(s['weights_differ'], 'weight')} differ"
                        if s.get("weights_differ") else ""))
    else:
        lines.append(f"{s['matched']} of {s['nodes_a']} nodes of A match nodes of B; "
                     f"{s['changed']} changed, {s['removed']} removed, {s['added']} added")
    if s["renamed"]:
        counters = s["counter_renamed"]
        text = f"{s['renamed']} matched nodes have other names"
        if counters:
            text += f" ({counters} differ only by counter suffixes: _1, _2, Keras' lstm_1 / lstm_1_1)"
        lines.append(text)
        for entry in report["renamed"][:8]:
            lines.append(f"  {entry['from']} → {entry['to']}: {_plural(entry['nodes'], 'node')}"
                         + (" (counter suffixes)" if entry["why"] == "counter suffixes" else ""))
    if report["changed"]:
        lines += ["", "changed:"]
        for entry in report["changed"][:12]:
            facts = "; ".join(f"{f['what']} {f['a']} → {f['b']}" for f in entry["facts"])
            head = f"  {entry['part']}: " + (facts or _plural(entry["count"], "node"))
            if facts and entry["count"]:
                head += f" ({_plural(entry['count'], 'node')} changed)"
            lines.append(head)
            for node in entry["nodes"][:4]:
                what = "; ".join(f"{c['what']} {c['a']} → {c['b']}" for c in node["changes"][:3])
                name = node["b"] if node["a"] == node["b"] else f"{node['a']} → {node['b']}"
                lines.append(f"    {name}: {what}")
            if entry["count"] > 4:
                lines.append(f"    … {entry['count'] - 4} more")
    for key, word in (("added", "added (in B only)"), ("removed", "removed (in A only)")):
        if report[key]:
            lines += ["", f"{word}:"]
            for entry in report[key][:12]:
                lines.append(f"  {entry['text']} [{_plural(entry['nodes'], 'node')}]")
            if len(report[key]) > 12:
                lines.append(f"  … {len(report[key]) - 12} more groups")
    weights = report.get("weights")
    if weights is not None:
        lines.append("")
        sources = weights.get("sources")
        if weights.get("not_compared"):
            lines.append(f"weights: not compared: {weights['not_compared']}")
        elif not weights["compared"]:
            lines.append("weights: no matched weights of equal shape hold values in both files")
        elif not weights["differ_count"]:
            lines.append(f"weights: all {weights['compared']} compared weights are equal")
        else:
            lines.append(f"weights: {weights['differ_count']} of {weights['compared']} compared weights "
                         f"differ")
            for entry in weights["differ"][:8]:
                name = entry["b"] if entry["a"] == entry["b"] else f"{entry['a']} → {entry['b']}"
                lines.append(f"  {name} {_shape(entry['shape'])}: largest |Δ| {entry['max_abs']:.6g}, "
                             f"mean |Δ| {entry['mean_abs']:.6g}")
            if weights["differ_count"] > 8:
                lines.append(f"  … {weights['differ_count'] - 8} more")
        if sources and not weights.get("not_compared"):
            text = (f"values read from {sources['a']}" if sources["a"] == sources["b"]
                    else f"A's values read from {sources['a']}, B's from {sources['b']}")
            lines.append(f"  ({text})")
        for note in weights.get("notes", [])[:6]:
            lines.append(f"  {note}")
    return "\n".join(lines) + "\n"


def diff_caption(report: dict) -> str:
    """Return a short paragraph saying what B adds, removes and changes against A (a figure's caption)."""
    s = report["summary"]
    if s["identical"]:
        return f"The two graphs have the same structure: all {s['matched']} nodes match."
    sentences = [f"{s['matched']} of A's {s['nodes_a']} nodes match nodes of B"
                 + (f" ({s['renamed']} of them under other names)" if s["renamed"] else "") + "."]
    moved = [f"{r['from']} → {r['to']} ({_plural(r['nodes'], 'node')})" for r in report["renamed"][:2]
             if r["why"] != "counter suffixes"]
    if moved:
        sentences.append("Renamed scopes: " + "; ".join(moved) + ".")
    if report["added"]:
        sentences.append(f"B adds {_plural(s['added'], 'node')}: "
                         + "; ".join(e["text"] for e in report["added"][:3]) + ".")
    if report["removed"]:
        sentences.append(f"B lacks {_plural(s['removed'], 'node')} of A: "
                         + "; ".join(e["text"] for e in report["removed"][:3]) + ".")
    rewired = [e for e in report["changed"] if e["count"]]
    facts = ["; ".join(f"{f['what']} {f['a']} → {f['b']}" for f in e["facts"])
             for e in report["changed"] if e["facts"]]
    if facts:
        sentences.append("Changed: " + "; ".join(facts) + ".")
    if rewired:
        nodes = [n for e in rewired for n in e["nodes"]]
        inputs_only = all(c["what"].startswith("input") for n in nodes for c in n["changes"])
        names = ", ".join(n["b"].rpartition("/")[2] for n in nodes[:3]) + (" …" if len(nodes) > 3 else "")
        sentences.append(f"{_plural(s['changed'], 'matched node')} (amber) "
                         + (f"now read from what B adds: {names}." if inputs_only else
                            f"changed, in {', '.join(e['part'] for e in rewired[:3])}."))
    return " ".join(sentences)
