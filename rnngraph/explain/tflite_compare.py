"""``rnngraph compare m.keras m.tflite``: each Keras recurrent layer linked to what the converter
wrote for it, weight block by weight block, checked numerically.

The Keras weights are read with h5py from the file itself (a ``.keras`` zip's
``model.weights.h5``, or a ``.h5``); nothing from it runs.  A Keras kernel holds the gates as
column blocks (LSTM i, f, c, o; GRU z, r, h); the LiteRT weights hold them transposed, one
tensor per gate for a fused op (``input_to_forget_weights`` = ``kernel[:, u:2u]ᵀ``) or as row
blocks of one ``FULLY_CONNECTED`` weight in a ``WHILE`` body, in the order recognised there.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from ..errors import GraphFileError
from ..recognise.structures import KERAS_GATE_NAMES

__all__ = ["keras_recurrent_weights", "link_weights", "compare_text", "MAX_WEIGHTS_BYTES"]

MAX_WEIGHTS_BYTES = 1 << 30
_MAX_RATIO = 1000  # a zip member declaring more than this times its compressed size is refused
_ROLES = ("kernel", "recurrent_kernel", "bias")
_FUSED_GATES = {"i": "input", "f": "forget", "c": "cell", "o": "output"}


def _weights_h5(path: Path):
    """Return an open h5py File of the Keras weights in ``path`` (.keras zip or .h5)."""
    import h5py  # noqa: PLC0415

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                try:
                    info = archive.getinfo("model.weights.h5")
                except KeyError:
                    raise GraphFileError(f"{path} is a zip without model.weights.h5 (not a .keras "
                                         f"archive)") from None
                if info.file_size > MAX_WEIGHTS_BYTES or \
                        info.file_size > _MAX_RATIO * max(info.compress_size, 1):
                    raise GraphFileError(f"{path}: model.weights.h5 declares {info.file_size:,} "
                                         f"bytes from {info.compress_size:,} compressed; refused")
                with archive.open(info) as member:
                    data = member.read(MAX_WEIGHTS_BYTES + 1)
            return h5py.File(io.BytesIO(data), "r")
        return h5py.File(path, "r")
    except (OSError, zipfile.BadZipFile) as exc:
        raise GraphFileError(f"cannot read Keras weights from {path}: {exc}") from None


def _role(name: str, index: int) -> str:
    """Return kernel / recurrent_kernel / bias for a dataset named ``vars/N`` or ``kernel:0``."""
    base = name.split(":")[0]
    return base if base in _ROLES else _ROLES[index] if index < len(_ROLES) else ""


def keras_recurrent_weights(path) -> list:
    """Return [(layer path, {kernel, recurrent_kernel, bias: array})] of the recurrent cells.

    A cell is a group holding a 2-D kernel and a 2-D recurrent kernel whose column counts
    agree (gates × units); groups are listed in the file's order.
    """
    from ..graphdef.keras_file import hdf5_bounded  # noqa: PLC0415

    path = Path(path)
    # HDF5's library may loop on a damaged file: read in a child that is stopped at the limit
    return hdf5_bounded(lambda: _recurrent_weights(path), path, path.stat().st_size)


def _recurrent_weights(path: Path) -> list:
    try:
        return _read_recurrent_weights(path)
    except GraphFileError:
        raise  # rnngraph's own line (a refused archive), as it is
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, OverflowError) as exc:  # h5py
        raise GraphFileError(f"cannot read Keras weights from {path}: "
                             f"{str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}") from None


def _read_recurrent_weights(path: Path) -> list:
    found = []
    with _weights_h5(path) as h5:
        groups = []
        h5.visititems(lambda name, obj: groups.append(name) if hasattr(obj, "keys") else None)
        for name in groups:
            group = h5[name]
            datasets = [k for k in group.keys() if not hasattr(group[k], "keys")]
            ordered = sorted(datasets, key=lambda k: (int(k) if k.isdigit() else 10**6, k))
            arrays = {}
            for index, key in enumerate(ordered):
                role = _role(key, index)
                dataset = group[key]
                if role and role not in arrays and dataset.size * dataset.dtype.itemsize <= MAX_WEIGHTS_BYTES:
                    arrays[role] = np.asarray(dataset[()], dtype="float64")
            kernel, recurrent = arrays.get("kernel"), arrays.get("recurrent_kernel")
            if kernel is not None and recurrent is not None and kernel.ndim == recurrent.ndim == 2 \
                    and kernel.shape[1] == recurrent.shape[1]:
                found.append((name, arrays))
    return found


def _kind(arrays: dict) -> str:
    units = arrays["recurrent_kernel"].shape[0]
    return {4: "lstm", 3: "gru", 1: "rnn"}.get(arrays["kernel"].shape[1] // max(units, 1), "?")


def _layer_name(path: str) -> str:
    """Return the Keras layer's path in the weights file without its storage folders."""
    parts = [p for p in path.split("/") if p not in ("layers", "vars", "cell", "model_weights")]
    return "/".join(dict.fromkeys(parts)) or path


