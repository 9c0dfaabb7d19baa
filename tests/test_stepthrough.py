"""The step-through of a run in the HTML page: data per iteration, and the slider in Chromium."""

from __future__ import annotations

import json
import re

import pytest

from rnngraph.cli import main
from test_html import _chromium

pytestmark = [pytest.mark.tf]


@pytest.fixture(scope="module")
def run_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    argv = ["run", "dynamic", "--cell", "lstm", "--steps", "3", "--trace", str(folder / "t.json"),
            "--format", "html", "-o", str(folder / "page.html")]
    assert main(argv) == 0
    return folder


def test_stepthrough_data_from_the_trace(run_page):
    from rnngraph.draw.stepthrough import stepthrough_data

    doc = json.loads((run_page / "t.json").read_text(encoding="utf-8"))
    data = stepthrough_data(doc)
    assert len(data["ran"]) == 4  # three iterations and the exit test
    assert "rnn/while/basic_lstm_cell/Sigmoid" in data["ran"][2]
    assert "rnn/while/basic_lstm_cell/Sigmoid" not in data["ran"][3]
    assert "rnn/while/Exit_3" in data["ran"][3]
    assert data["order"] == ["h", "c", "gate:i", "gate:f", "gate:o", "gate:j"]
    assert data["panel"]["gate:i"][1] == doc["values"]["roles"]["gate:i"][1]["values"]


@pytest.mark.dot
def test_page_carries_the_stepthrough(run_page):
    page = (run_page / "page.html").read_text(encoding="utf-8")
    assert page.count('id="rg-steps-data"') == 1 and "rnngraph step-through" in page
    assert "compute time" in page  # the diagram is coloured by the run's timings
    raw = re.search(r'id="rg-steps-data">(.*?)</script>', page, re.S).group(1)
    assert json.loads(raw)["iterations"] == 3


@pytest.mark.dot
@pytest.mark.browser
def test_slider_in_headless_chromium(run_page, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _chromium(monkeypatch)
    try:
        browser.get((run_page / "page.html").as_uri())
        WebDriverWait(browser, 30).until(
            lambda b: b.execute_script("return document.body.dataset.step") == "0")

        def move(t: int) -> None:
            browser.execute_script(
                "var s = document.getElementById('rg-step'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('input'));", t)

        def boxes(css: str) -> set:
            return set(browser.execute_script(
                "return Array.from(document.querySelectorAll(arguments[0])).map(function (g) {"
                " return g.getAttribute('data-box') || g.querySelector('title').textContent; });", css))

        # Full view: the viewer opens at its deepest depth, where each node is its own box.
        assert "rnn/while/Merge_3" in boxes("#rg-view g.node.rg-ran")
        assert "rnn/while/Merge_3" in boxes("#rg-view g.node.rg-took-enter")
        assert "rnn/while/Exit_3" not in boxes("#rg-view g.node.rg-ran")
        text = browser.find_element(By.ID, "rg-steps").text
        assert "Merge_3 took Enter_3" in text and "Switch_3 → true" in text
        filled = browser.find_elements(By.CSS_SELECTOR, "#rg-step-arrays .rg-slot.rg-filled")
        assert len(filled) == 1
        cells = browser.find_elements(By.CSS_SELECTOR, '#rg-step-heat [data-role="f"] .rg-cell')
        assert len(cells) == 2 * 5  # batch × units

        # The controls and heat maps sit in the side column, beside the drawing, not over it;
        # the heat maps have a colour scale and show a square's value on hover.
        rect = "var r = document.querySelector(arguments[0]).getBoundingClientRect(); " \
               "return [r.left, r.top, r.right, r.bottom];"
        steps_box, view_box = (browser.execute_script(rect, css) for css in ("#rg-steps", "#rg-view"))
        assert steps_box[0] >= view_box[2] - 1, (steps_box, view_box)
        assert browser.execute_script("return document.getElementById('rg-steps').parentNode.id") \
            == "rg-side"
        assert browser.find_elements(By.CSS_SELECTOR, "#rg-steps .rg-scale .rg-bar")
        browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('mouseover', "
                               "{bubbles: true}));", cells[0])
        value = browser.find_element(By.ID, "rg-step-value").text
        assert re.search(r"f\[0\]\[0\] = -?\d", value), value
        # The first view shows the cell: its forget gate is a box inside the view.
        gate = browser.execute_script(
            "var g = document.querySelector('#rg-view g.node[data-box=\"rnn/while/basic_lstm_cell/Sigmoid\"]');"
            "if (!g) return null; var r = g.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];")
        assert gate and gate[0] >= view_box[0] and gate[2] <= view_box[2] and gate[1] >= view_box[1] \
            and gate[3] <= view_box[3], (gate, view_box)

        move(2)
        assert "rnn/while/Merge_3" in boxes("#rg-view g.node.rg-took-next")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#rg-step-arrays .rg-slot.rg-filled")) == 3
        ran = boxes("#rg-view g.node.rg-ran")
        assert "rnn/while/basic_lstm_cell/Sigmoid" in ran

        move(3)  # the exit test: Switch sends the state out, Exit runs, the body does not
        ran = boxes("#rg-view g.node.rg-ran")
        assert "rnn/while/Exit_3" in ran and "rnn/while/basic_lstm_cell/Sigmoid" not in ran
        assert "Switch_3 → false" in browser.find_element(By.ID, "rg-steps").text
        assert "rnn/while/Switch_3" in boxes("#rg-view g.node.rg-side-false")
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    finally:
        browser.quit()
