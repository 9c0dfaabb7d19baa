"""The layer view of a Keras file in prose: each recurrent layer's config and weight shapes."""

from __future__ import annotations

from pathlib import Path

from .prose import Section, dims

__all__ = ["layers_section", "layer_sentence"]

_FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
_GATES = {"LSTM": "i, f, c, o", "GRU": "z, r, h", "SimpleRNN": ""}


def layer_sentence(layer, wrapper=None) -> str:
    """Return one sentence on a recurrent layer, every value read from its saved config and weights."""
    config = layer.config
    where = f" (inside Bidirectional {wrapper.name}, merge_mode={wrapper.config.get('merge_mode')!r})" \
        if wrapper is not None else ""
    flags = ", ".join(f"{k}={config.get(k)}" for k in _FLAGS if k in config)
    acts = f"activation {config.get('activation')}"
    if layer.class_name != "SimpleRNN" and config.get("recurrent_activation"):
        acts += f", recurrent_activation {config.get('recurrent_activation')}"
    weights = "; ".join(f"{w.name} {dims(list(w.shape))}" for w in layer.weights) or "no weights in the file"
    gates = f" Its kernel's column blocks are Keras' gates in the order {_GATES[layer.class_name]}." \
        if _GATES.get(layer.class_name) else ""
    return (f"{layer.name}: {layer.class_name} with {config.get('units')} units{where}; {acts}; {flags}. "
            f"Weights: {weights}.{gates}")


def layers_section(path) -> Section:
    """Return the section listing a Keras file's layers (the layer view, read without TensorFlow)."""
    from ..graphdef.loaders import load_keras_model  # noqa: PLC0415

    model, _ = load_keras_model(path)
    intro = (f"{Path(path).name} is a {model.form} file written by {model.library}"
             + (f" {model.keras_version}" if model.keras_version else "")
             + f": a {model.class_name} model of {len(model.layers)} layers "
             f"({', '.join(f'{l.name} {l.class_name}' for l in model.layers[:12])}"
             + (", ..." if len(model.layers) > 12 else "") + "). Read from the file alone, without "
             "TensorFlow; nothing in it ran.")
    bullets = [layer_sentence(layer, wrapper) for layer, wrapper in model.recurrent()]
    masks = [l.name for l in model.layers if l.class_name == "Masking" or
             (l.class_name == "Embedding" and l.config.get("mask_zero"))]
    paragraphs = [intro]
    if masks:
        paragraphs.append(f"Masking: {', '.join(masks)} make(s) a mask that the layers after it receive.")
    paragraphs += model.notes
    paragraphs.append(bullets or ["no recurrent layer (LSTM, GRU, SimpleRNN) is in this file"])
    return Section("The Keras layers (layer view)", paragraphs)
