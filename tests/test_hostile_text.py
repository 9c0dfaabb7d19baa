"""Any bytes a file holds reach DOT, SVG and HTML valid and bounded (issue 12 items 4 and 9,
issue 11 item 1): names with NUL, CR, backslash or ``&lt;``, 100 KB names, raw attributes."""

from __future__ import annotations

import json
import re

import pytest

from rnngraph.draw.statements import (MAX_TEXT, bounded_list, bounded_text, dot_quote,
                                      graphviz_title)
from rnngraph.graphdef import protos
from rnngraph.graphdef.walk import walk

WEIRD = ["a\\b", "c\rd", "e&lt;f", "g\x00h", "i\"j\\", "k&amp;/l", "m\u2028n", "x" * 100_000]


def _weird_graph(names=WEIRD):
    graph_def = protos.GraphDef()
    graph_def.node.add(name="in", op="Placeholder")
    previous = "in"
    for name in names:
        node = graph_def.node.add(name=name, op="Relu", input=[previous])
        node.attr["config_proto"].s = b"\x00\x01raw\xff\xfe\\\"&lt;" * 5000
        previous = name
    return walk(graph_def)


def _quoted_pieces(text: str) -> list:
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


def test_bounded_text_is_valid_and_short():
    assert bounded_text("a\x00b\rc\x7f") == "a\u2400b\u240dc\u2421"
    long = bounded_text("y" * 50_000)
    assert len(long) < MAX_TEXT + 80 and "and 46,000 more characters" in long
    assert bounded_text("y" * 50_000) != bounded_text("y" * 49_999 + "z")  # checksum keeps them apart
    lines = bounded_text("\n".join(str(i) for i in range(1210)))
    assert "… and 1,150 more lines" in lines
    assert bounded_list(list(range(1170))) == list(range(20)) + ["… and 1,150 more"]


@pytest.mark.parametrize("name", WEIRD + ["&" * 20_000, "\\" * 20_000])
def test_dot_quote_stays_under_the_graphviz_string_limit(name):
    quoted = dot_quote(name)
    assert all(len(piece) <= 16_384 for piece in _quoted_pieces(quoted))
    assert "\x00" not in quoted and "\r" not in quoted


@pytest.mark.dot
@pytest.mark.parametrize("fmt", ["svg", "html", "html-full"])
def test_weird_names_and_raw_attrs_draw(fmt, tmp_path):
    """Before: "Graphviz dot failed: syntax error" (NUL in config_proto) or a string too long."""
    from rnngraph.draw.dot import RenderOptions, to_dot
    from rnngraph.draw.html import render_html
    from rnngraph.draw.output import run_graphviz

    graph = _weird_graph(WEIRD + ["k&amp;/m"])  # two ops in k&amp;: a cluster (one op is drawn bare)
    if fmt == "svg":
        svg = run_graphviz(to_dot(graph, RenderOptions()), "svg").decode("utf-8")
        import xml.etree.ElementTree as ET

        ET.fromstring(svg.encode("utf-8"))  # valid XML
        assert "e&amp;lt;f" in svg  # shown as typed, not as an entity
    else:
        page = render_html(graph, RenderOptions(title="weird"), full=fmt == "html-full")
        data = json.loads(re.search(r'id="rg-data">(.*?)</script>', page, re.S).group(1))
        assert bool(data["levels"]) == (fmt == "html-full") and ("scene" in data) == (fmt == "html")
        if "scene" in data:  # laid out in the page: viewer.js writes ids and reads titles by "ids"
            scene = data["scene"]
            statements = {row[0]: row[1] for row in scene["boxes"]}
            for name in WEIRD:
                spelling, title = scene["ids"].get(name, [f'"{name}"', name])
                assert statements[name].startswith(spelling + " ["), name  # edges meet the box
                assert title == graphviz_title(name)
            assert scene["ids"]["cluster::k&amp;"][0] == '"cluster::k&amp;amp;"'
        for level in data["levels"]:
            boxes = dict(zip([n["n"] for n in data["nodes"]], level["box"]))
            for name in WEIRD:
                assert boxes[name] >= 0, name
                if level["depth"] is None:  # every node its own box, reached through its title
                    assert level["boxes"][boxes[name]] == name
                    assert level["alias"].get(graphviz_title(name), name) == name
        assert len(page) < 2_000_000


