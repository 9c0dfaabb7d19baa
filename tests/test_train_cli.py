"""`rnngraph train` and `rnngraph generate` from the command line: exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnngraph.cli import main

TINY_SERIES = ["--neurons", "8", "--iterations", "20"]


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rnngraph: error: ")
    return lines[0]


def test_train_help_does_not_import_tensorflow():
    code = ("import sys\nfrom rnngraph.cli import build_parser\n"
            "p = build_parser()\n"
            "for argv in (['train', 'mnist', '--help'], ['generate', '--help']):\n"
            "    try:\n        p.parse_args(argv)\n    except SystemExit:\n        pass\n"
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr


@pytest.mark.parametrize("argv, expected", [
    (["train", "mnist", "--epochs", "0"], "epochs must be a positive integer, got 0"),
    (["train", "mnist", "--dropout", "1.5"], r"dropout keep probability must be in (0, 1]"),
    (["train", "series", "--devices", "/cpu:0,/cpu:1"], "2 devices given for 1 layer(s)"),
    (["train", "mnist", "--device", "gpu0"], "unknown device 'gpu0'"),
    (["train", "mnist", "--cell", "lstmm"], "invalid choice: 'lstmm'"),
    (["generate", "--from", "x", "--seed-sequence", "ones"], "invalid choice: 'ones'"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, expected):
    assert main(argv) == 2
    assert expected in _one_error_line(capsys)


@pytest.mark.tf
def test_a_missing_gpu_exits_1_listing_the_devices_present(tmp_path, capsys):
    assert main(["train", "mnist", "--device", "/gpu:0", "--offline",
                 "--out", str(tmp_path / "run")]) == 1
    line = _one_error_line(capsys)
    assert "device /gpu:0 is not available here (devices present: /device:CPU:0" in line
    assert not (tmp_path / "run").exists()


@pytest.mark.tf
def test_a_corrupted_data_file_exits_1_naming_it(tmp_path, capsys):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["train", "mnist", "--data", str(bad), "--out", str(tmp_path / "run")]) == 1
    assert f"{bad}: not a readable .npz archive" in _one_error_line(capsys)


@pytest.mark.tf
def test_series_train_resume_and_generate_through_the_cli(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "series", *TINY_SERIES, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "iteration    20/20  MSE" in out and f"wrote {run}" in out
    assert "(metrics.json, loss-curve.png, test-window.png, checkpoints)" in out
    assert (run / "loss-curve.png").stat().st_size > 1000

    assert main(["train", "series", "--out", str(run)]) == 1  # a new run never overwrites
    assert "already holds a run; pass --resume" in _one_error_line(capsys)
    assert main(["train", "series", "--resume", str(run), "--neurons", "9"]) == 2
    assert "--neurons 9 differs from its 8" in _one_error_line(capsys)
    assert main(["train", "mnist", "--resume", str(run)]) == 2
    assert "is a `train series` run" in _one_error_line(capsys)

    assert main(["train", "series", "--resume", str(run), "--iterations", "30"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert [row["iteration"] for row in metrics["history"]] == [1, 20, 30]
    assert metrics["config"]["iterations"] == 30 and metrics["status"] == "done"
    capsys.readouterr()

    assert main(["generate", "--from", str(run), "--steps", "12", "--out", str(tmp_path / "gen")]) == 0
    lines = (tmp_path / "gen" / "generated-zeros.csv").read_text().splitlines()
    assert lines[0] == "step,value,source" and len(lines) == 1 + 20 + 12
    assert (tmp_path / "gen" / "generated-zeros.png").stat().st_size > 1000


@pytest.mark.tf
def test_generate_needs_a_series_run(tmp_path, capsys):
    assert main(["generate", "--from", str(tmp_path / "nowhere")]) == 1
    assert "metrics.json: no such file" in _one_error_line(capsys)
    (tmp_path / "mnist").mkdir()
    config = {"program": "mnist", "epochs": 1}
    (tmp_path / "mnist" / "metrics.json").write_text(json.dumps({"config": config}))
    assert main(["generate", "--from", str(tmp_path / "mnist")]) == 2
    assert "needs a `train series` run" in _one_error_line(capsys)


@pytest.mark.tf
@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "rnngraph", "train", "series", "--neurons", "8",
         "--iterations", "1000000", "--out", str(run)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().startswith("running: dynamic_rnn graph, XLA off")
        first = child.stdout.readline()  # the line of iteration 1: the loop is running
        assert first.startswith("iteration     1/1000000"), first + child.stderr.read()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert err.strip().splitlines() == [
        "rnngraph: stopping after this step to save a checkpoint (Ctrl-C again stops at once, "
        "keeping the last complete checkpoint)",
        f"rnngraph: interrupted; checkpoint saved in {run / 'checkpoints'} "
        f"(continue with: rnngraph train series --resume {run})"]
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["iteration"] > 1
    assert json.loads((run / "metrics.json").read_text())["status"] == "interrupted"
    assert np.isfinite(state["seconds"])
    assert Path(run / "checkpoints" / f"{state['checkpoint']}.index").is_file()
