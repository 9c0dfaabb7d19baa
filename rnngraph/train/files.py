"""The run folder: atomic writes of metrics.json, state and plots, and reading them back."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Union

from ..errors import OutputError, RunDirError
from ..files import atomic_path

__all__ = ["atomic_path", "write_json", "standard_json", "read_json", "default_run_dir", "prepare_run_dir",
           "METRICS", "CHECKPOINTS", "STATE"]

METRICS = "metrics.json"
CHECKPOINTS = "checkpoints"
STATE = "state.json"  # inside CHECKPOINTS: where training stopped, for --resume


def standard_json(value):
    """Return ``value`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: standard_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [standard_json(item) for item in value]
    return value


def write_json(path: Union[str, Path], data: dict) -> None:
    """Write ``data`` as indented standard JSON (no bare NaN or Infinity), atomically."""
    text = json.dumps(standard_json(data), indent=2, sort_keys=False, allow_nan=False) + "\n"
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
    """Return the run folder, created; a new run refuses a folder that already holds one.

    A run writes metrics.json before its first step, so a folder with metrics.json but no
    checkpoint yet (killed early) can still be resumed: it starts from the beginning.
    """
    path = Path(path)
    if resume:
        if not (path / METRICS).is_file():
            raise RunDirError(f"{path}: no run to resume (expected {path / METRICS})")
        try:
            (path / CHECKPOINTS).mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write into {path}: {exc.strerror or exc}") from None
        return path
    if (path / METRICS).exists():
        raise OutputError(f"{path} already holds a run; pass --resume {path} to continue it "
                          "or choose another --out")
    try:
        (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path
