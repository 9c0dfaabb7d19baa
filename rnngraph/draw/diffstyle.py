"""Colours of a diff: each node of B as matched, changed or added (and A's removed nodes).

Pure: node statuses in, an :class:`~rnngraph.draw.overlay.Overlay` out, so
the DOT drawing, its legend and the HTML page colour boxes the way every
other overlay does.  A collapsed box holding several statuses reads
"mixed"; :func:`changed_scopes` gives the scopes to open so that unchanged
scopes stay closed.
"""

from __future__ import annotations

from .overlay import Overlay

__all__ = ["DIFF_COLOURS", "diff_overlay", "changed_scopes"]

DIFF_COLOURS = {
    "added": "#a6dba0",  # green: only in B
    "removed": "#f4a582",  # red: only in A
    "changed": "#fdd49e",  # amber: matched, but op, attributes, shapes or inputs differ
    "matched": "#ffffff",  # white: the same node in both
}


def diff_overlay(status: dict, side: str = "b") -> Overlay:
    """Return the overlay colouring one side's nodes by ``status`` (node -> matched|changed|added|removed)."""
    shown = {k: v for k, v in DIFF_COLOURS.items() if k != ("removed" if side == "b" else "added")}
    return Overlay(title="diff against A" if side == "b" else "diff against B", values=dict(status),
                   missing="not compared", colours=shown, silent=("matched",))


def changed_scopes(status: dict) -> list:
    """Return the name scopes holding a node that is not plainly matched (and what contains them)."""
    out = set()
    for name, state in status.items():
        if state == "matched":
            continue
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            out.add("/".join(parts[:depth]))
    return sorted(out)
