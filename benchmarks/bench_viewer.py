"""Viewer benchmark: the page laid out in the browser against the old pre-rendered page, one run.

Run:  .venv/bin/python benchmarks/bench_viewer.py [--quick] [--old-ref COMMIT]

Measures, in headless Chromium (Debian chromium + chromedriver, Selenium):

* page ready (navigation start to the page's ``data-ready``) for the new page
  and the old one (rnngraph at ``--old-ref``, extracted with ``git archive``),
* opening a scope of about 100 nodes where it stands (new) against switching
  to the next pre-rendered depth (old),
* ``rnngraph render dynamic --steps 2 --format html`` end to end, warm build
  cache, against the old command and against TensorFlow's own import + build.

The machine is noisy: read the ratios, measured in this same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
OLD_REF = "92b7020"  # the last commit with the pre-rendered page (one SVG per depth)

BUILD_ONLY = """
from rnngraph.model.builder import build_graph
from rnngraph.model.spec import ModelSpec
build_graph(ModelSpec(kind="dynamic", steps=2))
"""

READY = "return document.body.dataset.ready"
PICK_SCOPE = """
var v = rgViewers[0], best = null;
Object.keys(v.st.boxEls).forEach(function (b) {
  if (b.indexOf('scope::') !== 0) { return; }
  var n = v.data.scene.scopes[b.slice(7)][2];
  if (best === null || Math.abs(n - 100) < Math.abs(best[1] - 100)) { best = [b, n]; }
});
return best;
"""
OLD_PICK_SCOPE = """
var best = null;
document.querySelectorAll('#rg-view g.node').forEach(function (g) {
  var b = g.getAttribute('data-box') || '';
  if (b.indexOf('scope::') !== 0) { return; }
  var text = g.textContent, k = /(\\d+) ops/.exec(text), n = k ? Number(k[1]) : 0;
  if (best === null || Math.abs(n - 100) < Math.abs(best[1] - 100)) { best = [b, n]; }
});
return best;
"""


def run_cli(tree: Path, args: list, env: dict) -> float:
    t = time.perf_counter()
    subprocess.run([PY, "-m", "rnngraph", *args], cwd=tree, env={**env, "PYTHONPATH": str(tree)},
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def chromium():
    from selenium import webdriver

    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(
        executable_path=shutil.which("chromedriver")))


def ready_seconds(browser, path: Path, tries: int = 2) -> float:
    """Return the best of ``tries`` page loads: navigation start to data-ready."""
    best = float("inf")
    for _ in range(tries):
        browser.get("about:blank")
        t = time.perf_counter()
        browser.get(path.as_uri())
        while browser.execute_script(READY) not in ("1", "error"):
            time.sleep(0.005)
        best = min(best, time.perf_counter() - t)
        assert browser.execute_script(READY) == "1", path
    return best


def expand_seconds(browser, path: Path, new: bool) -> tuple:
    """Return (seconds, scope, members) to open the scope box nearest 100 nodes."""
    browser.get(path.as_uri())
    while browser.execute_script(READY) != "1":
        time.sleep(0.005)
    if not new:  # the old page opens at depth "all": start from depth 0, as a user would
        browser.execute_script("var b = document.querySelector('button.rg-level[data-level=\"0\"]');"
                               "if (b) { b.click(); }")
    picked = browser.execute_script(PICK_SCOPE if new else OLD_PICK_SCOPE)
    if not picked:
        return float("nan"), "-", 0
    box, members = picked
    state = ("return document.body.dataset.layouts" if new
             else "return document.body.dataset.level")
    before = browser.execute_script(state)
    t = time.perf_counter()
    browser.execute_script(
        "document.querySelector('#rg-view g.node[data-box=\"' + arguments[0] + '\"]')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}));", box)
    while browser.execute_script(state) == before:
        time.sleep(0.002)
    return time.perf_counter() - t, box[7:], members


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-step (17,054-node) rows")
    parser.add_argument("--old-ref", default=OLD_REF, help="commit of the old page (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the pages (the folder is printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    old = work / "old"
    old.mkdir()
    archive = subprocess.run(["git", "archive", args.old_ref, "rnngraph"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}

    cases = [("dynamic --steps 2", ["dynamic", "--steps", "2"], False),
             ("dynamic --cell lstm --steps 2", ["dynamic", "--cell", "lstm", "--steps", "2"], False),
             ("dynamic --cell lstm --steps 2 --layers 2",
              ["dynamic", "--cell", "lstm", "--steps", "2", "--layers", "2"], False),
             ("dynamic --cell lstm --steps 2 --control-flow v2",
              ["dynamic", "--cell", "lstm", "--steps", "2", "--control-flow", "v2"], False),
             ("static --cell lstm --steps 100", ["static", "--cell", "lstm", "--steps", "100"], False)]
    if not args.quick:
        cases.append(("static --cell lstm --steps 1000 --full (17,054 nodes)",
                      ["static", "--cell", "lstm", "--steps", "1000", "--full"], True))
        cases.append(("static --cell lstm --steps 1000 (17,054 nodes, laid out in the page)",
                      ["static", "--cell", "lstm", "--steps", "1000"], False))
    pages = []
    print("building the pages (old and new) ...", file=sys.stderr)
    for title, spec, full in cases:
        new_page, old_page = work / f"new-{len(pages)}.html", work / f"old-{len(pages)}.html"
        run_cli(ROOT, ["render", *spec, "--format", "html", "-o", str(new_page)], env)
        old_seconds = run_cli(old, ["render", *spec, "--format", "html", "-o", str(old_page)], env)
        pages.append((title, new_page, old_page, full, old_seconds))

    # End to end, warm cache (the pages above built and cached dynamic --steps 2).
    cmd = ["render", "dynamic", "--steps", "2", "--format", "html", "-o", str(work / "e2e.html")]
    warm = min(run_cli(ROOT, cmd, env) for _ in range(3))
    cold = run_cli(ROOT, cmd + ["--no-cache"], env)
    t = time.perf_counter()  # a fresh process importing TensorFlow and building, as the command does
    subprocess.run([PY, "-c", BUILD_ONLY], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True,
                   capture_output=True)
    build = time.perf_counter() - t
    old_e2e = pages[0][4]

    browser = chromium()
    try:
        print(f"\n{'page ready (best of 2)':<72} {'new':>8} {'old':>8} {'new/old':>8}  target")
        for title, new_page, old_page, full, _ in pages:
            new_s, old_s = ready_seconds(browser, new_page), ready_seconds(browser, old_page)
            size = f"{new_page.stat().st_size / 1e6:.1f}/{old_page.stat().st_size / 1e6:.1f} MB"
            print(f"{title + ' [' + size + ']':<72} {new_s:8.2f} {old_s:8.2f} {new_s / old_s:8.2f}  <= 1 s")
        print(f"\n{'open a scope of ~100 nodes':<72} {'new':>8} {'old':>8} {'new/old':>8}  target")
        for title, new_page, old_page, full, _ in pages:
            if full:
                continue
            new_s, scope, members = expand_seconds(browser, new_page, True)
            old_s, _, _ = expand_seconds(browser, old_page, False)
            label = f"{title}: {scope} ({members} nodes)"
            print(f"{label:<72} {new_s:8.3f} {old_s:8.3f} {new_s / old_s:8.2f}  <= 0.3 s")
    finally:
        browser.quit()
    print(f"\nrender dynamic --steps 2 --format html: warm cache {warm:.2f} s (target <= 1.5 s), "
          f"--no-cache {cold:.2f} s (target <= build + 1.5 s = {build + 1.5:.2f} s), "
          f"old command {old_e2e:.2f} s; TensorFlow import + build alone {build:.2f} s")
    if args.keep:
        print(f"pages kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
