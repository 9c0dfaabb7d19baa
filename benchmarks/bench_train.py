"""Training throughput: rnngraph's MNIST step against a bare Session.run loop, Keras 3 and tf_keras.

Every contender trains the reference model (one tanh RNN layer of 150 units on
28 steps of 28 inputs, dense 10, sparse softmax cross-entropy, Adam 0.001,
batch 150) on the same random MNIST-shaped data.

The machine is shared and its load changes from second to second, so each
contender lives in its own child process (thread pools and XLA's CPU switch
are per process), is warmed up once (graph optimisation, XLA compilation,
Keras' tracing), and then the parent asks each in turn, in a shuffled order,
for a burst of steps; this repeats ``--rounds`` times.  Every figure is the
median over rounds, and every ratio is the median of the per-round ratios
(contenders of one round ran seconds apart, under nearly the same load).

Contenders:

- bare: ``session.run(training_op, feed_dict)`` over the default graph, TensorFlow's
  default Session settings (the plainest loop);
- rnngraph: the training program's own step (``_Run.train_step`` of ``train mnist``, a
  ``make_callable``), as shipped (dynamic_rnn, TensorFlow's threads), with 1 thread per op
  and 2 ops at once (``1/2``), and with ``--kind static`` and ``--jit``;
- Keras 3 ``SimpleRNN(150)`` through its own compiled train function (what ``fit`` calls
  per step), ``jit_compile`` on and off, and on with ``steps_per_execution=10`` (ten steps
  per call, so ``--steps`` must be a multiple of 10); its best is what rnngraph is compared with;
- tf_keras ``SimpleRNN(150)`` (``tf.keras`` under ``TF_USE_LEGACY_KERAS=1``), the same way.

The model's GFLOP/s count 4.49 MFLOP per sample (3x the forward matrix products),
against the float32 matmul peak (1024^3 products) measured in the same rounds.

    .venv/bin/python benchmarks/bench_train.py [--rounds 30] [--steps 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BATCH, STEPS, INPUTS, NEURONS, CLASSES = 150, 28, 28, 150, 10
IMAGES = 3_000


def flops_per_sample() -> float:
    """Return the training FLOPs of one sample: 3x the forward matrix products (fwd + 2 grads)."""
    forward = STEPS * 2 * (INPUTS + NEURONS) * NEURONS + 2 * NEURONS * CLASSES
    return 3.0 * forward


# Every child: set itself up, answer "ready", then for each line "N" run N steps and answer
# the seconds they took (the parent times nothing itself).
PROLOGUE = r"""
import json, sys, time
import numpy as np
kind, setting = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
x = rng.random((IMAGES, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, IMAGES).astype(np.int32)
BATCH = 150
batches = [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, IMAGES, BATCH)]
"""

SERVE = r"""
position = 0
per_call = globals().get("per_call", 1)  # Keras' steps_per_execution: steps run per call
def steps(n):
    global position
    for _ in range(n // per_call):
        step(*batches[position % len(batches)])
        position += 1
steps(len(batches))  # warm-up: a whole pass (graph optimisation, compilation, tracing)
print("ready", flush=True)
for line in sys.stdin:
    n = int(line)
    started = time.perf_counter()
    steps(n)
    print(time.perf_counter() - started, flush=True)
"""

RNNGRAPH = r"""
intra, inter = (int(n) for n in setting.replace("+jit", "").split("/"))
jit = setting.endswith("+jit")
from rnngraph.train.session import enable_cpu_jit
if jit:
    enable_cpu_jit()
from rnngraph.model.builder import build_graph
from rnngraph.model.tfcompat import tf
from rnngraph.train import MnistConfig
v1 = tf().compat.v1
if kind == "bare":
    built = build_graph(MnistConfig().spec())
    t = built.tensors
    session = v1.Session(graph=built.graph)
    session.run(t["init"])
    def step(xb, yb):
        session.run(t["training_op"], feed_dict={t["X"]: xb, t["y"]: yb})
elif kind == "matmul":
    graph = tf().Graph()
    with graph.as_default():
        a = tf().random.normal([1024, 1024], seed=1)
        b = tf().Variable(tf().random.normal([1024, 1024], seed=2))
        product = a
        for _ in range(4):
            product = tf().matmul(product, b) * 1e-3
        total = tf().reduce_sum(product)
        init = v1.global_variables_initializer()
    session = v1.Session(graph=graph)
    session.run(init)
    def step(xb, yb):  # 4 products of 1024^3: 8.59 GFLOP
        session.run(total)
else:
    import tempfile
    from pathlib import Path
    from rnngraph.train.runs import open_run
    graph_kind = "static" if kind == "static" else "dynamic"
    config = MnistConfig(kind=graph_kind, jit=jit, intra_threads=intra, inter_threads=inter,
                         checkpoint_seconds=1e9)
    folder = Path(tempfile.mkdtemp()) / "run"
    context = open_run(config, folder, False, None, lambda line: None)
    run = context.__enter__()
    run.start(build_graph(config.spec(), seed=config.seed), None)
    step = run.train_step  # the program's own step
"""

KERAS = r"""
if kind == "tf_keras":
    import tf_keras as keras
else:
    import keras
import tensorflow as tf
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((28, 28)), keras.layers.SimpleRNN(150),
                          keras.layers.Dense(10)])
