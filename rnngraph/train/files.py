"""The run folder: atomic writes of metrics.json, state and plots, and reading them back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Union

from ..errors import OutputError, RunDirError
from ..files import atomic_path

__all__ = ["atomic_path", "write_json", "read_json", "default_run_dir", "prepare_run_dir",
           "METRICS", "CHECKPOINTS", "STATE"]

METRICS = "metrics.json"
CHECKPOINTS = "checkpoints"
STATE = "state.json"  # inside CHECKPOINTS: where training stopped, for --resume


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
