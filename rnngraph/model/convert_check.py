"""Run TensorFlow's LiteRT converter on a Keras file or SavedModel and count the ops it writes."""

from __future__ import annotations

__all__ = ["run_converter"]


def run_converter(path, library: str) -> dict:
    """Return {"counts": {op: n}, "library": ...} or {"error": the converter's first error line}."""
    from .keras_worker import run_worker  # noqa: PLC0415

    return run_worker("convert", path, library)
