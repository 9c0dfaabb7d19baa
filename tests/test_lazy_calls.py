"""Function calls walk leaves closed (issue 24: the expansion budget, recursion) open in the page.

The page embeds each function a closed call reaches once (draw/lazycalls.py); a click on the
call's box copies that body under the call in the browser.  Checked here: the data (each function
once, page size bounded by the file, not by the expansion) and, in headless Chromium, that a
click shows the body's ops, that their calls open too, and that recursion opens one level a click.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from test_html import _act, _boxes, _open, chromium  # noqa: F401 (the module's one Chromium)

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import make_hostile_graphs  # noqa: E402

_DATA = re.compile(r'<script type="application/json" id="rg-data">(.*?)</script>', re.S)


def _walked(case: str, **changes):
    from rnngraph.graphdef.walk import walk

    return walk(make_hostile_graphs.CASES[case].make())


def _page(graph, title: str = "t") -> str:
    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html

    return render_html(graph, RenderOptions(title=title))


def _data(page: str) -> dict:
    return json.loads(_DATA.search(page).group(1))


def _library(case: str) -> dict:
    graph_def = make_hostile_graphs.CASES[case].make()
    return {f.signature.name: f for f in graph_def.library.function}


def test_closed_calls_are_the_calls_walk_left_unexpanded():
    from rnngraph.draw.lazycalls import closed_calls

    graph = _walked("call_bomb_7k")
    calls = closed_calls(graph)
    assert sorted(calls) == sorted(graph.graph["unexpanded_calls"])
    assert len(calls) == 2413
    for name, found in calls.items():
        assert [[f] for _, f, _ in found] == [[f] for f in graph.nodes[name]["unexpanded"]]
        assert all(role == "f" and not recursive for role, _, recursive in found)


def test_each_function_a_closed_call_reaches_is_embedded_once():
    graph = _walked("call_bomb_7k")
    lazy = _data(_page(graph))["lazy"]
    library = _library("call_bomb_7k")
    reached = {f for found in lazy["calls"].values() for _, f, _ in found}
    closure, todo = set(), sorted(reached)
    while todo:  # the functions those bodies call, from the file itself
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            todo += [n.attr["f"].func.name for n in library[name].node_def if n.op == "PartitionedCall"]
    assert sorted(lazy["templates"]) == sorted(closure)
    assert {"f4", "f9"} <= closure and "f0" not in closure
    for name, template in lazy["templates"].items():
        fdef = library[name]
        # one node per node of the body, plus its arguments and results
        assert len(template["nodes"]) == len(fdef.node_def) + len(fdef.signature.input_arg) + len(
            fdef.signature.output_arg)
        assert [template["nodes"][k]["o"] for k in template["args"]] == ["_Arg"]
        assert [template["nodes"][k]["o"] for k in template["rets"]] == ["_Retval"]
        called = {f for found in template["calls"].values() for _, f, _ in found}
        assert called <= set(lazy["templates"])
        assert len(template["calls"]) == sum(1 for n in fdef.node_def if n.op == "PartitionedCall")


def test_page_size_follows_the_file_not_the_expansion():
    # 10**9 leaf calls in 7 KB; the same functions with ten times the ops each
    sizes = {}
    for case in ("call_bomb_7k", "call_expands_150k"):
        page = _page(_walked(case))
        lazy = json.dumps(_data(page).get("lazy", {}))
        sizes[case] = (len(page), len(lazy))
        file_size = len(make_hostile_graphs.CASES[case].make().SerializeToString())
        assert len(lazy) < 40 * file_size, (case, len(lazy), file_size)
        assert len(page) < 4_000_000, (case, len(page))


def test_recursive_calls_are_closed_and_say_so():
    from rnngraph.draw.lazycalls import RECURSIVE_LINE

    for case, functions in (("self_recursive", ["f"]), ("mutual_recursive", ["f", "g", "h"])):
        data = _data(_page(_walked(case)))
        lazy = data["lazy"]
        assert sorted(lazy["templates"]) == functions
        assert all(rec for found in lazy["calls"].values() for _, _, rec in found)
        closed = [b for b in data["scene"]["boxes"] if b[0] in lazy["calls"]]
        assert closed and all(RECURSIVE_LINE in b[1].replace("\\n", " ") for b in closed)  # wrapped
        for template in lazy["templates"].values():
            assert all(rec for found in template["calls"].values() for _, _, rec in found)


@pytest.mark.tf
def test_pages_without_closed_calls_hold_no_templates(walked):
    data = _data(_page(walked(kind="dynamic", steps=2, control_flow="v2")))
    assert "lazy" not in data


def test_the_page_with_templates_is_deterministic():
    graph = _walked("mutual_recursive")
    assert _page(graph) == _page(_walked("mutual_recursive"))


_OPS_SHOWN = ("var under = arguments[0]; return Array.from(document.querySelectorAll('#rg-view svg.rg-graph g.node'))"
              ".map(function (g) { return g.getAttribute('data-box'); })"
              ".filter(function (b) { return b.indexOf(under) === 0; });")


def _click_box(browser, box: str) -> None:
    _act(browser, "var g = document.querySelector('#rg-view g.node[data-box=\"' + arguments[0] + '\"]');"
                  "g.querySelector('text').dispatchEvent(new MouseEvent('click', {bubbles: true}));", box)


def _shot(browser, name: str) -> None:
    shots = os.environ.get("RNNGRAPH_SHOTS")  # keep the screenshots to look at
    if shots:
        browser.save_screenshot(str(Path(shots) / f"{name}.png"))


@pytest.mark.browser
@pytest.mark.slow
def test_a_click_opens_a_closed_call_and_its_calls_open_too(tmp_path, chromium):  # noqa: F811
    graph = _walked("call_bomb_7k")
    closed = sorted(graph.graph["unexpanded_calls"])[0]
    path = tmp_path / "bomb.html"
    path.write_text(_page(graph, "call bomb"), encoding="utf-8")
    browser = chromium
    _open(browser, path.as_uri())
    # reveal the closed call (its scopes open), then click its box
    browser.execute_script("var v = window.rgViewers[0]; return v.select(v.byName[arguments[0]], true);",
                           closed)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(lambda b: closed in _boxes(b))
    panel = browser.execute_script("return document.querySelector('#rg-panel').textContent")
    assert "Closed calls" in panel and "open f (f4)" in panel
    _click_box(browser, closed)
    panel = browser.execute_script("return document.querySelector('#rg-panel').textContent")
    assert "enter f (f4)" in panel and "Closed calls" not in panel  # the selected call's panel
    body = closed + "/f::/"
    shown = browser.execute_script(_OPS_SHOWN, body)
    # f4's body: its argument, its ten calls of f5 and its result
    assert sorted(shown) == sorted([body + "x", body + "::retval_y"] + [body + f"c{i}" for i in range(10)])
    status = browser.execute_script("return document.querySelector('#rg-status').textContent")
    assert status == "opened " + closed + "/f::"
    _shot(browser, "bomb-opened")
    # a second level: one of those calls opens the same way
    inner = body + "c3"
    _click_box(browser, inner)
    shown = browser.execute_script(_OPS_SHOWN, inner + "/f::/")
    assert len(shown) == 12, shown
    # the panel of an opened call lists its body as a function to enter, no longer as closed
    browser.execute_script("var v = window.rgViewers[0]; v.select(v.byName[arguments[0]], false);", inner)
    panel = browser.execute_script("return document.querySelector('#rg-panel').textContent")
    assert "enter f (f5)" in panel and "Closed calls" not in panel
    _shot(browser, "bomb-opened-twice")


@pytest.mark.browser
@pytest.mark.slow
def test_a_recursive_function_opens_one_level_per_click(tmp_path, chromium):  # noqa: F811
    path = tmp_path / "recursive.html"
    path.write_text(_page(_walked("self_recursive"), "self recursive"), encoding="utf-8")
    browser = chromium
    _open(browser, path.as_uri())
    call = "call/f::/again"
    for level in range(3):
        assert call in _boxes(browser)
        label = browser.execute_script(
            "return document.querySelector('#rg-view g.node[data-box=\"' + arguments[0] + '\"]')"
            ".textContent", call)
        assert "recursive" in label
        _click_box(browser, call)
        shown = browser.execute_script(_OPS_SHOWN, call + "/f::/")
        # one level: f's argument, its Tanh, its (closed) call of itself and its result
        assert sorted(shown) == sorted(call + "/f::/" + n for n in ("x", "t0", "again", "::retval_y"))
        call = call + "/f::/again"
    _shot(browser, "recursive-opened")


@pytest.mark.tf
def test_the_page_scene_keeps_every_scope_openable_whatever_the_cli_opened(walked):
    # `render --format html` passes the story's scopes as RenderOptions.open_scopes; the scene
    # once collapsed the others into boxes "scope::…" that had no scope row, and the page died
    # in viewer.js (Cannot read properties of undefined) before drawing anything.
    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html

    graph = walked(kind="dynamic", cell="lstm", steps=2, control_flow="v2")
    data = _data(render_html(graph, RenderOptions(title="t", open_scopes=frozenset({"rnn"}))))
    scene = data["scene"]
    assert not [b[0] for b in scene["boxes"] if b[0].startswith("scope::")]
    assert "rnn/BasicLSTMCellZeroState" in scene["scopes"]


def _odd_recursive():
    """A function calling itself whose body's node has a name DOT and the terminal must escape."""
    from rnngraph.graphdef import protos

    graph_def = protos.GraphDef()
    graph_def.node.add(name="in", op="Placeholder").attr["dtype"].type = 1
    make_hostile_graphs._call(graph_def.node, "call", "f", ["in"])
    fdef = graph_def.library.function.add()
    fdef.signature.name = "f"
    fdef.signature.input_arg.add(name="x", type=1)
    fdef.signature.output_arg.add(name="y", type=1)
    fdef.node_def.add(name=ODD, op="Tanh", input=["x"]).attr["T"].type = 1
    make_hostile_graphs._call(fdef.node_def, "again", "f", [ODD + ":y:0"])
    fdef.ret["y"] = ODD + ":y:0"
    return graph_def


ODD = 'we"ird\\name&amp\x1b[31m'


@pytest.mark.browser
@pytest.mark.slow
def test_a_body_node_with_an_odd_name_opens_under_each_call(tmp_path, chromium):  # noqa: F811
    from rnngraph.graphdef.walk import walk

    page = _page(walk(_odd_recursive()), "odd")
    template = _data(page)["lazy"]["templates"]["f"]
    assert list(template["ids"]) == ["rg::C/rg::R::/" + ODD]  # spelled for DOT, as scene.py does
    path = tmp_path / "odd.html"
    path.write_text(page, encoding="utf-8")
    _open(chromium, path.as_uri())
    call = "call/f::/again"
    for _ in range(2):
        _act(chromium, "var v = window.rgViewers[0]; v.openCall(v.byName[arguments[0]], null, null);",
             call)
        assert sorted(chromium.execute_script(_OPS_SHOWN, call + "/f::/")) == sorted(
            call + "/f::/" + n for n in ("x", ODD, "again", "::retval_y"))
        call += "/f::/again"
