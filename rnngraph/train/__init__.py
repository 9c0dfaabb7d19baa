"""Data loading and the training programs (MNIST, the time series, generation).

Importing this package does not import TensorFlow; running a program does.
"""

from .config import MnistConfig, SeriesConfig

__all__ = ["MnistConfig", "SeriesConfig", "MnistData", "load_mnist", "RunResult",
           "train_mnist", "train_series", "generate"]


_LAZY = {"MnistData": "data", "load_mnist": "data", "RunResult": "runs"}  # they import NumPy


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def train_mnist(*args, **kwargs):
    """Return the RunResult of an MNIST run (see :func:`rnngraph.train.mnist.train_mnist`)."""
    from .mnist import train_mnist as run  # noqa: PLC0415 (imports TensorFlow)

    return run(*args, **kwargs)


def train_series(*args, **kwargs):
    """Return the RunResult of a series run (see :func:`rnngraph.train.series.train_series`)."""
    from .series import train_series as run  # noqa: PLC0415 (imports TensorFlow)

    return run(*args, **kwargs)


def generate(*args, **kwargs):
    """Return the Generated sequence of a series run (see :func:`rnngraph.train.generation.generate`)."""
    from .generation import generate as run  # noqa: PLC0415 (imports TensorFlow)

    return run(*args, **kwargs)
