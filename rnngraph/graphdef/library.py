"""What a GraphDef's function library says about its functions, beyond their bodies."""

from __future__ import annotations

from .walk import as_graph_def, decode_attr

__all__ = ["function_attrs", "FUNCTION_ATTR_KEYS"]

# The FunctionDef attributes the recognisers read (Keras' implementation selection).
FUNCTION_ATTR_KEYS = ("api_implements", "api_preferred_device")


def function_attrs(source) -> dict:
    """Return {function name: {attr: decoded value}} for the attributes in FUNCTION_ATTR_KEYS."""
    graph_def = as_graph_def(source)
    found = {}
    for fdef in graph_def.library.function:
        attrs = {key: decode_attr(fdef.attr[key]) for key in FUNCTION_ATTR_KEYS
                 if key in fdef.attr}
        if attrs:
            found[fdef.signature.name] = attrs
    return found
