"""Speed settings change the speed, not the math: static_rnn and XLA give the default's losses.

TOLERANCE: from the same weights and batches, every variant's loss stays within a relative
1e-5 of the default's for the first steps.  The graphs are not the same ops (an unrolled
graph, XLA's fused kernels), so float32 sums run in another order; the measured
differences are 1e-7 to 4e-7 after 6 steps, 25 to 100 times below the tolerance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnngraph.train import MnistConfig, SeriesConfig

pytestmark = pytest.mark.tf

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-5
STEPS = 6

# The child turns XLA on before TensorFlow makes its devices (as `train --jit` does), builds
# each variant, loads the default's initial weights into it by name, and trains STEPS steps.
CHILD = """import json, sys
import numpy as np
from rnngraph.train.session import enable_cpu_jit, session_config, compiled_clusters
enable_cpu_jit()  # before TensorFlow creates its devices
from rnngraph.model.builder import build_graph
from rnngraph.model.tfcompat import tf
from rnngraph.train import MnistConfig, SeriesConfig
from rnngraph.train.series import series_batch

v1 = tf().compat.v1
program, settings, steps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
base = (MnistConfig if program == "mnist" else SeriesConfig)(**settings)
rng = np.random.default_rng(0)
if program == "mnist":
    batches = [(rng.random((base.batch_size, 28, 28), dtype=np.float32),
                rng.integers(0, 10, base.batch_size).astype(np.int32)) for _ in range(steps)]
else:
    batches = [series_batch(np.random.default_rng([7, i]), base.batch_size, base.steps)
               for i in range(steps)]
weights = None
out = {}
for name, changes in (("default", {}), ("static", {"kind": "static"}),
                      ("static+jit", {"kind": "static", "jit": True}),
                      ("dynamic+jit", {"jit": True})):
    config = base.replace(**changes)
    built = build_graph(config.spec(), seed=config.seed)
    t = built.tensors
    with built.graph.as_default():
        variables = v1.global_variables()
    session = v1.Session(graph=built.graph, config=session_config(config))
    session.run(t["init"])
    if weights is None:
        weights = {v.op.name: value for v, value in zip(variables, session.run(variables))}
    else:
        assert sorted(weights) == sorted(v.op.name for v in variables)
        with built.graph.as_default():
            for v in variables:
                v.load(weights[v.op.name], session)
    losses, clusters = [], 0
    for x, y in batches:
        meta = v1.RunMetadata()
        _, loss = session.run([t["training_op"], t["loss"]], {t["X"]: x, t["y"]: y},
                              options=v1.RunOptions(output_partition_graphs=True),
                              run_metadata=meta)
        clusters = max(clusters, compiled_clusters(meta))
        losses.append(float(loss))
    out[name] = {"losses": losses, "clusters": clusters}
print(json.dumps(out))
"""


def _losses(program: str, settings: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", CHILD, program, json.dumps(settings),
                           str(STEPS)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("program, settings", [
    ("mnist", {"batch_size": 64}),  # the reference model: BasicRNNCell(150), 28 steps
    ("series", {"batch_size": 50}),  # ReLU, projection wrapper, per-step MSE
    ("mnist", {"cell": "lstm", "neurons": 32, "layers": 2, "batch_size": 32}),
    ("series", {"cell": "gru", "neurons": 24, "steps": 12}),
], ids=["mnist-rnn", "series-relu", "mnist-deep-lstm", "series-gru"])
def test_static_and_jit_variants_give_the_default_losses(program, settings):
    runs = _losses(program, settings)
    default = np.array(runs["default"]["losses"])
    assert len(default) == STEPS and np.all(np.isfinite(default))
    assert not np.allclose(default, default[0])  # the steps train: the losses move
    for name in ("static", "static+jit", "dynamic+jit"):
        np.testing.assert_allclose(runs[name]["losses"], default, rtol=RTOL, err_msg=name)
    # XLA really compiled something with jit, and nothing without it.
    assert runs["default"]["clusters"] == runs["static"]["clusters"] == 0
    assert runs["static+jit"]["clusters"] > 0 and runs["dynamic+jit"]["clusters"] > 0


def test_static_and_dynamic_graphs_have_the_same_variables_and_initial_values():
    from rnngraph.model.builder import build_graph
    from rnngraph.model.tfcompat import tf

    v1 = tf().compat.v1
    for config in (MnistConfig(neurons=10), SeriesConfig(cell="lstm", layers=2, neurons=6)):
        initial = []
        for kind in ("dynamic", "static"):
            built = build_graph(config.replace(kind=kind).spec(), seed=config.seed)
            ops = {op.type for op in built.graph.get_operations()}
            assert ("Enter" in ops) == (kind == "dynamic")  # the while loop (control flow v1)
            with built.graph.as_default():
                variables = v1.global_variables()
            with v1.Session(graph=built.graph) as session:
                session.run(built.tensors["init"])
                initial.append({v.op.name: value
                                for v, value in zip(variables, session.run(variables))})
        assert sorted(initial[0]) == sorted(initial[1]) and len(initial[0]) > 4
        for name, value in initial[0].items():
            np.testing.assert_array_equal(initial[1][name], value, err_msg=name)


def test_the_session_gets_the_threads_and_xla_level_of_the_config():
    from rnngraph.model.tfcompat import tf
    from rnngraph.train.session import session_config

    on = tf().compat.v1.OptimizerOptions.ON_1
    proto = session_config(MnistConfig(intra_threads=3, inter_threads=0, jit=True))
    assert (proto.intra_op_parallelism_threads, proto.inter_op_parallelism_threads) == (3, 0)
    assert proto.graph_options.optimizer_options.global_jit_level == on
    plain = session_config(SeriesConfig())
    assert (plain.intra_op_parallelism_threads, plain.inter_op_parallelism_threads) == (0, 0)
    assert plain.graph_options.optimizer_options.global_jit_level != on


@pytest.mark.parametrize("changes, expected", [
    ({"intra_threads": -1}, "intra-op threads must be an integer from 0"),
    ({"inter_threads": True}, "inter-op threads must be an integer from 0"),
    ({"jit": "yes"}, "jit must be true or false"),
    ({"kind": "unrolled"}, "unknown kind 'unrolled'"),
    ({"checkpoint_seconds": 0}, "checkpoint interval must be a positive number"),
])
def test_bad_speed_settings_are_refused(changes, expected):
    from rnngraph.errors import UsageError

    with pytest.raises(UsageError, match=expected):
        MnistConfig(**changes)


def test_a_jit_run_reports_its_compiled_clusters_in_metrics(tmp_path):
    from rnngraph.train import train_series

    lines = []
    result = train_series(SeriesConfig(neurons=8, iterations=3, kind="static", jit=True,
                                       intra_threads=1, inter_threads=2),
                          tmp_path / "run", say=lines.append)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["config"]["kind"] == "static" and saved["config"]["jit"] is True
    assert lines[0] == "running: static_rnn graph, XLA on, threads: 1 per op, 2 ops at once"
    clusters = saved["runtime"]["xla_clusters"]
    assert clusters == result.metrics["runtime"]["xla_clusters"] and clusters >= 0
    # In a process whose TensorFlow devices already existed, XLA may not take: it says so.
    assert (f"XLA compiled {clusters} cluster(s) of the graph" in lines) if clusters else \
        any(line.startswith("note: XLA compiled nothing here") for line in lines)
