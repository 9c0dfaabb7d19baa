"""How ``inspect`` reports one recognised cell: its JSON entry and its line of text."""

from __future__ import annotations

from .fused_summary import fused_json, fused_lines

__all__ = ["cell_json", "cell_lines"]


def cell_json(c) -> dict:
    """Return the ``inspect --json`` entry of a cell (the original keys first, then the new ones)."""
    return {"scope": c.scope, "kind": c.kind, "kernel_shape": c.kernel_shape,
            "gates": list(c.gates), "form": c.form,
            "recurrent_kernel_shape": c.recurrent_kernel_shape if c.form == "keras" else None,
            "layer": c.layer, "implementation": c.implementation,
            "bias_shape": c.bias_shape, "activation": c.activation,
            "recurrent_activation": c.recurrent_activation, "reset_after": c.reset_after,
            "units": c.n_neurons, "inputs": c.n_inputs,
            "projection_shape": c.projection.get("shape") if c.projection else None,
            "peepholes": sorted(c.peepholes), "loops": list(c.loops),
            "copies": len(c.instances), "parts": [dict(p) for p in c.parts],
            "fused": fused_json(c) if c.form == "fused" else None}


def _uses(c) -> str:
    """Return how the cell's copies are used: unrolled steps, or loops that share it."""
    if len(c.loops) > 1:
        return f", one cell used by {len(c.loops)} loops ({', '.join(c.loops)})"
    if len(c.instances) > 1 and not c.loops:
        return f", {len(c.instances)} unrolled copies"
    return ""


def cell_lines(c, recorded) -> list:
    """Return the text lines ``inspect`` prints for a cell; ``recorded`` writes a shape."""
    gates = f", gates {' '.join(c.gates)}" if c.gates else ""
    if c.form == "keras":
        extra = f", reset_after={c.reset_after}" if c.reset_after is not None else ""
        bias = f", bias {recorded(c.bias_shape)}" if c.bias else ", no bias"
        lines = [f"  {c.layer}: {c.kind} (Keras), kernel {recorded(c.kernel_shape)} + recurrent "
                 f"kernel {recorded(c.recurrent_kernel_shape)} ({c.n_inputs} inputs, {c.n_neurons} "
                 f"units){gates}, activation {c.activation}"
                 + (f", recurrent activation {c.recurrent_activation}" if c.recurrent_activation else "")
                 + f"{bias}{extra}{_uses(c)}"]
        if c.implementation:
            lines.append(f"    implementation: {c.implementation}")
        return lines
    if c.form == "fused":
        return fused_lines(c, recorded)
    if c.form == "custom":
        lines = [f"  {c.layer}: custom cell (hand-written), {len(c.parts)} gate-like parts, state "
                 f"of {c.n_neurons if c.n_neurons is not None else '?'} units{_uses(c)}"]
        for p in c.parts:
            weights = " + ".join(f"{w['input']}·{recorded(w['shape'])}" for w in p["weights"])
            lines.append(f"    {p['activation'] or 'no activation'}({weights}"
                         + (" + bias" if p.get("bias") else "") + ")")
        return lines
    bias = f", forget bias {c.forget_bias}" if c.forget_bias is not None else ""
    proj = ""
    if c.projection:
        proj = f", projection {recorded(c.projection.get('shape'))} (h has {c.projection.get('units')} units)"
    peep = f", peepholes {' '.join(sorted(c.peepholes))}" if c.peepholes else ""
    return [f"  {c.scope}: {c.kind}, kernel {c.kernel} {recorded(c.kernel_shape)} "
            f"({c.n_inputs} inputs, {c.n_neurons} neurons){gates}{bias}{peep}{proj}{_uses(c)}"]
