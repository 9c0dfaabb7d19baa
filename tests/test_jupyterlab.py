"""Graphs displayed in JupyterLab itself, driven by headless Chromium.

A real JupyterLab server (random port on 127.0.0.1, a token, every Jupyter directory
under tmp) opens a notebook that shows a graph's diagram and its interactive page.
Checked in the DOM: the diagram is there with its node titles (the hover text), the page
opens a closed scope where it stands on a click, the outputs stay within 200 KB per graph;
and once saved and re-opened untrusted, the notebook shows the diagram and a note
instead of a blank frame.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "rnn_v1_ref.pbtxt"
PER_GRAPH_LIMIT = 200 * 1024

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.dot]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _notebook(path: Path) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_code_cell(f"import rnngraph as rg\ng = rg.inspect({str(FIXTURE)!r})"),
        nbformat.v4.new_code_cell("g"),
        nbformat.v4.new_code_cell("g.page()"),
        nbformat.v4.new_code_cell("g"),  # the same graph again: its own output turns interactive
    ]
    nbformat.write(notebook, str(path))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server touching nothing outside tmp: (base URL, token, its root dir)."""
    import shutil

    if not (shutil.which("chromium") or shutil.which("chromium-browser")) or not shutil.which("chromedriver"):
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium chromium-driver)")
    import jupyterlab  # noqa: F401  (a declared test dependency: never skipped)

    home = tmp_path_factory.mktemp("jupyter")
    root = home / "root"
    root.mkdir()
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(ROOT), JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    env.pop("JUPYTER_PATH", None)
    news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false", "checkForUpdates": false}')  # no pop-up over the outputs
    port, token = _free_port(), secrets.token_hex(16)
    log = open(home / "server.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly", "--allow-root",
         "--ServerApp.terminals_enabled=False", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    json.load(reply)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n"
                                + (home / "server.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from test_html import _chromium

    monkeypatch = pytest.MonkeyPatch()
    driver = _chromium(monkeypatch, user_data_dir=tmp_path_factory.mktemp("chromium-profile"))
    driver.set_script_timeout(120)
    yield driver
    driver.quit()
    monkeypatch.undo()


def _wait(browser, script: str, timeout: float = 60, *args):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(
        lambda b: b.execute_script(script, *args))


def _open_in_lab(browser, base: str, token: str, name: str) -> None:
    browser.get(f"{base}/lab/tree/{name}?token={token}&reset")
    _wait(browser, "var a = window.jupyterapp; var w = a && a.shell.currentWidget;"
                   "return !!(w && w.context && w.context.path === arguments[0] && w.content"
                   " && w.content.widgets && w.content.widgets.length === 4);", 90, name)


_CELL_OUTPUT = "return document.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]].querySelector('.jp-OutputArea-output');"
_LAYOUTS = "return parseInt(document.body.dataset.layouts || '0');"
_BOXES = ("return Array.from(document.querySelectorAll('#rg-view svg.rg-graph g.node'))"
          ".map(function (g) { return g.getAttribute('data-box'); });")


def _lab_command(browser, command: str, args: dict | None = None) -> str:
    return browser.execute_async_script(
        "var done = arguments[arguments.length - 1], app = window.jupyterapp, w = app.shell.currentWidget;"
        "w.context.sessionContext.ready.then(function () { return app.commands.execute(arguments[0], arguments[1]); }"
        ".bind(null, arguments[0], arguments[1]))"
        ".then(function () { done('done'); }, function (e) { done('error ' + e); });", command, args or {})


def _output_bytes(cell: dict) -> int:
    return len(json.dumps(cell["outputs"], indent=1).encode("utf-8"))


def test_diagram_and_page_in_jupyterlab_trusted_then_untrusted(lab, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
    from selenium.webdriver.common.by import By

    from rnngraph.notebook import PAGE_NOTE, STATIC_NOTE, VIEW_HEIGHT

    base, token, root = lab
    _notebook(root / "shown.ipynb")
    started = time.monotonic()
    _open_in_lab(browser, base, token, "shown.ipynb")
    assert _lab_command(browser, "notebook:run-all-cells") == "done"
    _wait(browser, "var o = document.querySelectorAll('.jp-Notebook .jp-Cell');"
                   "return o[1].querySelector('.jp-OutputArea-output svg') && o[2].querySelector('iframe')"
                   " && o[3].querySelector('.jp-OutputArea-output');", 90)

    # The diagram: inline SVG (the script ran), fitted whole into the output, nothing cropped.
    diagram = browser.execute_script(_CELL_OUTPUT, 1)
    assert not diagram.find_elements(By.CSS_SELECTOR, "img, .rg-note")
    fitted = browser.execute_script(
        "var o = arguments[0], s = o.querySelector('svg'), g = s.querySelector('g.graph');"
        "var box = o.querySelector('div').getBoundingClientRect(), r = s.getBoundingClientRect(),"
        " d = g.getBoundingClientRect();"
        "return [r.height, d.top - r.top, r.bottom - d.bottom, box.bottom - r.bottom, d.width, r.width];",
        diagram)
    view_height, gap_top, gap_bottom, box_below, drawn_width, view_width = fitted
    assert VIEW_HEIGHT - 40 <= view_height <= VIEW_HEIGHT + 20, fitted
    assert gap_top >= -1 and gap_bottom >= -1 and box_below >= -1, fitted  # the whole drawing shows
    assert drawn_width > 0.5 * view_width or view_height - gap_top - gap_bottom > 0.9 * view_height, fitted

    # Hover: the box under the pointer carries its node's title (the browser's tooltip).
    node = "encoder/rnn/while/LoopCond"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", diagram)
    hovered = browser.execute_script(
        "var name = arguments[1], t = Array.from(arguments[0].querySelectorAll('g.node > title'))"
        ".filter(function (t) { return t.textContent === name; })[0];"
        "var r = t.parentNode.querySelector('polygon, ellipse, path').getBoundingClientRect();"
        "var at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "var g = at && at.closest('g.node'); return g && g.querySelector('title').textContent;",
        diagram, node)
    assert hovered == node

    # A real wheel turn over the diagram zooms it (JupyterLab does not scroll the notebook instead).
    svg = diagram.find_element(By.TAG_NAME, "svg")
    viewbox = lambda: [float(x) for x in svg.get_dom_attribute("viewBox").split()]  # noqa: E731
    start = viewbox()
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(svg), 0, -200).perform()
    assert viewbox()[2] < start[2]
    again = browser.execute_script(_CELL_OUTPUT, 3)  # the same graph shown twice: both interactive
    assert again.find_elements(By.TAG_NAME, "svg") and not again.find_elements(By.CSS_SELECTOR, "img, .rg-note")

    # The interactive page on request: a click on a closed scope opens it where it stands.
    page = browser.execute_script(_CELL_OUTPUT, 2)
    assert not page.find_elements(By.CSS_SELECTOR, "img, .rg-note")
    frame = page.find_element(By.TAG_NAME, "iframe")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)
    assert frame.get_attribute("sandbox") == "allow-scripts" and frame.size["height"] >= 600
    browser.switch_to.frame(frame)
    try:
        _wait(browser, "return document.body && document.body.dataset.ready === '1'", 60)
        # The closed scopes in view, not under the side panel or the minimap (the page opens on
        # the loop and its cell; the machinery around them stays closed).
        visible = browser.execute_script(
            "return Array.from(document.querySelectorAll('#rg-view g.node[data-box^=\"scope::\"]'))"
            ".filter(function (g) { var r = g.getBoundingClientRect(),"
            " at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            " return r.width > 20 && at && at.closest('g.node') === g; })"
            ".map(function (g) { return g.getAttribute('data-box').slice(7); });")
        assert visible, browser.execute_script(_BOXES)
        scope = visible[0]
        assert not any(b.startswith(scope + "/") for b in browser.execute_script(_BOXES))
        before = browser.execute_script(_LAYOUTS)
        box = browser.find_element(By.CSS_SELECTOR, f'#rg-view g.node[data-box="scope::{scope}"]')
        ActionChains(browser).move_to_element(box).click().perform()  # a real pointer click
        _wait(browser, f"return parseInt(document.body.dataset.layouts || '0') > {before}", 30)
        shown = browser.execute_script(_BOXES)
        opened = [b for b in shown if b.startswith(scope + "/")]
        assert f"scope::{scope}" not in shown and len(opened) >= 2, (scope, shown)
    finally:
        browser.switch_to.default_content()
    browser.execute_script("arguments[0].scrollIntoView({block: 'end'});", frame)
    shots = [tmp_path / "jupyterlab-page.png"]
    if os.environ.get("RNNGRAPH_SHOTS"):
        shots.append(Path(os.environ["RNNGRAPH_SHOTS"]) / "jupyterlab-page.png")
    for shot in shots:
        browser.save_screenshot(str(shot))

    # Saved, each graph adds at most 200 KB; the page on request adds its page and the diagram.
    assert _lab_command(browser, "docmanager:save") == "done"
    saved = json.loads((root / "shown.ipynb").read_text(encoding="utf-8"))
    shown_bytes, page_bytes = (_output_bytes(c) for c in saved["cells"][1:3])
    page_html = "".join(saved["cells"][2]["outputs"][0]["data"]["text/html"])
    srcdoc = page_html[page_html.index('srcdoc="'):page_html.index('" style=')]
    assert 10_000 < shown_bytes <= PER_GRAPH_LIMIT
    assert page_bytes - len(json.dumps(srcdoc)) <= PER_GRAPH_LIMIT
    print(f"\njupyterlab: diagram {shown_bytes / 1024:.0f} KB, page {page_bytes / 1024:.0f} KB "
          f"(page without its viewer {(page_bytes - len(json.dumps(srcdoc))) / 1024:.0f} KB), "
          f"{time.monotonic() - started:.1f} s in the browser")

    # Re-opened untrusted (a copy someone else saved): JupyterLab sanitises the outputs; the
    # diagram stays a picture with its note, the page gives way to the same, no blank frame.
    saved["metadata"]["copied"] = True
    (root / "untrusted.ipynb").write_text(json.dumps(saved), encoding="utf-8")
    _open_in_lab(browser, base, token, "untrusted.ipynb")
    _wait(browser, "return document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img').length === 3"
                   " && Array.from(document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img'))"
                   ".every(function (i) { return i.complete && i.naturalWidth > 100; });", 60)
    assert browser.execute_script("return window.jupyterapp.shell.currentWidget.content.widgets"
                                  ".map(function (c) { return c.model.trusted; });") == [False] * 4
    for index, note in ((1, STATIC_NOTE), (2, PAGE_NOTE), (3, STATIC_NOTE)):
        output = browser.execute_script(_CELL_OUTPUT, index)
        assert output.text == note  # the note and nothing else: no SVG text soup
        assert not output.find_elements(By.CSS_SELECTOR, "svg, iframe, script")
        picture = output.find_element(By.TAG_NAME, "img")
        assert picture.is_displayed() and picture.size["height"] > 200 and picture.size["width"] > 200
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});",
                           browser.execute_script(_CELL_OUTPUT, 2))
    browser.save_screenshot(str(tmp_path / "jupyterlab-untrusted.png"))
    if os.environ.get("RNNGRAPH_SHOTS"):
        browser.save_screenshot(str(Path(os.environ["RNNGRAPH_SHOTS"]) / "jupyterlab-untrusted.png"))

    # What the note advises: once trusted, the same saved outputs are interactive again.
    browser.execute_script("window.jupyterapp.commands.execute('notebook:trust');")
    _wait(browser, "var b = document.querySelector('.jp-Dialog .jp-mod-accept'); if (b) b.click(); return !!b;", 20)
    _wait(browser, "var o = document.querySelectorAll('.jp-Notebook .jp-Cell');"
                   "return o[1].querySelector('.jp-OutputArea-output svg g.node > title')"
                   " && o[2].querySelector('.jp-OutputArea-output iframe')"
                   " && !document.querySelector('.jp-Notebook .rg-note');", 30)
