"""How ``inspect`` reports a fused RNN kernel (BlockLSTM, GRUBlockCell, CudnnRNN...)."""

from __future__ import annotations

from ..draw.focus import fused_settings

__all__ = ["fused_json", "fused_lines", "fused_facts_line"]


def fused_json(c) -> dict:
    """Return the recognised facts of a fused kernel as plain JSON (inputs named, attributes)."""
    f = c.fused
    keys = ("op", "steps", "direction", "time_major", "cell_clip", "use_peephole", "seq_len_max",
            "reversed_by", "rnn_mode", "input_mode", "directions", "layers", "num_proj", "dropout",
            "is_training", "params", "gpu_only", "outputs")
    out = {k: f[k] for k in keys if k in f}
    out["inputs"] = [{"name": i["name"], "source": i["source"], "shape": i["shape"],
                      "weight": i["weight"]} for i in f["inputs"]]
    out["forget_bias"] = c.forget_bias
    return out


def fused_facts_line(c) -> str:
    """Return the facts of a fused kernel in one line: what it computes and with which settings."""
    f = c.fused
    size = f"{c.n_inputs if c.n_inputs is not None else '?'} inputs, " \
           f"{c.n_neurons if c.n_neurons is not None else '?'} units"
    parts = []
    if "rnn_mode" in f:
        layers = f["layers"] if f["layers"] is not None else "?"
        parts.append(f"cuDNN {f['rnn_mode']}, {layers} layer{'s' * (layers != 1)}, {f['direction']}")
    else:
        parts.append(f"fused {c.kind.upper()} kernel")
    parts.append(size)
    parts += fused_settings(c)
    if "rnn_mode" not in f:
        parts.append(f["direction"] + (" (time reversed by " + ", ".join(f["reversed_by"]) + ")"
                                       if f["reversed_by"] else ""))
    if f.get("time_major") is not None:
        parts.append("time-major [time, batch, features]" if f["time_major"]
                     else "batch-major [batch, time, features]")
    parts.append("the whole sequence in one op" if f["steps"] == "sequence" else "one step per op")
    return ", ".join(parts)


def fused_lines(c, recorded) -> list:
    """Return the text lines ``inspect`` prints for a fused kernel; ``recorded`` writes a shape."""
    f = c.fused
    where = f", in loop {c.loops[0]}" if c.loops else ""
    lines = [f"  {c.scope} ({f['op']}): {fused_facts_line(c)}{where}"]
    named = []
    for i in f["inputs"]:
        if i["name"] == "seq_len_max" and f.get("seq_len_max") is not None:
            named.append(f"seq_len_max = {f['seq_len_max']}")
            continue
        text = f"{i['name']} {recorded(i['shape'])}" + (f" ← {i['weight'] or i['source']}"
                                                         if i["source"] else " (absent)")
        if i["name"] in ("wci", "wcf", "wco") and f.get("use_peephole") is False:
            text += " (unused)"
        named.append(text)
    lines.append(f"    inputs: {', '.join(named)}")
    params = f.get("params")
    if params:
        size = params["size"]
        text = f"{size:,} values" if size is not None else "size not recorded"
        if params["expected"] is not None:
            verdict = "matches" if size == params["expected"] else "does not match"
            text += f"; cuDNN's canonical layout for these sizes holds {params['expected']:,} ({verdict})"
        if params["canonical"]:
            text += f"; packed by {params['canonical']} from canonical weights and biases"
        lines.append(f"    params: one flat buffer, {text}; runs only on a GPU (cuDNN)")
    return lines
