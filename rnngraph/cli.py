"""Thin command line: parse arguments, call the library, map errors to exit codes.

Usage errors exit 2, every other failure exits 1, each with one line on
stderr (``--debug`` shows the traceback).  Nothing here imports TensorFlow at
module level, so ``rnngraph --help`` stays fast.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from typing import Optional, Sequence

from . import __version__
from .errors import RnnGraphError, UsageError

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

# Each module has ``register(subparsers)`` which adds its sub-command(s) and
# sets ``func`` (called with the parsed args, returns an exit status).
COMMAND_MODULES = (
    "rnngraph.commands.render",
    "rnngraph.commands.growth",
    "rnngraph.commands.train",
    "rnngraph.commands.gallery",
    "rnngraph.commands.explain",
    "rnngraph.commands.inspect",
    "rnngraph.commands.run",
    "rnngraph.commands.compare",
    "rnngraph.commands.diff",
)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to an option's help unless its text already says or it has none."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (not action.option_strings or default in (None, False, argparse.SUPPRESS)
                or "default" in text.lower() or action.nargs == 0):
            return text
        return f"{text} (default: %(default)s)".lstrip()


_PARSER_ATTR = "_rnngraph_parser"  # the innermost (sub-)parser that read the arguments


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2.

    No abbreviated options (``--step`` is not taken for ``--steps``), defaults shown in
    ``--help``, and an unknown option gets the nearest known one suggested.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if not hasattr(namespace, _PARSER_ATTR):  # the innermost sub-command finishes first
            setattr(namespace, _PARSER_ATTR, self)
        return namespace, extras

    def parse_args(self, args=None, namespace=None):
        namespace, extras = self.parse_known_args(args, namespace)
        parser = getattr(namespace, _PARSER_ATTR, self)
        delattr(namespace, _PARSER_ATTR)
        if extras:
            parser.error(f"unrecognized arguments: {' '.join(extras)}{parser.suggestion(extras)}")
        return namespace

    def suggestion(self, extras: Sequence[str]) -> str:
        """Return " (did you mean --steps?)" for the first unknown option close to a known one."""
        known = [o for action in self._actions for o in action.option_strings if o.startswith("--")]
        for extra in extras:
            if not extra.startswith("--"):
                continue
            close = difflib.get_close_matches(extra.partition("=")[0], known, n=1, cutoff=0.6)
            if close:
                return f" (did you mean {close[0]}?)"
        return ""

    def error(self, message: str):  # noqa: D401 - argparse's API
        # main() prints "rnngraph: error: "; name only the sub-command here, so the
        # line never reads "rnngraph: error: rnngraph: ...".
        command = self.prog.partition(" ")[2]
        raise UsageError(f"{command}: {message}" if command else message)


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (all sub-commands registered)."""
    parser = _Parser(prog="rnngraph",
                     description="Show what TensorFlow really builds for a recurrent network.")
    parser.add_argument("--version", action="version", version=f"rnngraph {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from .commands.terminal import guard  # noqa: PLC0415

    def dispatch() -> int:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)

    streams = sys.stdout, sys.stderr
    # Every text line goes through the terminal sanitiser: names from a file never reach the
    # terminal raw, whichever command prints them (commands/terminal.py).
    sys.stdout, sys.stderr = guard(sys.stdout), guard(sys.stderr)
    try:
        return guarded(dispatch, debug="--debug" in argv)
    finally:
        sys.stdout, sys.stderr = streams


def guarded(call, debug: bool = False) -> int:
    """Return ``call()``'s exit status; an error becomes one line on stderr and status 2 or 1."""
    try:
        return call()
    except UsageError as exc:
        if debug:
            raise
        print(f"rnngraph: error: {exc}", file=sys.stderr)
        return 2
    except RnnGraphError as exc:
        if debug:
            raise
        print(f"rnngraph: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if debug:
            raise
        print("rnngraph: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `rnngraph ... -o - | head`: the reader left; not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            raise
        print(f"rnngraph: error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