def link_weights(keras_layers: list, cells: list, model, G) -> list:
    """Return one dict per Keras layer: the LiteRT cell it became and each gate block compared."""
    from .tflite import _array  # noqa: PLC0415 (the reader's decoded, dequantised weights)

    links, free = [], list(cells)
    for path, arrays in keras_layers:
        layer = _layer_name(path)
        kind, units = _kind(arrays), arrays["recurrent_kernel"].shape[0]
        n_in = arrays["kernel"].shape[0]
        backward = "backward" in layer
        match = [c for c in free if c.kind == kind and c.units == units and c.n_inputs == n_in]
        match.sort(key=lambda c: (c.direction != ("backward" if backward else "forward")))
        if not match:
            links.append({"layer": layer, "kind": kind, "cell": None, "blocks": []})
            continue
        cell = match[0]
        free.remove(cell)
        gates = cell.gates or ()
        keras_gates = KERAS_GATE_NAMES.get(kind, ())
        blocks = []
        for role in _ROLES:
            value = arrays.get(role)
            if value is None:
                continue
            if role == "bias" and value.ndim == 2:  # GRU reset_after: input bias, recurrent bias
                pairs = [("bias", value[0]), ("recurrent_bias", value[1])]
            else:
                pairs = [(role, value)]
            for part, keras_value in pairs:
                for k, gate in enumerate(keras_gates or ("h",)):
                    cols = slice(k * units, (k + 1) * units)
                    mine = keras_value[..., cols]
                    mine = mine.T if mine.ndim == 2 else mine
                    target, lite = _lite_block(cell, part, gate, gates, units, model, G, _array)
                    if lite is None:
                        continue
                    diff = float(np.max(np.abs(mine - lite))) if mine.shape == lite.shape else None
                    where = (f"[:, {cols.start}:{cols.stop}]ᵀ" if keras_value.ndim == 2
                             else f"[{cols.start}:{cols.stop}]")
                    blocks.append({"keras": f"{part}{where} ({gate})", "lite": target,
                                   "max_abs_diff": diff})
        links.append({"layer": layer, "kind": kind, "cell": cell, "blocks": blocks})
    return links


def _lite_block(cell, role: str, gate: str, gates, units: int, model, G, array) -> tuple:
    """Return (what the LiteRT side calls it, its value) for one Keras gate block."""
    if cell.form == "fused" and cell.kind == "lstm":
        name = {"kernel": "input_to_{}_weights", "recurrent_kernel": "recurrent_to_{}_weights",
                "bias": "{}_gate_bias"}.get(role, "").format(_FUSED_GATES[gate])
        node = cell.inputs.get(name)
        return name, (array(model, G, node) if node else None)
    if cell.form == "fused":  # fused simple RNN
        name = {"kernel": "weights", "recurrent_kernel": "recurrent_weights", "bias": "bias"}[role]
        node = cell.inputs.get(name)
        return name, (array(model, G, node) if node else None)
    if role == "recurrent_kernel" and gate == "h" and "candidate_recurrent_kernel" in cell.weights:
        node = cell.weights["candidate_recurrent_kernel"]  # reset before: (r·h)·U_h on its own
        return (f"candidate_recurrent_kernel (FULLY_CONNECTED {node.rpartition('/')[2]})",
                array(model, G, node))
    node = cell.weights.get(role)
    if node is None or (gates and gate not in gates):
        return role, None
    value = array(model, G, node)
    k = gates.index(gate) if gates else 0
    rows = value[k * units:(k + 1) * units]
    return f"{role} rows {k * units}:{(k + 1) * units} (FULLY_CONNECTED {node.rpartition('/')[2]})", rows


def compare_text(keras_path, lite_path, tolerance: float = 1e-6) -> tuple:
    """Return (the report, True when every linked block is equal within ``tolerance``)."""
    from ..graphdef.loaders import load_graph_def, load_tflite_model  # noqa: PLC0415
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..recognise.tflite import find_tflite_cells  # noqa: PLC0415

    G = walk(load_graph_def(lite_path)[0])
    cells = find_tflite_cells(G)
    model, _ = load_tflite_model(lite_path)
    links = link_weights(keras_recurrent_weights(keras_path), cells, model, G)
    lines, ok = [f"{keras_path} ↔ {lite_path}"], bool(links)
    if not links:
        lines.append(f"  no recurrent layer's weights found in {keras_path}")
    for link in links:
        cell = link["cell"]
        if cell is None:
            ok = False
            lines.append(f"  {link['layer']} ({link['kind']}): no LiteRT cell of that kind and size")
            continue
        form = (f"the fused op {cell.op} {cell.node}" if cell.form == "fused"
                else f"the WHILE loop {cell.node} (body {cell.body})")
        lines.append(f"  Keras layer {link['layer']} ({link['kind']}, {cell.units} units) ↔ {form}")
        if cell.quantised:
            lines.append("    its weights are quantised in the .tflite: not compared value by value")
            link["blocks"] = []
        for block in link["blocks"]:
            diff = block["max_abs_diff"]
            good = diff is not None and diff <= tolerance
            ok = ok and good
            lines.append(f"    {block['keras']} = {block['lite']}: "
                         + ("shapes differ" if diff is None else f"max |diff| {diff:.3g}")
                         + ("" if good else "  MISMATCH"))
        lines.append(f"    The converter chose {'a fused op' if cell.form == 'fused' else 'a WHILE loop'} "
                     f"for this layer: the .tflite holds "
                     f"{cell.op if cell.form == 'fused' else 'a WHILE whose body computes it'}.")
    return "\n".join(lines) + "\n", ok
