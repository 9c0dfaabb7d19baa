"""Ground truth from TensorFlow itself: build an RNN with tf.compat.v1 here, keep what TF returns.

Independent of ``rnngraph.model.builder``: the cells, wrappers and ``static_rnn`` /
``dynamic_rnn`` are called directly, and the facts a test compares with the
recogniser are read from TensorFlow's own objects (``tensor.op.name`` of the
returned outputs and state, the cells' variables, the ops the DropoutWrapper
and the ZeroState scopes create, the consumers of the seq_length placeholder).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    cell: str = "rnn"  # rnn | lstm | lstm-peephole | gru
    kind: str = "dynamic"
    cf: str = "v1"
    layers: int = 1
    dropout: bool = False
    seq: bool = False
    act: str = "tanh"
    proj: bool = False
    head: bool = False  # a dense layer on the top layer's final h
    steps: int = 3
    bidi: bool = False  # bidirectional_dynamic_rnn over two copies of the cell stack

    def id(self) -> str:
        flags = [f for f, on in (("drop", self.dropout), ("seq", self.seq), ("proj", self.proj),
                                 ("head", self.head), ("bidi", self.bidi)) if on]
        return "-".join([self.kind, self.cell, self.cf, f"x{self.layers}", self.act, *flags])


def pairwise_variants() -> list:
    """Return a covering set: every pair of values of any two factors appears in some variant."""
    factors = {"cell": ["rnn", "lstm", "lstm-peephole", "gru"], "kind": ["static", "dynamic"],
               "cf": ["v1", "v2"], "layers": [1, 3], "dropout": [False, True],
               "seq": [False, True], "act": ["tanh", "relu"], "proj": [False, True],
               "head": [False, True]}
    names = list(factors)
    uncovered = {(a, va, b, vb) for a, b in itertools.combinations(names, 2)
                 for va in factors[a] for vb in factors[b]}
    chosen = []
    candidates = list(itertools.product(*factors.values()))
    while uncovered:
        # Greedy, deterministic: the candidate covering most uncovered pairs, first in order.
        def gain(combo):
            values = dict(zip(names, combo))
            return sum((a, values[a], b, values[b]) in uncovered
                       for a, b in itertools.combinations(names, 2))
        best = max(candidates, key=gain)
        values = dict(zip(names, best))
        uncovered -= {(a, values[a], b, values[b]) for a, b in itertools.combinations(names, 2)}
        chosen.append(Variant(**values))
    return chosen


@dataclass
class Truth:
    variant: Variant
    graph: object
    graph_def: object
    outputs: list  # op names of the returned outputs (static: one per step)
    state: list  # op names of the flattened final state, TF's order
    state_parts: list  # per flattened tensor: (layer, "c" | "h" | "state")
    zero_state: set  # Fill ops under a *ZeroState scope
    kernels: list  # each layer's kernel variable, stacking order
    peepholes: list  # per layer: {gate: variable}
    dropout_selects: set  # Select ops the DropoutWrapper created
    seq_selects: set  # Select ops whose condition depends on the seq_length placeholder
    projection_kernel: object = None
    head_kernel: object = None
    tensors: dict = field(default_factory=dict)


def _projection_wrapper(tf, cell, size):
    rnn_cell = tf.compat.v1.nn.rnn_cell

    class OutputProjectionWrapper(rnn_cell.RNNCell):  # TF 1.x contrib's, as in its source
        def __init__(self):
            super().__init__()
            self.kernel = None

        @property
        def state_size(self):
            return cell.state_size

        @property
        def output_size(self):
            return size

        def call(self, inputs, state):
            output, new_state = cell(inputs, state)
            self.kernel = tf.compat.v1.get_variable("kernel", [output.shape[-1], size])
            bias = tf.compat.v1.get_variable("bias", [size])
            return tf.nn.bias_add(tf.matmul(output, self.kernel), bias), new_state

    return OutputProjectionWrapper()


def _depends_on(op, target, limit=60) -> bool:
    todo, seen = [op], set()
    while todo and len(seen) < 2000:
        cur = todo.pop()
        if cur is target:
            return True
        if cur.name in seen:
            continue
        seen.add(cur.name)
        todo.extend(t.op for t in cur.inputs)
    return False


def build_truth(v: Variant) -> Truth:
    from rnngraph.model.tfcompat import set_control_flow, tf as get_tf

    tf = get_tf()
    v1 = tf.compat.v1
    set_control_flow(v.cf)
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(1)
        act = {"tanh": tf.tanh, "relu": tf.nn.relu}[v.act]
        rnn_cell = v1.nn.rnn_cell
        keep = v1.placeholder_with_default(1.0, (), name="keep_prob") if v.dropout else None
        cells, layers = [], []
        for _ in range(v.layers):
            if v.cell == "rnn":
                cell = rnn_cell.BasicRNNCell(4, activation=act)
            elif v.cell == "lstm":
                cell = rnn_cell.BasicLSTMCell(4, activation=act)
            elif v.cell == "lstm-peephole":
                cell = rnn_cell.LSTMCell(4, use_peepholes=True, activation=act)
            else:
                cell = rnn_cell.GRUCell(4, activation=act)
            cells.append(cell)
            layers.append(rnn_cell.DropoutWrapper(cell, input_keep_prob=keep) if keep is not None
                          else cell)
        top = layers[0] if v.layers == 1 else rnn_cell.MultiRNNCell(layers)
        proj = _projection_wrapper(tf, top, 2) if v.proj else None
        top = proj or top
        seq = v1.placeholder(tf.int32, [None], name="seq_length") if v.seq else None
        X = v1.placeholder(tf.float32, [None, v.steps, 3], name="X")
        if v.bidi:
            backward = rnn_cell.MultiRNNCell(
                [rnn_cell.BasicLSTMCell(4) for _ in range(v.layers)]) if v.layers > 1 \
                else rnn_cell.BasicLSTMCell(4)
            (out_fw, out_bw), (st_fw, st_bw) = v1.nn.bidirectional_dynamic_rnn(
                top, backward, X, dtype=tf.float32, sequence_length=seq)
            out_list, state = [out_fw, out_bw], (st_fw, st_bw)
        elif v.kind == "dynamic":
            outputs, state = v1.nn.dynamic_rnn(top, X, dtype=tf.float32, sequence_length=seq)
            out_list = [outputs]
        else:
            out_list, state = v1.nn.static_rnn(top, tf.unstack(X, axis=1), dtype=tf.float32,
                                               sequence_length=seq)
        flat = tf.nest.flatten(state)
        head = None
        if v.head:
            last = flat[-1]  # the top layer's h (LSTMStateTuple is (c, h))
            head = v1.layers.Dense(2, name="head")
            # A training step too: its gradient ops multiply the same gates and must not be
            # taken for the cell's own c_t and h_t.
            loss = tf.reduce_mean(tf.square(head(last)))
            v1.train.GradientDescentOptimizer(0.1).minimize(loss)
    parts = []
    for layer in range(v.layers):
        parts += [(layer, "c"), (layer, "h")] if v.cell.startswith("lstm") else [(layer, "state")]
    ops = graph.get_operations()
    selects = [o for o in ops if o.type in ("Select", "SelectV2")]
    wrapper_scope = re.compile(r"(^|/)dropout(_\d+)?/").search  # DropoutWrapper's name scope

    def in_dropout(name):  # the optimizer's ops live under 'gradients/', not the wrapper's
        return wrapper_scope(name) and not name.startswith("gradients/") and "/gradients/" not in name

    dropout_selects = {o.name for o in selects if in_dropout(o.name)}
    seq_selects = set()
    if seq is not None:
        seq_selects = {o.name for o in selects if o.name not in dropout_selects
                       and not o.name.startswith("gradients/")
                       and _depends_on(o.inputs[0].op, seq.op)}
    graph_def = graph.as_graph_def(add_shapes=True)
    # Control flow v2: loop bodies and cond branches are functions; rnngraph names their
    # nodes "<caller op>/<attr>::/<node>" (rnn/while/body::/..., rnn/cond/else_branch::/...).
    attrs = {"While": ("body",), "StatelessWhile": ("body",), "If": ("then_branch", "else_branch"),
             "StatelessIf": ("then_branch", "else_branch")}
    bodies = {}
    for o in ops:
        for attr in attrs.get(o.type, ()):
            bodies[o.get_attr(attr).name] = f"{o.name}/{attr}::"
    library = {f.signature.name: f for f in graph_def.library.function}
    todo = list(bodies)
    while todo:  # functions calling functions: a cond inside a cond branch
        function = library[todo.pop()]
        for node in function.node_def:
            for attr in attrs.get(node.op, ()):
                name = node.attr[attr].func.name
                if name not in bodies:
                    bodies[name] = f"{bodies[function.signature.name]}/{node.name}/{attr}::"
                    todo.append(name)
    for function in graph_def.library.function:
        caller = bodies.get(function.signature.name)
        if caller is None:
            continue
        for node in function.node_def:
            if node.op in ("Select", "SelectV2"):
                name = f"{caller}/{node.name}"
                if in_dropout(node.name):
                    dropout_selects.add(name)
                elif "gradients/" in name:
                    continue  # the optimizer's
                elif seq is not None:  # the RNN's only other Selects: the sequence_length masking
                    seq_selects.add(name)
    return Truth(
        variant=v, graph=graph, graph_def=graph_def,
        outputs=[t.op.name for t in out_list], state=[t.op.name for t in flat], state_parts=parts,
        zero_state={o.name for o in ops if o.type == "Fill" and "ZeroState" in o.name},
        kernels=[c.weights[0].op.name for c in cells],
        peepholes=[{g: getattr(c, f"_w_{g}_diag").op.name for g in "fio"}
                   if v.cell == "lstm-peephole" else {} for c in cells],
        dropout_selects=dropout_selects, seq_selects=seq_selects,
        projection_kernel=proj.kernel.op.name if proj else None,
        head_kernel=head.kernel.op.name if head else None,
        tensors={"X": X, "seq": seq, "keep": keep, "outputs": out_list, "state": flat})
