"""ModelSpec: the validated description of a recurrent graph to build.

Pure Python (no TensorFlow), so the CLI can validate arguments and print
``--help`` without paying for TensorFlow's import.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Optional

from ..errors import SpecError

__all__ = ["ModelSpec", "KINDS", "CELLS", "CELL_CLASSES", "ACTIVATIONS", "HEADS", "parse_devices"]

KINDS = ("static", "dynamic")
CELLS = ("rnn", "lstm", "lstm-peephole", "gru")
# The TensorFlow class each --cell builds (lstm-peephole: LSTMCell(use_peepholes=True)).
CELL_CLASSES = {"rnn": "BasicRNNCell", "lstm": "BasicLSTMCell", "lstm-peephole": "LSTMCell",
                "gru": "GRUCell"}
ACTIVATIONS = ("tanh", "relu")
STATIC_INPUTS = ("list", "unstack")
CONTROL_FLOWS = ("v1", "v2")
HEADS = ("none", "mnist", "series")

# /cpu:0, /gpu:1, /device:GPU:0, /job:worker/replica:0/task:0/device:CPU:0
_DEVICE_RE = re.compile(
    r"^(/job:[A-Za-z0-9_]+(/replica:\d+)?(/task:\d+)?)?"
    r"(/(cpu|gpu|tpu):\d+|/device:(CPU|GPU|TPU):\d+)$",
    re.IGNORECASE,
)


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(
            f"unknown {name} {value!r} (choose one of: {', '.join(sorted(allowed))})"
        )


def _int_at_least(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(f"{name} must be an integer from {low} to {high}, got {value!r}")


def parse_devices(text: str) -> tuple[str, ...]:
    """Return the device strings of a comma-separated list such as ``/cpu:0,/gpu:0``."""
    devices = tuple(part.strip() for part in text.split(",") if part.strip())
    if not devices:
        raise SpecError(f"empty device list {text!r} (expected e.g. /cpu:0,/gpu:0)")
    return devices


@dataclass(frozen=True)
class ModelSpec:
    """What to build; the defaults are the reference example (3 inputs, 5 neurons, 2 steps)."""

    kind: str = "dynamic"
    cell: str = "rnn"
    activation: str = "tanh"
    steps: int = 2
    inputs: int = 3
    neurons: int = 5
    layers: int = 1
    dropout: Optional[float] = None
    projection: Optional[int] = None
    sequence_length: bool = False
    static_inputs: str = "unstack"
    devices: Optional[tuple[str, ...]] = None
    control_flow: str = "v1"
    head: str = "none"
    outputs: int = 10  # classes of the mnist head
    learning_rate: float = 0.001  # Adam's, for the training heads

    def __post_init__(self) -> None:
        _choice("kind", self.kind, KINDS)
        _choice("cell", self.cell, CELLS)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("static input mode", self.static_inputs, STATIC_INPUTS)
        _choice("control flow", self.control_flow, CONTROL_FLOWS)
        _choice("head", self.head, HEADS)
        _int_at_least("steps", self.steps, 1, 100_000)
        _int_at_least("inputs", self.inputs, 1, 1_000_000)
        _int_at_least("neurons", self.neurons, 1, 1_000_000)
        _int_at_least("layers", self.layers, 1, 1_000)
        _int_at_least("outputs", self.outputs, 1, 1_000_000)
        if self.dropout is not None:
            if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) \
                    or not 0.0 < float(self.dropout) <= 1.0:
                raise SpecError(
                    f"dropout keep probability must be in (0, 1], got {self.dropout!r}"
                )
        if self.projection is not None:
            _int_at_least("projection", self.projection, 1, 1_000_000)
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, (int, float)) \
                or not 0.0 < float(self.learning_rate) < 10.0:
            raise SpecError(f"learning rate must be in (0, 10), got {self.learning_rate!r}")
        if self.devices is not None:
            devices = self.devices
            if isinstance(devices, str):
                devices = parse_devices(devices)
                object.__setattr__(self, "devices", devices)
            for device in devices:
                if not isinstance(device, str) or not _DEVICE_RE.match(device):
                    raise SpecError(
                        f"unknown device {device!r} (expected /cpu:N, /gpu:N or /device:GPU:N)"
                    )
            if len(devices) != self.layers:
                raise SpecError(
                    f"{len(devices)} devices given for {self.layers} layer(s): "
                    "give one device per layer (set --layers to the number of devices)"
                )
        if self.head == "series" and self.projection is None:
            # The series head predicts one value per step through the projection.
            object.__setattr__(self, "projection", 1)

    @property
    def is_lstm(self) -> bool:
        return self.cell in ("lstm", "lstm-peephole")

    def replace(self, **changes) -> "ModelSpec":
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def slug(self) -> str:
        """Return a short file-name stem such as ``dynamic-rnn-2``."""
        parts = [self.kind, self.cell, str(self.steps)]
        if self.layers > 1:
            parts.append(f"x{self.layers}")
        if self.control_flow == "v2":
            parts.append("cfv2")
        if self.head != "none":
            parts.append(self.head)
        return "-".join(parts)

    def as_dict(self) -> dict:
        """Return the fields as plain JSON-serialisable values."""
        data = dataclasses.asdict(self)
        if data["devices"] is not None:
            data["devices"] = list(data["devices"])
        return data
