"""Scale benchmark: render times end to end, against TensorFlow's own build time in the same run.

Run:  .venv/bin/python benchmarks/bench_render.py [--quick]

Each row runs the real command line in a fresh process (as a user would) and
compares it with a reference measured in this same run: the time a fresh
process takes to import TensorFlow and build the same graph (no walking, no
drawing).  These machines are noisy, so read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RNNGRAPH = [PY, "-m", "rnngraph"]

BUILD_ONLY = """
import sys, time
from rnngraph.model.tfcompat import tf
tf()
from rnngraph.model.builder import build_graph
from rnngraph.model.spec import ModelSpec
t = time.perf_counter()
build_graph(ModelSpec(kind=sys.argv[1], cell=sys.argv[2], steps=int(sys.argv[3])))
print(time.perf_counter() - t)
"""
IMPORT_ONLY = "from rnngraph.model.tfcompat import tf; tf()"

LAYOUT = """
import sys, time
from rnngraph.model.builder import build_graph
from rnngraph.graphdef.walk import walk
from rnngraph.draw.output import run_graphviz
from rnngraph.draw.dot import RenderOptions, drawing, to_dot
from rnngraph.model.spec import ModelSpec
graph = walk(build_graph(ModelSpec(kind="static", cell="lstm", steps=int(sys.argv[1]))))
t = time.perf_counter()
drawn = drawing(graph, RenderOptions(), full=True)
run_graphviz(drawn.dot, "svg", drawn.engine, drawn.no_op)
tiled = time.perf_counter() - t
if sys.argv[2] == "plain":
    t = time.perf_counter()
    run_graphviz(to_dot(graph, RenderOptions(aux_threshold=None)), "svg")
    print(tiled, time.perf_counter() - t)
else:
    print(tiled, float("nan"))
"""


EXPLAIN_TOPICS = ("rnn", "lstm", "gru", "static", "dynamic", "while_loop", "tensor_array", "concat",
                  "strided_slice")


def timed(cmd: list, cwd: str, env: dict | None = None) -> tuple[float, float, str]:
    """Return (seconds, peak MiB of the child, stdout) of running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-step rows")
    parser.add_argument("--plain-dot", action="store_true",
                        help="also time plain dot on the flat 20-step graph (about 10 s)")
    parser.add_argument("--explain-only", action="store_true",
                        help="only the explain rows (cold, then warm per topic) and the TF import")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rnngraph-bench-")
    env_note = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"

    tf_import, _, _ = timed([PY, "-c", IMPORT_ONLY], work)
    rows = []
    # The best of 3: a bare Python process importing rnngraph, the floor of any command.
    help_s = min(timed(RNNGRAPH + ["--help"], work)[0] for _ in range(3))
    rows.append(("rnngraph --help", help_s, None, "< 0.5 s", help_s < 0.5, None))
    # (title, argv, graph, target text, target test(seconds, build, peak MiB))
    cases = [
        ("render dynamic --steps 2", ["render", "dynamic", "--steps", "2"], ("dynamic", "rnn", 2),
         "<= TF import + 1.5 s", lambda s, b, m: s <= tf_import + 1.5),
        ("render static --cell lstm --steps 100", ["render", "static", "--cell", "lstm", "--steps", "100"],
         ("static", "lstm", 100), "< 10 s", lambda s, b, m: s < 10),
        ("render static --cell lstm --steps 100 --full",
         ["render", "static", "--cell", "lstm", "--steps", "100", "--full"], ("static", "lstm", 100),
         "< 10 s", lambda s, b, m: s < 10),
    ]
    if args.explain_only:
        cases = []
    elif not args.quick:
        cases += [
            ("render static --cell lstm --steps 1000", ["render", "static", "--cell", "lstm", "--steps", "1000"],
             ("static", "lstm", 1000), "<= 2x build + 5 s, < 2 GiB",
             lambda s, b, m: s <= 2 * b + 5 and m < 2048),
            ("render static --cell lstm --steps 1000 --full",
             ["render", "static", "--cell", "lstm", "--steps", "1000", "--full"], ("static", "lstm", 1000),
             "< 60 s", lambda s, b, m: s < 60),
        ]
    build_cache: dict = {}
    for title, argv, graph, target, test in cases:
        if graph not in build_cache:
            seconds, _, out = timed([PY, "-c", BUILD_ONLY, *map(str, graph)], work)
            build_cache[graph] = float(out.strip().splitlines()[-1])
        seconds, peak, _ = timed(RNNGRAPH + argv + ["-o", "out.svg"], work)
        build = build_cache[graph]
        rows.append((title, seconds, build, target, test(seconds, build, peak), peak))

    # explain from a cached build reads only the GraphDef: no TensorFlow import.  A cache of
    # its own, so the cold row really builds; the warm rows read what it (and the next) stored.
    # Bytecode written as an installed package has it (this run's own folder, not the tree).
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"),
               PYTHONPYCACHEPREFIX=os.path.join(work, "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cold, _, _ = timed(RNNGRAPH + ["explain", "lstm"], work, env)
    rows.append(("explain lstm (cold: builds, imports TF)", cold, None,
                 f"reference: {cold / tf_import:.1f}x TF import", None, None))
    for topic in EXPLAIN_TOPICS:
        timed(RNNGRAPH + ["explain", topic], work, env)  # fills the cache for this topic
        warm = min(timed(RNNGRAPH + ["explain", topic], work, env)[0] for _ in range(3))
        rows.append((f"explain {topic} (warm cache, best of 3)", warm, None,
                     f"<= 1.5 s ({warm / help_s:.1f}x --help, {warm / tf_import:.2f}x TF import)",
                     warm <= 1.5, None))
    layout_20 = ([] if args.explain_only else
                 timed([PY, "-c", LAYOUT, "20", "plain" if args.plain_dot else "skip"], work)[2].split())
    print(f"# rnngraph render benchmark ({env_note}); TensorFlow import alone: {tf_import:.2f} s\n")
    print(f"{'command':46} {'end to end':>10} {'TF build':>9} {'ratio':>7} {'overhead':>9} "
          f"{'peak MiB':>9}  target")
    for title, seconds, build, target, met, peak in rows:
        verdict = target if met is None else f"{target} {'met' if met else 'MISSED'}"
        if build is None:
            print(f"{title:46} {seconds:9.2f}s {'':>9} {'':>7} {'':>9} {'':>9}  {verdict}")
            continue
        overhead = seconds - tf_import - build  # what rnngraph adds beyond importing TF and building
        print(f"{title:46} {seconds:9.2f}s {build:8.2f}s {seconds / build:6.1f}x {overhead:8.2f}s "
              f"{peak:9.0f}  {verdict}")
    if not layout_20:
        shutil.rmtree(work, ignore_errors=True)
        return
    tiled, plain = float(layout_20[0]), float(layout_20[1])
    line = (f"\nlayout of the 20-step static LSTM with --full (390 nodes): {tiled:.2f} s "
            f"(target < 1 s: {'met' if tiled < 1 else 'MISSED'})")
    if plain == plain:  # not NaN
        line += f"; plain dot on the same flat graph: {plain:.2f} s ({plain / tiled:.0f}x slower)"
    print(line)
    print("ratio = end to end / TensorFlow's build of the same graph; overhead = end to end - TF import - build")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
