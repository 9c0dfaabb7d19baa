"""What both training programs need around a built graph.

Device checks, the Session, checkpoints with the loop's position, Ctrl-C as
a flag checked between batches, and a progress bar that is quiet off a
terminal.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Iterable, Optional

from ..errors import DeviceError, RunDirError
from ..model.tfcompat import tf
from .files import CHECKPOINTS, STATE, read_json, write_json

__all__ = ["check_devices", "TrainingSession", "StopFlag", "progress_bar"]


def check_devices(wanted: Iterable[str]) -> None:
    """Raise DeviceError if a device in ``wanted`` is not on this machine (lists those that are)."""
    t = tf()
    present = t.config.list_logical_devices()
    have = {(d.device_type.upper(), t.DeviceSpec.from_string(d.name).device_index or 0)
            for d in present}
    for name in wanted:
        spec = t.DeviceSpec.from_string(name)
        if (str(spec.device_type).upper(), spec.device_index or 0) not in have:
            names = ", ".join(d.name for d in present) or "none"
            raise DeviceError(f"device {name} is not available here (devices present: {names})")


def _session_config():
    """Return a ConfigProto that keeps tf.config's logical CPU split (Session ignores it otherwise)."""
    t = tf()
    cpus = len(t.config.list_logical_devices("CPU")) or 1
    # Soft placement lets ops without a GPU kernel fall back to the CPU.
    return t.compat.v1.ConfigProto(allow_soft_placement=True, device_count={"CPU": cpus})


class TrainingSession:
    """A Session over a built graph, with a Saver that records the loop position beside it."""

    def __init__(self, built, run_dir: Path):
        t = tf()
        self.built = built
        self.folder = Path(run_dir) / CHECKPOINTS
        with built.graph.as_default():
            self.saver = t.compat.v1.train.Saver(max_to_keep=2)
        self.session = t.compat.v1.Session(graph=built.graph, config=_session_config())

    def start(self, resume: bool) -> Optional[dict]:
        """Initialise the variables, or restore them and return the saved loop state."""
        if not resume:
            self.session.run(self.built.tensors["init"])
            return None
        state = read_json(self.folder / STATE)
        prefix = self.folder / str(state.get("checkpoint", ""))
        try:
            with self.built.graph.as_default():
                self.saver.restore(self.session, str(prefix))
        except Exception as exc:  # noqa: BLE001 - TF raises several kinds for a bad checkpoint
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RunDirError(f"{prefix}: cannot restore the checkpoint ({first})") from None
        return state

    def save(self, step: int, state: dict) -> None:
        """Write a checkpoint, then the state naming it (so the state never names a partial one)."""
        with self.built.graph.as_default():  # outside it, eager mode makes Saver refuse
            path = self.saver.save(self.session, str(self.folder / "ckpt"), global_step=step,
                                   write_meta_graph=False)
        write_json(self.folder / STATE, {**state, "checkpoint": Path(path).name})

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class StopFlag:
    """Ctrl-C (SIGINT) as a flag, so the loop stops between batches and saves a checkpoint.

    A second Ctrl-C interrupts at once, as usual.  ``stop_after`` is a test
    hook: it raises the flag after that many batches, as Ctrl-C would.
    """

    def __init__(self, stop_after: Optional[int] = None):
        self.requested = False
        self._stop_after = stop_after
        self._batches = 0
        self._previous = None

    def tick(self) -> bool:
        """Count one batch; return True if the loop should stop now."""
        self._batches += 1
        if self._stop_after is not None and self._batches >= self._stop_after:
            self.requested = True
        return self.requested

    def _handle(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def progress_bar(total: int, initial: int, description: str, unit: str):
    """Return a tqdm bar over ``total`` samples; disabled unless stdout and stderr are terminals."""
    from tqdm import tqdm  # noqa: PLC0415

    quiet = not (sys.stdout.isatty() and sys.stderr.isatty())
    return tqdm(total=total, initial=initial, desc=description, unit=unit, unit_scale=True,
                leave=False, disable=quiet, dynamic_ncols=True, mininterval=0.25)
