"""--device and --devices on three logical CPUs, in a fresh process.

``tf.config.set_logical_device_configuration`` must run before TensorFlow
starts its devices, which the rest of the test session has already done.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.tf, pytest.mark.slow]

SCRIPT = textwrap.dedent("""
    import json, sys
    from rnngraph.model.tfcompat import tf
    t = tf()
    cpu = t.config.list_physical_devices("CPU")[0]
    t.config.set_logical_device_configuration(cpu, [t.config.LogicalDeviceConfiguration()] * 3)

    from rnngraph.model.builder import build_graph
    from rnngraph.errors import DeviceError
    from rnngraph.train import SeriesConfig, train_series
    from rnngraph.train.session import TrainingSession, check_devices

    out = sys.argv[1]
    config = SeriesConfig(layers=3, devices=("/cpu:0", "/cpu:1", "/cpu:2"), device="/cpu:2",
                          neurons=8, iterations=3)
    built = build_graph(config.spec(), seed=config.seed, device=config.device)
    nodes = [(n.name, n.op, n.device, [c.decode() for c in n.attr["_class"].list.s])
             for n in built.graph.as_graph_def().node]
    with TrainingSession(built, out + "/probe") as probe:
        session_devices = [d.name for d in probe.session.list_devices()]
    result = train_series(config, out + "/run", say=lambda line: None)
    try:
        check_devices(["/cpu:3"])
        missing = None
    except DeviceError as exc:
        missing = str(exc)
    print(json.dumps({"nodes": nodes, "session_devices": session_devices, "missing": missing,
                      "mse": result.metrics["final"]["mse"]}))
""")


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    out = tmp_path_factory.mktemp("devices")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_each_layer_ops_carry_its_device(placed):
    for layer in range(3):
        ops = [(name, op, device) for name, op, device, _ in placed["nodes"]
               if f"/cell_{layer}/" in name
               and not name.startswith(("gradients/", "training_op/"))]
        placed_ops = {op for name, op, device in ops if device}
        assert {"VarHandleOp", "MatMul", "BiasAdd", "Relu"} <= placed_ops
        assert {device for name, op, device in ops if device} == {f"/device:CPU:{layer}"}
        # Only variable plumbing goes without a device (TF puts it beside the variable).
        unplaced = [name for name, op, device in ops if not device]
        assert all("/Initializer/" in name or name.endswith("/Read/Identity")
                   for name in unplaced), unplaced


def test_device_places_everything_outside_the_layers(placed):
    head = [(name, device) for name, op, device, _ in placed["nodes"]
            if name.startswith(("loss", "training_op/Adam", "gradients/sub"))]
    assert head and {device for _, device in head} == {"/device:CPU:2"}, head


def test_the_session_sees_the_three_cpus_and_trains(placed):
    cpus = [name for name in placed["session_devices"] if name.endswith(("CPU:0", "CPU:1", "CPU:2"))]
    assert len(cpus) == 3, placed["session_devices"]
    assert placed["mse"] > 0


def test_an_absent_device_is_named_with_those_present(placed):
    assert placed["missing"] == ("device /cpu:3 is not available here (devices present: "
                                 "/device:CPU:0, /device:CPU:1, /device:CPU:2)")
