"""GraphDef -> a TensorBoard event file, written without TensorFlow.

An event file is a TFRecord file of ``Event`` protos: a first record naming
the file version, then one holding the serialised GraphDef, which is what
TensorBoard's graph dashboard shows.  Each record is framed as TFRecord
requires: length, masked CRC32C of the length, data, masked CRC32C of the data.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path
from typing import Optional, Union

from . import protos
from ..errors import OutputError
from .walk import as_graph_def
from .loaders import masked_crc32c
from ..files import write_atomic

__all__ = ["event_records", "write_graph_event", "FILE_VERSION"]

FILE_VERSION = "brain.Event:2"


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


def event_records(graph_def, wall_time: float) -> bytes:
    """Return the bytes of an event file holding ``graph_def`` (rnngraph's or TensorFlow's)."""
    graph_bytes = as_graph_def(graph_def).SerializeToString(deterministic=True)
    first = protos.Event(wall_time=wall_time, file_version=FILE_VERSION)
    second = protos.Event(wall_time=wall_time, step=0, graph_def=graph_bytes)
    return b"".join(_record(e.SerializeToString(deterministic=True)) for e in (first, second))


def write_graph_event(logdir: Union[str, Path], graph_def, wall_time: Optional[float] = None) -> str:
    """Write ``graph_def`` as a new event file in ``logdir`` (created if needed); return its path.

    ``tensorboard --logdir LOGDIR`` then shows the graph on its Graphs tab.
    """
    folder = Path(logdir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create TensorBoard log folder {logdir}: "
                          f"{exc.strerror or exc}") from None
    stamp = time.time() if wall_time is None else wall_time
    name = f"events.out.tfevents.{int(stamp)}.{socket.gethostname() or 'localhost'}.rnngraph"
    return write_atomic(folder / name, event_records(graph_def, stamp))
