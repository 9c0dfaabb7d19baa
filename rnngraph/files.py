"""Writing files safely: a reader, a failure or a Ctrl-C never leaves a half-written file.

Used by every stage that writes (drawings, event files, training runs, plots).  What ``-o PATH``
does depends on what PATH is:

- a regular file (or nothing yet): written beside it and renamed over it (atomic);
- a symbolic link: followed, and the file it points to replaced atomically (the link stays);
- a character device or a FIFO (``/dev/stdout``, ``/dev/null``, a named pipe): written to
  directly, never replaced (replacing ``/dev/null`` as root would destroy the device);
- anything else (a directory, a socket, a block device): refused with one line.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Union

from .errors import OutputError

__all__ = ["atomic_path", "write_atomic", "output_kind"]


def output_kind(target: Union[str, Path]) -> tuple[str, Path]:
    """Return (how to write, the path to write) for ``target``: ``replace`` or ``stream``.

    Symbolic links are followed (a dangling one names the file to create).  Raises
    :class:`OutputError` for a directory, socket, block device or a missing folder.
    """
    link = os.path.islink(target)
    try:
        mode = os.stat(target).st_mode  # follows links: /dev/stdout -> /proc/self/fd/1 -> a pipe
    except FileNotFoundError:
        path = Path(os.path.realpath(target)) if link else Path(target)
        if not path.parent.is_dir():
            raise OutputError(f"cannot write {target}: folder {path.parent} does not exist") from None
        return "replace", path
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        if link and str(os.path.abspath(target)).startswith(("/dev/", "/proc/")):
            # /dev/stdout, /dev/fd/N redirected to a file (`> out.svg`): write into the
            # file the shell opened, as `cat > /dev/stdout` would, not a new file behind it.
            return "stream", Path(target)
        return "replace", Path(os.path.realpath(target)) if link else Path(target)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream", Path(target)
    what = ("a directory" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a block device" if stat.S_ISBLK(mode) else "not a regular file")
    raise OutputError(f"cannot write {target}: it is {what} (write to a regular file, "
                      f"a character device such as /dev/stdout, or a FIFO)")


def _is_our_stdout(path) -> bool:
    """True for ``/dev/stdout`` (or ``/proc/self/fd/1``...) naming this process's own stdout."""
    if not str(os.path.abspath(path)).startswith(("/dev/", "/proc/")):
        return False
    try:
        mine, there = os.fstat(sys.stdout.fileno()), os.stat(path)
    except (OSError, ValueError, AttributeError):  # no real stdout (pytest capture, closed)
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


@contextlib.contextmanager
def _replacing(target: Path, shown) -> Iterator[str]:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _streaming(target: Path, shown) -> Iterator[str]:
    """Yield a temporary file; copy it into the device or FIFO ``target`` when the block succeeds."""
    fd, tmp = tempfile.mkstemp(prefix="rnngraph-", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as src, open(target, "wb", buffering=0) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(target: Union[str, Path]) -> Iterator[str]:
    """Yield a temporary path to write; it becomes ``target`` if the block succeeds.

    A regular file (or a symlink's target) is replaced by a rename, so a reader (or a Ctrl-C)
    never sees a half-written file and a failure leaves the old one; a character device or
    FIFO receives the finished bytes directly (see :func:`output_kind`).
    """
    how, path = output_kind(target)
    with (_replacing if how == "replace" else _streaming)(path, target) as tmp:
        yield tmp


def write_atomic(path: Union[str, Path], data: Union[bytes, str]) -> str:
    """Write ``data`` to ``path`` (see :func:`output_kind`); ``-`` is stdout; return the path."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if str(path) == "-" or _is_our_stdout(path):
        sys.stdout.flush()  # text already printed comes first
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return str(path)
    how, target = output_kind(path)
    if how == "stream":
        try:
            with open(target, "wb", buffering=0) as out:
                out.write(data)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return str(Path(path))
    with _replacing(target, path) as tmp:
        Path(tmp).write_bytes(data)
    return str(Path(path))
