"""Issue 24: `rnngraph run FILE` writes no file, stops a loop that never ends, refuses recursion.

Each crafted file (tests/fixtures/make_hostile_run.py) is run in a child process under a 4 GB
address-space limit and a 60 s timeout; each ends with status 1 and one line.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.make_hostile_run import write_all

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
LIMIT = 4 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run(tmp_path: Path, path: Path, *extra: str):
    """Run `rnngraph run PATH` in a child (4 GB, 60 s); return (status, stdout, stderr lines, s)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "rnngraph", "run", str(path), "--no-values",
                           "--trace", str(tmp_path / "t.json"), *extra], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=_limited)
    return done.returncode, done.stdout, done.stderr.strip().splitlines(), time.monotonic() - start


@pytest.fixture
def crafted(tmp_path):
    """Return (the crafted files by name, the path the WriteFile graphs target)."""
    target = tmp_path / "written-by-the-graph"
    return {p.name: p for p in write_all(tmp_path / "crafted", str(target))}, target


@pytest.mark.parametrize("name, line", [
    ("write_file.pbtxt", "WriteFile (top level)"),
    ("write_file_in_function.pbtxt", "WriteFile (function leak)"),
    ("print_in_while_body.pbtxt", "PrintV2 (function body)"),
])
def test_a_graph_with_a_file_op_is_refused_and_writes_nothing(tmp_path, crafted, name, line):
    files, target = crafted
    status, out, err, _ = run(tmp_path, files[name])
    assert status == 1 and out == "" and not target.exists()
    assert err == [f"rnngraph: error: refusing to run {files[name]}: it holds ops that are not pure "
                   f"computation (they may touch files, the network, other processes or Python): "
                   f"{line}; if you trust the file, admit a kind with --allow-op NAME"]
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("name, cycle", [("recursive_function.pbtxt", "f -> f"),
                                         ("mutual_recursion.pbtxt", "f -> g -> f")])
def test_a_recursive_function_is_refused_before_running(tmp_path, crafted, name, cycle):
    files, _ = crafted
    status, out, err, _ = run(tmp_path, files[name])
    assert (status, out) == (1, "")
    assert err == [f"rnngraph: error: refusing to run {files[name]}: function f calls itself "
                   f"({cycle}); TensorFlow cannot run a recursive function"]


@pytest.mark.tf
@pytest.mark.slow
def test_the_write_file_graph_does_write_when_admitted(tmp_path, crafted):
    # The refusal above is what stops the write: admitted, the same graph writes its file.
    files, target = crafted
    status, _, err, _ = run(tmp_path, files["write_file.pbtxt"], "--allow-op", "WriteFile")
    assert status == 0, err
    assert target.read_text() == "owned\n"


@pytest.mark.tf
@pytest.mark.slow
def test_a_function_named_like_an_op_runs_nothing(tmp_path, crafted):
    files, target = crafted
    status, out, err, _ = run(tmp_path, files["function_named_like_an_op.pbtxt"])
    assert (status, out) == (1, "") and not target.exists()
    assert len(err) == 1 and "because an op with the same name already exists" in err[0]


@pytest.mark.tf
@pytest.mark.slow
def test_a_v1_loop_that_never_ends_stops_at_max_iterations(tmp_path, crafted):
    files, _ = crafted
    status, out, err, _ = run(tmp_path, files["loop_forever_v1.pbtxt"], "--max-iterations", "1000")
    assert (status, out) == (1, "")
    assert err == ["rnngraph: error: stopped: a while loop wanted more than 1000 iterations "
                   "(--max-iterations; raise it if the loop is meant to run longer)"]


@pytest.mark.tf
@pytest.mark.slow
def test_a_v2_loop_that_never_ends_stops_at_the_timeout(tmp_path, crafted):
    files, _ = crafted
    path = files["loop_forever_v2.pbtxt"]
    # (--max-iterations far away: the loop is left to the clock)
    status, out, err, seconds = run(tmp_path, path, "--timeout", "15", "--max-iterations", str(1 << 40))
    assert (status, out) == (1, "") and seconds < 40
    assert err == [f"rnngraph: error: stopped running {path} after 15 s (--timeout): it was still "
                   f"running (a loop that never ends?); raise --timeout to wait longer"]


@pytest.mark.tf
@pytest.mark.slow
def test_a_bounded_loop_computes_what_it_did_before(tmp_path):
    # walk_while_v1 counts i from 0 while i < 10: the counter added by --max-iterations lets all
    # ten iterations run, and the trace is the same as with a bound far away.
    fixture = FIXTURES / "walk_while_v1.pbtxt"
    status, out, err, _ = run(tmp_path, fixture, "--max-iterations", "10", "--optimized",
                              str(tmp_path / "after.dot"))
    assert status == 0, err
    assert "iterations: 10; ran on" in out
    # The counter is rnngraph's, not the file's: neither the trace nor the drawing shows it.
    trace = (tmp_path / "t.json").read_text(encoding="utf-8")
    assert "rnngraph_bound" not in trace and "rnngraph_bound" not in out
    assert "rnngraph_bound" not in (tmp_path / "after.dot").read_text(encoding="utf-8")
    assert '"loop/LoopCond"' in trace and "loop/LoopCond: inputs changed" not in out
    status, _, err, _ = run(tmp_path, fixture, "--max-iterations", "9")
    assert status == 1 and err[-1].startswith("rnngraph: error: stopped: a while loop wanted more "
                                              "than 9 iterations")


def test_a_child_killed_by_a_signal_is_one_line(monkeypatch):
    import argparse

    from rnngraph.commands import sandbox
    from rnngraph.errors import RunLimitExceeded

    monkeypatch.setattr(sandbox, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(RunLimitExceeded, match=r"^TensorFlow died running g.pb \(SIGSEGV\); "
                                               r"rnngraph cannot run this graph$"):
        sandbox.run_isolated(argparse.Namespace(), "g.pb", timeout=30)


def test_explain_verify_refuses_a_graph_with_a_file_op(tmp_path, crafted, capsys):
    # `explain --file --verify` runs the file with TensorFlow too: the same check comes first.
    from rnngraph.cli import main

    files, target = crafted
    assert main(["explain", "rnn", "--file", str(files["write_file.pbtxt"]), "--verify"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to run" in err[0] and "WriteFile (top level)" in err[0]
    assert not target.exists()
