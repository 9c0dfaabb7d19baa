"""The Python API, and the README's examples of it, run as doctests."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def test_importing_rnngraph_does_not_import_tensorflow():
    code = ("import sys, rnngraph as rg; rg.Graph; rg.inspect; "
            "sys.exit('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_build_stays_the_api_function_after_the_build_stage_loads():
    import rnngraph as rg
    from rnngraph.model.builder import build_graph  # the build stage (rnngraph/builder.py)

    assert callable(build_graph) and callable(rg.build) and rg.build.__module__ == "rnngraph"


def test_inspect_a_file_finds_and_explains_without_tensorflow():
    import rnngraph as rg

    g = rg.inspect(FIXTURES / "lstm_static_ref.pbtxt")
    assert [c.kind for c in g.find("cell")] == ["lstm"]
    assert g.find("while_loop") == []
    assert "LSTM cell decoder/basic_lstm_cell" in g.explain("lstm")
    assert g.explain("while_loop").startswith("No while_loop recognised")
    with pytest.raises(rg.RnnGraphError, match=r"unknown structure 'loop' \(choose one of: cell, "):
        g.find("loop")
    with pytest.raises(rg.RnnGraphError, match=r"no node 'nope'"):
        g.op("nope")


@pytest.mark.dot
def test_render_and_jupyter_displays(tmp_path):
    import rnngraph as rg

    g = rg.inspect(FIXTURES / "lstm_static_ref.pbtxt")
    shown = g._repr_html_()
    assert shown.startswith('<div id="rnngraph-') and "src='data:image/svg+xml,<svg " in shown
    assert "<?xml" not in shown
    page = g.page()._repr_html_()
    assert '<iframe srcdoc="&lt;!DOCTYPE html&gt;' in page and 'sandbox="allow-scripts"' in page
    assert Path(g.render(tmp_path / "g.dot")).read_text().startswith("digraph rnngraph {")
    with pytest.raises(rg.RnnGraphError, match=r"cannot draw format 'gif'"):
        g.render(tmp_path / "g.gif")


def _readme_examples() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```pycon\n(.*?)```", section, re.S))


@pytest.mark.tf
@pytest.mark.dot
def test_readme_examples_run(tmp_path, monkeypatch):
    examples = _readme_examples()
    assert ">>> import rnngraph as rg" in examples
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "fixtures").symlink_to(FIXTURES)
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(examples, {}, "README.md: Python API", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    output: list = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
    assert (tmp_path / "out.svg").read_text().count("<g id=\"node") > 5
