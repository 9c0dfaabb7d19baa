"""The one exceptions module: every error rnngraph raises on purpose.

The CLI maps :class:`UsageError` subclasses to exit status 2 and every other
:class:`RnnGraphError` to exit status 1, printing the message as one line.
"""

__all__ = [
    "RnnGraphError",
    "UsageError",
    "SpecError",
    "GraphvizMissing",
    "RenderError",
    "OutputError",
    "GraphFileError",
    "DependencyMissing",
    "DataError",
    "RunDirError",
    "DeviceError",
    "TrainingDiverged",
    "RunLimitExceeded",
]


class RnnGraphError(Exception):
    """Base class of every error rnngraph reports to the user."""


class UsageError(RnnGraphError, ValueError):
    """The user asked for something invalid (exit status 2)."""


class SpecError(UsageError):
    """A ModelSpec field has a value outside its allowed range."""


class GraphvizMissing(RnnGraphError, RuntimeError):
    """The Graphviz ``dot`` binary is needed but not installed."""


class RenderError(RnnGraphError, RuntimeError):
    """Graphviz failed to lay out or draw a graph."""


class OutputError(RnnGraphError, OSError):
    """An output file could not be written."""


class GraphFileError(RnnGraphError, ValueError):
    """A file that should hold a graph could not be read as one."""


class DependencyMissing(RnnGraphError, ImportError):
    """A Python package needed for this command is not installed."""


class DataError(RnnGraphError, ValueError):
    """A data file (mnist.npz, IDX, CSV) is missing, truncated or has the wrong shape."""


class RunDirError(RnnGraphError, ValueError):
    """A training run folder lacks, or has a damaged, metrics.json or checkpoint."""


class DeviceError(RnnGraphError, RuntimeError):
    """A requested device (e.g. /gpu:0) is not present on this machine."""


class VerificationError(RnnGraphError, ArithmeticError):
    """``explain --verify``: TensorFlow and the NumPy equations disagree beyond the tolerance."""


class TrainingDiverged(RnnGraphError, ArithmeticError):
    """The training loss (or a variable) became NaN or infinite; the run stopped."""


class RunLimitExceeded(RnnGraphError, RuntimeError):
    """``rnngraph run FILE`` stopped a graph that ran past --timeout or --max-iterations."""
