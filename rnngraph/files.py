"""Writing files atomically: a reader, a failure or a Ctrl-C never leaves a half-written file.

Used by every stage that writes (drawings, event files, training runs, plots).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Union

from .errors import OutputError

__all__ = ["atomic_path", "write_atomic"]


@contextlib.contextmanager
def atomic_path(target: Union[str, Path]) -> Iterator[str]:
    """Yield a temporary path beside ``target``; rename it over ``target`` if the block succeeds.

    A reader (or a Ctrl-C) never sees a half-written file, and a failure leaves the old one.
    """
    target = Path(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_atomic(path: Union[str, Path], data: Union[bytes, str]) -> str:
    """Write ``data`` to ``path`` through a temporary file and a rename; ``-`` is stdout."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "-"
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {target.parent} does not exist")
    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(data)
    return str(target)
