"""One training run's life: its folder, devices, session, Ctrl-C flag and result."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from .files import CHECKPOINTS, METRICS, default_run_dir, prepare_run_dir, write_json
from .session import StopFlag, TrainingSession, check_devices

__all__ = ["RunResult", "open_run"]


@dataclass
class RunResult:
    """Where a run lives, what it measured, and whether Ctrl-C stopped it early."""

    folder: Path
    metrics: dict
    interrupted: bool = False

    @property
    def checkpoints(self) -> Path:
        return self.folder / CHECKPOINTS


class _Run:
    def __init__(self, folder: Path, resume: bool, stop_after: Optional[int]):
        self.folder = folder
        self.resume = resume
        self.state: Optional[dict] = None
        self.stop = StopFlag(stop_after)
        self._session: Optional[TrainingSession] = None
        self._step = None
        self._extra: tuple = ()

    def start(self, built, dropout: Optional[float]):
        """Open the session on ``built`` (restoring on resume) and start catching Ctrl-C."""
        self._session = TrainingSession(built, self.folder)
        self.state = self._session.start(self.resume)
        tensors = built.tensors
        feeds = [tensors["X"], tensors["y"]]
        if dropout is not None:  # fed only here: evaluation keeps keep_prob's default 1.0
            feeds.append(tensors["keep_prob"])
            self._extra = (dropout,)
        # A callable skips Session.run's per-call parsing of fetches and feeds.
        self._step = self._session.session.make_callable(
            [tensors["training_op"], tensors["loss"]], feed_list=feeds)
        self.stop.__enter__()
        return self._session.session

    def train_step(self, inputs, targets) -> float:
        """Run one training step on a batch; return its loss (before the update)."""
        return self._step(inputs, targets, *self._extra)[1]

    def checkpoint(self, step: int, state: dict, metrics: dict, status: str) -> None:
        """Save the variables and loop state, then metrics.json with ``status``."""
        self._session.save(step, state)
        write_json(self.folder / METRICS, {**metrics, "status": status})

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
    """Yield a run in ``out`` (default ``runs/<program>-<cell>-<time>``), closed on exit."""
    check_devices(config.all_devices())
    folder = prepare_run_dir(out or default_run_dir(config.program, config.cell), resume)
    if resume and config.dropout is not None:
        # TF1 random kernels restart their stream in a new Session; nothing saves it.
        say("note: dropout masks after a resume are drawn afresh, so the numbers will differ "
            "slightly from a run that was never interrupted")
    run = _Run(folder, resume, stop_after)
    try:
        yield run
    finally:
        run.close()
