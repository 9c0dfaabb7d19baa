"""The committed gallery is current: each figure's DOT is what its command produces today."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from rnngraph.cli import main
from rnngraph.gallery import FIGURES, GROWTH, GROWTH_RUN, Figure, readme_text
from rnngraph.model.spec import ModelSpec

GALLERY = Path(__file__).resolve().parent.parent / "gallery"
_DEFAULTS = ModelSpec()


def _changed(spec: ModelSpec) -> dict:
    """The fields of ``spec`` that differ from the defaults (the ``built`` fixture's cache key)."""
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
            if getattr(spec, f.name) != getattr(_DEFAULTS, f.name)}


def _same_functions(dot: str) -> str:
    """Blank the counter TensorFlow appends to function names (``rnn_while_body_53``).

    It counts the functions made so far in the process, so it depends on what
    other tests built first; a fresh ``rnngraph gallery`` process always gets the same.
    """
    return re.sub(r"(_while_(?:body|cond))_\d+", r"\1_N", dot)


def test_every_figure_is_committed_with_its_svg_and_readme_entry():
    names = [f.name for f in FIGURES]
    assert len(set(names)) == len(names)
    assert sorted(p.stem for p in GALLERY.glob("*.dot")) == sorted(names), \
        "gallery/ and FIGURES disagree; run `rnngraph gallery --out gallery/`"
    readme = (GALLERY / "README.md").read_text(encoding="utf-8")
    for figure in FIGURES:
        assert (GALLERY / f"{figure.name}.svg").stat().st_size > 1000
        assert f"({figure.name}.svg)" in readme and figure.command in readme
    assert (GALLERY / GROWTH["image"]).exists() and GROWTH["command"] in readme
    assert (GALLERY / GROWTH_RUN["image"]).exists() and GROWTH_RUN["command"] in readme


@pytest.mark.tf
def test_gallery_is_current(built):
    from rnngraph.gallery import figure_dot

    def build(spec):
        return built(**_changed(spec))

    stale = [f.name for f in FIGURES if _same_functions(figure_dot(f, build)[2])
             != _same_functions((GALLERY / f"{f.name}.dot").read_text(encoding="utf-8"))]
    assert stale == [], f"stale gallery figures {stale}: run `rnngraph gallery --out gallery/` " \
                        "and review the diff"


def test_readme_shows_image_caption_and_command():
    figure = Figure("x", "A heading", ("dynamic", "--steps", "2"), "Look here.")
    text = readme_text([(figure, "The caption.")])
    assert "## A heading\n\n![A heading](x.svg)\n\nThe caption.\n\n```\n" \
           "rnngraph render dynamic --steps 2 -o gallery/x.svg\n```" in text


def test_gallery_needs_an_existing_folder(tmp_path, capsys):
    assert main(["gallery", "--out", str(tmp_path / "missing"), "--dot-only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_v2_figures_stand_beside_their_v1_twin():
    names = {f.name: f for f in FIGURES}
    pairs = [(f, names[f.beside]) for f in FIGURES if f.beside]
    assert len(pairs) >= 3
    for v2, v1 in pairs:
        assert "--control-flow" not in v1.args
        assert [a for a in v2.args if a not in ("--control-flow", "v2")] == list(v1.args)
    text = readme_text([(f, "c") for f in FIGURES])
    for v2, v1 in pairs:
        assert f"| ![control flow v1]({v1.name}.svg) | ![{v2.heading}]({v2.name}.svg) |" in text
