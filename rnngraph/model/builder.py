"""ModelSpec -> tf.Graph, with TensorFlow's own v1 RNN cells and functions.

Everything is built in graph mode inside a fresh ``tf.Graph`` so that the
GraphDef is exactly what ``static_rnn`` / ``dynamic_rnn`` produce.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .spec import ModelSpec
from .tfcompat import set_control_flow, tf

__all__ = ["BuiltGraph", "build_graph", "DEFAULT_SEED"]

DEFAULT_SEED = 42


@dataclass
class BuiltGraph:
    """A built TensorFlow graph and the handles a caller needs to run or draw it."""

    spec: ModelSpec
    graph: Any  # tf.Graph
    tensors: dict = field(default_factory=dict)  # role -> tf.Tensor / tf.Operation
    build_seconds: float = 0.0

    def graph_def(self):
        """Return the GraphDef with ``_output_shapes`` recorded on every node."""
        return self.graph.as_graph_def(add_shapes=True)


def _output_projection_wrapper():
    """Return the OutputProjectionWrapper class (TF 1.x contrib's, gone from TF 2)."""
    rnn_cell = tf().compat.v1.nn.rnn_cell

    class OutputProjectionWrapper(rnn_cell.RNNCell):
        """Projects the wrapped cell's output to ``output_size`` with one dense layer."""

        def __init__(self, cell, output_size, name=None):
            super().__init__(name=name)
            self._cell = cell
            self._output_size = output_size

        @property
        def state_size(self):
            return self._cell.state_size

        @property
        def output_size(self):
            return self._output_size

        def zero_state(self, batch_size, dtype):
            with tf().name_scope(type(self).__name__ + "ZeroState"):
                return self._cell.zero_state(batch_size, dtype)

        def call(self, inputs, state):
            t = tf()
            output, new_state = self._cell(inputs, state)
            n_in = output.shape[-1]
            kernel = t.compat.v1.get_variable("kernel", [n_in, self._output_size], dtype=output.dtype)
            bias = t.compat.v1.get_variable(
                "bias", [self._output_size], dtype=output.dtype,
                initializer=t.compat.v1.zeros_initializer())
            projected = t.nn.bias_add(t.matmul(output, kernel), bias)
            return projected, new_state

    return OutputProjectionWrapper


def _make_cell(spec: ModelSpec, keep_prob):
    """Return the (possibly wrapped, possibly multi-layer) cell of ``spec``."""
    t = tf()
    rnn_cell = t.compat.v1.nn.rnn_cell
    activation = {"tanh": t.tanh, "relu": t.nn.relu}[spec.activation]
    layers = []
    for index in range(spec.layers):
        if spec.cell == "rnn":
            cell = rnn_cell.BasicRNNCell(num_units=spec.neurons, activation=activation)
        elif spec.cell == "lstm":
            cell = rnn_cell.BasicLSTMCell(num_units=spec.neurons, activation=activation)
        elif spec.cell == "lstm-peephole":
            cell = rnn_cell.LSTMCell(num_units=spec.neurons, use_peepholes=True,
                                     activation=activation)
        else:
            cell = rnn_cell.GRUCell(num_units=spec.neurons, activation=activation)
        if spec.devices is not None:
            cell = rnn_cell.DeviceWrapper(cell, spec.devices[index])
        if keep_prob is not None:
            cell = rnn_cell.DropoutWrapper(cell, input_keep_prob=keep_prob)
        layers.append(cell)
    cell = layers[0] if spec.layers == 1 else rnn_cell.MultiRNNCell(layers)
    if spec.projection is not None:
        cell = _output_projection_wrapper()(cell, output_size=spec.projection)
    return cell


def _top_h(spec: ModelSpec, states):
    """Return the top layer's hidden state h from ``states``."""
    top = states[-1] if spec.layers > 1 else states
    return top.h if spec.is_lstm else top


@contextlib.contextmanager
def _python_seeds(seed: Optional[int]):
    """Seed Python's and NumPy's generators while building, then restore them.

    tf-keras' initialisers draw their seeds from ``random``/``np.random`` when
    none is given, which would make the GraphDef (and so the DOT text) differ
    from run to run.
    """
    if seed is None:
        yield
        return
    import random  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def build_graph(spec: ModelSpec, seed: Optional[int] = DEFAULT_SEED,
                device: Optional[str] = None, swap_memory: bool = False) -> BuiltGraph:
    """Return the graph TensorFlow builds for ``spec`` (graph mode, fresh tf.Graph).

    ``device`` places every op (the training programs' ``--device``); the
    per-layer ``spec.devices`` still win for the cells' own ops.
    ``swap_memory`` is dynamic_rnn's (``growth --run`` measures it).
    """
    t = tf()
    v1 = t.compat.v1
    started = time.perf_counter()
    set_control_flow(spec.control_flow)
    graph = t.Graph()
    tensors: dict = {}
    placed = graph.device(device) if device else contextlib.nullcontext()
    with graph.as_default(), placed, _python_seeds(seed):
        if seed is not None:
            v1.set_random_seed(seed)
        keep_prob = None
        if spec.dropout is not None:
            # 1.0 unless fed: dropout is on only while training.
            keep_prob = v1.placeholder_with_default(1.0, shape=(), name="keep_prob")
            tensors["keep_prob"] = keep_prob
        seq_length = None
        if spec.sequence_length:
            seq_length = v1.placeholder(t.int32, [None], name="seq_length")
            tensors["seq_length"] = seq_length
        cell = _make_cell(spec, keep_prob)

        if spec.kind == "static" and spec.static_inputs == "list":
            xs = [v1.placeholder(t.float32, [None, spec.inputs], name=f"X{i}")
                  for i in range(spec.steps)]
            tensors["X_list"] = xs
            output_seqs, states = v1.nn.static_rnn(
                cell, xs, dtype=t.float32, sequence_length=seq_length)
            tensors["output_list"] = output_seqs
            outputs = None
        else:
            X = v1.placeholder(t.float32, [None, spec.steps, spec.inputs], name="X")
            tensors["X"] = X
            if spec.kind == "static":
                x_seqs = t.unstack(t.transpose(X, perm=[1, 0, 2]))
                output_seqs, states = v1.nn.static_rnn(
                    cell, x_seqs, dtype=t.float32, sequence_length=seq_length)
                outputs = t.transpose(t.stack(output_seqs), perm=[1, 0, 2], name="outputs")
            else:
                outputs, states = v1.nn.dynamic_rnn(
                    cell, X, dtype=t.float32, sequence_length=seq_length,
                    swap_memory=swap_memory)
        tensors["outputs"] = outputs
        tensors["states"] = states

        if spec.head == "mnist":
            _mnist_head(spec, tensors, states)
        elif spec.head == "series":
            _series_head(spec, tensors, outputs)
        tensors["init"] = v1.global_variables_initializer()
    return BuiltGraph(spec=spec, graph=graph, tensors=tensors,
                      build_seconds=time.perf_counter() - started)


def _mnist_head(spec: ModelSpec, tensors: dict, states) -> None:
    """Dense layer on the final state, softmax cross-entropy, Adam, in_top_k accuracy."""
    t = tf()
    v1 = t.compat.v1
    y = v1.placeholder(t.int32, [None], name="y")
    logits = v1.layers.dense(_top_h(spec, states), spec.outputs, name="logits")
    xentropy = t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = t.reduce_mean(xentropy, name="loss")
    optimizer = v1.train.AdamOptimizer(learning_rate=spec.learning_rate)
    training_op = optimizer.minimize(loss, name="training_op")
    correct = v1.nn.in_top_k(logits, y, 1)
    accuracy = t.reduce_mean(t.cast(correct, t.float32), name="accuracy")
    tensors.update(y=y, logits=logits, loss=loss, training_op=training_op,
                   accuracy=accuracy)


def _series_head(spec: ModelSpec, tensors: dict, outputs) -> None:
    """Per-step projection (through the wrapper), MSE, Adam."""
    t = tf()
    v1 = t.compat.v1
    if outputs is None:  # static list inputs: stack the per-step outputs
        outputs = t.transpose(t.stack(tensors["output_list"]), perm=[1, 0, 2],
                              name="outputs")
        tensors["outputs"] = outputs
    y = v1.placeholder(t.float32, [None, spec.steps, spec.projection], name="y")
    loss = t.reduce_mean(t.square(outputs - y), name="loss")
    optimizer = v1.train.AdamOptimizer(learning_rate=spec.learning_rate)
    training_op = optimizer.minimize(loss, name="training_op")
    tensors.update(y=y, loss=loss, training_op=training_op)
