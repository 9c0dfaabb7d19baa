"""What `run FILE` agrees to execute: rnngraph's own graphs pass, file/process/Python ops do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.protos import GraphDef
from rnngraph.graphdef.runpolicy import PURE_OPS, _pure, recursive_calls, refused_ops

FIXTURES = Path(__file__).parent / "fixtures"
# Ops that reach outside the process's memory: files, the network, other processes, Python, mmap.
HOSTILE = ("WriteFile", "ReadFile", "MatchingFiles", "SaveV2", "Save", "SaveSlices", "RestoreV2",
           "Restore", "RestoreSlice", "MergeV2Checkpoints", "PrintV2", "Print", "PyFunc",
           "EagerPyFunc", "PyFuncStateless", "TFRecordDataset", "TextLineDataset",
           "FixedLengthRecordDataset", "TFRecordDatasetV2", "IteratorGetNext", "MakeIterator",
           "QueueEnqueueV2", "QueueDequeueV2", "FIFOQueueV2", "_Recv", "_Send", "_HostRecv",
           "ImmutableConst", "LoadAndRemapMatrix", "WriteScalarSummary", "CreateSummaryFileWriter",
           "SummaryWriter", "WriteGraphSummary", "DebugIdentity", "DebugIdentityV2",
           "WholeFileReaderV2", "ReaderReadV2", "CollectiveReduce", "NcclAllReduce",
           "SymbolicGradient", "DatasetToGraph", "ShuffleDatasetV3", "ExperimentalLMDBDataset")
# Files `run` ran before the check existed (`rnngraph run` on every fixture, by hand): all admitted.
RAN = ("bidirectional_lstm_v1.pb", "dynamic_gru_v2.pb", "dynamic_lstm_v1.pb",
       "dynamic_multi_lstm_v1.pb", "dynamic_rnn_v1.meta", "keras2_lstm_unrolled_frozen.pb",
       "scan_handwritten_lstm_v1.pb", "scan_handwritten_lstm_v2.pb", "static_gru_3.pbtxt",
       "static_lstm_basic_4.pb", "static_lstm_peephole_projection.pb", "static_rnn_200_steps.pb",
       "static_rnn_basic_4.pbtxt", "tensorboard_logdir", "tf_function_nested_calls.pbtxt",
       "while_counter_v1.pbtxt", "while_counter_v2.pbtxt")


def _graph_files() -> list:
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if "variables" in path.parts or path.name in ("saved_model.pb", "keras_metadata.pb"):
            continue
        if path.suffix in (".pb", ".pbtxt", ".meta") or path.name.endswith(
                ("savedmodel", "_export", "logdir", "_logs")):
            found.append(path)
    return found


@pytest.mark.parametrize("op", HOSTILE)
def test_ops_that_reach_outside_are_not_pure(op):
    assert not _pure(op, frozenset())
    graph = GraphDef()
    graph.node.add(name="n", op=op)
    graph.node.add(name="m", op="Identity", input=["^n"])
    assert refused_ops(graph) == {op: ["top level"]}
    assert refused_ops(graph, allowed=[op]) == {}  # --allow-op admits that kind only


def test_every_fixture_graph_is_admitted_but_for_checkpoint_functions():
    files = _graph_files()
    assert len(files) > 40
    for path in files:
        graph, _ = load_graph_def(path)
        refused = refused_ops(graph)
        assert recursive_calls(graph) == [], path
        if path.name.startswith("dl4j_"):  # written by DL4J: Expose is no TensorFlow op
            assert set(refused) <= {"Expose"}, (path, refused)
        elif path.name in RAN or path.name.endswith((".pbtxt", ".pb", ".meta")):
            assert refused == {}, (path, refused)
        else:  # SavedModels: their save/restore functions are called by nodes `run` would fetch
            assert set(refused) <= {"SaveV2", "RestoreV2", "MergeV2Checkpoints"}, (path, refused)
            assert all(place.startswith("function ") for places in refused.values()
                       for place in places), (path, refused)
    assert {p.name for p in files} >= set(RAN)


def test_checkpoint_ops_outside_what_run_fetches_are_tolerated():
    # What tf.compat.v1.train.Saver adds: save/ ops no fetched node reads.
    graph, _ = load_graph_def(FIXTURES / "walk_while_v1.pbtxt")
    graph.node.add(name="save/filename", op="Placeholder").attr["dtype"].type = 7
    graph.node.add(name="save/SaveV2", op="SaveV2", input=["save/filename"])
    graph.node.add(name="save/control_dependency", op="Identity",
                   input=["save/filename", "^save/SaveV2"])
    graph.node.add(name="save/RestoreV2", op="RestoreV2", input=["save/filename"])
    graph.node.add(name="save/restore_all", op="NoOp", input=["^save/RestoreV2"])
    assert refused_ops(graph) == {}
    graph.node.add(name="uses_restore", op="Identity", input=["save/RestoreV2"])
    assert refused_ops(graph) == {"RestoreV2": ["top level"]}  # now `run` would fetch it
    graph.node.add(name="write", op="WriteFile", input=["save/filename", "save/filename"])
    graph.node.add(name="save/hidden", op="NoOp", input=["^write"])
    assert refused_ops(graph) == {"RestoreV2": ["top level"], "WriteFile": ["top level"]}


@pytest.mark.tf
def test_every_listed_pure_op_is_a_tensorflow_op():
    from rnngraph.model.tfcompat import tf

    registered = set(dir(tf().raw_ops))
    assert sorted(op for op in PURE_OPS if not op.startswith("_") and op not in registered) == []
    assert [op for op in HOSTILE if not op.startswith("_") and op not in registered] == []


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("options", [
    dict(kind="dynamic", cell="lstm", head="mnist"),
    dict(kind="static", cell="gru", head="series", inputs=1),
    dict(kind="dynamic", cell="gru", control_flow="v2", sequence_length=True),
    dict(kind="dynamic", cell="lstm-peephole", layers=2, dropout=0.5, projection=3),
])
def test_graphs_rnngraph_builds_are_admitted(options):
    from rnngraph.model.builder import build_graph
    from rnngraph.model.spec import ModelSpec

    graph_def = GraphDef.FromString(build_graph(ModelSpec(**options)).graph_def().SerializeToString())
    assert refused_ops(graph_def) == {} and recursive_calls(graph_def) == []
