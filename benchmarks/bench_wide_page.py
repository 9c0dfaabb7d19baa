"""Wide hostile graph to the page: one placeholder read by 100,000 Relus (issue 24, item 8).

Run:  PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_wide_page.py [--readers 100000]

The graph is ``fan_in_100k`` from tests/fixtures/make_hostile_graphs.py.  Each command runs in
a fresh process and is timed by its CPU seconds; the reference, measured in the same run, is
``inspect`` without a drawing (read, walk, recognise, count), so the ratio says what drawing the
page costs on top of reading the file.  Before the recognisers ran once per graph and sorted only the nodes they look at, the
page took 26.5 CPU s and the reference 7.3 (3.6x); after, 15.6 and 4.7 (3.3x), both measured
in one sitting on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))


def _time(args: list) -> float:
    """Return the CPU seconds (user + system) of ``rnngraph ARGS`` in a fresh process: on a
    machine shared with other work the wall clock says more about the others."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "rnngraph", *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"rnngraph {' '.join(args)} exited {proc.returncode}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100_000)
    args = parser.parse_args()
    from make_hostile_graphs import _fan_in  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fan_in.pb"
        path.write_bytes(_fan_in(args.readers).SerializeToString())
        reference = _time(["inspect", str(path)])
        rows = [(fmt, _time(["inspect", str(path), "--render", str(Path(folder) / f"x.{fmt}")]))
                for fmt in ("html",)]
    print(f"{'case':40} {'cpu s':>7} {'ratio':>7}")
    print(f"{'inspect (reference)':40} {reference:7.2f} {1.0:7.2f}x")
    for fmt, seconds in rows:
        print(f"{'inspect --render x.' + fmt:40} {seconds:7.2f} {seconds / reference:7.2f}x")


if __name__ == "__main__":
    main()
