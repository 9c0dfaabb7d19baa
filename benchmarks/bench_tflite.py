"""`rnngraph inspect x.tflite` end to end, against Python's start-up and `import rnngraph`.

Run:  .venv/bin/python benchmarks/bench_tflite.py [--repeat N]

Each row is the best of N fresh processes (as a user runs the command), measured in this same
run as its references: a bare `python -c pass`, `python -c "import rnngraph"` and `inspect` of a
small GraphDef (the same pipeline: numpy, networkx and protobuf are most of its time).  It also
checks that inspecting a .tflite file imports no TensorFlow (the target: <= 0.5 s for a small
model, TensorFlow not imported).  These machines are shared and noisy: read the ratios.
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
FIXTURES = ROOT / "tests" / "fixtures" / "tflite"
FILES = ("tfkeras_lstm.tflite", "keras3_lstm.tflite", "keras3_bilstm.tflite",
         "tfkeras_lstm_quant.tflite", "../corpus/tflite/tflm_dtln_noise_suppression.tflite")
GRAPHDEF = "walk_while_v2.pbtxt"  # the same pipeline on a small GraphDef, as a reference
NO_TF = ("import sys, runpy; sys.argv = ['rnngraph', 'inspect', sys.argv[1]]\n"
         "try:\n    runpy.run_module('rnngraph', run_name='__main__')\n"
         "except SystemExit:\n    pass\n"
         "assert 'tensorflow' not in sys.modules, 'inspect imported TensorFlow'\n")


def _best(args: list, repeat: int) -> tuple:
    """Return (best wall seconds, best CPU seconds: user + system) of ``repeat`` fresh processes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, then read from .pyc
    wall = cpu = float("inf")
    for _ in range(repeat + 1):  # the first run may compile the .pyc files
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = min(wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    python = _best([sys.executable, "-c", "pass"], args.repeat)
    package = _best([sys.executable, "-c", "import rnngraph"], args.repeat)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(CPU time is less disturbed by other processes than wall time)")
    print(f"{'':34s}{'wall':>8s}{'CPU':>8s}")
    print(f"{'python -c pass':34s}{python[0]:7.3f}s{python[1]:7.3f}s")
    print(f"{'import rnngraph':34s}{package[0]:7.3f}s{package[1]:7.3f}s")
    graph = _best([sys.executable, "-c", NO_TF, str(ROOT / "tests" / "fixtures" / GRAPHDEF)],
                  args.repeat)
    print(f"{'inspect ' + GRAPHDEF + ' (a GraphDef)':34s}{graph[0]:7.3f}s{graph[1]:7.3f}s  "
          f"CPU {graph[1] / package[1]:4.1f}x import rnngraph (numpy, networkx, protobuf)")
    for name in FILES:
        path = FIXTURES / name
        wall, cpu = _best([sys.executable, "-c", NO_TF, str(path)], args.repeat)
        verdict = "within" if cpu <= 0.5 else "OVER"
        print(f"{'inspect ' + Path(name).name:34s}{wall:7.3f}s{cpu:7.3f}s  CPU {cpu / package[1]:4.1f}x import "
              f"rnngraph, {cpu / graph[1]:4.2f}x the GraphDef; {verdict} the 0.5 s target; "
              f"{path.stat().st_size:,} bytes; no TensorFlow")

if __name__ == "__main__":
    main()
