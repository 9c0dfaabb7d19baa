"""The command line: exit codes, one-line errors, output files, no TensorFlow for --help."""

import json
import os
import subprocess
import sys

import pytest

from rnngraph.cli import main


def run_cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(err, pattern):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rnngraph: error: ")
    assert pattern in lines[0], lines[0]
    assert "Traceback" not in err


def test_help_does_not_import_tensorflow():
    code = ("import sys; from rnngraph.cli import build_parser; build_parser(); "
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    result = subprocess.run([sys.executable, "-m", "rnngraph", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "render" in result.stdout


@pytest.mark.parametrize("argv,pattern", [
    (["render", "dynamic", "--steps", "0"], "steps must be an integer from 1 to 100000, got 0"),
    (["render", "dynamic", "--neurons", "-1"], "neurons must be an integer from 1"),
    (["render", "dynamic", "--cell", "lstmm"], "invalid choice: 'lstmm'"),
    (["render", "dynamic", "--dropout", "0"], "keep probability must be in (0, 1], got 0.0"),
    (["render", "dynamic", "--dropout", "1.2"], "keep probability must be in (0, 1], got 1.2"),
    (["render", "dynamic", "--devices", "/tpu0"], "unknown device '/tpu0'"),
    (["render", "dynamic", "--layers", "3", "--devices", "/cpu:0,/gpu:0"], "2 devices given for 3 layer(s)"),
    (["render", "dynamic", "-o", "graph.xyz"], "cannot tell the format of 'graph.xyz'"),
    (["render", "dynamic", "--format", "gif"], "invalid choice: 'gif'"),
    (["render", "unrolled"], "invalid choice: 'unrolled'"),
    (["render", "dynamic", "--steps", "two"], "invalid int value: 'two'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, pattern):
    status, _, err = run_cli(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, pattern)


@pytest.mark.tf
def test_unwritable_output_exits_1(capsys, tmp_path):
    status, _, err = run_cli(capsys, "render", "dynamic", "--format", "dot", "-o",
                             str(tmp_path / "no" / "such" / "dir.dot"))
    assert status == 1
    assert_one_line_error(err, "does not exist")


@pytest.mark.tf
def test_dot_to_stdout_and_json(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "render", "dynamic", "--cell", "gru", "--layers", "3",
                             "--dropout", "0.5", "--format", "dot", "-o", "-")
    assert status == 0 and out.startswith("digraph rnngraph {") and "GRUCell ×3 layers" in out
    target = tmp_path / "g.json"
    status, out, _ = run_cli(capsys, "render", "static", "-o", str(target))
    assert status == 0 and out.strip() == str(target)
    data = json.loads(target.read_text())
    assert len(data["nodes"]) == 54 and any(n["id"] == "rnn/basic_rnn_cell/MatMul_1" for n in data["nodes"])


@pytest.mark.tf
def test_missing_dot_fails_svg_with_the_fix_but_dot_format_works(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(capsys, "render", "dynamic")
    assert status == 1
    assert_one_line_error(err, "Graphviz 'dot' program is not installed")
    assert "install" in err and "--format dot" in err
    status, out, _ = run_cli(capsys, "render", "dynamic", "--format", "dot")
    assert status == 0 and out.strip() == "dynamic-rnn-2.dot"
    assert (tmp_path / "dynamic-rnn-2.dot").read_text().startswith("digraph")


@pytest.mark.tf
@pytest.mark.dot
def test_default_output_is_named_after_the_model(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run_cli(capsys, "render", "dynamic", "--steps", "2")
    assert status == 0 and out.strip() == "dynamic-rnn-2.svg"
    svg = (tmp_path / "dynamic-rnn-2.svg").read_text()
    assert "<svg" in svg and "rnn/while/LoopCond" in svg
    status, out, _ = run_cli(capsys, "render", "static", "--cell", "lstm", "-o", "lstm.pdf")
    assert status == 0 and (tmp_path / "lstm.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.tf
def test_failed_render_keeps_the_old_file(capsys, tmp_path, monkeypatch):
    from rnngraph.draw import output
    from rnngraph.errors import RenderError

    target = tmp_path / "keep.svg"
    target.write_text("old picture")

    def broken(*_args, **_kwargs):
        raise RenderError("Graphviz dot failed: simulated")

    monkeypatch.setattr(output, "run_graphviz", broken)
    status, _, err = run_cli(capsys, "render", "dynamic", "-o", str(target))
    assert status == 1 and "simulated" in err
    assert target.read_text() == "old picture"
    assert sorted(os.listdir(tmp_path)) == ["keep.svg"]  # no temporary file left behind


def test_atomic_write_replaces_whole_files(tmp_path):
    from rnngraph.files import write_atomic
    from rnngraph.errors import OutputError

    target = tmp_path / "a.dot"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text() == "second" and sorted(os.listdir(tmp_path)) == ["a.dot"]
    with pytest.raises(OutputError, match="is a directory"):
        write_atomic(tmp_path, "x")


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(Exception):
        main(["--debug", "render", "dynamic", "--steps", "0"])


@pytest.mark.parametrize("argv,line", [
    (["frobnicate"], "rnngraph: error: argument COMMAND: invalid choice: 'frobnicate'"),
    (["render", "dynamic", "--steps", "two"],
     "rnngraph: error: render: argument --steps: invalid int value: 'two'"),
])
def test_usage_error_prefix_appears_once(capsys, argv, line):
    status, _, err = run_cli(capsys, *argv)
    assert status == 2
    assert err.startswith(line), err
    assert err.count("rnngraph:") == 1, err
