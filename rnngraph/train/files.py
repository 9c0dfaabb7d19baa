"""The run folder: atomic writes of metrics.json, state and plots, and reading them back."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator, Union

from ..errors import OutputError, RunDirError

__all__ = ["atomic_path", "write_json", "read_json", "default_run_dir", "prepare_run_dir",
           "METRICS", "CHECKPOINTS", "STATE"]

METRICS = "metrics.json"
CHECKPOINTS = "checkpoints"
STATE = "state.json"  # inside CHECKPOINTS: where training stopped, for --resume


@contextlib.contextmanager
def atomic_path(target: Union[str, Path]) -> Iterator[str]:
    """Yield a temporary path beside ``target``; rename it over ``target`` if the block succeeds.

    A reader (or a Ctrl-C) never sees a half-written file.
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


def write_json(path: Union[str, Path], data: dict) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def read_json(path: Union[str, Path]) -> dict:
    """Return the JSON object in ``path``, or raise RunDirError saying what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"{path}: no such file (is this a training run folder?)") from None
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    return data


def default_run_dir(program: str, cell: str) -> Path:
    """Return ``runs/<program>-<cell>-<timestamp>`` (relative to the working folder)."""
    return Path("runs") / f"{program}-{cell}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_run_dir(path: Union[str, Path], resume: bool) -> Path:
    """Return the run folder, created; a new run refuses a folder that already holds one."""
    path = Path(path)
    if resume:
        if not (path / CHECKPOINTS / STATE).is_file():
            raise RunDirError(f"{path}: no checkpoint to resume from "
                              f"(expected {path / CHECKPOINTS / STATE})")
        return path
    if (path / METRICS).exists():
        raise OutputError(f"{path} already holds a run; pass --resume {path} to continue it "
                          "or choose another --out")
    try:
        (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path
