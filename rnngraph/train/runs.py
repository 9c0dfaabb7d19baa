"""One training run's life: its folder, devices, session, checkpoints, Ctrl-C flag and result."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from ..errors import TrainingDiverged
from ..model.tfcompat import tf
from .files import CHECKPOINTS, METRICS, STATE, default_run_dir, prepare_run_dir, write_json
from .session import (StopFlag, TrainingSession, check_devices, compiled_clusters,
                      enable_cpu_jit)

__all__ = ["RunResult", "open_run", "describe_speed_settings"]


@dataclass
class RunResult:
    """Where a run lives, what it measured, and whether Ctrl-C stopped it early."""

    folder: Path
    metrics: dict
    interrupted: bool = False

    @property
    def checkpoints(self) -> Path:
        return self.folder / CHECKPOINTS


def describe_speed_settings(config) -> str:
    """Return the line that says how a run executes (graph kind, XLA, threads)."""
    def count(n: int) -> str:
        return "TensorFlow's choice" if n == 0 else str(n)

    threads = ("TensorFlow's choice" if config.intra_threads == config.inter_threads == 0 else
               f"{count(config.intra_threads)} per op, {count(config.inter_threads)} ops at once")
    return f"{config.kind}_rnn graph, XLA {'on' if config.jit else 'off'}, threads: {threads}"


class _Run:
    def __init__(self, folder: Path, config, resume: bool, stop_after: Optional[int],
                 say: Callable[[str], None]):
        self.folder = folder
        self.config = config
        self.resume = resume
        self.say = say
        self.state: Optional[dict] = None
        self.stop = StopFlag(stop_after)
        self.checkpoint_name: Optional[str] = None  # the last complete one
        self.xla_clusters: Optional[int] = None  # measured on the first step with --jit
        self._session: Optional[TrainingSession] = None
        self._step = None
        self._extra: tuple = ()
        self._variables: list = []
        self._last_save = time.monotonic()

    def start(self, built, dropout: Optional[float]):
        """Open the session on ``built`` (restoring on resume) and start catching Ctrl-C."""
        self._session = TrainingSession(built, self.folder, self.config)
        self.state = self._session.start(self.resume, fresh_if_none=True)
        if self.resume and self.state is None:
            self.say(f"note: {self.folder} has no complete checkpoint yet; starting from the "
                     "beginning")
        self.checkpoint_name = (self.state or {}).get("checkpoint")
        if not self.resume:  # a fresh run in a folder an older, killed run left behind
            with contextlib.suppress(FileNotFoundError):
                (self.folder / CHECKPOINTS / STATE).unlink()
        self._session.checkpoints.remove_others(keep=self.checkpoint_name or "-")
        tensors = built.tensors
        feeds = [tensors["X"], tensors["y"]]
        if dropout is not None:  # fed only here: evaluation keeps keep_prob's default 1.0
            feeds.append(tensors["keep_prob"])
            self._extra = (dropout,)
        # A callable skips Session.run's per-call parsing of fetches and feeds.
        self._step = self._session.session.make_callable(
            [tensors["training_op"], tensors["loss"]], feed_list=feeds, accept_options=True)
        with built.graph.as_default():
            self._variables = tf().compat.v1.global_variables()  # Adam's slots too
        self.stop.__enter__()
        self._last_save = time.monotonic()
        return self._session.session

    def train_step(self, inputs, targets) -> float:
        """Run one training step on a batch; return its loss (before the update)."""
        if self.config.jit and self.xla_clusters is None:
            v1 = tf().compat.v1
            metadata = v1.RunMetadata()
            loss = self._step(inputs, targets, *self._extra,
                              options=v1.RunOptions(output_partition_graphs=True),
                              run_metadata=metadata)[1]
            self.xla_clusters = compiled_clusters(metadata)
            self.say(f"XLA compiled {self.xla_clusters} cluster(s) of the graph"
                     if self.xla_clusters else
                     "note: XLA compiled nothing here (it does not cluster the while loop of "
                     "dynamic_rnn; --kind static unrolls it)")
            return loss
        return self._step(inputs, targets, *self._extra)[1]

    def check_loss(self, loss: float, where: str, metrics: dict) -> None:
        """Stop the run (TrainingDiverged) if ``loss`` is NaN or infinite."""
        if not math.isfinite(loss):
            self._diverged(f"the loss became {loss} at {where}", metrics)

    def due(self) -> bool:
        """Return True when the time-based checkpoint interval has passed."""
        return time.monotonic() - self._last_save >= self.config.checkpoint_seconds

    def checkpoint(self, step: int, state: dict, metrics: dict, status: str) -> None:
        """Save variables and loop state as one atomic step, then metrics.json with ``status``.

        Ctrl-C is ignored meanwhile; variables that are no longer finite are never saved.
        """
        values = self._session.session.run(self._variables)
        bad = [v.op.name for v, value in zip(self._variables, values)
               if not np.isfinite(value).all()]
        if bad:
            self._diverged(f"{bad[0]} holds NaN or infinite values at step {step}", metrics)
        with self.stop.shielded():
            self.checkpoint_name = self._session.save(step, state)
            write_json(self.folder / METRICS, {**metrics, "status": status})
        self._last_save = time.monotonic()

    def _diverged(self, what: str, metrics: dict) -> None:
        kept = (f"the last good checkpoint, {self.checkpoint_name}, stays in "
                f"{self.folder / CHECKPOINTS}" if self.checkpoint_name
                else "no checkpoint had been written yet")
        write_json(self.folder / METRICS, {**metrics, "status": "diverged", "diverged": what})
        raise TrainingDiverged(f"training diverged: {what}; stopped ({kept}); a lower --lr "
                               "usually helps")

    def runtime(self) -> dict:
        """Return how this run executed, for metrics.json."""
        return {"settings": describe_speed_settings(self.config),
                "xla_clusters": self.xla_clusters}

    def interrupted(self, metrics: dict) -> RunResult:
        return RunResult(self.folder, metrics, interrupted=True)

    def finished(self, metrics: dict) -> RunResult:
        return RunResult(self.folder, metrics)

    def close(self) -> None:
        self.stop.__exit__(None, None, None)
        if self._session is not None:
            self._session.close()


@contextlib.contextmanager
def open_run(config, out: Optional[Path], resume: bool, stop_after: Optional[int],
             say: Callable[[str], None]) -> Iterator[_Run]:
    """Yield a run in ``out`` (default ``runs/<program>-<cell>-<time>``), closed on exit.

    A new run writes metrics.json (its config) before anything else, so even a
    run killed before its first checkpoint can be resumed.
    """
    if config.jit:
        enable_cpu_jit()  # before check_devices creates TensorFlow's CPU devices
    check_devices(config.all_devices())
    folder = prepare_run_dir(out or default_run_dir(config.program, config.cell), resume)
    if not resume:
        write_json(folder / METRICS, {"config": config.as_dict(), "history": [], "final": None,
                                      "status": "started"})
    if resume and config.dropout is not None:
        # TF1 random kernels restart their stream in a new Session; nothing saves it.
        say("note: dropout masks after a resume are drawn afresh, so the numbers will differ "
            "slightly from a run that was never interrupted")
    say(f"running: {describe_speed_settings(config)}")
    run = _Run(folder, config, resume, stop_after, say)
    try:
        yield run
    finally:
        run.close()
