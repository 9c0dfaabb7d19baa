"""Running a built graph once with TensorFlow's full trace, and what the trace says.

Stage 4, beside ``train/``: :mod:`.session` runs the graph (the only module
here that calls TensorFlow's Session), :mod:`.record` turns the RunMetadata
into plain per-node, per-iteration records, :mod:`.values` into the values
of the loop variables, gates and TensorArray slots, :mod:`.optimized`
compares the graph with what Grappler handed to the executor, and
:mod:`.cost` measures build time, one training pass and peak memory for
``growth --run``.
"""

from __future__ import annotations

__all__ = ["session", "record", "values", "optimized", "cost", "TRACE_FORMAT"]

TRACE_FORMAT = "rnngraph-trace/1"
