"""Big generic graph benchmark: a frozen ResNet50 (about 100 MB) inspected and drawn.

Run:  PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_big_graph.py [--graph resnet50.pb]

The graph is ``tf.keras.applications.ResNet50(weights=None)`` traced for one 224×224 image and
frozen with ``convert_variables_to_constants_v2`` (written once to --graph, reused afterwards).
Each stage is timed in a fresh process and printed as a ratio against a reference measured in
this same run: the time TensorFlow's own ``GraphDef.ParseFromString`` takes to read the file
(the machines are noisy, so read the ratios, not the seconds).  Target (issue 11 item 10): the
SVG in under 15 s on a quiet machine; it took 98 s when every control edge of the frozen
graph's NoOp was drawn.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

MAKE_GRAPH = """
import os, sys
os.environ.pop("TF_USE_LEGACY_KERAS", None)  # plain TensorFlow/Keras, as a user would
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
model = tf.keras.applications.ResNet50(weights=None)
spec = tf.TensorSpec([1, 224, 224, 3], tf.float32)
frozen = convert_variables_to_constants_v2(tf.function(lambda x: model(x)).get_concrete_function(spec))
graph_def = frozen.graph.as_graph_def()
with open(sys.argv[1], "wb") as out:
    out.write(graph_def.SerializeToString())
print(len(graph_def.node))
"""

TF_PARSE = """
import sys, time
import tensorflow as tf
data = open(sys.argv[1], "rb").read()
t = time.perf_counter()
graph_def = tf.compat.v1.GraphDef()
graph_def.ParseFromString(data)
print(time.perf_counter() - t, len(graph_def.node))
"""

STAGES = """
import sys, time
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk
from rnngraph.commands.inspect import summary
from rnngraph.draw.dot import RenderOptions, plan_detail, to_dot
from rnngraph.draw.output import run_graphviz
times = []
t = time.perf_counter()
def lap():
    global t
    now = time.perf_counter()
    times.append(now - t)
    t = now
graph_def, _ = load_graph_def(sys.argv[1]); lap()
graph = walk(graph_def); lap()
summary(graph); lap()
options, _ = plan_detail(graph, RenderOptions(title="resnet50")); lap()
dot = to_dot(graph, options); lap()
run_graphviz(dot, "svg"); lap()
print(" ".join(f"{x:.3f}" for x in times), dot.count("->"), len(dot))
"""


def _python(code: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, env=env,
                            check=True)
    return result.stdout.strip().splitlines()[-1]


def _cli(*args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    subprocess.run([PY, "-m", "rnngraph", *args], capture_output=True, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default=str(Path(tempfile.gettempdir()) / "rnngraph-resnet50.pb"),
                        help="where the frozen ResNet50 GraphDef is (made if missing)")
    args = parser.parse_args()
    graph = Path(args.graph)
    if not graph.exists():
        print(f"writing {graph} (TensorFlow builds and freezes ResNet50)...", flush=True)
        _python(MAKE_GRAPH, str(graph))
    seconds, nodes = _python(TF_PARSE, str(graph)).split()
    reference = float(seconds)
    print(f"{graph}: {graph.stat().st_size / 2**20:.0f} MB, {nodes} nodes")
    print(f"reference: TensorFlow GraphDef.ParseFromString {reference:.2f} s")
    *stages, edges, size = _python(STAGES, str(graph)).split()
    names = ("load (protobuf, no TensorFlow)", "walk", "recognise", "plan detail", "DOT text",
             "Graphviz dot -> SVG")
    for name, value in zip(names, map(float, stages)):
        print(f"  {name:32s} {value:7.2f} s  {value / reference:7.1f}× reference")
    print(f"  (DOT: {edges} edges, {int(size):,} characters)")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("svg", "html"):
            wall = _cli("inspect", str(graph), "--render", str(Path(folder) / f"r.{fmt}"))
            print(f"  {'rnngraph inspect --render ' + fmt:32s} {wall:7.2f} s  "
                  f"{wall / reference:7.1f}× reference (fresh process, end to end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
