"""`rnngraph generate`: run a trained series model on its own output."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..model.builder import build_graph
from ..errors import OutputError, UsageError
from .config import config_from_dict
from .files import METRICS, atomic_path, read_json
from .plots import generated_sequence
from .series import RESOLUTION, T_MAX, T_MIN, predict, time_series
from .session import TrainingSession

__all__ = ["generate", "Generated", "SEED_SEQUENCES", "SERIES_SEED_START"]

SEED_SEQUENCES = ("zeros", "series")
SERIES_SEED_START = T_MIN + (T_MAX - T_MIN) / 3  # where the real seed window starts


@dataclass
class Generated:
    """The sequence (seed first) and the files it was written to."""

    values: np.ndarray
    seed_length: int
    csv_path: Path
    png_path: Path


def seed_values(kind: str, steps: int) -> np.ndarray:
    """Return the ``steps`` values generation starts from: zeros or a real window."""
    if kind == "zeros":
        return np.zeros(steps, dtype=np.float32)
    if kind == "series":
        return time_series(SERIES_SEED_START + np.arange(steps) * RESOLUTION).astype(np.float32)
    raise UsageError(f"unknown seed sequence {kind!r} (choose one of: {', '.join(SEED_SEQUENCES)})")


def to_csv(values: np.ndarray, seed_length: int) -> str:
    """Return ``step,value,source`` rows; source is ``seed`` or ``generated``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["step", "value", "source"])
    for step, value in enumerate(values):
        writer.writerow([step, f"{float(value):.6g}", "seed" if step < seed_length else "generated"])
    return buffer.getvalue()


def generate(run_dir: Path, steps: int = 300, seed_sequence: str = "zeros",
             out: Optional[Path] = None, say: Callable[[str], None] = print) -> Generated:
    """Return ``steps`` values the model of ``run_dir`` makes from its own output, written as CSV + PNG."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 1_000_000:
        raise UsageError(f"--steps must be an integer from 1 to 1000000, got {steps!r}")
    run_dir = Path(run_dir)
    config = config_from_dict(read_json(run_dir / METRICS).get("config") or {},
                              str(run_dir / METRICS))
    if config.program != "series":
        raise UsageError(f"{run_dir} is a `train {config.program}` run; generate needs a "
                         "`train series` run")
    window = config.steps
    values = list(seed_values(seed_sequence, window))
    # Placement is the trainer's choice, not the checkpoint's: run here on the default device.
    built = build_graph(config.replace(device=None, devices=None).spec(), seed=config.seed)
    with TrainingSession(built, run_dir) as trained:
        trained.start(resume=True)
        for _ in range(steps):
            inputs = np.asarray(values[-window:], dtype=np.float32).reshape(1, window, 1)
            values.append(float(predict(trained.session, built.tensors, inputs)[0, -1, 0]))
    sequence = np.asarray(values, dtype=np.float32)
    folder = Path(out) if out else run_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror or exc}") from None
    stem = f"generated-{seed_sequence}"
    csv_path, png_path = folder / f"{stem}.csv", folder / f"{stem}.png"
    with atomic_path(csv_path) as tmp:
        Path(tmp).write_text(to_csv(sequence, window), encoding="utf-8")
    generated_sequence(sequence, window, f"{steps} steps generated from {seed_sequence} "
                       f"({config.cell}, {config.neurons} units)", png_path)
    say(f"wrote {csv_path} and {png_path}")
    return Generated(sequence, window, csv_path, png_path)
