"""The settings of a training run, validated, saved in metrics.json and read back for --resume."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from ..errors import RunDirError, UsageError
from ..model.spec import ModelSpec

__all__ = ["MnistConfig", "SeriesConfig", "config_from_dict", "RESUME_OVERRIDABLE",
           "DEFAULT_INTRA_THREADS", "DEFAULT_INTER_THREADS"]

# What --resume may change: how long to train, where, how fast (not the math), and where the
# data now lives.
RESUME_OVERRIDABLE = ("epochs", "iterations", "device", "devices", "data", "download", "jit",
                      "intra_threads", "inter_threads", "checkpoint_seconds")

# Threads for the Session (0 = TensorFlow's choice, one per core).  Measured on the 2-core
# development machine (benchmarks/bench_train.py, README "Training speed"), 1 per op / 2 ops at
# once was 11% faster, 7% slower and 1% faster in three runs: no reliable difference, so the
# default leaves the choice to TensorFlow, which also scales to bigger models and machines.
DEFAULT_INTRA_THREADS = 0
DEFAULT_INTER_THREADS = 0


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")


def _threads(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1024:
        raise UsageError(f"{name} must be an integer from 0 (TensorFlow's choice) to 1024, "
                         f"got {value!r}")


@dataclass(frozen=True)
class _Common:
    cell: str = "rnn"
    activation: str = "tanh"
    layers: int = 1
    neurons: int = 150
    dropout: Optional[float] = None  # keep probability while training
    batch_size: int = 150
    learning_rate: float = 0.001
    seed: int = 42
    device: Optional[str] = None  # the whole model
    devices: Optional[tuple] = None  # one per layer
    kind: str = "dynamic"  # dynamic_rnn (a while loop) or static_rnn (unrolled): the same math
    jit: bool = False  # XLA auto-clustering on the Session (pays on the unrolled graph)
    intra_threads: int = DEFAULT_INTRA_THREADS  # threads inside one op; 0 = TensorFlow's choice
    inter_threads: int = DEFAULT_INTER_THREADS  # ops run at once; 0 = TensorFlow's choice
    checkpoint_seconds: float = 60.0  # also checkpoint when this long has passed since the last

    def __post_init__(self) -> None:
        _positive("batch size", self.batch_size)
        if not isinstance(self.jit, bool):
            raise UsageError(f"jit must be true or false, got {self.jit!r}")
        _threads("intra-op threads", self.intra_threads)
        _threads("inter-op threads", self.inter_threads)
        if isinstance(self.checkpoint_seconds, bool) \
                or not isinstance(self.checkpoint_seconds, (int, float)) \
                or not 0 < self.checkpoint_seconds < float("inf"):
            raise UsageError(f"checkpoint interval must be a positive number of seconds, "
                             f"got {self.checkpoint_seconds!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UsageError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.devices is not None:
            object.__setattr__(self, "devices", tuple(self.devices))
        if self.device is not None:
            ModelSpec(devices=(self.device,))  # validates the device string's form
        self.spec()  # validates cell, sizes, dropout, learning rate, per-layer devices

    def spec(self) -> ModelSpec:  # pragma: no cover - overridden
        raise NotImplementedError

    def all_devices(self) -> tuple:
        """Return every device the run asks for (to check they exist)."""
        return tuple(d for d in (self.device,) + (self.devices or ()) if d)

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["program"] = self.program
        if data["devices"] is not None:
            data["devices"] = list(data["devices"])
        return data

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class MnistConfig(_Common):
    """Row-by-row MNIST; the defaults are the reference model (BasicRNNCell(150), Adam 0.001)."""

    program = "mnist"
    epochs: int = 10
    data: Optional[str] = None
    download: bool = True

    def __post_init__(self) -> None:
        _positive("epochs", self.epochs)
        super().__post_init__()

    def spec(self) -> ModelSpec:
        return ModelSpec(kind=self.kind, cell=self.cell, activation=self.activation, steps=28,
                         inputs=28, neurons=self.neurons, layers=self.layers,
                         dropout=self.dropout, devices=self.devices, head="mnist",
                         outputs=10, learning_rate=self.learning_rate)


@dataclass(frozen=True)
class SeriesConfig(_Common):
    """The t·sin(t)/3 + 2·sin(5t) predictor: 100 ReLU units, projection to 1, 1,500 iterations."""

    program = "series"
    activation: str = "relu"
    neurons: int = 100
    batch_size: int = 50
    steps: int = 20
    iterations: int = 1500
    report_every: int = 100

    def __post_init__(self) -> None:
        _positive("iterations", self.iterations)
        _positive("report interval", self.report_every)
        super().__post_init__()

    def spec(self) -> ModelSpec:
        return ModelSpec(kind=self.kind, cell=self.cell, activation=self.activation,
                         steps=self.steps, inputs=1, neurons=self.neurons, layers=self.layers,
                         dropout=self.dropout, devices=self.devices, head="series",
                         projection=1, learning_rate=self.learning_rate)


_PROGRAMS = {"mnist": MnistConfig, "series": SeriesConfig}


def config_from_dict(data: dict, origin: str):
    """Return the config saved as ``data`` (from metrics.json at ``origin``)."""
    program = data.get("program")
    if program not in _PROGRAMS:
        raise RunDirError(f"{origin}: unknown training program {program!r} "
                          f"(expected one of: {', '.join(sorted(_PROGRAMS))})")
    cls = _PROGRAMS[program]
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except (UsageError, TypeError) as exc:
        raise RunDirError(f"{origin}: bad saved config ({exc})") from None
