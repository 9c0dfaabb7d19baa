"""Seeded fuzzing of graph files (issue 12): only rnngraph's own errors may come out.

Structure-aware mutations of the fixture GraphDefs plus byte-level mutations of their binary and
text forms (see tests/fuzzing.py) go through load -> walk -> recognise -> layout -> DOT -> HTML.
``benchmarks/fuzz.py`` runs thousands of cases the same way.
"""

from __future__ import annotations

import traceback

import pytest

from fuzzing import cases, exercise, tflite_cases, tflite_graph_def_cases
from rnngraph.errors import RenderError, RnnGraphError

CASES = 250


def _failures(tmp_path, seed: int, count: int, run_dot: bool = False, mode: str = "graph",
              make=None) -> list:
    failures = []
    made = make(seed, count) if make is not None else cases(seed, count, mode)
    for label, data, suffix in made:
        path = tmp_path / f"case{suffix}"
        path.write_bytes(data)
        try:
            exercise(path, run_dot=run_dot)
        except RenderError as exc:  # Graphviz refused the DOT rnngraph wrote: a bug too
            failures.append(f"{label}: {exc}")
        except RnnGraphError as exc:
            assert "\n" not in str(exc).strip(), (label, str(exc))
        except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(f"{label}: {type(exc).__name__} at {where.filename}:{where.lineno}: "
                            f"{str(exc)[:200]}")
    return failures


def test_fuzzed_graph_files_raise_only_rnngraph_errors(tmp_path):
    assert _failures(tmp_path, seed=12, count=CASES) == []


@pytest.mark.dot
def test_fuzzed_graph_files_draw_with_graphviz(tmp_path):
    assert _failures(tmp_path, seed=1212, count=8, run_dot=True) == []


def test_fuzzed_function_libraries_raise_only_rnngraph_errors(tmp_path):
    """Issue 24: libraries that call themselves, fan out, collide with top-level names; every
    node counted, expansion within the budget (fuzzing.check_counts)."""
    assert _failures(tmp_path, seed=24, count=120, mode="library") == []


def test_the_cases_are_the_same_for_the_same_seed():
    first = [data for _, data, _ in cases(7, 20)]
    assert first == [data for _, data, _ in cases(7, 20)]
    assert len(set(first)) > 10  # and they differ from each other


def test_fuzzed_tflite_files_raise_only_rnngraph_errors(tmp_path):
    assert _failures(tmp_path, seed=21, count=150, make=tflite_cases) == []


def test_fuzzed_graph_defs_with_litert_attributes_raise_only_rnngraph_errors(tmp_path):
    assert _failures(tmp_path, seed=2121, count=120, make=tflite_graph_def_cases) == []


def test_fuzzed_checkpoints_raise_only_rnngraph_errors(tmp_path):
    """The diff's SavedModel weight reader on mutated variables.index / data shards."""
    from fuzzing import checkpoint_cases, exercise_checkpoint

    failures, read = [], 0
    for number, (label, files) in enumerate(checkpoint_cases(31, 80)):
        try:
            read += bool(exercise_checkpoint(tmp_path / str(number), files))
        except RnnGraphError as exc:
            assert "\n" not in str(exc).strip(), (label, str(exc))
        except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(f"{label}: {type(exc).__name__} at {where.filename}:{where.lineno}: {exc}")
    assert failures == []
    assert read > 0  # some mutations (in the data) still read: the reader was reached
