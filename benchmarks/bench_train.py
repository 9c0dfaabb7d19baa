"""Training throughput: rnngraph's MNIST program against a bare Session.run loop, Keras 3 and tf_keras.

Every contender trains the reference model (one tanh RNN layer of 150 units on
28 steps of 28 inputs, dense 10, sparse softmax cross-entropy, Adam 0.001,
batch 150) on the same random MNIST-shaped data.  The first epoch of each
(graph warm-up, XLA compilation, Keras' tracing) is left out of every figure.

Contenders, each round in fresh child processes (thread pools and XLA's CPU
switch are per process), rounds interleaved so a busy moment hits everyone:

- bare: ``session.run(training_op, feed_dict)`` over the default graph, TensorFlow's default
  Session settings (the plainest loop);
- rnngraph default: ``train mnist`` as shipped (dynamic_rnn, threads 1 per op / 2 ops);
- rnngraph static and static+jit, and default / static+jit with TensorFlow's threads (``0/0``);
- Keras 3 ``SimpleRNN(150)``: ``jit_compile`` on and off (``--keras-threads 0/0,1/2`` also
  tries its thread settings); its best setting is the one rnngraph is compared with;
- tf_keras ``SimpleRNN(150)`` (what ``tf.keras`` is under ``TF_USE_LEGACY_KERAS=1``).

It prints the median samples/s of each, ratios, the model's GFLOP/s (4.5 MFLOP
per sample forward + backward, counted from the matrix products) and the
machine's float32 matmul peak measured in the same rounds.

    .venv/bin/python benchmarks/bench_train.py [--epochs 3] [--images 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BATCH, STEPS, INPUTS, NEURONS, CLASSES = 150, 28, 28, 150, 10


def flops_per_sample() -> float:
    """Return the training FLOPs of one sample: 3x the forward matrix products (fwd + 2 grads)."""
    forward = STEPS * 2 * (INPUTS + NEURONS) * NEURONS + 2 * NEURONS * CLASSES
    return 3.0 * forward


# --- the rnngraph child: the program itself under several settings, one thread setting ----------

RNNGRAPH_CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np
threads, epochs, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
intra, inter = (int(n) for n in threads.split("/"))
from rnngraph.train.session import enable_cpu_jit
enable_cpu_jit()  # as `train --jit` does; changes nothing for Sessions without XLA
from rnngraph.model.builder import build_graph
from rnngraph.model.tfcompat import tf
from rnngraph.train import MnistConfig, MnistData, train_mnist
v1 = tf().compat.v1
BATCH = 150
rng = np.random.default_rng(0)
extra = images // 9  # validation_size holds out a tenth: all train on `images`
x = rng.random((images + extra, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, images + extra).astype(np.int32)
data = MnistData(x, y, x[:BATCH], y[:BATCH], name="random", origin="benchmark")
out = {}

def matmul_peak():
    # float32 1024x1024 products with this process's thread setting: best of 5 runs of 10.
    graph = tf().Graph()
    with graph.as_default():
        a = tf().random.normal([1024, 1024], seed=1)
        b = tf().Variable(tf().random.normal([1024, 1024], seed=2))
        product = a
        for _ in range(10):
            product = tf().matmul(product, b) * 1e-3
        total = tf().reduce_sum(product)
        init = v1.global_variables_initializer()
    config = v1.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter)
    with v1.Session(graph=graph, config=config) as session:
        session.run(init); session.run(total)
        best = min(_timed(lambda: session.run(total)) for _ in range(5))
    return 10 * 2 * 1024 ** 3 / best / 1e9

def _timed(call):
    started = time.perf_counter(); call(); return time.perf_counter() - started

def program(kind, jit):
    config = MnistConfig(epochs=epochs, kind=kind, jit=jit, intra_threads=intra,
                         inter_threads=inter, checkpoint_seconds=1e9)
    with tempfile.TemporaryDirectory() as folder:
        result = train_mnist(config, Path(folder) / "run", data=data, say=lambda line: None)
    rows = result.metrics["history"][1:]
    return float(np.mean([row["samples_per_second"] for row in rows])), \
        result.metrics["runtime"]["xla_clusters"]

def bare():
    built = build_graph(MnistConfig().spec())
    t = built.tensors
    config = v1.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter)
    speeds = []
    with v1.Session(graph=built.graph, config=config) as session:
        session.run(t["init"])
        for epoch in range(1, epochs + 1):
            order = np.random.default_rng([42, epoch]).permutation(images)
            xs, ys = x[order], y[order]
            started = time.perf_counter()
            for i in range(images // BATCH):
                session.run(t["training_op"], feed_dict={t["X"]: xs[i * BATCH:(i + 1) * BATCH],
                                                         t["y"]: ys[i * BATCH:(i + 1) * BATCH]})
            if epoch > 1:
                speeds.append(images // BATCH * BATCH / (time.perf_counter() - started))
    return float(np.mean(speeds))

out["matmul_gflops"] = matmul_peak()
variants = [("dynamic", False), ("static", True)]
if threads == "0/0":
    out["bare"] = bare()
else:
    variants.insert(1, ("static", False))
for kind, jit in variants:
    speed, clusters = program(kind, jit)
    out[f"{kind}{'+jit' if jit else ''}"] = speed
    if jit:
        out["xla_clusters"] = clusters
print(json.dumps(out))
"""

