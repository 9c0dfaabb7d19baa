"""`rnngraph train series`: predict t·sin(t)/3 + 2·sin(5t) one step ahead.

Batches are random 20-step windows of the series sampled every 0.1 in
[0, 30]; the target is the window shifted by one step.  The windows of
iteration ``i`` come from ``(seed, i)``, so a resumed run repeats exactly.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..model.builder import build_graph
from .config import SeriesConfig
from .plots import loss_curve, series_window
from .runs import RunResult, open_run
from .session import progress_bar

__all__ = ["train_series", "time_series", "series_batch", "T_MIN", "T_MAX", "RESOLUTION",
           "WINDOW_START", "predict"]

T_MIN, T_MAX = 0.0, 30.0
RESOLUTION = 0.1
WINDOW_START = 12.2  # the test window of the classic figure
EVAL_WINDOWS = 1_000
EVAL_SEED = 31_415  # fixed: final.mse is comparable between runs and seeds


def time_series(t: np.ndarray) -> np.ndarray:
    """Return t·sin(t)/3 + 2·sin(5t)."""
    return t * np.sin(t) / 3 + 2 * np.sin(t * 5)


def series_batch(rng: np.random.Generator, batch: int, steps: int):
    """Return (inputs, targets), each [batch, steps, 1] float32, of random windows."""
    t0 = rng.random((batch, 1)) * (T_MAX - T_MIN - steps * RESOLUTION) + T_MIN
    values = time_series(t0 + np.arange(steps + 1) * RESOLUTION).astype(np.float32)
    return values[:, :-1, np.newaxis], values[:, 1:, np.newaxis]


def predict(session, tensors, inputs: np.ndarray) -> np.ndarray:
    """Return the model's next-step predictions [n, steps, 1] for ``inputs`` [n, steps, 1]."""
    return session.run(tensors["outputs"], {tensors["X"]: inputs})


def _fresh_state() -> dict:
    return {"iteration": 1, "samples": 0, "seconds": 0.0, "history": []}


def train_series(config: SeriesConfig, out: Optional[Path] = None, *, resume: bool = False,
                 say: Callable[[str], None] = print,
                 stop_after: Optional[int] = None) -> RunResult:
    """Train (or continue) a series run; return its folder and metrics (``final.mse``)."""
    with open_run(config, out, resume, stop_after, say) as run:
        built = build_graph(config.spec(), seed=config.seed, device=config.device)
        session = run.start(built, config.dropout)
        state = run.state or _fresh_state()
        tensors = built.tensors
        metrics = {"config": config.as_dict(), "runtime": run.runtime(),
                   "history": state["history"], "final": None}
        started: Optional[float] = None  # while the loop runs: when its timing restarted

        def checkpoint(status: str) -> None:
            nonlocal started
            if started is not None:  # the training time so far goes into the saved state
                now = time.perf_counter()
                state["seconds"] += now - started
                started = now
            metrics["runtime"] = run.runtime()
            run.checkpoint(state["iteration"] - 1, state, metrics, status)

        batch = config.batch_size
        bar = progress_bar(config.iterations * batch, (state["iteration"] - 1) * batch,
                           "series", "window")
        started = time.perf_counter()
        for iteration in range(state["iteration"], config.iterations + 1):
            inputs, targets = series_batch(np.random.default_rng([config.seed, iteration]),
                                           batch, config.steps)
            mse = float(run.train_step(inputs, targets))
            run.check_loss(mse, f"iteration {iteration}", metrics)
            state["iteration"] = iteration + 1
            state["samples"] += batch
            bar.update(batch)
            reported = iteration == 1 or iteration % config.report_every == 0 \
                or iteration == config.iterations
            if reported:
                state["history"].append({"iteration": iteration, "mse": mse})
                bar.clear()
                say(f"iteration {iteration:>5}/{config.iterations}  MSE {mse:.4f}")
                bar.refresh()
            if run.stop.tick() and iteration < config.iterations:
                break
            if iteration < config.iterations and (reported or run.due()):
                checkpoint("running")  # at every report, and at least every checkpoint_seconds
        state["seconds"] += time.perf_counter() - started
        started = None  # evaluation and saving are not training time
        bar.close()
        if state["iteration"] <= config.iterations:
            checkpoint("interrupted")
            return run.interrupted(metrics)

        eval_inputs, eval_targets = series_batch(np.random.default_rng(EVAL_SEED),
                                                 EVAL_WINDOWS, config.steps)
        eval_mse = float(np.mean((predict(session, tensors, eval_inputs) - eval_targets) ** 2))
        metrics["final"] = {
            "mse": eval_mse, "eval_windows": EVAL_WINDOWS,
            "last_batch_mse": state["history"][-1]["mse"] if state["history"] else None,
            "samples_per_second": state["samples"] / max(state["seconds"], 1e-9),
            "train_seconds": state["seconds"],
        }
        checkpoint("done")
        say(f"MSE on {EVAL_WINDOWS:,} fixed test windows: {eval_mse:.4f}")
        _plot_test_window(session, tensors, config.steps, run.folder / "test-window.png")
        if state["history"]:
            loss_curve(state["history"], f"series: {config.cell}({config.neurons}), "
                       f"{config.iterations} iterations, test MSE {eval_mse:.4f}",
                       run.folder / "loss-curve.png")
        return run.finished(metrics)


def _plot_test_window(session, tensors, steps: int, path: Path) -> Path:
    t_window = np.linspace(WINDOW_START, WINDOW_START + RESOLUTION * steps, steps + 1)
    values = time_series(t_window).astype(np.float32)
    inputs, targets = values[:-1], values[1:]
    predictions = predict(session, tensors, inputs.reshape(1, steps, 1)).reshape(steps)
    t_series = np.linspace(T_MIN, T_MAX, int((T_MAX - T_MIN) / RESOLUTION) + 1)
    return series_window(t_series, time_series(t_series), t_window, inputs, targets,
                         predictions, path)
