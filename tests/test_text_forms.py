"""Issue 24: a SavedModel written as ``saved_model.pbtxt`` and a text ``.meta`` file are read.

Both were refused as "a GraphDef with no nodes": every field of a SavedModel or MetaGraphDef
is unknown to GraphDef, so the GraphDef text parser skipped them all and found nothing.
"""

from __future__ import annotations

import pytest

from rnngraph.graphdef.loaders import load_graph_def

SAVED = ('saved_model_schema_version: 1\n'
         'meta_graphs { meta_info_def { tags: "serve" } '
         'graph_def { node { name: "a" op: "NoOp" } } }\n')
META = ('meta_info_def { tags: "serve" }\n'
        'graph_def { node { name: "a" op: "NoOp" } node { name: "b" op: "NoOp" input: "^a" } }\n')


@pytest.mark.parametrize("name, text, kind, nodes", [
    ("sm/saved_model.pbtxt", SAVED, "savedmodel", 1),
    ("sm", SAVED, "savedmodel", 1),
    ("m.meta", META, "metagraph", 2),
    ("m.pbtxt", META, "metagraph", 2),
])
def test_text_saved_model_and_meta_graph_are_read(tmp_path, name, text, kind, nodes):
    path = tmp_path / "sm" / "saved_model.pbtxt" if name.startswith("sm") else tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    graph, found = load_graph_def(tmp_path / name)
    assert (found, len(graph.node)) == (kind, nodes)


@pytest.mark.tf
@pytest.mark.slow
def test_text_files_written_by_tensorflow_give_tensorflows_counts(tmp_path):
    from google.protobuf import text_format

    from rnngraph.model.builder import build_graph
    from rnngraph.model.spec import ModelSpec
    from rnngraph.model.tfcompat import tf

    v1 = tf().compat.v1  # first: it chooses Keras 2 before TensorFlow is imported
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

    for kind in ("dynamic", "static"):
        graph = build_graph(ModelSpec(kind=kind, steps=2)).graph
        meta, saved = tmp_path / f"{kind}.meta", tmp_path / f"{kind}-sm"
        with graph.as_default():
            v1.train.export_meta_graph(str(meta), as_text=True, graph=graph)
            with v1.Session(graph=graph) as session:
                session.run(v1.global_variables_initializer())
                builder = v1.saved_model.Builder(str(saved))
                builder.add_meta_graph_and_variables(session, ["serve"])
                builder.save(as_text=True)
        theirs_meta = text_format.Parse(meta.read_text(), meta_graph_pb2.MetaGraphDef())
        theirs_saved = text_format.Parse((saved / "saved_model.pbtxt").read_text(),
                                         saved_model_pb2.SavedModel())
        ours, found = load_graph_def(meta)
        assert (found, len(ours.node)) == ("metagraph", len(theirs_meta.graph_def.node))
        for path in (saved, saved / "saved_model.pbtxt"):
            ours, found = load_graph_def(path)
            assert (found, len(ours.node)) == ("savedmodel",
                                               len(theirs_saved.meta_graphs[0].graph_def.node))
