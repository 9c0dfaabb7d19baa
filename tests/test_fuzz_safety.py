"""Seeded fuzzing of issue 24's defences: hostile cache entries and the checks `run FILE` makes.

``benchmarks/fuzz_safety.py`` runs thousands of cases the same way.
"""

from __future__ import annotations

import traceback

from fuzzing import cache_cases, cases, exercise_cache, exercise_run_policy
from rnngraph.errors import RnnGraphError


def test_hostile_cache_entries_are_never_served_nor_followed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # restored after exercise_cache sets it
    outcomes = set()
    for number, (label, kind, entry, spec, payload) in enumerate(cache_cases(24, 80)):
        folder = tmp_path / str(number)
        folder.mkdir()
        outcomes.add(exercise_cache(folder, kind, entry, spec, payload).split(":")[0])
    assert outcomes == {"missed"}  # every case was damaged or hostile, and said so


def test_fuzzed_graph_files_only_meet_rnngraph_errors_in_the_run_checks(tmp_path):
    failures, outcomes = [], set()
    for label, data, suffix in cases(2424, 150):
        path = tmp_path / f"case{suffix}"
        path.write_bytes(data)
        try:
            outcomes.add(exercise_run_policy(path))
        except RnnGraphError as exc:
            assert "\n" not in str(exc).strip(), (label, str(exc))
            outcomes.add("refused" if "refusing to run" in str(exc) else "not a graph")
        except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(f"{label}: {type(exc).__name__} at {where.filename}:{where.lineno}")
    assert failures == []
    assert outcomes == {"admitted", "refused", "not a graph"}
