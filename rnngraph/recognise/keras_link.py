"""Link recognised cells of a traced Keras model to the layers of the file's layer view."""

from __future__ import annotations

import re

__all__ = ["link_cells"]

_KINDS = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}


def _bare(name: str) -> str:
    """Keras 3 names a layer ``lstm_1`` when it is called again in a new graph: ``lstm``."""
    return re.sub(r"_\d+$", "", name)


def link_cells(cells: list, model) -> dict:
    """Return {cell scope: Keras layer name}: same kind, same kernel shape, name in the scope.

    A layer matches a cell when its class is the cell's kind, its saved kernel has the cell's
    kernel shape, and its name (or its name without Keras' ``_N`` call suffix) is a component
    of the cell's scope; the longest such name wins (``forward_lstm`` over ``lstm``).
    """
    links = {}
    for cell in cells:
        parts = (cell.scope or "").split("/")
        best = None
        for layer, _ in model.recurrent():
            if _KINDS.get(cell.kind) != layer.class_name:
                continue
            kernel = next((list(w.shape) for w in layer.weights if w.name == "kernel"), None)
            if kernel is not None and cell.kernel_shape and kernel != list(cell.kernel_shape):
                continue
            if any(layer.name in (p, _bare(p)) for p in parts):
                if best is None or len(layer.name) > len(best):
                    best = layer.name
        if best is not None:
            links[cell.scope] = best
    return links
