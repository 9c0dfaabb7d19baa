"""The parts every explanation is made of: sections, and how numbers and shapes are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..recognise import Cell

__all__ = ['Section', 'Explanation', 'dims', 'num', 'cols', 'kernel_text']


@dataclass
class Section:
    """One titled part of an explanation.

    A paragraph starting with four spaces is kept as typed (equations, tables); a
    paragraph that is a list is a bullet list at that place; ``bullets`` come last.
    """

    title: str
    paragraphs: list = field(default_factory=list)
    bullets: list = field(default_factory=list)


@dataclass
class Explanation:
    topic: str
    title: str
    spec: dict
    sections: list
    findings: dict
    verify: Optional[dict] = None


def dims(shape) -> str:
    if shape is None:
        return "?"
    return " × ".join("m" if d is None else str(d) for d in shape) if shape else "scalar"


def num(value: float) -> str:
    """Return a float as written in code: 1.0, 0.5, 1e-05."""
    return repr(float(value))


def cols(start: int, count: int) -> str:
    return f"columns {start}–{start + count - 1}"


def kernel_text(cell: Cell) -> str:
    shape = cell.kernel_shape
    return f"({shape[0]}, {shape[1]})" if shape and len(shape) == 2 else "(shape not recorded)"