@pytest.mark.dot
@pytest.mark.browser
@pytest.mark.parametrize("full", [False, True], ids=["in-page", "full"])
def test_weird_names_are_clickable_and_findable_in_chromium(full, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html
    from test_html import _chromium

    path = tmp_path / "weird.html"
    path.write_text(render_html(_weird_graph(WEIRD[:7]), RenderOptions(title="weird"), full=full),
                    encoding="utf-8")
    browser = _chromium(monkeypatch)
    try:
        browser.get(path.as_uri())
        WebDriverWait(browser, 30).until(
            lambda b: b.execute_script("return document.body.dataset.ready") == "1")
        for name, typed in (("a\\b", "a\\b"), ("c\rd", "c"), ("e&lt;f", "e&lt;f"),
                            ("i\"j\\", "i\"j"), ("k&amp;/l", "k&amp;")):
            search = browser.find_element(By.ID, "rg-search")
            search.clear()
            search.send_keys(typed, Keys.ENTER)
            results = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#rg-panel .rg-result")]
            assert name.replace("\r", " ") in results, (name, results)  # CR shows as a space
            hits = browser.execute_script(
                "return Array.from(document.querySelectorAll('#rg-view g.node.rg-hit'))"
                ".map(g => g.getAttribute('data-box'))")
            assert name in hits, (name, hits)
            # Click the box itself: it selects the node and shows it in the panel.
            browser.execute_script(
                "var box = arguments[0];"
                "Array.from(document.querySelectorAll('#rg-view g.node'))"
                ".filter(g => g.getAttribute('data-box') === box)[0]"
                ".dispatchEvent(new MouseEvent('click', {bubbles: true}));", name)
            selected = browser.execute_script(
                "return Array.from(document.querySelectorAll('#rg-view g.node.rg-sel'))"
                ".map(g => g.getAttribute('data-box'))")
            assert selected == [name], (name, selected)
            assert "Inputs (1)" in browser.find_element(By.ID, "rg-panel").text
    finally:
        browser.quit()


_KERAS_SAVEDMODEL = """
import sys
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.Input((3, 2)), tf.keras.layers.LSTM(4), tf.keras.layers.Dense(1)])
tf.saved_model.save(model, sys.argv[1])
"""


@pytest.mark.tf
@pytest.mark.dot
@pytest.mark.slow
def test_a_keras_savedmodel_draws_to_svg_and_html(tmp_path, capsys):
    """Issue 11 item 1: config_proto bytes (with NUL) broke dot ("syntax error in line 6")."""
    import os
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    from rnngraph.cli import main

    folder = tmp_path / "keras_lstm"
    # Plain TensorFlow/Keras in a process of its own (no rnngraph switches, eager mode).
    result = subprocess.run([sys.executable, "-c", _KERAS_SAVEDMODEL, str(folder)],
                            capture_output=True, text=True, timeout=600,
                            env={k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"})
    assert result.returncode == 0, result.stderr[-2000:]
    raw = (folder / "saved_model.pb").read_bytes()
    assert b"config_proto" in raw
    for out in ("m.svg", "m.html"):
        assert main(["inspect", str(folder), "--render", str(tmp_path / out)]) == 0, \
            capsys.readouterr().err
    svg = (tmp_path / "m.svg").read_text(encoding="utf-8")
    ET.fromstring(svg.encode("utf-8"))
    assert "\x00" not in svg and "config_proto" in svg
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "\x00" not in page and 'id="rg-data"' in page


@pytest.mark.dot
def test_a_node_with_1500_outputs_draws():
    """Issue 12 item 4: an unstack tooltip listed every output past Graphviz's string limit."""
    from rnngraph.draw.dot import RenderOptions, to_dot
    from rnngraph.draw.output import run_graphviz

    graph_def = protos.GraphDef()
    graph_def.node.add(name="x", op="Placeholder")
    unstack = graph_def.node.add(name="unstack", op="Unpack", input=["x"])
    unstack.attr["num"].i = 1500
    for _ in range(1500):
        unstack.attr["_output_shapes"].list.shape.add().dim.add(size=32)
    graph_def.node.add(name="y", op="Relu", input=["unstack:1499"])
    dot = to_dot(walk(graph_def), RenderOptions())
    assert "… and 1,480 more" in dot
    assert all(len(piece) <= 16_384 for piece in _quoted_pieces(dot))
    assert run_graphviz(dot, "svg").startswith(b"<?xml")


@pytest.mark.tf
@pytest.mark.dot
@pytest.mark.slow
def test_render_static_1200_steps(tmp_path, capsys):
    from rnngraph.cli import main

    out = tmp_path / "s.svg"
    assert main(["render", "static", "--steps", "1200", "-o", str(out)]) == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(b"<?xml")


# Every command that reads a graph file, each output form, and the error path (issue 24 item 5):
# a name's ESC, BEL, C1 controls (0x85, 0x90, 0x9b), NUL, VT and FF never reach stdout or stderr.
_HOSTILE = "\x1b]0;owned\x07\x1b[2J\x85\x90\x9b\x00\x0b\x0c\u202e"
_RAW = {c for c in _HOSTILE if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c == "\u202e"}


def _hostile_file(tmp_path, broken: bool = False):
    from rnngraph.graphdef import protos

    graph_def = protos.GraphDef()
    graph_def.node.add(name="in" + _HOSTILE, op="Placeholder").attr["dtype"].type = 1
    axis = graph_def.node.add(name="axis" + _HOSTILE, op="Const")
    axis.attr["dtype"].type = 3
    axis.attr["value"].tensor.dtype = 3
    axis.attr["value"].tensor.int_val.append(1)
    concat = graph_def.node.add(name="rnn/concat" + _HOSTILE, op="ConcatV2",
                                input=["in" + _HOSTILE] * 2 + ["axis" + _HOSTILE])
    concat.attr["N"].i = 2
    if broken:  # a malformed reference: the error line names the node
        graph_def.node.add(name="bad" + _HOSTILE, op="Identity", input=["in" + _HOSTILE + ":²"])
    path = tmp_path / ("broken.pb" if broken else "hostile.pb")
    path.write_bytes(graph_def.SerializeToString())
    return path


_COMMANDS = {
    "inspect": lambda f, t: ["inspect", f],
    "inspect-json": lambda f, t: ["inspect", "--json", f],
    "inspect-dot-stdout": lambda f, t: ["inspect", f, "--render", "-", "--format", "dot"],
    "inspect-html": lambda f, t: ["inspect", f, "--render", str(t / "p.html")],
    "explain-text": lambda f, t: ["explain", "--file", f, "concat"],
    "explain-markdown": lambda f, t: ["explain", "--file", f, "concat", "--format", "markdown"],
    "explain-json": lambda f, t: ["explain", "--file", f, "concat", "--format", "json"],
    "compare": lambda f, t: ["compare", f, f, "-o", str(t / "c.html")],
}


@pytest.mark.parametrize("broken", [False, True], ids=["accepted", "refused"])
@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_no_command_prints_a_control_character_of_a_name(command, broken, tmp_path, capsys):
    from rnngraph.cli import main

    path = _hostile_file(tmp_path, broken)
    status = main(_COMMANDS[command](str(path), tmp_path))
    out, err = capsys.readouterr()
    assert status == (1 if broken else 0), err
    assert not _RAW & set(out + err), (command, (out + err)[:300])
    if broken:
        assert "bad" in err and "not written in the digits 0-9" in err


@pytest.mark.tf
@pytest.mark.slow
def test_run_prints_no_control_character_of_a_name(tmp_path, capsys):
    from rnngraph.cli import main

    main(["run", str(_hostile_file(tmp_path))])
    out, err = capsys.readouterr()
    assert not _RAW & set(out + err), (out + err)[:300]
