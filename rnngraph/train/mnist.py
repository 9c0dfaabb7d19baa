"""`rnngraph train mnist`: row-by-row MNIST on the graph rnngraph draws.

Each 28x28 image is 28 time steps of 28 inputs; the dense layer of 10 reads
the final state.  The data order of epoch ``e`` comes from ``(seed, e)``, and a
checkpoint records the epoch and batch reached, so a resumed run ends with
the same numbers as one never interrupted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..model.builder import build_graph
from ..errors import DataError
from .config import MnistConfig
from .data import MnistData, check_images, data_title, load_mnist
from .plots import learning_curve
from .runs import RunResult, open_run
from .session import progress_bar

__all__ = ["train_mnist", "validation_size", "EVAL_CHUNK"]

EVAL_CHUNK = 2_000  # images per evaluation run (bounds memory for deep/LSTM models)


def validation_size(n_train: int) -> int:
    """Return how many training images to hold out: 5,000 as in the reference, at most a tenth."""
    return min(5_000, n_train // 10)


def _accuracy(run_accuracy, x: np.ndarray, y: np.ndarray) -> float:
    """Return the accuracy over ``x`` in chunks, without dropout (keep_prob keeps its 1.0)."""
    correct = 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
        correct += float(run_accuracy(xb, yb)) * len(xb)
    return correct / len(x)


def _fresh_state() -> dict:
    return {"epoch": 1, "batch": 0, "step": 0, "loss_sum": 0.0, "loss_count": 0,
            "samples": 0, "seconds": 0.0, "epoch_seconds": 0.0, "history": []}


def train_mnist(config: MnistConfig, out: Optional[Path] = None, *, resume: bool = False,
                data: Optional[MnistData] = None, say: Callable[[str], None] = print,
                stop_after: Optional[int] = None) -> RunResult:
    """Train (or, with ``resume``, continue) an MNIST run; return its folder and metrics.

    ``data`` replaces the loading (tests); ``stop_after`` stops after that many
    batches exactly as Ctrl-C does (tests).
    """
    with open_run(config, out, resume, stop_after, say) as run:
        if data is None:
            data = load_mnist(config.data, config.download, say)
        for name in ("x_train", "x_test"):  # the loaders check this; data= may come from anywhere
            check_images(getattr(data, name), name, data.origin)
        if len(data.x_train) < 10:
            raise DataError(f"{data.origin}: {len(data.x_train)} training images; need at least 10")
        x_train, y_train, x_val, y_val = data.split_validation(validation_size(len(data.x_train)))
        built = build_graph(config.spec(), seed=config.seed, device=config.device)
        session = run.start(built, config.dropout)
        state = run.state or _fresh_state()
        tensors = built.tensors
        run_accuracy = session.make_callable(tensors["accuracy"],
                                             feed_list=[tensors["X"], tensors["y"]])
        batch = config.batch_size
        n_batches = max(1, len(x_train) // batch)
        metrics = {"config": config.as_dict(), "runtime": run.runtime(),
                   "history": state["history"], "final": None}
        started: Optional[float] = None  # while training an epoch: when its timing restarted

        def checkpoint(status: str) -> None:
            nonlocal started
            if started is not None:  # mid-epoch: the training time so far goes into the state
                now = time.perf_counter()
                state["seconds"] += now - started
                state["epoch_seconds"] += now - started
                started = now
            metrics["runtime"] = run.runtime()
            run.checkpoint(state["step"], state, metrics, status)

        for epoch in range(state["epoch"], config.epochs + 1):
            order = np.random.default_rng([config.seed, epoch]).permutation(len(x_train))
            xs, ys = x_train[order], y_train[order]
            bar = progress_bar(n_batches * batch, state["batch"] * batch,
                               f"epoch {epoch}/{config.epochs}", "img")
            started = time.perf_counter()
            for index in range(state["batch"], n_batches):
                xb, yb = xs[index * batch:(index + 1) * batch], ys[index * batch:(index + 1) * batch]
                loss = float(run.train_step(xb, yb))
                run.check_loss(loss, f"epoch {epoch}, batch {index + 1}", metrics)
                state["loss_sum"] += loss
                state["loss_count"] += 1
                state["batch"] = index + 1
                state["step"] += 1
                state["samples"] += len(xb)
                bar.update(len(xb))
                if run.stop.tick():
                    break
                if run.due() and index + 1 < n_batches:
                    checkpoint("running")
            bar.close()
            if state["batch"] < n_batches:  # stopped inside the epoch
                checkpoint("interrupted")
                return run.interrupted(metrics)
            elapsed = time.perf_counter() - started
            state["seconds"] += elapsed
            state["epoch_seconds"] += elapsed
            started = None  # evaluation and saving are not training time
            last = slice((n_batches - 1) * batch, n_batches * batch)
            row = {"epoch": epoch,
                   "train_batch_accuracy": float(run_accuracy(xs[last], ys[last])),
                   "val_accuracy": _accuracy(run_accuracy, x_val, y_val),
                   "loss": state["loss_sum"] / state["loss_count"],
                   "samples_per_second": n_batches * batch / max(state["epoch_seconds"], 1e-9)}
            state["history"].append(row)
            state.update(epoch=epoch + 1, batch=0, loss_sum=0.0, loss_count=0, epoch_seconds=0.0)
            say(f"epoch {epoch:>3}/{config.epochs}  loss {row['loss']:.4f}  "
                f"last-batch accuracy {row['train_batch_accuracy']:.4f}  "
                f"validation accuracy {row['val_accuracy']:.4f}  "
                f"({row['samples_per_second']:,.0f} samples/s)")
            if run.stop.requested and epoch < config.epochs:
                checkpoint("interrupted")
                return run.interrupted(metrics)
            checkpoint("running")

        test_accuracy = _accuracy(run_accuracy, data.x_test, data.y_test)
        metrics["final"] = {
            "test_accuracy": test_accuracy,
            "samples_per_second": state["samples"] / max(state["seconds"], 1e-9),
            "data": data.name, "data_origin": data.origin,
            "train_images": len(x_train), "validation_images": len(x_val),
            "test_images": len(data.x_test), "train_seconds": state["seconds"],
        }
        checkpoint("done")
        note = "" if data.name == "mnist" else f" (on the {data.name}, not full MNIST)"
        say(f"test accuracy {test_accuracy:.4f}{note}")
        if metrics["history"]:
            learning_curve(metrics["history"], f"{data_title(data.name, len(x_train))}: {config.layers}x "
                           f"{config.cell}({config.neurons}), {len(metrics['history'])} epoch"
                           f"{'s' if len(metrics['history']) != 1 else ''}", run.folder / "learning-curve.png")
        return run.finished(metrics)
