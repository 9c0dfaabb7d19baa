"""Files <-> GraphDef <-> networkx, with protobuf only (no TensorFlow).

``protos`` declares TensorFlow's messages, ``loaders`` reads graph files,
``walk`` turns a GraphDef into a networkx graph, ``tensorboard`` writes event
files, ``opdocs`` says what each op does.
"""
