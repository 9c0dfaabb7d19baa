"""Overlays: a number or a text per node -> a fill colour per box, a label line and a legend.

Pure: values in, colours and text out.  An overlay comes from a trace
written by ``rnngraph run`` (compute time, output bytes, executions, the
device each node actually ran on) or from any JSON file mapping node names
to numbers or texts.  Numbers are binned on a sequential scale (log-spaced
when they span more than a factor of ten), texts get one colour each.  A box
that shows several nodes (a collapsed scope, stacked step copies) sums
their numbers; stacked copies also show the spread over the steps.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from statistics import median
from typing import Optional

from ..errors import GraphFileError, UsageError
from .style import DEVICE_PALETTE

__all__ = ["Overlay", "MEASURES", "overlay_from_trace", "overlay_from_json", "overlay_style",
           "legend_rows", "text_colour", "NOT_RUN"]

MEASURES = ("time", "memory", "device", "count")
NOT_RUN = "#f0f0f0"  # boxes with no value: did not run, or not in the overlay file
_SCALE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")


@dataclass(frozen=True)
class Overlay:
    """Values per node (numbers or texts), what they measure, and the runs per step copy."""

    title: str  # e.g. "compute time"
    values: dict = field(default_factory=dict)  # node -> number | text
    unit: str = ""  # e.g. "µs"
    missing: str = "no value"  # legend text of boxes without a value
    colours: dict = field(default_factory=dict)  # text -> fixed fill colour (else a palette)
    silent: tuple = ()  # texts shown by their colour alone (no label line)

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in self.values.values())


def overlay_from_trace(document: dict, measure: str) -> Overlay:
    """Return the overlay of ``measure`` (time, memory, device, count) read from a trace document."""
    if measure not in MEASURES:
        raise UsageError(f"unknown overlay {measure!r} (choose one of: {', '.join(MEASURES)}, "
                         "or a .json file of node -> value)")
    ran = {name: rec for name, rec in document["nodes"].items() if rec.get("runs")}
    if measure == "time":
        return Overlay("compute time", {n: r["micros"] for n, r in ran.items()}, "µs", "did not run")
    if measure == "memory":
        return Overlay("output bytes", {n: r["bytes"] for n, r in ran.items()}, "B", "did not run")
    if measure == "count":
        return Overlay("executions", {n: r["runs"] for n, r in ran.items()}, "×", "did not run")
    return Overlay("device (as run)", {n: r["device"] for n, r in ran.items() if r["device"]}, "",
                   "did not run")


def overlay_from_json(path: str, text: Optional[str] = None) -> Overlay:
    """Return the overlay of a JSON object mapping node names to numbers or texts."""
    try:
        if text is None:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        data = json.loads(text)
    except OSError as exc:
        raise GraphFileError(f"cannot read overlay {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphFileError(f"{path}: not a JSON overlay ({exc})") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, (int, float, str)) and not isinstance(v, bool)
            and (not isinstance(v, float) or math.isfinite(v)) for v in data.values()):
        raise GraphFileError(f"{path}: an overlay is a JSON object of node name -> finite number "
                             "or text, e.g. {\"rnn/while/Merge\": 3}")
    return Overlay(title=path.rpartition("/")[2], values=dict(data))


def _bins(values: list) -> list:
    """Return the upper edges of the colour bins for ``values`` (one bin per value when few)."""
    distinct = sorted(set(values))
    if len(distinct) <= len(_SCALE):
        return distinct
    low, high = distinct[0], distinct[-1]
    if low > 0 and high / low > 10:
        step = (math.log(high) - math.log(low)) / len(_SCALE)
        return [math.exp(math.log(low) + step * (k + 1)) for k in range(len(_SCALE))]
    step = (high - low) / len(_SCALE)
    return [low + step * (k + 1) for k in range(len(_SCALE))]


def _number(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"
    return f"{text} {unit}".strip() if unit != "×" else f"×{text}"


def _colour_of_number(overlay: Overlay, value: float) -> str:
    edges = _bins(list(overlay.values.values()))
    scale = _SCALE if len(edges) == len(_SCALE) else _SCALE[len(_SCALE) - len(edges):]
    for edge, colour in zip(edges, scale):
        if value <= edge + 1e-12 * max(1.0, abs(edge)):
            return colour
    return scale[-1]


def _text_colours(overlay: Overlay) -> dict:
    texts = sorted({str(v) for v in overlay.values.values()})
    if overlay.colours:
        return {t: overlay.colours.get(t, NOT_RUN) for t in sorted(overlay.colours) if t in texts}
    return {t: DEVICE_PALETTE[i % len(DEVICE_PALETTE)] for i, t in enumerate(texts)}


def overlay_style(overlay: Overlay, members: list, steps: Optional[list] = None) -> tuple:
    """Return (fill colour, label line) of a box showing ``members``.

    ``steps`` lists the members of each stacked step copy, so the label can
    give the spread of the summed value over the steps.
    """
    present = [overlay.values[m] for m in members if m in overlay.values]
    if not present:
        return NOT_RUN, overlay.missing
    if not overlay.numeric:
        texts = sorted({str(v) for v in present})
        if len(texts) == 1:
            return _text_colours(overlay)[texts[0]], "" if texts[0] in overlay.silent else texts[0]
        return "#ffffff", f"mixed: {', '.join(texts[:3])}" + (" …" if len(texts) > 3 else "")
    total = sum(present)
    line = f"{overlay.title}: {_number(total, overlay.unit)}"
    if steps:
        per_step = [sum(overlay.values.get(m, 0) for m in step) for step in steps]
        line += (f"\nper step: min {_number(min(per_step), overlay.unit)}, median "
                 f"{_number(median(per_step), overlay.unit)}, max {_number(max(per_step), overlay.unit)}")
        total = median(per_step)
    return _colour_of_number(overlay, total), line


def text_colour(fill: str) -> str:
    """Return black or white, whichever reads better on ``fill`` (a #rrggbb colour)."""
    red, green, blue = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "#ffffff"


def legend_rows(overlay: Overlay) -> list:
    """Return the legend as [(text, colour)]: one row per bin or text, and the boxes without a value."""
    rows = []
    if overlay.values and overlay.numeric:
        values = list(overlay.values.values())
        edges = _bins(values)
        scale = _SCALE if len(edges) == len(_SCALE) else _SCALE[len(_SCALE) - len(edges):]
        low = min(values)
        distinct = len(set(values)) <= len(_SCALE)
        for edge, colour in zip(edges, scale):
            text = _number(edge, overlay.unit) if distinct else \
                f"{_number(low, overlay.unit)} – {_number(edge, overlay.unit)}"
            rows.append((text, colour))
            low = edge
    elif overlay.values:
        rows = list(_text_colours(overlay).items())
    rows.append((overlay.missing, NOT_RUN))
    return [(f"{overlay.title}", None)] + rows