KERAS_CHILD = r"""
import json, sys, time
import numpy as np
flavour, threads, epochs, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
import tensorflow as tf
intra, inter = (int(n) for n in threads.split("/"))
tf.config.threading.set_intra_op_parallelism_threads(intra)
tf.config.threading.set_inter_op_parallelism_threads(inter)
if flavour == "tf_keras":
    import tf_keras as keras
else:
    import keras
rng = np.random.default_rng(0)
x = rng.random((images, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, images).astype(np.int32)

class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.started]

out = {"version": keras.__version__}
for jit in ((True, False) if flavour == "keras3" else (False,)):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.SimpleRNN(150),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(0.001), jit_compile=jit,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    timer = Timer()
    model.fit(x, y, batch_size=150, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    out[f"jit {'on' if jit else 'off'}"] = float(np.mean([images / s for s in timer.seconds[1:]]))
print(json.dumps(out))
"""


def _child(code: str, *argv: str, legacy: bool = False) -> dict:
    """Return the JSON a child process prints last (its measurements)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    env.pop("TF_USE_LEGACY_KERAS", None)
    if legacy:
        env["TF_USE_LEGACY_KERAS"] = "1"
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env=env, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_round(epochs: int, images: int, keras_threads: list) -> dict:
    """Return {contender: samples/s} (and the matmul peak) of one round, every child once."""
    speeds: dict = {}
    e, n = str(epochs), str(images)
    for threads in ("1/2", "0/0"):
        got = _child(RNNGRAPH_CHILD, threads, e, n)
        speeds[f"matmul {threads}"] = got.pop("matmul_gflops")
        speeds["xla_clusters"] = got.pop("xla_clusters")
        if "bare" in got:
            speeds["bare"] = got.pop("bare")
        for name, value in got.items():
            speeds[f"rnngraph {name} {threads}"] = value
    versions = {}
    for threads in keras_threads:
        got = _child(KERAS_CHILD, "keras3", threads, e, n)
        versions["keras3"] = got.pop("version")
        for name, value in got.items():
            speeds[f"keras3 {name} {threads}"] = value
    got = _child(KERAS_CHILD, "tf_keras", "0/0", e, n, legacy=True)
    versions["tf_keras"] = got.pop("version")
    speeds["tf_keras jit off 0/0"] = got["jit off"]
    speeds["versions"] = versions
    return speeds


def report(rounds: list, args, loads: tuple) -> str:
    """Return the table of medians, ratios and GFLOP/s over ``rounds``."""
    names = [k for k in rounds[0] if k not in ("versions", "xla_clusters")
             and not k.startswith("matmul")]
    median = {k: float(np.median([r[k] for r in rounds])) for k in names}
    peak = float(np.median([max(r["matmul 0/0"], r["matmul 1/2"]) for r in rounds]))
    keras_names = [k for k in names if k.startswith("keras3")]
    keras_best = max(keras_names, key=median.get)
    ours = [k for k in names if k.startswith("rnngraph")]
    fastest = max(ours, key=median.get)
    default = "rnngraph dynamic 1/2"
    versions = rounds[0]["versions"]
    flop = flops_per_sample()
    lines = [
        f"MNIST training step, batch {BATCH}, {args.images:,} images x {args.epochs - 1} timed "
        f"epoch(s), {len(rounds)} interleaved round(s), {os.cpu_count()} CPUs, load average "
        f"(1 min) {loads[0]:.2f} at the start, {loads[1]:.2f} at the end",
        f"float32 matmul peak (1024^3, same rounds): {peak:.1f} GFLOP/s; the model: "
        f"{flop / 1e6:.2f} MFLOP per sample; XLA clusters with --jit: "
        f"{rounds[-1]['xla_clusters']}",
        "",
        f"  {'contender (threads intra/inter)':<36} {'samples/s':>10} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'vs Keras 3':>10} {'vs bare':>8}   rounds",
    ]
    for name in sorted(names, key=median.get, reverse=True):
        label = name.replace("keras3", f"Keras {versions['keras3']}").replace(
            "tf_keras", f"tf_keras {versions['tf_keras']}")
        marks = (" <- default" if name == default else "") + \
            (" <- fastest" if name == fastest else "") + \
            (" <- Keras 3 best" if name == keras_best else "")
        gflops = median[name] * flop / 1e9
        each = ", ".join(f"{r[name]:,.0f}" for r in rounds)
        lines.append(f"  {label:<36} {median[name]:>10,.0f} {gflops:>8.1f} "
                     f"{100 * gflops / peak:>6.1f}% {median[name] / median[keras_best]:>9.2f}x "
                     f"{median[name] / median['bare']:>7.2f}x   {each}{marks}")
    lines += ["",
              f"rnngraph fastest ({fastest}) / Keras 3 best ({keras_best}) = "
              f"{median[fastest] / median[keras_best]:.2f}x",
              f"rnngraph default ({default}) / Keras 3 best = "
              f"{median[default] / median[keras_best]:.2f}x; / bare loop = "
              f"{median[default] / median['bare']:.2f}x"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs each (the first is warm-up)")
    parser.add_argument("--images", type=int, default=3_000, help="training images per epoch")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds, interleaved; medians are printed (default: 3)")
    parser.add_argument("--keras-threads", default="0/0", metavar="LIST",
                        help="Keras 3 thread settings to try, intra/inter, e.g. 0/0,1/2 "
                             "(default: 0/0, TensorFlow's choice)")
    parser.add_argument("--json", metavar="FILE", help="also write every round's figures here")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is warm-up)")
    if args.images < BATCH:
        parser.error(f"--images must be at least one batch ({BATCH})")
    start_load = os.getloadavg()[0]
    keras_threads = [t.strip() for t in args.keras_threads.split(",") if t.strip()]
    rounds = [one_round(args.epochs, args.images, keras_threads) for _ in range(args.repeat)]
    text = report(rounds, args, (start_load, os.getloadavg()[0]))
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds": rounds, "report": text}, indent=2))


if __name__ == "__main__":
    main()
