"""rnngraph: shows what TensorFlow really builds when you write a recurrent network.

Importing this package does not import TensorFlow; the stages that need it
import it on first use.
"""

from .errors import RnnGraphError
from .model.spec import ModelSpec

__all__ = ["ModelSpec", "RnnGraphError", "Graph", "build", "inspect", "keras_page", "__version__"]
__version__ = "0.1.0"

_API = ("Graph", "inspect", "keras_page")  # rnngraph/api.py, imported on first use


def __getattr__(name: str):
    if name in _API:
        from . import api  # noqa: PLC0415

        return getattr(api, name)
    raise AttributeError(f"module 'rnngraph' has no attribute {name!r}")


def build(kind: str = "dynamic", cell: str = "rnn", steps: int = 2, **fields):
    """Return the Graph TensorFlow builds for this model (see :func:`rnngraph.api.build`)."""
    from .api import build as build_api  # noqa: PLC0415

    return build_api(kind=kind, cell=cell, steps=steps, **fields)
