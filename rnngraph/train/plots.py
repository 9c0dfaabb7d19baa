"""PNG figures of the training runs (matplotlib's Agg canvas, no pyplot, written atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .files import atomic_path

__all__ = ["learning_curve", "learning_curve_figure", "loss_curve", "loss_curve_figure", "series_window",
           "generated_sequence"]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # noqa: PLC0415 (slow import, only when plotting)

    return Figure(figsize=(width, height), dpi=100, layout="tight")


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _steps_axis(ax, steps: Sequence[int], label: str) -> None:
    """Integer ticks, and half a step of room either side, so one point is not a lone dot at 1.00."""
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    if steps and max(steps) - min(steps) < 10:
        ax.set_xticks(range(min(steps), max(steps) + 1))
        ax.set_xlim(min(steps) - 0.5, max(steps) + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.margins(x=0.1)  # room on the right for the last point's value
    ax.margins(y=0.25)  # room above and below the points for their values
    ax.set_xlabel(label)
    ax.grid(alpha=0.3)


def _label_points(ax, xs: Sequence, ys: Sequence, fmt: str, color: str) -> None:
    """Write each value beside its point when there are few (a short run)."""
    if len(xs) > 5:
        return
    for x, y in zip(xs, ys):
        ax.annotate(format(y, fmt), (x, y), textcoords="offset points", xytext=(6, 4),
                    fontsize=8, color=color)


def learning_curve(history: Sequence[dict], title: str, path: Path) -> Path:
    """Write accuracies and loss per epoch of an MNIST run (readable after a single epoch too)."""
    return _save(learning_curve_figure(history, title), path)


def learning_curve_figure(history: Sequence[dict], title: str):
    """Return the learning-curve Figure: accuracies (legend below the axes) and loss per epoch."""
    fig = _figure(9, 4)
    fig.set_layout_engine("constrained")
    left, right = fig.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    train = [row["train_batch_accuracy"] for row in history]
    val = [row["val_accuracy"] for row in history]
    left.plot(epochs, train, "o-", color="tab:blue", label="last training batch")
    left.plot(epochs, val, "s-", color="tab:orange", label="validation")
    _label_points(left, epochs, train, ".3f", "tab:blue")
    _label_points(left, epochs, val, ".3f", "tab:orange")
    left.set(ylabel="accuracy", title="accuracy")
    _steps_axis(left, epochs, "epoch")
    # Below the axes, so it never covers a point.
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    losses = [row["loss"] for row in history]
    right.plot(epochs, losses, "o-", color="tab:red")
    _label_points(right, epochs, losses, ".4f", "tab:red")
    right.set(ylabel="mean training loss", title="loss")
    _steps_axis(right, epochs, "epoch")
    fig.suptitle(title)
    return fig


def loss_curve(history: Sequence[dict], title: str, path: Path) -> Path:
    """Write the training MSE at each reported iteration of a series run."""
    return _save(loss_curve_figure(history, title), path)


def loss_curve_figure(history: Sequence[dict], title: str):
    """Return the loss-curve Figure (log scale when the MSE spans more than 10x)."""
    fig = _figure(7, 4)
    fig.set_layout_engine("constrained")
    ax = fig.subplots()
    iterations = [row["iteration"] for row in history]
    mse = [row["mse"] for row in history]
    ax.plot(iterations, mse, "o-", color="tab:red", markersize=4 if len(mse) > 20 else 6,
            label="training batch MSE")
    _label_points(ax, iterations, mse, ".4g", "tab:red")
    positive = [m for m in mse if m > 0]
    if positive and max(positive) > 10 * min(positive):
        ax.set_yscale("log")
    ax.set(ylabel="mean squared error", title=title)
    _steps_axis(ax, iterations, "iteration")
    ax.legend(loc="best")
    return fig


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
