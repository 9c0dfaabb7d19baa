"""Fuzz the defences of issue 24: the build cache and `run FILE`'s check; print cases and crashes.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz_safety.py --mode cache --cases 5000 --seed 1
    PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz_safety.py --mode run-policy --cases 5000
    PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz_safety.py --mode checkpoint --cases 2000

``cache``: hostile entries (mutated bytes and headers, another spec's entry, symlinks, FIFOs,
directories, oversized files, a folder others can write) read back and rewritten as ``render``
does (tests/fuzzing.py ``exercise_cache``): serving other bytes, following a link or saying more
than one line is a failure, any exception a crash.  ``run-policy``: the mutated graph files of
``benchmarks/fuzz.py`` through the op check, the recursion check and the loop bound; only
rnngraph's own errors may come out.  ``checkpoint``: SavedModels whose variables.index or data
shard is byte-mutated, or rewritten with valid CRCs around hostile entries, read as ``diff``
reads their weights.  No TensorFlow in any.
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

from fuzzing import (cache_cases, cases, checkpoint_cases, exercise_cache,  # noqa: E402
                     exercise_checkpoint, exercise_run_policy)
from rnngraph.errors import RnnGraphError  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("cache", "run-policy", "checkpoint"), default="cache")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    outcomes: collections.Counter = collections.Counter()
    crashes: collections.Counter = collections.Counter()
    first: dict = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        if args.mode == "cache":
            items = ((label, (kind, entry, spec, payload))
                     for label, kind, entry, spec, payload in cache_cases(args.seed, args.cases))
        elif args.mode == "checkpoint":
            items = checkpoint_cases(args.seed, args.cases)
        else:
            items = ((label, (data, suffix)) for label, data, suffix in cases(args.seed, args.cases))
        for number, (label, case) in enumerate(items):
            folder = Path(root) / str(number)
            folder.mkdir()
            try:
                if args.mode == "cache":
                    outcomes[f"{case[0]}: {exercise_cache(folder, *case)}"] += 1
                elif args.mode == "checkpoint":
                    outcomes["read" if exercise_checkpoint(folder, case) else "no weights"] += 1
                else:
                    path = folder / f"case{case[1]}"
                    path.write_bytes(case[0])
                    outcomes[exercise_run_policy(path)] += 1
            except RnnGraphError as exc:
                outcomes["refused" if "refusing to run" in str(exc) else type(exc).__name__] += 1
                if "\n" in str(exc).strip():
                    crashes[("multi-line message", "", 0)] += 1
            except Exception as exc:  # noqa: BLE001 - what the fuzzer looks for
                where = traceback.extract_tb(exc.__traceback__)[-1]
                key = (type(exc).__name__, where.filename, where.lineno)
                crashes[key] += 1
                first.setdefault(key, f"{label}: {str(exc)[:200]}")
    seconds = time.perf_counter() - start
    print(f"{sum(outcomes.values()) + sum(crashes.values())} {args.mode} cases (seed {args.seed}) "
          f"in {seconds:.1f} s; outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(f"crashes: {sum(crashes.values())} in {len(crashes)} places")
    for key, count in crashes.most_common():
        print(f"  {count} × {key[0]} at {key[1]}:{key[2]} — first {first.get(key, '')}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
