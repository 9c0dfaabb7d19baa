"""Run a built graph once: a warm-up, a fully traced run, and a run that dumps chosen tensors.

The only module of ``trace/`` that runs TensorFlow.  The traced run asks for
``RunOptions(trace_level=FULL_TRACE, output_partition_graphs=True)``; the
values come from a separate run with tfdbg's ``DebugIdentity`` watches
(file dumps), so the debug ops never show up in the timings.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Optional

from ..errors import UsageError
from ..model.tfcompat import tf

__all__ = ["RunResult", "INPUTS", "random_feeds", "input_feeds", "fetches_of", "run_traced", "devices_present",
           "check_device", "session_config"]


@dataclass
class RunResult:
    """What one traced run gave back."""

    step_stats: object  # tensorflow StepStats
    partition_graphs: list  # GraphDefs, one per device, after Grappler
    dumps: dict = field(default_factory=dict)  # (node, slot) -> [numpy arrays, execution order]
    feeds: dict = field(default_factory=dict)  # placeholder name -> numpy array fed
    variables: dict = field(default_factory=dict)  # variable name -> numpy value


def devices_present() -> list:
    """Return the names of the logical devices TensorFlow sees here."""
    return [d.name for d in tf().config.list_logical_devices()]


def check_device(device: Optional[str]) -> None:
    """Raise DeviceError (one line listing the devices present) when ``device`` is not here."""
    if device is None:
        return
    from ..train.session import check_devices  # noqa: PLC0415 (reused, not copied)

    try:
        tf().DeviceSpec.from_string(device)
    except ValueError:
        raise UsageError(f"unknown device {device!r} (expected /cpu:N, /gpu:N or /device:GPU:N)") from None
    check_devices([device])


def session_config():
    """Return a ConfigProto that keeps tf.config's logical CPUs (a Session ignores them otherwise)."""
    t = tf()
    cpus = len(t.config.list_logical_devices("CPU")) or 1
    return t.compat.v1.ConfigProto(allow_soft_placement=True, device_count={"CPU": cpus})


INPUTS = ("random", "series", "mnist")


def input_feeds(built, source: str, batch: int, seed: int) -> dict:
    """Return the feeds for ``source``: random values, series windows, or MNIST test digits.

    ``series``: windows of the training program's time series (needs
    ``--inputs 1``), the targets too for a series head; ``mnist``: the first
    ``batch`` test digits, one pixel row per step (needs ``--steps 28
    --inputs 28``), their labels for an mnist head.
    """
    import numpy as np  # noqa: PLC0415

    if source not in INPUTS:
        raise UsageError(f"unknown input {source!r} (choose one of: {', '.join(INPUTS)})")
    feeds = random_feeds(built, batch, seed)
    spec, tensors = built.spec, built.tensors
    if source == "random":
        return feeds
    if spec is None or "X" not in tensors:
        raise UsageError(f"--input {source} needs a model with one input placeholder X "
                         "(not a graph file, not --static-inputs list)")
    if source == "series":
        if spec.inputs != 1:
            raise UsageError(f"--input series feeds one value per step: add --inputs 1 "
                             f"(got --inputs {spec.inputs})")
        from ..train.series import series_batch  # noqa: PLC0415

        x, y = series_batch(np.random.default_rng(seed), batch, spec.steps)
        feeds[tensors["X"]] = x
        if "y" in tensors and spec.head == "series":
            feeds[tensors["y"]] = np.repeat(y, spec.projection, axis=2)
        return feeds
    if (spec.steps, spec.inputs) != (28, 28):
        raise UsageError("--input mnist feeds one 28-pixel row per step: add --steps 28 --inputs 28 "
                         f"(got --steps {spec.steps} --inputs {spec.inputs})")
    import sys  # noqa: PLC0415

    from ..train.data import load_mnist  # noqa: PLC0415

    data = load_mnist(download=False, say=lambda line: print(f"rnngraph: {line}", file=sys.stderr))
    feeds[tensors["X"]] = data.x_test[:batch].astype(np.float32)
    if "y" in tensors and spec.head == "mnist":
        feeds[tensors["y"]] = data.y_test[:batch].astype(np.int32)
    return feeds


