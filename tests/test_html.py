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

    return render_html(walked(**SPEC), RenderOptions(title="dynamic_rnn test"), depth=1)


def _data(text: str) -> dict:
    raw = re.search(r'<script type="application/json" id="rg-data">(.*?)</script>', text, re.S).group(1)
    return json.loads(raw)


def test_page_fetches_nothing(page):
    # Only namespace / doctype URIs (strings inside Graphviz) may mention http; nothing is loaded.
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', page, re.I)
    assert "@import" not in page and "url(" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
        "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"}
    assert "default-src 'none'" in page  # the browser itself refuses any request
    assert "'wasm-unsafe-eval'" in page and "window.RgGraphviz=" in page  # the engine is inline


def test_page_data_maps_every_node_to_a_box(page, walked):
    from rnngraph.draw.scene import displayed_box

    data = _data(page)
    graph = walked(**SPEC)
    names = [n["n"] for n in data["nodes"]]
    assert names == sorted(graph.nodes)
    loop_cond = names.index("rnn/while/LoopCond")
    node = data["nodes"][loop_cond]
    assert node["o"] == "LoopCond" and data["ops"]["LoopCond"] == describe("LoopCond")
    assert any(data["structures"][k]["title"].startswith("while loop rnn/while") for k in node["s"])
    scene = data["scene"]
    box, _, cluster, _ = scene["boxes"][scene["node"][loop_cond]]
    assert (box, cluster) == ("rnn/while/LoopCond", "rnn/while")
    # Every node is shown by some box (folded constants by their consumer), but the
    # auxiliary machinery (initializers, the init op, unused constants), which the page
    # leaves out and says so in its legend.
    from rnngraph.draw.layout import auxiliary_of

    hidden = auxiliary_of(graph).nodes
    assert hidden and all((k >= 0) != (n in hidden) for n, k in zip(names, scene["node"]))
    assert scene["hidden"].startswith("initializers of 2 variables")
    # --depth 1: the loop is one collapsed box inside the open 'rnn'.
    assert data["open"] == ["rnn"]
    assert displayed_box(box, cluster, set(data["open"])) == "scope::rnn/while"
    # The cluster of the loop is labelled and styled as in the static drawing.
    from rnngraph.draw.dot import RenderOptions, to_dot

    static = [line.strip() for line in to_dot(graph, RenderOptions()).splitlines()]
    assert scene["scopes"]["rnn/while"][1] in static
    assert "while loop (frame" in scene["scopes"]["rnn/while"][1]


def test_page_opens_on_the_loop_and_the_cell(walked):
    from rnngraph.draw.html import render_html
    from rnngraph.draw.scene import displayed_box
    from rnngraph.recognise import recognise

    for spec in (dict(kind="dynamic", steps=2), dict(kind="dynamic", steps=2, control_flow="v2"),
                 dict(kind="static", cell="lstm", steps=10)):
        graph = walked(**spec)
        data = _data(render_html(graph))
        scene, opened = data["scene"], set(data["open"])
        shown = {displayed_box(b[0], b[2], opened) for b in scene["boxes"]}
        cell = recognise(graph).cells[0]
        # The cell is open (its MatMul a box of its own), inside the open loop ...
        assert cell.matmul in shown, spec
        assert data["start"] in shown and data["start"].startswith(cell.scope), spec
        # ... and the machinery around it stays closed, labelled boxes.
        assert any(s.startswith("scope::") and "ZeroState" in s for s in shown), spec
        if spec["kind"] == "static":  # the other steps stacked, not side by side
            assert any(s.startswith("stack::") for s in shown), spec
        assert len(shown) <= 120, (spec, len(shown))


def test_open_scope_and_unknown_scope(walked):
    from rnngraph.draw.html import render_html
    from rnngraph.errors import UsageError

    data = _data(render_html(walked(**SPEC), open_scopes=("rnn/while/basic_rnn_cell",)))
    assert {"rnn", "rnn/while", "rnn/while/basic_rnn_cell"} <= set(data["open"])
    with pytest.raises(UsageError, match="'nope' is not a name scope of this graph"):
        render_html(walked(**SPEC), open_scopes=("nope",))


