"""Group a traced Keras model's ops by the Keras layer that made them (protobuf only, no TensorFlow).

The trace (``model/keras_worker.py``) notes, for each top-level layer (and Keras 3
operation), the ops its ``call`` created and the name scope it ran in: ``lstm_1/lstm_1`` in
Keras 3 (its call suffixes), ``lstm/lstm`` in tf_keras.  A top-level op goes to the layer whose
call created it (or the op it was derived from: ``.../ReadVariableOp/resource`` after freezing),
else to the layer whose own scope holds its name (the longest wins: a model named like its layer
holds that layer's scope; a scope two layers share, the model's, names none).  It is renamed
``<layer>/<rest of its name>``, so the layer is one name scope that the page draws as one box.
Ops TensorFlow's function inlining adds (``Func/<name>/...``) go where ``<name>`` goes.  The
traced input placeholder is named as the model's input layer; what no layer made (the output
``Identity``, ``NoOp``: the :data:`PLUMBING`) keeps its TensorFlow name at the top level (under
``model_plumbing/`` only where that name would fall in a layer's scope).  Ops inside function
bodies (``While`` cond and body) keep their names: the walker puts them under their caller,
which is already in its layer.
"""

from __future__ import annotations

from typing import Optional

from ..errors import GraphFileError
from . import protos

__all__ = ["PLUMBING", "layer_of_ops", "group_by_layer", "layer_facts"]

PLUMBING = "model plumbing"
_PLUMBING_SCOPE = "model_plumbing"


def _own_scopes(scopes: dict) -> list:
    """Return [(scope, layer)] of the scopes that are one layer's own, longest first.

    A scope recorded for two layers, or holding another layer's scope, is the model's (Keras 3
    operations such as ``not_equal`` open none and run in the model's scope): it names no layer.
    """
    found = [(scope, layer) for layer, listed in scopes.items() for scope in listed if scope]
    owners: dict = {}
    for scope, layer in found:
        owners.setdefault(scope, set()).add(layer)
    own = [(scope, layer) for scope, layer in found if len(owners[scope]) == 1
           and not any(other.startswith(scope + "/") for other in owners)]
    return sorted(own, key=lambda item: (-len(item[0]), item[0]))


def _layer_and_rest(name: str, made: dict, own: list) -> Optional[tuple]:
    """Return (layer, the name below its scope) of a top-level op name, else None.

    ``made``: {op name: layer} of the ops each layer's call created while traced; else the
    layer whose own scope holds the name (ops Keras adds around ``call``, freezing's constants).
    """
    inlined = name.startswith("Func/")
    bare = name[len("Func/"):] if inlined else name
    for scope, layer in own:
        if bare == scope or bare.startswith(scope + "/"):
            rest = bare[len(scope) + 1:] or scope.rpartition("/")[2]
            break
    else:
        scope = layer = rest = None
    exact = made.get(bare) or next((made[p] for p in _prefixes(bare) if p in made), None)
    if exact is not None and exact != layer:  # the op list is exact; keep the whole name below it
        layer, rest = exact, bare
    if layer is None:
        return None
    return layer, ("Func/" + rest) if inlined else rest


def _prefixes(name: str) -> list:
    """Return ``a/b`` and ``a`` for ``a/b/c``: an inlined call's ops lie below the call's name."""
    parts = name.split("/")
    return ["/".join(parts[:k]) for k in range(len(parts) - 1, 0, -1)]


def layer_of_ops(graph_def, scopes: dict, input_layer: Optional[str], ops: Optional[dict] = None) -> dict:
    """Return {top-level op name: new name} with each op under its Keras layer (or PLUMBING).

    ``scopes``: {layer name: [name scopes its calls ran in]}; ``ops``: {layer name: [op names
    its calls created]}, as the trace recorded them.
    """
    own = _own_scopes(scopes)
    made = {op: layer for layer, names in sorted((ops or {}).items()) for op in names}
    renamed = {}
    for node in graph_def.node:
        found = _layer_and_rest(node.name, made, own)
        if found is not None:
            renamed[node.name] = f"{found[0]}/{found[1]}"
        elif node.op == "Placeholder" and input_layer and input_layer not in renamed.values():
            renamed[node.name] = input_layer  # the model's input: named as its InputLayer
        else:
            renamed[node.name] = node.name  # model plumbing: stays at the top level, TF's name
    plumbing = [old for old, new in renamed.items() if old == new]
    if len(set(renamed.values())) != len(renamed):
        # two ops would share a name: keep each whole TensorFlow name under its layer instead
        renamed = {old: old if old in plumbing else f"{new.partition('/')[0]}/{old}"
                   for old, new in renamed.items()}
    groups = {new.partition("/")[0] for old, new in renamed.items() if old not in plumbing}
    for old in plumbing:
        if old.partition("/")[0] in groups:  # would read as one of a layer's ops
            renamed[old] = f"{_PLUMBING_SCOPE}/{old}"
    if len(set(renamed.values())) != len(renamed):
        raise GraphFileError("the traced Keras graph cannot be grouped by layer: two ops get one name")
    return renamed


def _input_ref(text: str, renamed: dict) -> str:
    control = text.startswith("^")
    name, colon, port = text.lstrip("^").partition(":")
    return ("^" if control else "") + renamed.get(name, name) + colon + port


def group_by_layer(graph_def, scopes: dict, input_layer: Optional[str] = None, ops: Optional[dict] = None):
    """Return (a copy of ``graph_def`` with its ops renamed under their layers, {new: old name})."""
    renamed = layer_of_ops(graph_def, scopes, input_layer, ops)
    out = protos.GraphDef()
    out.CopyFrom(graph_def)
    for node in out.node:
        node.name = renamed[node.name]
        inputs = [_input_ref(i, renamed) for i in node.input]
        del node.input[:]
        node.input.extend(inputs)
        if "_class" in node.attr:  # colocation: loc:@<op name>
            places = [b"loc:@" + renamed.get(v[5:].decode("utf-8", "replace"), v[5:].decode("utf-8", "replace"))
                      .encode("utf-8") if v.startswith(b"loc:@") else v for v in node.attr["_class"].list.s]
            del node.attr["_class"].list.s[:]
            node.attr["_class"].list.s.extend(places)
    return out, {new: old for old, new in renamed.items()}


_FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "mask_zero")
_VALUES = ("units", "activation", "recurrent_activation", "merge_mode", "mask_value", "rate", "output_dim")


def layer_facts(layer) -> dict:
    """Return what the file says of one Keras layer: class, config values, true flags, weights.

    ``{"name", "class", "units", ..., "flags": [...], "weights": [[name, shape], ...],
    "inner": [facts of a wrapper's layers]}``; only values the file holds are present.
    """
    facts = {"name": layer.name, "class": layer.class_name}
    for key in _VALUES:
        value = layer.config.get(key)
        if value is not None and not isinstance(value, (dict, list)):
            facts[key] = value
    facts["flags"] = [k for k in _FLAGS if layer.config.get(k) is True]
    facts["weights"] = [[w.name, list(w.shape)] for w in layer.weights]
    facts["inner"] = [layer_facts(inner) for inner in layer.inner]
    return facts
