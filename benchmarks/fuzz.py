"""Fuzz rnngraph with thousands of mutated graph files; print the cases run and the crashes.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz.py --cases 5000 --seed 1 [--dot-every 50]
    PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz.py --mode library --cases 2000

Cases come from tests/fuzzing.py (seeded: the same seed gives the same files).  A crash is any
exception other than rnngraph's own errors; each distinct place is printed with the first case
that reached it (rerun that case with ``--only N`` and ``--save FILE`` to keep the file).
Graphviz refusing the DOT rnngraph wrote (a RenderError) counts as a crash too.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import cases, exercise, keras_cases, tflite_cases  # noqa: E402
from rnngraph.errors import RenderError, RnnGraphError  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dot-every", type=int, default=0, metavar="N",
                        help="also run Graphviz dot on every Nth case (default: never)")
    parser.add_argument("--mode", choices=("graph", "library", "tflite", "keras"), default="graph",
                        help="graph: mutated fixture GraphDefs (default); library: function "
                             "libraries calling themselves (tests/fuzzing.py library_graph); "
                             "tflite / keras: mutated LiteRT flatbuffers / .keras and .h5 files")
    parser.add_argument("--only", type=int, default=None, metavar="N", help="run case N only")
    parser.add_argument("--save", default=None, metavar="FILE",
                        help="with --only: keep the file (its suffix becomes the case's .pb or .pbtxt)")
    args = parser.parse_args()
    crashes: collections.Counter = collections.Counter()
    first: dict = {}
    expected: collections.Counter = collections.Counter()
    start = time.perf_counter()
    run = 0
    with tempfile.TemporaryDirectory() as folder:
        made = {"tflite": tflite_cases, "keras": keras_cases}.get(args.mode)
        made = made(args.seed, args.cases) if made else cases(args.seed, args.cases, args.mode)
        for number, (label, data, suffix) in enumerate(made):
            if args.only is not None and number != args.only:
                continue
            path = Path(args.save).with_suffix(suffix) if args.save else Path(folder) / f"case{suffix}"
            path.write_bytes(data)
            run += 1
            try:
                exercise(path, run_dot=bool(args.dot_every) and number % args.dot_every == 0)
                expected["drawn"] += 1
            except RenderError as exc:  # Graphviz refused the DOT rnngraph wrote: a bug too
                key = ("RenderError", "dot", 0)
                crashes[key] += 1
                first.setdefault(key, f"{label}: {str(exc)[:200]}")
            except RnnGraphError as exc:
                expected[type(exc).__name__] += 1
            except Exception as exc:  # noqa: BLE001 - what the fuzzer looks for
                frames = traceback.extract_tb(exc.__traceback__)
                where = frames[-1]
                if isinstance(exc, RecursionError):  # the frame that repeats, not the last one
                    where = collections.Counter(frames).most_common(1)[0][0]
                key = (type(exc).__name__, where.filename, where.lineno)
                crashes[key] += 1
                first.setdefault(key, f"{label}: {str(exc)[:200]}")
    seconds = time.perf_counter() - start
    print(f"{run} cases (seed {args.seed}) in {seconds:.1f} s; outcomes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(expected.items())))
    print(f"crashes: {sum(crashes.values())} in {len(crashes)} places")
    for key, count in crashes.most_common():
        print(f"  {count} × {key[0]} at {key[1]}:{key[2]} — first {first[key]}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
