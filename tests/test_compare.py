"""`rnngraph compare`: recognised parts linked across two real TensorFlow graphs, the summary, the page."""

from __future__ import annotations

import json
import re

import pytest

from rnngraph.cli import main


def _links(walked, a: dict, b: dict) -> list:
    from rnngraph.draw.pair import links
    from rnngraph.recognise import recognise

    graph_a, graph_b = walked(**a), walked(**b)
    return links(graph_a, recognise(graph_a), graph_b, recognise(graph_b))


@pytest.mark.tf
def test_static_and_dynamic_link_the_cell_copies_to_the_loop_body(walked):
    found = {link["title"].split(" ")[0] + " " + link["title"].split(" ")[1]: link
             for link in _links(walked, dict(kind="static", steps=3), dict(kind="dynamic", steps=3))}
    cell = found["rnn cell"]
    assert "rnn/basic_rnn_cell (3 copies) ↔ rnn/while/basic_rnn_cell" in cell["title"]
    assert {"rnn/basic_rnn_cell/MatMul", "rnn/basic_rnn_cell/MatMul_1",
            "rnn/basic_rnn_cell/MatMul_2"} <= set(cell["a"])
    assert "rnn/while/basic_rnn_cell/MatMul" in cell["b"]
    assert found["kernel rnn/basic_rnn_cell/kernel"]["b"] == ["rnn/basic_rnn_cell/kernel"]
    split = found["input split"]
    assert split["a"] == ["unstack"]
    assert split["title"].startswith("input split into steps: unstack (Unpack) ↔ TensorArray ")
    assert split["b"][0] == "rnn/TensorArrayUnstack/TensorArrayScatter/TensorArrayScatterV3"
    assert "while loop:" not in " ".join(found)  # static_rnn has no loop to link


@pytest.mark.tf
def test_control_flow_v1_frame_links_to_the_v2_while(walked):
    loops = [link for link in _links(walked, dict(kind="dynamic", steps=2),
                                     dict(kind="dynamic", steps=2, control_flow="v2"))
             if link["title"].startswith("while loop:")]
    assert len(loops) == 1
    assert loops[0]["b"] == ["rnn/while"] and "While op rnn/while" in loops[0]["title"]
    assert "rnn/while/LoopCond" in loops[0]["a"] and "v1 loop frame" in loops[0]["title"]
    assert all(n.startswith("rnn/while/Merge") for n in loops[0]["a"][1:])


@pytest.mark.tf
def test_summary_counts_every_node_once(walked):
    from rnngraph.draw.pair import scope_table, summary_text

    a, b = walked(kind="static", steps=2), walked(kind="dynamic", steps=2)
    rows = scope_table(a, b)
    assert sum(r[1] for r in rows) == a.number_of_nodes()
    assert sum(r[2] for r in rows) == b.number_of_nodes()
    for scope, in_a, in_b, removed, added in rows:
        assert in_a - removed == in_b - added, scope  # the names both have
    text = summary_text("A title", "B title", a, b, [])
    assert re.search(rf"^total +{a.number_of_nodes()} +{b.number_of_nodes()} ", text, re.M)
    assert "(none recognised in both)" in text


@pytest.mark.parametrize("side, message", [
    ("nope", "'nope' is neither a model kind"),
    ("dynamic:steps=two", "expected a number, got 'two'"),
    ("dynamic:bogus=1", "'bogus=1' in 'dynamic:bogus=1' is not FIELD=VALUE"),
])
def test_bad_sides_are_usage_errors(side, message, capsys):
    assert main(["compare", side, "static"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_sides_take_field_changes():
    from rnngraph.commands.compare import parse_side
    from rnngraph.model.spec import ModelSpec

    kind, spec = parse_side("dynamic:control_flow=v2,steps=4,cell=lstm", ModelSpec(kind="static"))
    assert kind == "spec" and spec == ModelSpec(kind="dynamic", control_flow="v2", steps=4, cell="lstm")


@pytest.mark.tf
@pytest.mark.browser
@pytest.mark.slow
def test_compare_page_highlights_the_partner(tmp_path, capsys, monkeypatch):
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.test_html import _chromium

    out = tmp_path / "cmp.html"
    assert main(["compare", "static", "dynamic", "-o", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "linked parts (4):" in summary and summary.rstrip().endswith(str(out))
    page = out.read_text(encoding="utf-8")
    links = json.loads(re.search(r'id="rg-links">(.*?)</script>', page, re.S).group(1))
    assert len(links) == 4
    browser = _chromium(monkeypatch)
    try:
        browser.get(out.as_uri())
        WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.body.dataset.ready"))
        partner = ("return Array.from(document.querySelectorAll('#rg-pane-' + arguments[0] + "
                   "' g.node.rg-partner')).map(function (g) { return g.getAttribute('data-box'); })")
        browser.execute_script("var v = rgViewers[0]; v.select(v.byName['rnn/basic_rnn_cell/MatMul'], true);")
        WebDriverWait(browser, 10).until(lambda b: b.execute_script(partner, "b"))
        # The loop and its cell are open at first: the cell's own MatMul lights up.
        assert "rnn/while/basic_rnn_cell/MatMul" in browser.execute_script(partner, "b")
        assert "Linked in the other graph" in browser.find_element("id", "rg-pane-a").text
        # The other way round, with the partner open: kernel <-> kernel.
        browser.execute_script("var v = rgViewers[1]; v.select(v.byName['rnn/basic_rnn_cell/kernel'], true);")
        WebDriverWait(browser, 10).until(lambda b: "rnn/basic_rnn_cell/kernel" in b.execute_script(partner, "a"))
        (tmp_path / "compare.png").write_bytes(browser.get_screenshot_as_png())
    finally:
        browser.quit()


def test_compare_two_graph_files_without_tensorflow(tmp_path, capsys):
    from tests.conftest import FIXTURES

    out = tmp_path / "files.html"
    assert main(["compare", str(FIXTURES / "walk_while_v1.pbtxt"), str(FIXTURES / "walk_while_v2.pbtxt"),
                 "-o", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "while loop: v1 loop frame loop/while_context ↔ While op while" in summary
    page = out.read_text(encoding="utf-8")
    links = json.loads(re.search(r'id="rg-links">(.*?)</script>', page, re.S).group(1))
    data_b = json.loads(re.search(r'id="rg-data-b">(.*?)</script>', page, re.S).group(1))
    names_b = [n["n"] for n in data_b["nodes"]]
    assert [names_b[i] for i in links[0]["b"]] == ["while"]
    assert "'wasm-unsafe-eval'" in page and page.count('class="rg-pane"') == 2
