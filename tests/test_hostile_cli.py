"""Options checked before anything is built, one clear line for bad files (issue 12 items 8, 9)."""

from __future__ import annotations

import gzip
import struct
import sys

import pytest

from rnngraph.cli import main
from rnngraph.errors import DataError


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("argv", [
    ["render", "static", "--depth", "-1"],
    ["render", "dynamic", "--depth", "x"],
    ["inspect", "whatever.pb", "--depth", "-3"],
])
def test_a_negative_depth_is_refused_before_tensorflow(capsys, argv):
    status, _, err = _run(capsys, *argv)
    assert status == 2 and "--depth" in err and "must be an integer >= 0" in err



def test_an_unwritable_output_is_refused_before_tensorflow(capsys, tmp_path, monkeypatch):
    from rnngraph.model import builder

    def never(*_a, **_k):
        raise AssertionError("built a graph before checking -o")

    monkeypatch.setattr(builder, "build_graph", never)
    status, _, err = _run(capsys, "render", "static", "-o", str(tmp_path))
    assert status == 1 and "is a directory" in err


def test_pbtxt_with_an_out_of_range_integer_says_so(capsys, tmp_path):
    path = tmp_path / "g.pbtxt"
    path.write_text('node { name: "x" op: "Const" attr { key: "value" value { i: 99999999999999999999 } } }\n')
    status, _, err = _run(capsys, "inspect", str(path))
    assert status == 1 and "out of range" in err and "no nodes" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("gz", [False, True])
def test_idx_header_with_an_absurd_shape_says_so_without_overflow(tmp_path, gz):
    from rnngraph.train.data import IDX_FILES, load_idx_folder

    folder = tmp_path / "idx"
    folder.mkdir()
    header = struct.pack(">I3I", 0x00000803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    for key, stem in IDX_FILES.items():
        data = header if key.startswith("x") else struct.pack(">II", 0x00000801, 3) + b"\0\1\2"
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    with pytest.raises(DataError, match=r"79,228,162,458,924,105,385,300,197,375 bytes") as info:
        load_idx_folder(folder)
    assert "-" not in str(info.value).split("bytes")[0].split("(")[-1]
