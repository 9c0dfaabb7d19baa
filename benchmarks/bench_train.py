"""Training throughput: rnngraph's MNIST program vs a bare Session.run loop vs Keras' SimpleRNN.

All three train the reference model (one tanh RNN layer of 150 units on 28 steps
of 28 inputs, dense 10, sparse softmax cross-entropy, Adam 0.001, batch 150) on
the same random MNIST-shaped data, in the same run.  The first epoch (graph
warm-up, Keras' tracing) is left out of every figure.

Keras runs in a child process each: Keras 3 (the default ``keras``), and
``tf_keras`` (what ``tf.keras`` is under ``TF_USE_LEGACY_KERAS=1``).

    .venv/bin/python benchmarks/bench_train.py [--epochs 4] [--images 15000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 150


def _data(images: int):
    rng = np.random.default_rng(0)
    x = rng.random((images, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, images).astype(np.int32)
    return x, y


def bench_rnngraph(epochs: int, images: int) -> float:
    """Return rnngraph's steady samples/s (the program itself: progress bar, bookkeeping)."""
    from rnngraph.train import MnistConfig, MnistData, train_mnist

    x, y = _data(images)
    # validation_size holds out a tenth; give the program images + that tenth so all train on `images`.
    extra = images // 9
    x_all, y_all = _data(images + extra)
    data = MnistData(x_all, y_all, x[:BATCH], y[:BATCH], name="random", origin="benchmark")
    with tempfile.TemporaryDirectory() as folder:
        result = train_mnist(MnistConfig(epochs=epochs), Path(folder) / "run", data=data,
                             say=lambda line: None)
    rows = result.metrics["history"][1:]
    return float(np.mean([row["samples_per_second"] for row in rows]))


def bench_bare_loop(epochs: int, images: int) -> float:
    """Return samples/s of the plainest loop over the same graph: sess.run with a feed_dict."""
    from rnngraph.model.builder import build_graph
    from rnngraph.train import MnistConfig
    from rnngraph.model.tfcompat import tf

    t = tf()
    x, y = _data(images)
    built = build_graph(MnistConfig().spec())
    tensors = built.tensors
    n_batches = images // BATCH
    speeds = []
    with t.compat.v1.Session(graph=built.graph) as session:
        session.run(tensors["init"])
        for epoch in range(1, epochs + 1):
            order = np.random.default_rng([42, epoch]).permutation(images)
            xs, ys = x[order], y[order]
            started = time.perf_counter()
            for index in range(n_batches):
                session.run(tensors["training_op"],
                            feed_dict={tensors["X"]: xs[index * BATCH:(index + 1) * BATCH],
                                       tensors["y"]: ys[index * BATCH:(index + 1) * BATCH]})
            if epoch > 1:
                speeds.append(n_batches * BATCH / (time.perf_counter() - started))
    return float(np.mean(speeds))


KERAS_CHILD = """
import json, sys, time
import numpy as np
flavour, epochs, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if flavour == "tf_keras":
    import tf_keras as keras
else:
    import keras
rng = np.random.default_rng(0)
x = rng.random((images, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, images).astype(np.int32)
model = keras.Sequential([keras.Input((28, 28)), keras.layers.SimpleRNN(150),
                          keras.layers.Dense(10)])
model.compile(optimizer=keras.optimizers.Adam(0.001),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.started]

timer = Timer()
model.fit(x, y, batch_size=150, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
print(json.dumps({"samples_per_second": float(np.mean([images / s for s in timer.seconds[1:]])),
                  "version": keras.__version__}))
"""


def bench_keras(flavour: str, epochs: int, images: int) -> dict:
    """Return Keras' steady samples/s and version, measured in a child process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_USE_LEGACY_KERAS", None)
    if flavour == "tf_keras":
        env["TF_USE_LEGACY_KERAS"] = "1"
    done = subprocess.run([sys.executable, "-c", KERAS_CHILD, flavour, str(epochs), str(images)],
                          capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"keras ({flavour}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs each (the first is warm-up)")
    parser.add_argument("--images", type=int, default=15_000, help="training images per epoch")
    parser.add_argument("--keras", choices=("3", "tf_keras", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds, interleaved; medians are printed (default: 3)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is warm-up)")

    flavours = {"3": ["keras3"], "tf_keras": ["tf_keras"], "both": ["keras3", "tf_keras"]}[args.keras]
    speeds: dict = {"rnngraph": [], "bare": [], **{flavour: [] for flavour in flavours}}
    versions = {}
    for _ in range(args.repeat):  # interleaved, so a busy moment hits every contender
        for flavour in flavours:
            result = bench_keras(flavour, args.epochs, args.images)
            speeds[flavour].append(result["samples_per_second"])
            versions[flavour] = result["version"]
        speeds["bare"].append(bench_bare_loop(args.epochs, args.images))
        speeds["rnngraph"].append(bench_rnngraph(args.epochs, args.images))
    median = {name: float(np.median(values)) for name, values in speeds.items()}
    ours = median["rnngraph"]

    def show(label: str, name: str) -> str:
        rounds = ", ".join(f"{v:,.0f}" for v in speeds[name])
        ratio = "" if name == "rnngraph" else f"   rnngraph / this = {ours / median[name]:.2f}x"
        return f"  {label:<26} {median[name]:>9,.0f} samples/s{ratio}   (rounds: {rounds})"

    print(f"MNIST training step, batch {BATCH}, {args.images:,} images x {args.epochs - 1} "
          f"timed epochs, {args.repeat} round(s), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(show("rnngraph train mnist", "rnngraph"))
    print(show("bare Session.run loop", "bare"))
    for flavour in flavours:
        label = f"{'Keras' if flavour == 'keras3' else 'tf_keras'} {versions[flavour]} SimpleRNN"
        print(show(label, flavour))


if __name__ == "__main__":
    main()
