"""What Grappler changed: the graph as built against the partition graphs the executor ran.

Pure: compares two sets of NodeDefs (GraphDef protobufs), no TensorFlow.
"""

from __future__ import annotations

__all__ = ["merged_partitions", "graph_changes", "format_changes"]

# Added by the executor to hand feeds and fetches across the Session boundary.
_BOUNDARY_OPS = ("_Arg", "_Retval", "_Send", "_Recv", "_HostSend", "_HostRecv")


def merged_partitions(partition_graphs: list):
    """Return one GraphDef holding the nodes of every partition graph (one per device)."""
    if not partition_graphs:
        raise ValueError("the run reported no partition graphs")
    merged = type(partition_graphs[0])()  # the same GraphDef class the run handed back
    for part in partition_graphs:
        merged.node.extend(part.node)
        merged.library.MergeFrom(part.library)
    merged.versions.CopyFrom(partition_graphs[0].versions)
    return merged


def graph_changes(built_graph_def, ran_graph_def, fetched: set = frozenset()) -> dict:
    """Return what differs: nodes removed, added, whose op changed, whose inputs changed.

    ``fetched`` lists the nodes the run needed; nodes outside it were never
    going to run, so they are counted apart (``not_needed``) from those
    Grappler removed.
    """
    before = {n.name: n for n in built_graph_def.node}
    after = {n.name: n for n in ran_graph_def.node}
    removed = sorted(set(before) - set(after))
    not_needed = sorted(n for n in removed if fetched and n not in fetched)
    # A fed placeholder is replaced by the executor's _Arg (named _arg_<name>_...), not optimised.
    fed = sorted(n for n in removed if before[n].op in ("Placeholder", "PlaceholderV2")
                 and n not in not_needed)
    return {
        "removed": sorted(set(removed) - set(not_needed) - set(fed)),
        "fed": fed,
        "not_needed": not_needed,
        "added": sorted((name, after[name].op) for name in set(after) - set(before)),
        "op_changed": sorted((name, before[name].op, after[name].op)
                             for name in set(before) & set(after)
                             if before[name].op != after[name].op),
        "inputs_changed": sorted(name for name in set(before) & set(after)
                                 if before[name].op == after[name].op
                                 and [i for i in before[name].input if not i.startswith("^")]
                                 != [i for i in after[name].input if not i.startswith("^")]),
    }


def format_changes(changes: dict) -> str:
    """Return the changes as a text diff: ``- name`` removed, ``+ name (op)`` added, ``~`` changed."""
    lines = [f"# {len(changes['removed'])} removed by Grappler, {len(changes['added'])} added, "
             f"{len(changes['op_changed'])} rewritten to another op, "
             f"{len(changes['inputs_changed'])} rewired; "
             f"{len(changes.get('fed', []))} fed placeholder(s) became _Arg; "
             f"{len(changes['not_needed'])} not needed by the fetches"]
    lines += [f"- {name}" for name in changes["removed"]]
    lines += [f"+ {name} ({op})" + ("  [executor boundary]" if op in _BOUNDARY_OPS else "")
              for name, op in changes["added"]]
    lines += [f"~ {name}: {old} -> {new}" for name, old, new in changes["op_changed"]]
    lines += [f"~ {name}: inputs changed" for name in changes["inputs_changed"]]
    return "\n".join(lines) + "\n"
