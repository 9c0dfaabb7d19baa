"""`render --tensorboard LOGDIR`: the event file holds exactly the graph TensorFlow built."""

from __future__ import annotations

import struct

import pytest

from rnngraph.graphdef import protos
from rnngraph.graphdef.tensorboard import FILE_VERSION, event_records, write_graph_event


def _graph_def() -> "protos.GraphDef":
    graph = protos.GraphDef()
    node = graph.node.add(name="X", op="Placeholder")
    node.attr["dtype"].type = protos.DTYPE_ENUM["DT_FLOAT"]
    graph.node.add(name="Y", op="Identity", input=["X"])
    return graph


def test_event_file_round_trips_without_tensorflow(tmp_path):
    from rnngraph.graphdef.loaders import load_graph_def

    path = write_graph_event(tmp_path / "logs", _graph_def(), wall_time=1.5)
    assert "tfevents" in path
    graph, _ = load_graph_def(path)
    assert graph == _graph_def()


def test_records_are_framed_and_deterministic():
    data = event_records(_graph_def(), 1.5)
    assert data == event_records(_graph_def(), 1.5)
    (length,) = struct.unpack("<Q", data[:8])
    first = protos.Event.FromString(data[12:12 + length])
    assert first.file_version == FILE_VERSION and first.wall_time == 1.5


@pytest.mark.tf
def test_render_tensorboard_writes_what_tensorflow_reads(tmp_path, built, capsys):
    from rnngraph.cli import main
    from rnngraph.model.tfcompat import tf

    logdir = tmp_path / "logs"
    assert main(["render", "dynamic", "--steps", "2", "--format", "dot",
                 "-o", str(tmp_path / "g.dot"), "--tensorboard", str(logdir)]) == 0
    events = sorted(logdir.glob("events.out.tfevents.*"))
    assert [str(events[0])] == capsys.readouterr().out.splitlines()[:1]
    # TensorFlow's own reader checks every record's CRC and parses the Event.
    records = list(tf().compat.v1.train.summary_iterator(str(events[0])))
    assert records[0].file_version == FILE_VERSION
    written = tf().compat.v1.GraphDef.FromString(records[1].graph_def)
    assert written == built(kind="dynamic", steps=2).graph_def()


def test_inspect_tensorboard_exports_the_file_it_read(tmp_path, capsys):
    from google.protobuf import text_format

    from rnngraph.cli import main
    from rnngraph.graphdef.loaders import load_graph_def

    source = tmp_path / "g.pbtxt"
    source.write_text(text_format.MessageToString(_graph_def()))
    assert main(["inspect", str(source), "--tensorboard", str(tmp_path / "logs")]) == 0
    err = capsys.readouterr().err
    (event,) = (tmp_path / "logs").iterdir()
    assert f"event file: {event}" in err
    assert load_graph_def(event)[0] == _graph_def()
