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
    A note wraps its text by length, so the counter's width moves line breaks: those are
    compared as spaces.
    """
    return re.sub(r"(_while_(?:body|cond))_\d+", r"\1_N", dot).replace("\\n", " ")


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


def test_every_topic_figure_fits_a_slide_and_the_readme_says_each_size():
    from rnngraph.gallery import SLIDE, SLIDE_TEXT_PX, slide_text, svg_size

    readme = (GALLERY / "README.md").read_text(encoding="utf-8")
    too_big = []
    for figure in FIGURES:
        svg = (GALLERY / f"{figure.name}.svg").read_text(encoding="utf-8")
        width, height, font = svg_size(svg)
        scale = min(1.0, SLIDE[0] / width, SLIDE[1] / height)
        assert font >= SLIDE_TEXT_PX, (figure.name, font)  # at full size, every text is legible
        if figure.slide and font * scale < SLIDE_TEXT_PX:
            too_big.append((figure.name, round(width), round(height), round(font * scale, 1)))
        assert slide_text(svg) in readme, figure.name
    assert sum(f.slide for f in FIGURES) >= 10
    assert too_big == [], too_big  # every topic view, the loops' and the TensorArrays' too


def test_svg_size_reads_pt_as_px_at_96_dpi():
    from rnngraph.gallery import slide_text, svg_size

    svg = '<svg width="720pt" height="405pt"><text font-size="9.00">a</text><text font-size="10.00">b</text>'
    assert svg_size(svg) == (960.0, 540.0, 12.0)
    assert slide_text(svg) == "960×540 px: fits a 1920×1080 slide with text of 12 px or more."
    big = '<svg width="2880pt" height="405pt"><text font-size="10.00">b</text>'
    assert "smallest text would be 7 px" in slide_text(big)
