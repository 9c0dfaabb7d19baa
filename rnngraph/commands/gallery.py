"""``rnngraph gallery``: regenerate the committed gallery of diagrams and its README."""

from __future__ import annotations

import sys

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "gallery", help="regenerate the gallery of diagrams (SVG + DOT) and its README",
        description="Draw every figure of the walk-through (one `rnngraph render` command "
                    "each) into a folder, with a README showing each picture, its caption and "
                    "the command that made it.")
    parser.add_argument("--out", default="gallery", metavar="DIR",
                        help="folder to write into (default: gallery)")
    parser.add_argument("--dot-only", action="store_true",
                        help="write the .dot files and README only, without running Graphviz")
    parser.set_defaults(func=run)


def run(args) -> int:
    from .render import check_graphviz  # noqa: PLC0415
    from ..gallery import write_gallery  # noqa: PLC0415

    if not args.dot_only:
        check_graphviz("svg")
    paths = write_gallery(args.out, draw=not args.dot_only,
                          log=lambda line: print(line, file=sys.stderr))
    print(f"{len(paths)} files written to {args.out}")
    return 0
