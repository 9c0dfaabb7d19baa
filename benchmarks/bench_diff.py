"""``rnngraph diff`` benchmark: the diff of big graphs timed against loading the two files.

Run:  PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_diff.py [--graph resnet50.pb] [--quick]

Cases (issue 23):

- a frozen ResNet50 (``tf.keras.applications.ResNet50(weights=None)``, frozen as in
  ``bench_big_graph.py``, written once to --graph) against a copy with one layer changed (one
  Relu made a Relu6, its convolution's weights scaled);
- the largest graph of the test corpus against itself with every node renamed and shuffled;
- a 1,000-step static LSTM (17,054 nodes) against itself renamed and shuffled;
- the weights of a SavedModel pair (a Keras LSTM(512) over 256 features exported twice, one
  kernel element moved in between): reading both checkpoints (``file_weights``: the index,
  the data, the keys mapped to variables) against loading and walking both graphs.

For each, the reference is measured in the same run: reading both files and walking them into
networkx (``load_graph_def`` + ``walk``), which every command does first.  The diff is the
rest of ``rnngraph diff``: recognising both graphs, matching them, the report and the weights.
Target: diff ≤ 3× load.  Each case runs in one fresh process, best of --repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CORPUS = ROOT / "tests" / "fixtures" / "corpus"

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_big_graph import MAKE_GRAPH  # noqa: E402  (the same frozen ResNet50)

CHANGE_ONE_LAYER = """
import sys
import numpy as np
from rnngraph.graphdef.loaders import load_graph_def
graph_def = load_graph_def(sys.argv[1])[0]
nodes = {n.name: n for n in graph_def.node}
consumers = {}
for n in graph_def.node:
    for text in n.input:
        consumers.setdefault(text.lstrip("^").partition(":")[0], []).append(n)
convs = [n for n in graph_def.node if n.op == "Conv2D"]
conv = convs[len(convs) // 2]
filt = nodes[conv.input[1].partition(":")[0]]
while filt.op == "Identity":
    filt = nodes[filt.input[0].partition(":")[0]]
tensor = filt.attr["value"].tensor
tensor.tensor_content = (np.frombuffer(tensor.tensor_content, "<f4") * 1.5).astype("<f4").tobytes()
queue, relu = [conv], None
while queue and relu is None:  # the layer's activation: the first Relu after the convolution
    for n in consumers.get(queue.pop(0).name, []):
        if n.op == "Relu":
            relu = n
            break
        queue.append(n)
relu.op = "Relu6"
open(sys.argv[2], "wb").write(graph_def.SerializeToString())
print(conv.name)
"""

RENAME = """
import sys
from pathlib import Path
sys.path.insert(0, str(Path.cwd() / "tests"))
from test_diff import _renamed  # the truth test's renaming: every node and function, shuffled
from rnngraph.graphdef.loaders import load_graph_def
renamed, _ = _renamed(load_graph_def(sys.argv[1])[0], 0)
open(sys.argv[2], "wb").write(renamed.SerializeToString())
print(len(renamed.node))
"""

STATIC_LSTM = """
import sys
from rnngraph.model.cache import graph_def_for
from rnngraph.model.spec import ModelSpec
data = graph_def_for(ModelSpec(kind="static", cell="lstm", steps=1000))[0]
open(sys.argv[1], "wb").write(data)
print(len(data))
"""

SAVEDMODEL_PAIR = """
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
from rnngraph.model.tfcompat import tf
tf()
import keras, numpy as np
keras.utils.set_random_seed(0)
inputs = keras.Input((8, 256))
model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.LSTM(512)(inputs)))
model.export(sys.argv[1], verbose=False)
kernel = model.layers[1].cell.kernel
step = np.zeros(tuple(kernel.shape), "float32")
step[3, 17] = 0.25
kernel.assign(kernel + step)
model.export(sys.argv[2], verbose=False)
print(sum(int(np.prod(w.shape)) for w in model.weights))
"""

TIME_WEIGHTS = """
import json, sys, time
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk
from rnngraph.graphdef.weights import file_weights
best_load = best_read = None
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    loaded = [load_graph_def(p) for p in sys.argv[1:3]]
    graphs = [walk(d) for d, _ in loaded]
    load = time.perf_counter() - t
    t = time.perf_counter()
    held = [file_weights(p, kind, d, g) for p, (d, kind), g in zip(sys.argv[1:3], loaded, graphs)]
    took = time.perf_counter() - t
    best_load = load if best_load is None else min(best_load, load)
    best_read = took if best_read is None else min(best_read, took)
