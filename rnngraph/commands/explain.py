"""``rnngraph explain TOPIC [--file G]``: recognise a graph's structures and explain them.

Without ``--file`` the graph is built from the model options; with it, the graph is
read from any file ``inspect`` reads (GraphDef, SavedModel, .meta, event file).
"""

from __future__ import annotations

import sys

from ..errors import UsageError, VerificationError
from ..model.spec import ModelSpec
from .common import add_model_options, spec_from_args

__all__ = ["register"]

# Kept here as well as in explain.py so that `--help` does not import the explainer.
TOPICS = ("rnn", "lstm", "gru", "static", "dynamic", "while_loop", "tensor_array", "concat",
          "strided_slice", "convert")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "explain", help="explain a recurrent graph's structures, with numbers read from it",
        description="Build the graph (or read it with --file), recognise its while loop, "
                    "TensorArrays, concats, strided slices, cells and what the RNN returns, "
                    "and explain them in prose. Every name and number in the text is read "
                    "from the graph; what is not recognised is not explained.")
    parser.add_argument("topic", choices=TOPICS, help="what to explain (convert: what TensorFlow's "
                        "LiteRT converter builds from each recurrent layer of FILE, and why)")
    parser.add_argument("path", nargs="?", metavar="FILE", default=None,
                        help="the file to explain (same as --file)")
    from .keras_view import add_view_option  # noqa: PLC0415

    add_view_option(parser)
    parser.add_argument("--check", action="store_true",
                        help="convert: run TensorFlow's converter and confirm the prediction (exit 1 if not)")
    parser.add_argument("--file", metavar="G", default=None,
                        help="explain the graph in G (.pb, .pbtxt, SavedModel directory, .meta, "
                             "TensorBoard event file, Keras .keras/.h5) instead of building one; the model "
                             "options do not apply. Nothing in G runs unless --verify, which "
                             "needs its weights (a SavedModel or a frozen GraphDef)")
    parser.add_argument("--kind", choices=("static", "dynamic"), default="dynamic",
                        help="static_rnn or dynamic_rnn for the cell and concat/slice topics "
                             "(default: dynamic)")
    add_model_options(parser, kind_positional=False)
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="text (default, for terminals), markdown, or json (the findings)")
    parser.add_argument("--verify", action="store_true",
                        help="run the graph (at least 3 steps) on random inputs, random weights "
                             "and a random initial state, with dropout on where its masks can "
                             "be recorded, and compare every step and every final-state tensor "
                             "with NumPy (exit 1 if the largest difference is 1e-5 or more)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import explain  # noqa: PLC0415

    spec = spec_from_args(args)
    if args.path is not None:
        if args.file is not None and args.file != args.path:
            raise UsageError("give the file once: as FILE or as --file")
        args.file = args.path
    if args.topic == "convert" or args.check:
        return _convert(args, spec)
    if args.file is not None:
        if spec != ModelSpec(kind=spec.kind) or args.kind != "dynamic":
            raise UsageError("--file explains the graph in the file; drop the model options "
                             "(--cell, --steps, --kind, ...), which only apply to a graph rnngraph builds")
        loaded = None
        if args.view == "ops":
            from .keras_view import op_view  # noqa: PLC0415

            loaded = op_view(args.file)
        result = explain.explain_file(args.topic, args.file, verify=args.verify, loaded=loaded)
    else:
        result = explain.explain(args.topic, spec, verify=args.verify)
    render = {"text": explain.render_text, "markdown": explain.render_markdown,
              "json": explain.render_json}[args.format]
    from ..draw.statements import visible_controls  # noqa: PLC0415

    # Names come from the file: no control character or escape sequence reaches the terminal
    # (JSON escapes them itself).
    text = render(result)
    sys.stdout.write(text if args.format == "json" else visible_controls(text))
    if result.verify and not result.verify["ok"]:
        raise VerificationError(
            f"verification failed: largest absolute difference "
            f"{result.verify['max_abs_diff']:.3g} is not below {result.verify['tolerance']:g}")
    return 0


def _convert(args, spec) -> int:
    from .. import explain  # noqa: PLC0415
    from ..explain.convert import explain_convert  # noqa: PLC0415

    if args.topic != "convert":
        raise UsageError("--check belongs to 'explain convert FILE'")
    if args.file is None or spec != ModelSpec(kind=spec.kind) or args.verify:
        raise UsageError("explain convert needs a FILE (a .keras or .h5 file, or a Keras SavedModel) "
                         "and takes no model options or --verify (use --check)")
    result = explain_convert(args.file, check=args.check)
    render = {"text": explain.render_text, "markdown": explain.render_markdown,
              "json": explain.render_json}[args.format]
    sys.stdout.write(render(result))
    check = result.findings.get("check")
    if check is not None and not check["ok"]:
        raise VerificationError("the converter did not build what the file predicts (see above)")
    return 0