def test_focus_opens_every_scope_it_shows(walked):
    from rnngraph.draw import focus
    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html

    graph = walked(**SPEC)
    view = focus.focus_view(graph, "while_loop")
    data = _data(render_html(graph, RenderOptions(focus_nodes=frozenset(view.nodes),
                                                  annotations=view.annotations)))
    assert data["open"] == sorted(data["scene"]["scopes"]) and "rnn/while" in data["open"]
    shown = {b[0] for b in data["scene"]["boxes"]}
    assert shown <= set(view.nodes) and "rnn/while/LoopCond" in shown
    assert any(b[3].startswith('"note::') for b in data["scene"]["boxes"])  # the notes travel too


def test_function_bodies_are_listed_under_their_caller(walked):
    from rnngraph.draw.html import render_html

    data = _data(render_html(walked(kind="dynamic", steps=2, control_flow="v2")))
    functions = data["scene"]["functions"]
    roles = {role: scope for role, scope, _ in functions["rnn/while"]}
    assert roles == {"body": "rnn/while/body::", "cond": "rnn/while/cond::"}
    assert {"rnn/while/body::", "rnn/while/cond::"} <= set(data["scene"]["scopes"])


def test_page_is_deterministic(page, walked):
    from rnngraph.draw.html import render_html
    from rnngraph.draw.dot import RenderOptions

    assert render_html(walked(**SPEC), RenderOptions(title="dynamic_rnn test"), depth=1) == page


def test_describe_covers_the_ops_of_these_graphs(walked):
    ops = {d["op"] for _, d in walked(**SPEC).nodes(data=True)}
    missing = sorted(op for op in ops if "no description" in describe(op))
    assert missing == []
    assert "no description" in describe("SomeFutureOp")


def _chromium(monkeypatch, user_data_dir=None):
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
    if user_data_dir:  # a fresh profile: nothing from (or left in) the user's own
        options.add_argument(f"--user-data-dir={user_data_dir}")
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module's browser tests."""
    monkeypatch = pytest.MonkeyPatch()
    browser = _chromium(monkeypatch)
    yield browser
    browser.quit()
    monkeypatch.undo()


def _open(browser, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 60).until(
        lambda b: b.execute_script("return document.body.dataset.ready") in ("1", "error"))
    assert browser.execute_script("return document.body.dataset.ready") == "1"


def _layouts(browser) -> int:
    return int(browser.execute_script("return document.body.dataset.layouts || 0"))


def _act(browser, script: str, *args) -> None:
    """Run ``script`` (it gets ``arguments``) and wait for the page to lay out again."""
    from selenium.webdriver.support.ui import WebDriverWait

    before = _layouts(browser)
    browser.execute_script(script, *args)
    WebDriverWait(browser, 30).until(lambda b: _layouts(b) > before)


_CLICK = "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}));"


def _boxes(browser, css: str = "") -> list:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rg-view svg.rg-graph g.node' + arguments[0]))"
        ".map(function (g) { return g.getAttribute('data-box'); });", css)


def _smallest_label_px(browser) -> float:
    """Return the smallest on-screen font size (px) of the node labels drawn now."""
    return browser.execute_script(
        "return Math.min.apply(null, Array.from(document.querySelectorAll("
        "'#rg-view svg.rg-graph g.node text')).map(function (t) {"
        " return parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a; }));")


def _statements(dot: str) -> list:
    """Return the box, cluster and edge lines of DOT text (not the header, title or legend)."""
    skip = ("digraph", "graph [", "node [", "edge [", '"legend::"', "}")
    return sorted(line.strip() for line in dot.splitlines() if not line.strip().startswith(skip))