per_call = int(setting.split("x")[1]) if "x" in setting else 1
model.compile(optimizer=keras.optimizers.Adam(0.001), jit_compile=setting.startswith("jit"),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              steps_per_execution=per_call)
iterator = iter(tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH).repeat())
model.make_train_function()
train = model.train_function  # what fit() calls once per step
def step(xb, yb):
    train(iterator)
sys.stderr.write(f"version {keras.__version__}\n")
"""

CONTENDERS = {  # name -> (code, kind, setting, legacy keras)
    "bare loop (TF default threads)": (RNNGRAPH, "bare", "0/0", False),
    "rnngraph default (dynamic, TF threads)": (RNNGRAPH, "dynamic", "0/0", False),
    "rnngraph dynamic, 1/2": (RNNGRAPH, "dynamic", "1/2", False),
    "rnngraph --kind static, 1/2": (RNNGRAPH, "static", "1/2", False),
    "rnngraph --kind static --jit, 1/2": (RNNGRAPH, "static", "1/2+jit", False),
    "rnngraph --kind static --jit, TF threads": (RNNGRAPH, "static", "0/0+jit", False),
    "Keras 3 SimpleRNN, jit_compile on": (KERAS, "keras3", "jit", False),
    "Keras 3 SimpleRNN, jit_compile off": (KERAS, "keras3", "nojit", False),
    "Keras 3 SimpleRNN, jit on, 10 steps/call": (KERAS, "keras3", "jitx10", False),
    "tf_keras SimpleRNN": (KERAS, "tf_keras", "nojit", True),
}
DEFAULT = "rnngraph default (dynamic, TF threads)"
BARE = "bare loop (TF default threads)"


class Child:
    """A contender in its own process, stepping when asked."""

    def __init__(self, code: str, kind: str, setting: str, legacy: bool):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
        env.pop("TF_USE_LEGACY_KERAS", None)
        if legacy:
            env["TF_USE_LEGACY_KERAS"] = "1"
        source = PROLOGUE.replace("IMAGES", str(IMAGES)) + code + SERVE
        self.process = subprocess.Popen([sys.executable, "-c", source, kind, setting],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)

    def wait_ready(self) -> None:
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"benchmark child failed:\n{line}{self.process.stderr.read()[-3000:]}")

    def burst(self, steps: int) -> float:
        self.process.stdin.write(f"{steps}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # TensorFlow's threads can hold up the exit
            self.process.kill()
            self.process.wait()


def measure(names: list, rounds: int, steps: int, seed: int) -> dict:
    """Return {name: [samples/s of each round]} (and "matmul": [GFLOP/s])."""
    children = {name: Child(*CONTENDERS[name]) for name in names}
    children["matmul"] = Child(RNNGRAPH, "matmul", "0/0", False)
    order = list(children)
    shuffle = random.Random(seed)
    speeds: dict = {name: [] for name in children}
    try:
        for child in children.values():  # started together, warmed up one after another
            child.wait_ready()
        for _ in range(rounds):
            shuffle.shuffle(order)
            for name in order:
                seconds = children[name].burst(steps)
                speeds[name].append(steps * (8 * 1024 ** 3 if name == "matmul" else BATCH)
                                    / seconds)
    finally:
        for child in children.values():
            child.close()
    speeds["matmul"] = [v / 1e9 for v in speeds["matmul"]]
    return speeds


def report(speeds: dict, args, loads: tuple) -> str:
    """Return the table: median samples/s, GFLOP/s, and median per-round ratios."""
    names = [n for n in speeds if n != "matmul"]
    median = {n: float(np.median(speeds[n])) for n in names}
    keras = [n for n in names if n.startswith("Keras 3")]
    keras_best = max(keras, key=median.get)
    ours = [n for n in names if n.startswith("rnngraph")]
    fastest = max(ours, key=median.get)
    peak = float(np.max(speeds["matmul"]))

    def ratio(a: str, b: str) -> float:
        return float(np.median(np.array(speeds[a]) / np.array(speeds[b])))

    flop = flops_per_sample()
    lines = [f"MNIST reference model, batch {BATCH}; {args.rounds} rounds x {args.steps} steps "
             f"per contender, interleaved; {os.cpu_count()} CPUs; load average (1 min) "
             f"{loads[0]:.2f} at the start, {loads[1]:.2f} at the end",
             f"float32 matmul (1024^3): best {peak:.1f} GFLOP/s, median "
             f"{np.median(speeds['matmul']):.1f}; the model: {flop / 1e6:.2f} MFLOP per sample",
             "",
             f"  {'contender':<42} {'samples/s':>9} {'GFLOP/s':>8} {'of peak':>7} "
             f"{'/Keras 3':>8} {'/bare':>6}"]
    for name in sorted(names, key=median.get, reverse=True):
        gflops = median[name] * flop / 1e9
        mark = " <- Keras 3 best" if name == keras_best else ""
        lines.append(f"  {name:<42} {median[name]:>9,.0f} {gflops:>8.1f} "
                     f"{100 * gflops / peak:>6.0f}% {ratio(name, keras_best):>7.2f}x "
                     f"{ratio(name, BARE):>5.2f}x{mark}")
    lines += ["",
              f"fastest rnngraph setting ({fastest}) / Keras 3 best: "
              f"{ratio(fastest, keras_best):.2f}x",
              f"rnngraph default / Keras 3 best: {ratio(DEFAULT, keras_best):.2f}x; "
              f"/ bare loop: {ratio(DEFAULT, BARE):.2f}x",
              "(ratios: median over rounds of the ratio within a round)"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds (default: 30)")
    parser.add_argument("--steps", type=int, default=10,
                        help="steps of 150 images per contender per round, a multiple of 10 "
                             "(default: 10)")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated substrings: measure only matching contenders "
                             "(the default, the bare loop and Keras 3 always)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the order shuffle")
    parser.add_argument("--json", metavar="FILE", help="also write every round's figures here")
    args = parser.parse_args()
    if args.rounds < 1 or args.steps < 10 or args.steps % 10:
        parser.error("--rounds must be positive and --steps a positive multiple of 10")
    names = list(CONTENDERS)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        names = [n for n in names if n in (DEFAULT, BARE) or n.startswith("Keras 3")
                 or any(w in n for w in wanted)]
    start_load = os.getloadavg()[0]
    started = time.perf_counter()
    speeds = measure(names, args.rounds, args.steps, args.seed)
    text = report(speeds, args, (start_load, os.getloadavg()[0]))
    text += f"\n(measured in {time.perf_counter() - started:.0f} s)"
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"speeds": speeds, "report": text}, indent=2))


if __name__ == "__main__":
    main()
