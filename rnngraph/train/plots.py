"""PNG figures of the training runs (matplotlib's Agg canvas, no pyplot, written atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .files import atomic_path

__all__ = ["learning_curve", "series_window", "generated_sequence"]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # noqa: PLC0415 (slow import, only when plotting)

    return Figure(figsize=(width, height), dpi=100, layout="tight")


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def learning_curve(history: Sequence[dict], title: str, path: Path) -> Path:
    """Write accuracies and loss per epoch of an MNIST run."""
    fig = _figure(8, 3.5)
    left, right = fig.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    left.plot(epochs, [row["train_batch_accuracy"] for row in history], "o-",
              label="last training batch")
    left.plot(epochs, [row["val_accuracy"] for row in history], "s-", label="validation")
    left.set(xlabel="epoch", ylabel="accuracy", title=title)
    left.grid(alpha=0.3)
    left.legend(loc="lower right")
    right.plot(epochs, [row["loss"] for row in history], "o-", color="tab:red")
    right.set(xlabel="epoch", ylabel="mean training loss", title="loss")
    right.grid(alpha=0.3)
    return _save(fig, path)


def series_window(t_series: np.ndarray, series: np.ndarray, t_window: np.ndarray,
                  inputs: np.ndarray, targets: np.ndarray, predictions: np.ndarray,
                  path: Path) -> Path:
    """Write the classic figure: the series with one window, and that window's predictions."""
    fig = _figure(11, 4)
    left, right = fig.subplots(1, 2)
    left.plot(t_series, series, label=r"$t \cdot \sin(t) / 3 + 2 \cdot \sin(5t)$")
    left.plot(t_window, np.concatenate([inputs[:1], targets]), "b-", linewidth=3,
              label="a test window")
    left.set(xlabel="time", ylabel="value", title="the time series")
    left.legend(loc="lower left")
    left.grid(alpha=0.3)
    right.plot(t_window[:-1], inputs, "bo", markersize=10, label="inputs")
    right.plot(t_window[1:], targets, "w*", markersize=10, markeredgecolor="k",
               label="targets")
    right.plot(t_window[1:], predictions, "r.", markersize=10, label="predictions")
    right.set(xlabel="time", title="the window: next-step predictions")
    right.legend(loc="upper left")
    right.grid(alpha=0.3)
    return _save(fig, path)


def generated_sequence(values: np.ndarray, seed_length: int, title: str, path: Path) -> Path:
    """Write a generated sequence, its seed part drawn apart from what the model made."""
    fig = _figure(9, 3.5)
    ax = fig.subplots()
    steps = np.arange(len(values))
    ax.plot(steps[:seed_length], values[:seed_length], "b.-", label="seed sequence")
    ax.plot(steps[seed_length - 1:], values[seed_length - 1:], "r-", label="generated")
    ax.axvline(seed_length - 0.5, color="grey", linestyle=":")
    ax.set(xlabel="step", ylabel="value", title=title)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return _save(fig, path)
