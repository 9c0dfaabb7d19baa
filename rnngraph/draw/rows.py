"""Wide focus views folded into columns, so a topic's figure fits a 16:9 slide.

A focus view is often several unconnected pieces (four strided slices, six
concats), which Graphviz lines up side by side into a strip far wider than
a slide.  Here each piece's size is estimated from its ranks (longest path
from its sources) and widest rank, the pieces are stacked into columns
about 16:9 overall, and invisible edges from the bottom of one piece to the
top of the next hold each column together.  Text only: no Graphviz.
"""

from __future__ import annotations

import math

import networkx as nx

__all__ = ["column_edges", "notes_beside"]

_BOX_W, _RANK_H = 150.0, 70.0  # rough size of one box and one rank, in points
_ASPECT = 16 / 9


def _pieces(boxes: list, edges: list) -> list:
    """Return the connected pieces, each [(box, rank)], in the order of their first box."""
    graph = nx.DiGraph()
    graph.add_nodes_from(boxes)
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    pieces = []
    for nodes in sorted(nx.weakly_connected_components(graph), key=lambda c: min(c)):
        sub = graph.subgraph(nodes)
        if not nx.is_directed_acyclic_graph(sub):  # loops: rank by breadth from the sources
            sub = nx.DiGraph(e for e in nx.bfs_edges(sub.to_undirected(), min(nodes)))
            sub.add_nodes_from(nodes)
        rank: dict = {}
        for node in nx.topological_sort(sub):
            rank[node] = max((rank[p] + 1 for p in sub.predecessors(node)), default=0)
        pieces.append(sorted(rank.items(), key=lambda item: (item[1], item[0])))
    return pieces


def column_edges(boxes: list, edges: list, notes=()) -> list:
    """Return ``[(bottom box, top box)]``: invisible edges stacking the pieces into columns.

    ``edges`` are the drawn ``(box a, box b)`` pairs, ``notes`` the boxes with a note (drawn
    under them, as wide as a box or two).  Nothing is returned when the pieces already make
    a drawing no wider than 16:9.
    """
    pieces = _pieces(boxes, edges)
    noted = set(notes)
    if len(pieces) < 2:
        return []
    sizes = [_piece_size(piece, noted) for piece in pieces]
    width = sum(w for w, _ in sizes)
    height = max(h for _, h in sizes)
    if width <= _ASPECT * height:
        return []
    target = math.sqrt(sum(w * h for w, h in sizes) / _ASPECT)  # column height for 16:9
    stacked, column_height = [], 0.0
    for index, (piece, (_, h)) in enumerate(zip(pieces, sizes)):
        if index and column_height and column_height + h <= 1.1 * max(target, height):
            last = pieces[index - 1]
            bottom = max(last, key=lambda item: (item[1], item[0]))[0]
            top = min(piece, key=lambda item: (item[1], item[0]))[0]
            stacked.append((bottom, top))
            column_height += h
        else:
            column_height = h
    return stacked


def notes_beside(boxes: list, edges: list, notes=()) -> bool:
    """Return whether notes go beside their boxes: a drawing taller than 16:9 with notes below."""
    pieces = _pieces(boxes, edges)
    if not pieces or not notes:
        return False
    noted = set(notes)
    sizes = [_piece_size(piece, noted) for piece in pieces]
    return sum(w for w, _ in sizes) < _ASPECT * max(h for _, h in sizes)


def _piece_size(piece: list, noted: set) -> tuple:
    """Return (width, height) a piece's (box, rank) items take, a note counting below its box."""
    per_rank: dict = {}
    for box, r in piece:
        per_rank[r] = per_rank.get(r, 0) + 1
        if box in noted:
            per_rank[r + 1] = per_rank.get(r + 1, 0) + 1.5
    return max(per_rank.values()) * _BOX_W, (max(per_rank) + 1) * _RANK_H