def random_feeds(built, batch: int, seed: int) -> dict:
    """Return placeholder -> random input: X uniform in [-1, 1), full sequence lengths.

    For a graph read from a file (no spec), every float placeholder gets
    uniform values, its unknown dimensions set to ``batch``.
    """
    import numpy as np  # noqa: PLC0415

    spec, tensors = built.spec, built.tensors
    rng = np.random.default_rng(seed)
    if spec is None:
        feeds = {}
        for name, tensor in sorted(tensors["placeholders"].items()):
            dims = tensor.shape.as_list() if tensor.shape.rank is not None else [None]
            shape = [batch if d is None else d for d in dims]
            feeds[tensor] = rng.uniform(-1.0, 1.0, shape).astype(tensor.dtype.as_numpy_dtype)
        return feeds
    x = rng.uniform(-1.0, 1.0, (batch, spec.steps, spec.inputs)).astype(np.float32)
    feeds = {tensors["X"]: x} if "X" in tensors else {
        placeholder: x[:, i] for i, placeholder in enumerate(tensors["X_list"])}
    if "seq_length" in tensors:
        feeds[tensors["seq_length"]] = np.full(batch, spec.steps, dtype=np.int32)
    if "y" in tensors:
        shape = [batch] + [d or 1 for d in tensors["y"].shape.as_list()[1:]]
        kind = tensors["y"].dtype
        feeds[tensors["y"]] = (rng.integers(0, spec.outputs, shape).astype(np.int32)
                               if kind.is_integer else rng.uniform(-1, 1, shape).astype(np.float32))
    return feeds


def fetches_of(built, train: bool = False) -> list:
    """Return what one run fetches: the training op (forward + backward) or the outputs and states."""
    tensors = built.tensors
    if "fetches" in tensors:  # a graph read from a file: its ends
        return list(tensors["fetches"])
    if train:
        if "training_op" not in tensors:
            raise UsageError("a forward+backward run needs a training head (--head series or mnist)")
        return [tensors["training_op"]]
    outputs = tensors["outputs"] if tensors["outputs"] is not None else tensors["output_list"]
    return [outputs, tensors["states"]]


def _dumps(folder: str, partition_graphs) -> dict:
    from tensorflow.python.debug.lib import debug_data  # noqa: PLC0415

    dump = debug_data.DebugDumpDir(folder, partition_graphs=partition_graphs, validate=False)
    found: dict = {}
    for datum in sorted(dump.dumped_tensor_data, key=lambda d: (d.timestamp, d.node_name)):
        found.setdefault((datum.node_name, datum.output_slot), []).append(datum.get_tensor())
    return found


def run_traced(built, feeds: dict, fetches: list, watch: tuple = (),
               session=None) -> RunResult:
    """Run ``fetches`` three times: warm-up, FULL_TRACE, and (if ``watch``) with tensor dumps.

    ``watch`` lists (node, slot) tensors to dump at every execution.
    ``session`` reuses an open Session (variables initialised); else one is
    opened and the variables initialised.
    """
    t = tf()
    v1 = t.compat.v1
    own = session is None
    if own:
        session = v1.Session(graph=built.graph, config=session_config())
        session.run(built.tensors["init"])
    try:
        session.run(fetches, feeds)  # Grappler optimises on the first run; trace a later one
        options = v1.RunOptions(trace_level=v1.RunOptions.FULL_TRACE,
                                output_partition_graphs=True)
        metadata = v1.RunMetadata()
        session.run(fetches, feeds, options=options, run_metadata=metadata)
        result = RunResult(step_stats=metadata.step_stats,
                           partition_graphs=list(metadata.partition_graphs),
                           feeds={p.op.name: v for p, v in feeds.items()})
        with built.graph.as_default():
            variables = v1.global_variables()
        if variables:
            result.variables = dict(zip([v.op.name for v in variables], session.run(variables)))
        if watch:
            result.dumps = _watched_run(built, session, feeds, fetches, watch)
    finally:
        if own:
            session.close()
    return result


def _watched_run(built, session, feeds, fetches, watch) -> dict:
    import re  # noqa: PLC0415

    from tensorflow.python.debug.lib import debug_utils  # noqa: PLC0415

    v1 = tf().compat.v1
    nodes = sorted({node for node, _ in watch})
    folder = tempfile.mkdtemp(prefix="rnngraph-dump-")
    try:
        options = v1.RunOptions(output_partition_graphs=True)
        debug_utils.watch_graph(options, built.graph, debug_urls=["file://" + folder],
                                node_name_regex_allowlist="^(" + "|".join(map(re.escape, nodes)) + ")$")
        metadata = v1.RunMetadata()
        session.run(fetches, feeds, options=options, run_metadata=metadata)
        found = _dumps(folder, metadata.partition_graphs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    wanted = set(watch)
    return {key: arrays for key, arrays in found.items() if key in wanted}
