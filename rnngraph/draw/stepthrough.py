"""The step-through of a run for the HTML page: a slider over the loop's iterations.

Pure: a trace document (written by ``rnngraph run``) in, HTML text out —
the per-iteration data as JSON and ``static/stepthrough.js``, appended to
the page by ``render_html(..., addon=...)``.  At iteration t the nodes that
ran in t light up, each Merge shows the input it took and each Switch the
side it sent its value to, the TensorArray fills slot by slot, and a panel
shows h, c and the gate activations as heat maps.  For an unrolled graph
the slider walks the step copies.
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["stepthrough_data", "stepthrough_html"]

_PANEL_ROLES = ("h", "c", "gate:i", "gate:f", "gate:o", "gate:j", "gate:r", "gate:u")


def stepthrough_data(document: dict) -> dict:
    """Return what the slider needs: per iteration the nodes that ran, Merge/Switch choices, values."""
    count = document["iterations"] + (1 if document["unit"] == "iteration" else 0)
    ran: list = [[] for _ in range(count)]
    for name, record in sorted(document["nodes"].items()):
        if record["op"] is None:
            continue
        for run in record["per_run"]:
            t = run["iteration"]
            if t is not None and 0 <= t < count and name not in ran[t]:
                ran[t].append(name)
    recorded = document.get("values", {})
    roles = recorded.get("roles", {})
    return {
        "unit": document["unit"], "iterations": document["iterations"], "ran": ran,
        "merges": recorded.get("merges", {}), "switches": recorded.get("switches", {}),
        "arrays": {name: [{"slot": s["slot"]} for s in slots]
                   for name, slots in recorded.get("tensor_arrays", {}).items()},
        "panel": {role: [v.get("values") for v in roles[role]]
                  for role in _PANEL_ROLES if role in roles},
        "order": [role for role in _PANEL_ROLES if role in roles],  # JSON keys get sorted
    }


def _json_for_script(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def stepthrough_html(document: dict) -> str:
    """Return the page addon: the step-through data and its script."""
    script = resources.files("rnngraph.draw").joinpath("static", "stepthrough.js").read_text(
        encoding="utf-8")
    return (f'<script type="application/json" id="rg-steps-data">'
            f"{_json_for_script(stepthrough_data(document))}</script>\n"
            f"<script>\n{script}</script>\n")