@pytest.mark.browser
@pytest.mark.slow
def test_viewer_opens_readable_and_opens_scopes_in_place(walked, tmp_path, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html

    graph = walked(**SPEC)
    path = tmp_path / "graph.html"
    path.write_text(render_html(graph, RenderOptions(title="dynamic")), encoding="utf-8")
    browser = chromium
    _open(browser, path.as_uri())
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

    # Opens readable on what the graph is about: the loop open, the cell open inside it.
    assert _smallest_label_px(browser) >= 10
    shown = _boxes(browser)
    assert "rnn/while/LoopCond" in shown and "rnn/while/basic_rnn_cell/MatMul" in shown
    first = browser.get_screenshot_as_png()

    # Close the loop by its frame's label, then open it where it stands: no reload, the box
    # gives way to its members.
    _act(browser, _CLICK, browser.find_element(
        By.CSS_SELECTOR, '#rg-view g.cluster[data-scope="rnn/while"] > text'))
    assert "scope::rnn/while" in _boxes(browser)
    browser.execute_script("window.rgMarker = 1;")
    _act(browser, _CLICK, browser.find_element(
        By.CSS_SELECTOR, '#rg-view g.node[data-box="scope::rnn/while"]'))
    assert browser.execute_script("return window.rgMarker") == 1
    shown = _boxes(browser)
    assert "scope::rnn/while" not in shown and "rnn/while/LoopCond" in shown
    assert "rnn%2Fwhile" in browser.execute_script("return location.hash")
    assert _smallest_label_px(browser) >= 10  # the zoom did not change

    # Close it again by its frame's label.
    _act(browser, _CLICK, browser.find_element(
        By.CSS_SELECTOR, '#rg-view g.cluster[data-scope="rnn/while"] > text'))
    assert "scope::rnn/while" in _boxes(browser) and "rnn/while/LoopCond" not in _boxes(browser)

    # At every depth the page writes the statements of the static drawing, line for line
    # (folded constants, collapsed scopes, merged edges, loop back edges, labels, colours).
    _same_as_static_drawing(browser, path, graph, RenderOptions())

    # Search, then pick the result: its scope opens in place and the node is selected.
    browser.find_element(By.ID, "rg-search").send_keys("LoopCond", Keys.ENTER)
    results = browser.find_elements(By.CSS_SELECTOR, "#rg-panel .rg-result")
    assert [r.text for r in results] == ["rnn/while/LoopCond"]
    assert _boxes(browser, ".rg-hit") == ["scope::rnn/while"]
    _act(browser, "arguments[0].click();", results[0])
    assert _boxes(browser, ".rg-sel") == ["rnn/while/LoopCond"]
    panel = browser.find_element(By.ID, "rg-panel").text
    for expected in ("rnn/while/LoopCond", describe("LoopCond"),
                     "while loop rnn/while (control flow v1)", "Inputs (1)", "rnn/while/LogicalAnd"):
        assert expected in panel, expected
    browser.find_element(By.ID, "rg-trace").click()
    traced = set(_boxes(browser, ".rg-trace"))
    assert {"rnn/while/LoopCond", "rnn/while/LogicalAnd", "rnn/while/Less", "X"} <= traced
    assert "rnn/while/basic_rnn_cell/MatMul" not in traced
    (tmp_path / "opened.png").write_bytes(browser.get_screenshot_as_png())
    assert len(first) > 20_000

    # Export: the drawing as it is now, as a standalone SVG document.
    exported = browser.execute_script("return rgViewers[0].svgText();")
    assert exported.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in exported
    assert "<title>rnn/while/LoopCond</title>" in exported and "rg-sel" not in exported

    # The export buttons hand the browser an SVG and a PNG file of the drawing.
    browser.execute_script(
        "window.rgBlobs = []; var make = URL.createObjectURL;"
        "URL.createObjectURL = function (b) { rgBlobs.push([b.type, b.size]); return make(b); };"
        "HTMLAnchorElement.prototype.click = function () {};"  # no file in ~/Downloads
        "document.getElementById('rg-export-svg').click(); document.getElementById('rg-export-png').click();")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(lambda b: len(b.execute_script("return rgBlobs")) == 2)
    (svg_type, svg_size), (png_type, png_size) = browser.execute_script("return rgBlobs")
    assert (svg_type, png_type) == ("image/svg+xml", "image/png")
    assert svg_size == len(exported.encode("utf-8")) and png_size > 20_000

    # The URL holds the view: a fresh page at that URL reopens it.
    url = browser.current_url
    assert "sel=rnn%2Fwhile%2FLoopCond" in url
    state = "return [Object.keys(rgViewers[0].st.open).sort(), rgViewers[0].st.selected]"
    before = browser.execute_script(state)
    browser.get("about:blank")
    _open(browser, url)
    assert browser.execute_script(state) == before
    assert _boxes(browser, ".rg-sel") == ["rnn/while/LoopCond"]

    # Stacked step copies too: they stay one box, in the deepest open scope, at every depth.
    static = walked(kind="static", cell="lstm", steps=4)
    stacked = RenderOptions(group_steps=True)
    path = tmp_path / "static.html"
    path.write_text(render_html(static, stacked), encoding="utf-8")
    _open(browser, path.as_uri())
    assert any(b.startswith("stack::rnn/basic_lstm_cell::") for b in _boxes(browser))
    _same_as_static_drawing(browser, path, static, stacked)


def _same_as_static_drawing(browser, path, graph, options) -> None:
    """Check the page's DOT against ``to_dot`` with the scopes up to each depth open."""
    import dataclasses

    from rnngraph.draw.dot import to_dot

    scopes = sorted(_data(path.read_text(encoding="utf-8"))["scene"]["scopes"])
    for depth in (0, 1, 2, None):
        opened = [s for s in scopes if depth is None or s.count("/") < depth]
        page_dot = browser.execute_script(
            "var v = rgViewers[0], saved = v.st.open; v.st.open = {};"
            "arguments[0].forEach(function (s) { v.st.open[s] = 1; });"
            "var dot = v.assemble().dot; v.st.open = saved; return dot;", opened)
        static = to_dot(graph, dataclasses.replace(options, depth=depth))
        assert _statements(page_dot) == _statements(static), depth


@pytest.mark.browser
@pytest.mark.slow
def test_viewer_enters_a_function_body_and_comes_back(walked, tmp_path, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from rnngraph.draw.html import render_html

    path = tmp_path / "v2.html"
    path.write_text(render_html(walked(kind="dynamic", steps=2, control_flow="v2")), encoding="utf-8")
    browser = chromium
    _open(browser, path.as_uri())
    assert _smallest_label_px(browser) >= 10
    assert "rnn/while" in _boxes(browser)  # the While node, whose bodies can be entered
    browser.execute_script("rgViewers[0].select(rgViewers[0].byName['rnn/while'], false);")
    enter = browser.find_element(By.CSS_SELECTOR, '#rg-panel button.rg-enter[data-scope="rnn/while/body::"]')
    _act(browser, "arguments[0].click();", enter)
    assert browser.find_element(By.ID, "rg-crumbs").text == "graph › rnn/while/body::"
    shown = _boxes(browser)
    assert shown and all(b.replace("scope::", "").startswith("rnn/while/body::/") for b in shown), shown
    assert any(b.startswith("rnn/while/body::/::retval_") for b in shown), shown
    assert "in=rnn%2Fwhile%2Fbody" in browser.current_url
    (tmp_path / "body.png").write_bytes(browser.get_screenshot_as_png())
    view = browser.find_element(By.ID, "rg-view")
    view.send_keys(Keys.ESCAPE)  # clears the selection
    before = _layouts(browser)
    view.send_keys(Keys.ESCAPE)  # back out of the body
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda b: _layouts(b) > before)
    assert browser.find_element(By.ID, "rg-crumbs").text == ""
    assert "rnn/while" in _boxes(browser)


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
    from rnngraph.draw.layout import auxiliary_of

    hidden = auxiliary_of(graph).nodes  # every node is shown by some box, but the initializers
    assert all((i >= 0) != (n in hidden) for n, i in zip(names, level["box"]))


@pytest.mark.slow
def test_render_open_from_the_command_line(tmp_path, capsys):
    from rnngraph.cli import main

    out = tmp_path / "open.html"
    assert main(["render", "dynamic", "--open", "rnn/while/basic_rnn_cell", "-o", str(out)]) == 0
    assert {"rnn", "rnn/while", "rnn/while/basic_rnn_cell"} <= set(_data(out.read_text("utf-8"))["open"])
    assert "initializers of 2 variables" in capsys.readouterr().err  # said once it is drawn
    assert main(["render", "dynamic", "--open", "rnn", "-o", str(tmp_path / "x.dot")]) == 2
    err = capsys.readouterr().err
    assert "--open applies to --format html" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.dot").exists()
