"""Argument helpers shared by the sub-commands (model options, exit codes)."""

from __future__ import annotations

import argparse

from ..errors import SpecError
from ..model.spec import (ACTIVATIONS, CELLS, CONTROL_FLOWS, HEADS, KINDS, STATIC_INPUTS,
                    ModelSpec, parse_devices)

__all__ = ["add_model_options", "spec_from_args"]


def add_model_options(parser: argparse.ArgumentParser, kind_positional: bool = True,
                      kind_default: str = "dynamic") -> None:
    """Add one option per ModelSpec field (the kind as a positional argument)."""
    if kind_positional:
        parser.add_argument("kind", choices=KINDS, type=_kind,
                            help="static_rnn (unrolled) or dynamic_rnn (while loop)")
    group = parser.add_argument_group("model")
    group.add_argument("--cell", default="rnn", choices=CELLS, help="cell type (default: rnn)")
    group.add_argument("--activation", default="tanh", choices=ACTIVATIONS,
                       help="the cell's activation (default: tanh)")
    group.add_argument("--steps", type=int, default=2, help="time steps (default: 2)")
    group.add_argument("--inputs", type=int, default=3, help="inputs per step (default: 3)")
    group.add_argument("--neurons", type=int, default=5, help="units per layer (default: 5)")
    group.add_argument("--layers", type=int, default=1, help="stacked layers (default: 1)")
    group.add_argument("--dropout", type=float, default=None, metavar="KEEP",
                       help="input keep probability of a DropoutWrapper (default: off)")
    group.add_argument("--projection", type=int, default=None, metavar="N",
                       help="output size of an output-projection wrapper (default: off)")
    group.add_argument("--sequence-length", action="store_true",
                       help="pass an int32 [None] sequence_length placeholder")
    group.add_argument("--static-inputs", default="unstack", choices=STATIC_INPUTS,
                       help="static only: one placeholder per step (list) or one unstacked (default)")
    group.add_argument("--devices", default=None, metavar="LIST",
                       help="one device per layer, e.g. /cpu:0,/gpu:0")
    group.add_argument("--control-flow", default="v1", choices=CONTROL_FLOWS,
                       help="v1: Enter/Merge/Switch/Exit (default); v2: While op")
    group.add_argument("--head", default="none", choices=HEADS,
                       help="training head drawn on top (default: none)")
    if not kind_positional:
        parser.set_defaults(kind=kind_default)


def _kind(text: str) -> str:
    """Return the kind; a file given in its place is pointed to the command that draws files."""
    import os  # noqa: PLC0415

    if text not in KINDS and os.path.exists(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file; this command builds its own model "
                                         f"(static or dynamic). Draw a file with `rnngraph inspect "
                                         f"{text} --render OUT` (a .keras/.h5 file to OUT.html: its "
                                         f"layers, each opening to its ops)")
    return text


def spec_from_args(args: argparse.Namespace) -> ModelSpec:
    """Return the validated ModelSpec named by the parsed options."""
    devices = parse_devices(args.devices) if args.devices else None
    try:
        return ModelSpec(
            kind=args.kind, cell=args.cell, activation=args.activation, steps=args.steps,
            inputs=args.inputs, neurons=args.neurons, layers=args.layers,
            dropout=args.dropout, projection=args.projection,
            sequence_length=args.sequence_length, static_inputs=args.static_inputs,
            devices=devices, control_flow=args.control_flow, head=args.head)
    except SpecError:
        raise
    except (TypeError, ValueError) as exc:  # pragma: no cover - argparse typed the values
        raise SpecError(str(exc)) from None