print(json.dumps({"load": best_load, "read": best_read, "nodes": [g.number_of_nodes() for g in graphs],
                  "values": sum(v.size for v in held[0].values.values())}))
"""

TIME = """
import json, sys, time
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk
from rnngraph.commands.diff import run_diff
best_load = best_diff = None
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    def_a, def_b = load_graph_def(sys.argv[1])[0], load_graph_def(sys.argv[2])[0]
    graph_a, graph_b = walk(def_a), walk(def_b)
    load = time.perf_counter() - t
    t = time.perf_counter()
    report = run_diff(def_a, graph_a, def_b, graph_b)[0]
    took = time.perf_counter() - t
    best_load = load if best_load is None else min(best_load, load)
    best_diff = took if best_diff is None else min(best_diff, took)
s = report["summary"]
print(json.dumps({"load": best_load, "diff": best_diff, "nodes": [s["nodes_a"], s["nodes_b"]],
                  "matched": s["matched"], "changed": s["changed"], "added": s["added"],
                  "removed": s["removed"], "identical": s["identical"],
                  "weights": (report.get("weights") or {}).get("differ_count")}))
"""


def _run(code: str, *args) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([PY, "-c", code, *map(str, args)], capture_output=True, text=True, env=env,
                          check=False, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def _largest_corpus_file() -> Path:
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".pb", ".pbtxt")]
    return max(files, key=lambda p: p.stat().st_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default=None, help="frozen ResNet50 .pb (written if missing)")
    parser.add_argument("--quick", action="store_true", help="skip ResNet50 and the 17,054-node LSTM")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-diff-"))
    cases = []
    if not args.quick:
        resnet = Path(args.graph or work / "resnet50.pb")
        if not resnet.exists():
            _run(MAKE_GRAPH, resnet)
        changed = work / "resnet50-one-layer-changed.pb"
        layer = _run(CHANGE_ONE_LAYER, resnet, changed)
        cases.append((f"ResNet50 frozen vs one layer changed ({layer})", resnet, changed))
    largest = _largest_corpus_file()
    renamed = work / "largest-renamed.pb"
    _run(RENAME, largest, renamed)
    cases.append((f"largest corpus graph {largest.relative_to(CORPUS)} vs itself renamed", largest, renamed))
    if not args.quick:
        lstm = work / "static-lstm-1000.pb"
        _run(STATIC_LSTM, lstm)
        lstm_renamed = work / "static-lstm-1000-renamed.pb"
        _run(RENAME, lstm, lstm_renamed)
        cases.append(("static LSTM, 1,000 steps, vs itself renamed", lstm, lstm_renamed))
    print(f"{'case':<72} {'nodes':>13} {'load s':>7} {'diff s':>7} {'diff/load':>9}  result")
    for title, a, b in cases:
        row = json.loads(_run(TIME, a, b, args.repeat))
        ratio = row["diff"] / row["load"]
        result = ("identical" if row["identical"] else
                  f"{row['changed']} changed, {row['added']} added, {row['removed']} removed"
                  + (f", {row['weights']} weights differ" if row["weights"] else ""))
        print(f"{title[:72]:<72} {row['nodes'][0]:>6}/{row['nodes'][1]:<6} {row['load']:>7.2f} "
              f"{row['diff']:>7.2f} {ratio:>8.2f}x  {result}")
    print("target: diff <= 3x load")
    sm_a, sm_b = work / "savedmodel-a", work / "savedmodel-b"
    _run(SAVEDMODEL_PAIR, sm_a, sm_b)
    row = json.loads(_run(TIME_WEIGHTS, sm_a, sm_b, args.repeat))
    print(f"SavedModel weights ({row['values']:,} values per side, {row['nodes'][0]} nodes): load both "
          f"{row['load']:.3f} s, read both checkpoints {row['read']:.3f} s, "
          f"read/load {row['read'] / row['load']:.2f}x")


if __name__ == "__main__":
    main()
