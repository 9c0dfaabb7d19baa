"""The interactive HTML page: self-contained, deterministic, and working in a real browser."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from rnngraph.graphdef.opdocs import describe

pytestmark = [pytest.mark.tf, pytest.mark.dot]

SPEC = dict(kind="dynamic", steps=2)


@pytest.fixture(scope="module")
def page(walked):
    """The page of the 2-step dynamic RNN opened at --depth 1, as text."""
    from rnngraph.draw.html import render_html
    from rnngraph.draw.dot import RenderOptions

    return render_html(walked(**SPEC), RenderOptions(depth=1, title="dynamic_rnn test"))


def _data(text: str) -> dict:
    raw = re.search(r'<script type="application/json" id="rg-data">(.*?)</script>', text, re.S).group(1)
    return json.loads(raw)


def test_page_fetches_nothing(page):
    # Only the SVG/XLink namespace URIs may mention http; nothing is loaded from anywhere.
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', page, re.I)
    assert "@import" not in page and "url(" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "default-src 'none'" in page  # the browser itself refuses any request


def test_page_data_maps_every_drawn_node(page, walked):
    data = _data(page)
    graph = walked(**SPEC)
    names = [n["n"] for n in data["nodes"]]
    assert names == sorted(graph.nodes)
    loop_cond = names.index("rnn/while/LoopCond")
    node = data["nodes"][loop_cond]
    assert node["o"] == "LoopCond" and data["ops"]["LoopCond"] == describe("LoopCond")
    assert any(data["structures"][k]["title"].startswith("while loop rnn/while") for k in node["s"])
    levels = {lv["label"]: lv for lv in data["levels"]}
    assert levels["1"]["boxes"][levels["1"]["box"][loop_cond]] == "scope::rnn/while"
    assert levels["all"]["boxes"][levels["all"]["box"][loop_cond]] == "rnn/while/LoopCond"
    # Every node is shown by some box in the full view (folded constants by their consumer).
    assert all(i >= 0 for i in levels["all"]["box"])
    assert 'data-initial="1"' in page


def test_page_is_deterministic(page, walked):
    from rnngraph.draw.html import render_html
    from rnngraph.draw.dot import RenderOptions

    assert render_html(walked(**SPEC), RenderOptions(depth=1, title="dynamic_rnn test")) == page


def test_describe_covers_the_ops_of_these_graphs(walked):
    ops = {d["op"] for _, d in walked(**SPEC).nodes(data=True)}
    missing = sorted(op for op in ops if "no description" in describe(op))
    assert missing == []
    assert "no description" in describe("SomeFutureOp")


def _chromium(monkeypatch):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (pip install -e '.[test]')")
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))


@pytest.mark.browser
def test_viewer_in_headless_chromium(page, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / "graph.html"
    path.write_text(page, encoding="utf-8")
    browser = _chromium(monkeypatch)
    try:
        browser.get(path.as_uri())
        WebDriverWait(browser, 30).until(
            lambda b: b.execute_script("return document.body.dataset.ready") == "1")
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

        def boxes(css: str) -> list:
            return [g.get_attribute("data-box") for g in browser.find_elements(By.CSS_SELECTOR, css)]

        def level() -> str:
            return browser.execute_script("return document.body.dataset.level")

        # Search: at depth 1 the loop is one collapsed box, and that box lights up.
        browser.find_element(By.ID, "rg-search").send_keys("LoopCond", Keys.ENTER)
        results = browser.find_elements(By.CSS_SELECTOR, "#rg-panel .rg-result")
        assert [r.text for r in results] == ["rnn/while/LoopCond"]
        assert boxes("#rg-view g.node.rg-hit") == ["scope::rnn/while"]

        # Picking the result opens the depth where LoopCond is its own box; click that box.
        results[0].click()
        browser.find_element(By.CSS_SELECTOR, '#rg-view g.node[data-box="rnn/while/LoopCond"]').click()
        assert boxes("#rg-view g.node.rg-sel") == ["rnn/while/LoopCond"]
        panel = browser.find_element(By.ID, "rg-panel").text
        for expected in ("rnn/while/LoopCond", "LoopCond", describe("LoopCond"),
                         "while loop rnn/while (control flow v1)", "Inputs (1)",
                         "rnn/while/LogicalAnd", "rnn/while/Switch"):
            assert expected in panel, expected

        # Trace inputs: the condition depends on the comparisons and, through the shape
        # arithmetic, on the input placeholder X.
        browser.find_element(By.ID, "rg-trace").click()
        traced = set(boxes("#rg-view g.node.rg-trace"))
        assert {"rnn/while/LoopCond", "rnn/while/LogicalAnd", "rnn/while/Less", "X"} <= traced
        assert "rnn/while/basic_rnn_cell/MatMul" not in traced
        assert "Depends on" in browser.find_element(By.ID, "rg-panel").text

        # Expand a collapsed scope: at depth 0, clicking the 'rnn' box opens it.
        browser.find_element(By.CSS_SELECTOR, 'button.rg-level[data-level="0"]').click()
        assert level() == "0"
        browser.find_element(By.CSS_SELECTOR, '#rg-view g.node[data-box="scope::rnn"]').click()
        assert level() == "1"
        assert "scope::rnn" not in boxes("#rg-view g.node")
        assert "scope::rnn/while" in boxes("#rg-view g.node")

        # Back to LoopCond with its panel open, for the screenshot.
        browser.find_element(By.CSS_SELECTOR, "#rg-panel").click()
        browser.find_element(By.ID, "rg-search").send_keys(Keys.ENTER)
        browser.find_element(By.CSS_SELECTOR, "#rg-panel .rg-result").click()
        browser.find_element(By.ID, "rg-trace").click()
        shot = tmp_path / "viewer.png"
        assert browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000
    finally:
        browser.quit()


def test_full_page_draws_every_node_of_a_big_unrolled_graph_once(walked):
    from rnngraph.draw.html import render_html
    from rnngraph.draw.dot import RenderOptions

    graph = walked(kind="static", cell="lstm", steps=30)
    text = render_html(graph, RenderOptions(title="full"), full=True)
    data = _data(text)
    (level,) = data["levels"]
    assert level["label"] == "every node" and text.count("<svg") == 1
    names = [n["n"] for n in data["nodes"]]
    matmul = names.index("rnn/basic_lstm_cell/MatMul_17")
    assert level["boxes"][level["box"][matmul]] == "rnn/basic_lstm_cell/MatMul_17"
    assert sum(b.startswith("tile::") for b in level["boxes"]) == 30
    assert all(i >= 0 for i in level["box"])  # every node is shown by some box
