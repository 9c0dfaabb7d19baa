"""Graphs displayed in a real notebook (executed by nbclient): at most 200 KB each, pan and zoom work."""

from __future__ import annotations

import json
from html import escape as html_escape
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rnngraph.notebook import PAGE_NOTE, STATIC_NOTE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PER_GRAPH_LIMIT = 200 * 1024
MODELS = ['kind="dynamic", cell="lstm"', 'kind="dynamic", cell="gru"', 'kind="static", cell="lstm"',
          'kind="dynamic", cell="rnn", control_flow="v2"']


def _execute(cells: list) -> dict:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if not shutil.which("dot"):
        pytest.skip("Graphviz dot is not installed")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                                                "import rnngraph as rg")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
    return json.loads(nbformat.writes(notebook))


def _size(notebook: dict) -> int:
    return len(json.dumps(notebook, indent=1).encode("utf-8"))


@pytest.mark.slow
@pytest.mark.tf
@pytest.mark.dot
def test_each_graph_adds_at_most_200_kb_to_the_notebook():
    empty = _execute(["None"] * len(MODELS))
    shown = _execute([f"rg.build({model})" for model in MODELS])
    per_graph = (_size(shown) - _size(empty)) / len(MODELS)
    assert 10_000 < per_graph <= PER_GRAPH_LIMIT, per_graph
    for cell in shown["cells"][1:]:
        (output,) = cell["outputs"]
        bundle = output["data"]
        assert set(bundle) == {"text/html", "text/plain"}  # no second copy as image/svg+xml
        html = "".join(bundle["text/html"])
        assert len(html.encode("utf-8")) <= PER_GRAPH_LIMIT
        root = ET.fromstring(_diagram_of(html))  # well-formed after compaction and the URL
        assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}g")) > 20
        assert "<script>" in html and "wheel" in html and html_escape(STATIC_NOTE) in html


def _diagram_of(html: str) -> str:
    """Return the SVG an output holds (once, as its image's data: URL)."""
    from urllib.parse import unquote

    start = html.index("src='data:image/svg+xml,") + len("src='data:image/svg+xml,")
    assert html.count("data:image/svg+xml,") == 1 and "<svg" not in html[:start]
    return unquote(html[start:html.index("'", start)])


def test_the_diagram_survives_its_data_url():
    from rnngraph.notebook import compact_svg, notebook_html

    svg = ('<?xml version="1.0"?><!-- x --><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
           '<g id="a" class="node"><title>a&#45;&gt;b &amp; 50% #1 it&#39;s</title>'
           '<polygon fill="#ffffff" points="0,0 1,1"/><text x="1.25" y="2.0">&lt;x&gt;\n</text></g></svg>')
    shown = notebook_html(svg)
    assert _diagram_of(shown) == compact_svg(svg)
    title = ET.fromstring(_diagram_of(shown)).find(".//{http://www.w3.org/2000/svg}title").text
    assert title == "a->b & 50% #1 it's"


@pytest.mark.slow
@pytest.mark.dot
def test_the_page_is_there_on_request():
    notebook = _execute([f'g = rg.inspect({str(FIXTURES / "rnn_v1_ref.pbtxt")!r})\ng',
                         "g.page()"])
    diagram, page = ("".join(c["outputs"][0]["data"]["text/html"]) for c in notebook["cells"][1:])
    assert '<iframe srcdoc="&lt;!DOCTYPE html&gt;' in page and 'sandbox="allow-scripts"' in page
    assert len(page) > 5 * len(diagram)  # the viewer is what the default display leaves out
    assert _diagram_of(page) == _diagram_of(diagram) and html_escape(PAGE_NOTE) in page  # where the iframe is removed


@pytest.mark.dot
def test_wheel_zooms_drag_pans_double_click_fits(tmp_path, monkeypatch):
    import rnngraph as rg
    from test_html import _chromium

    shown = rg.inspect(FIXTURES / "lstm_static_ref.pbtxt")._repr_html_()
    page = tmp_path / "out.html"
    page.write_text(f"<!DOCTYPE html><html><body>{shown}</body></html>", encoding="utf-8")
    browser = _chromium(monkeypatch)
    try:
        browser.get(page.as_uri())
        box = lambda: browser.execute_script(  # noqa: E731
            "return document.querySelector('svg').getAttribute('viewBox')")
        start = box()
        assert browser.execute_script("return document.querySelector('svg').getBoundingClientRect().height") > 300
        browser.execute_script("""var s=document.querySelector('svg'),r=s.getBoundingClientRect();
            s.dispatchEvent(new WheelEvent('wheel',{deltaY:-100,clientX:r.left+r.width/2,
            clientY:r.top+r.height/2,bubbles:true,cancelable:true}));""")
        zoomed = [float(x) for x in box().split()]
        assert zoomed[2] < float(start.split()[2])  # a smaller window onto the drawing
        browser.execute_script("""var s=document.querySelector('svg'),r=s.getBoundingClientRect();
            s.dispatchEvent(new MouseEvent('mousedown',{clientX:r.left+100,clientY:r.top+100,bubbles:true}));
            s.dispatchEvent(new MouseEvent('mousemove',{clientX:r.left+160,clientY:r.top+100,bubbles:true}));
            window.dispatchEvent(new MouseEvent('mouseup',{bubbles:true}));""")
        assert float(box().split()[0]) < zoomed[0]  # dragged right: the window moved left
        browser.execute_script("document.querySelector('svg').dispatchEvent("
                               "new MouseEvent('dblclick',{bubbles:true}))")
        assert box() == start
    finally:
        browser.quit()
