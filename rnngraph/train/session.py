"""What both training programs need around a built graph.

Device checks, the Session (threads, XLA), checkpoints with the loop's
position, Ctrl-C as a flag checked between batches, and a progress bar that
is quiet off a terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..errors import DeviceError, RunDirError
from ..model.tfcompat import tf
from .checkpoints import Checkpoints
from .files import CHECKPOINTS, STATE

__all__ = ["check_devices", "enable_cpu_jit", "session_config", "compiled_clusters",
           "TrainingSession", "StopFlag", "progress_bar"]


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


def enable_cpu_jit() -> None:
    """Let XLA auto-cluster on the CPU (for Sessions that ask with ``global_jit_level``).

    TensorFlow reads this once, when it first creates its CPU devices: before
    the import through ``TF_XLA_FLAGS``, after it through the same switch that
    TensorFlow's own test harness flips.  It changes nothing for a Session that
    does not ask for XLA.
    """
    if "tensorflow" not in sys.modules:
        flags = os.environ.get("TF_XLA_FLAGS", "")
        if "--tf_xla_cpu_global_jit" not in flags:
            os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_cpu_global_jit".strip()
        return
    tf()
    try:
        from tensorflow.python.client import pywrap_tf_session  # noqa: PLC0415

        pywrap_tf_session.TF_SetTfXlaCpuGlobalJit(True)
    except (ImportError, AttributeError):  # an internal switch; without it the run says so
        pass


def session_config(config=None):
    """Return the ConfigProto for a run: threads and XLA from ``config``, tf.config's CPU split."""
    t = tf()
    cpus = len(t.config.list_logical_devices("CPU")) or 1
    # Soft placement lets ops without a GPU kernel fall back to the CPU.
    proto = t.compat.v1.ConfigProto(allow_soft_placement=True, device_count={"CPU": cpus})
    if config is not None:
        proto.intra_op_parallelism_threads = config.intra_threads
        proto.inter_op_parallelism_threads = config.inter_threads
        if config.jit:
            proto.graph_options.optimizer_options.global_jit_level = \
                t.compat.v1.OptimizerOptions.ON_1
    return proto


def compiled_clusters(run_metadata) -> int:
    """Return how many XLA clusters a step ran (``_XlaRun`` ops in its partition graphs)."""
    return sum(node.op == "_XlaRun" for graph in run_metadata.partition_graphs
               for node in graph.node)


class TrainingSession:
    """A Session over a built graph, with checkpoints that record the loop position beside them."""

    def __init__(self, built, run_dir: Path, config=None):
        self.built = built
        self.folder = Path(run_dir) / CHECKPOINTS
        self.session = tf().compat.v1.Session(graph=built.graph, config=session_config(config))
        self.checkpoints = Checkpoints(self.session, built.graph, self.folder)

    def start(self, resume: bool, fresh_if_none: bool = False) -> Optional[dict]:
        """Initialise the variables, or restore the last complete checkpoint and return its state.

        With ``fresh_if_none`` (resuming a run killed before its first checkpoint),
        no checkpoint means starting from the beginning (None); otherwise it is an error.
        """
        state = self.checkpoints.latest() if resume else None
        if state is None:
            if resume and not fresh_if_none:
                raise RunDirError(f"{self.folder.parent}: no checkpoint yet "
                                  f"(expected {self.folder / STATE})")
            self.session.run(self.built.tensors["init"])
        else:
            self.checkpoints.restore(state)
        return state

    def save(self, step: int, state: dict) -> str:
        """Write a checkpoint and the state naming it, as one atomic step; return its name."""
        return self.checkpoints.save(step, state)

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class StopFlag:
    """Ctrl-C (SIGINT) as a flag, so the loop stops between batches and saves a checkpoint.

    A second Ctrl-C stops at once (the last complete checkpoint stays), except
    while a checkpoint is being written: then it is ignored, and says so.
    ``stop_after`` is a test hook: it raises the flag after that many batches,
    as Ctrl-C would.
    """

    def __init__(self, stop_after: Optional[int] = None):
        self.requested = False
        self.saving = False
        self._stop_after = stop_after
        self._batches = 0
        self._previous = None

    def tick(self) -> bool:
        """Count one batch; return True if the loop should stop now."""
        self._batches += 1
        if self._stop_after is not None and self._batches >= self._stop_after:
            self.requested = True
        return self.requested

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """Ignore Ctrl-C while the block runs (writing a checkpoint)."""
        self.saving = True
        try:
            yield
        finally:
            self.saving = False

    def _handle(self, signum, frame):
        if self.saving:
            _tell("rnngraph: writing a checkpoint; Ctrl-C is ignored until it is complete")
            return
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        _tell("rnngraph: stopping after this step to save a checkpoint "
              "(Ctrl-C again stops at once, keeping the last complete checkpoint)")

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def _tell(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def progress_bar(total: int, initial: int, description: str, unit: str):
    """Return a tqdm bar over ``total`` samples; disabled unless stdout and stderr are terminals."""
    from tqdm import tqdm  # noqa: PLC0415

    quiet = not (sys.stdout.isatty() and sys.stderr.isatty())
    return tqdm(total=total, initial=initial, desc=description, unit=unit, unit_scale=True,
                leave=False, disable=quiet, dynamic_ncols=True, mininterval=0.25)
