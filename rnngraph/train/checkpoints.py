"""Checkpoints that a kill at any moment cannot damage: write the new set, then move a pointer.

A checkpoint is the variables (``ckpt-<step>.index`` and ``.data-*``, TensorFlow's
format) plus the loop's state.  ``state.json`` is the pointer: it is replaced
atomically (a rename) only once the variables it names are completely written,
and older variable files are removed only after that.  So at every moment
``state.json`` names a complete checkpoint and holds the state that goes with it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Optional

from ..errors import RunDirError
from ..model.tfcompat import tf
from .files import STATE, read_json, write_json

__all__ = ["Checkpoints", "shape_differences"]

PREFIX = "ckpt-"


def shape_differences(saved: dict, wanted: dict) -> list:
    """Return one phrase per variable whose shape differs between ``saved`` and ``wanted``.

    Both map variable names to shapes (lists of ints); a variable missing from
    the checkpoint counts, one only in the checkpoint does not (it is not restored).
    """
    phrases = []
    for name, shape in wanted.items():
        if name not in saved:
            phrases.append(f"{name} {list(shape)} is not in it")
        elif list(saved[name]) != list(shape):
            phrases.append(f"{name} is {list(saved[name])} there but {list(shape)} here")
    return phrases


class Checkpoints:
    """The checkpoints of one run folder's ``checkpoints/`` for one Session."""

    def __init__(self, session, graph, folder: Path):
        self.session = session
        self.graph = graph
        self.folder = Path(folder)
        with graph.as_default():
            # Nothing is deleted by the Saver: old files go only after the pointer moved.
            self.saver = tf().compat.v1.train.Saver(max_to_keep=None, save_relative_paths=True)
            self.variables = tf().compat.v1.global_variables()

    # --- reading -----------------------------------------------------------------------------

    def latest(self) -> Optional[dict]:
        """Return the state of the last complete checkpoint, or None if there is none yet."""
        if not (self.folder / STATE).is_file():
            return None
        return read_json(self.folder / STATE)

    def restore(self, state: dict) -> None:
        """Load the variables of the checkpoint ``state`` names, after checking their shapes."""
        name = str(state.get("checkpoint", ""))
        prefix = self.folder / name
        if not name.startswith(PREFIX) or "/" in name or not Path(f"{prefix}.index").is_file():
            raise RunDirError(f"{self.folder / STATE}: names checkpoint {name!r}, which is not "
                              f"in {self.folder}")
        try:
            saved = tf().compat.v1.train.NewCheckpointReader(str(prefix)).get_variable_to_shape_map()
        except Exception as exc:  # noqa: BLE001 - TF raises several kinds for a damaged file
            raise RunDirError(f"{prefix}: cannot read the checkpoint ({_first_line(exc)})") from None
        wanted = {v.op.name: v.shape.as_list() for v in self.variables}
        differences = shape_differences(saved, wanted)
        if differences:
            more = f"; and {len(differences) - 2} more" if len(differences) > 2 else ""
            raise RunDirError(f"{prefix}: saved for a different model than the config in "
                              f"metrics.json describes: {'; '.join(differences[:2])}{more} "
                              "(was the config edited?)")
        try:
            with self.graph.as_default():
                self.saver.restore(self.session, str(prefix))
        except Exception as exc:  # noqa: BLE001 - TF raises several kinds for a bad checkpoint
            raise RunDirError(f"{prefix}: cannot restore the checkpoint ({_first_line(exc)})") from None

    # --- writing: three steps, each safe to be killed in ---------------------------------------

    def save(self, step: int, state: dict) -> str:
        """Write a checkpoint of the variables at ``step`` with ``state``; return its name."""
        name = f"{PREFIX}{step}"
        current = (self.latest() or {}).get("checkpoint")
        if name != current:  # same step, same variables: the files are already there
            self._write_variables(name)
        self._publish(name, state)
        self.remove_others(keep=name)
        return name

    def _write_variables(self, name: str) -> None:
        with self.graph.as_default():  # outside it, eager mode makes Saver refuse
            self.saver.save(self.session, str(self.folder / name), write_meta_graph=False,
                            write_state=False)

    def _publish(self, name: str, state: dict) -> None:
        write_json(self.folder / STATE, {**state, "checkpoint": name})  # the atomic step

    def remove_others(self, keep: str) -> None:
        """Remove variable files of other checkpoints and leftovers of interrupted writes."""
        for path in self.folder.iterdir():
            mine = path.name.startswith(keep + ".") and ".tempstate" not in path.name
            leftover = path.name.startswith(PREFIX) or (path.name.startswith(f".{STATE}.")
                                                        and path.name.endswith(".tmp"))
            if leftover and not mine:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
