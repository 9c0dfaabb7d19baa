"""Keras files: the layer view without TensorFlow, and the op view against TensorFlow's own import.

Run:  .venv/bin/python benchmarks/bench_keras_files.py [--repeat N]

Each figure is the best of N fresh processes (a new Python each time, so imports count):

* ``layer view``: ``rnngraph inspect m.keras`` end to end (the layer view; must not import
  TensorFlow; target 0.5 s for a small model),
* ``tensorflow import``: ``python -c "import tensorflow"``, the reference,
* ``op view``: ``rnngraph inspect m.keras --view ops`` (Keras loads the file in safe mode in a
  child process, traces and freezes its call; target: TensorFlow import + 2 s).

The machine is shared and noisy: read the ratios, measured in this same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SMALL = ROOT / "tests" / "fixtures" / "keras_files" / "k3-lstm.keras"
LEGACY = ROOT / "tests" / "fixtures" / "keras_files" / "k2-lstm.h5"


def _best(cmd: list, repeat: int, env: dict) -> tuple:
    """Return (best wall seconds, best CPU seconds of the process and its children)."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    inspect = [PY, "-m", "rnngraph", "inspect"]
    rows = [
        ("inspect GraphDef .pbtxt (reference)", _best(inspect + [str(ROOT / "tests" / "fixtures" /
                                                                    "walk_simple.pbtxt")], args.repeat, env)),
        ("layer view, .keras (Keras 3)", _best(inspect + [str(SMALL)], args.repeat, env)),
        ("layer view, .h5 (tf_keras)", _best(inspect + [str(LEGACY)], args.repeat, env)),
        ("python -c 'import tensorflow'", _best([PY, "-c", "import tensorflow"], args.repeat, env)),
        ("op view, .keras (Keras 3)", _best(inspect + [str(SMALL), "--view", "ops"], args.repeat, env)),
        ("op view, .h5 (tf_keras)", _best(inspect + [str(LEGACY), "--view", "ops"], args.repeat, env)),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'':<{width}}  {'wall':>7}  {'CPU':>7}")
    for name, (wall, cpu) in rows:
        print(f"{name:<{width}}  {wall:6.2f}s  {cpu:6.2f}s")
    ref = rows[0][1]
    tf_import = rows[3][1]
    for index, what in ((0, "wall"), (1, "CPU")):
        layer = max(rows[1][1][index], rows[2][1][index])
        ops = max(rows[4][1][index], rows[5][1][index])
        print(f"\n{what}: layer view {layer:.2f} s = {layer / ref[index]:.2f}× inspecting a GraphDef "
              f"(target ≤ 0.5 s: {'met' if layer <= 0.5 else 'NOT met'}); op view {ops:.2f} s = "
              f"TensorFlow import + {ops - tf_import[index]:.2f} s (target ≤ import + 2 s: "
              f"{'met' if ops - tf_import[index] <= 2 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
