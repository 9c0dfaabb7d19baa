"""An explanation as text for a terminal, as Markdown, or as JSON."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from dataclasses import asdict

from ..graphdef.names import display_text
from .prose import Explanation

__all__ = ['render_text', 'render_markdown', 'render_json', 'shown']


def _wrap(text: str, width: int, indent: str = "", first: str = "") -> str:
    if text.startswith("    "):
        return text
    return textwrap.fill(text, width=width, initial_indent=first or indent,
                         subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def shown(expl: Explanation) -> Explanation:
    """Return ``expl`` with its text as people read it (function-body keys by their display name).

    The findings keep the keys: they are data.
    """
    def text(item):
        return [display_text(i) for i in item] if isinstance(item, list) else display_text(item)

    sections = [dataclasses.replace(s, title=display_text(s.title),
                                    paragraphs=[text(p) for p in s.paragraphs],
                                    bullets=[text(b) for b in s.bullets]) for s in expl.sections]
    return dataclasses.replace(expl, title=display_text(expl.title), sections=sections)


def render_text(expl: Explanation, width: int = 88) -> str:
    """Return the explanation as plain text for a terminal."""
    expl = shown(expl)
    lines = [expl.title, "=" * min(len(expl.title), width), ""]
    for section in expl.sections:
        lines += [section.title, "-" * len(section.title)]
        for para in section.paragraphs + ([section.bullets] if section.bullets else []):
            if isinstance(para, list):
                lines += [_wrap(b, width, indent="    ", first="  - ") for b in para] + [""]
            else:
                lines += [_wrap(para, width), ""]
    if expl.verify:
        lines += _verify_lines(expl.verify)
    return "\n".join(lines).rstrip() + "\n"


def _verify_lines(result: dict) -> list:
    lines = ["Verify", "------", textwrap.fill(result["summary"], 88, break_on_hyphens=False,
                                               break_long_words=False), ""]
    lines += [f"    {row}" for row in result["rows"]]
    lines += ["", f"largest absolute difference: {result['max_abs_diff']:.3g} "
                  f"({'below' if result['ok'] else 'NOT below'} {result['tolerance']:g})"]
    return lines


def render_markdown(expl: Explanation) -> str:
    """Return the explanation as Markdown."""
    expl = shown(expl)
    lines = [f"# {expl.title}", ""]
    for section in expl.sections:
        lines += [f"## {section.title}", ""]
        for para in section.paragraphs + ([section.bullets] if section.bullets else []):
            if isinstance(para, list):
                lines += [f"- {b}" for b in para] + [""]
            elif para.startswith("    "):
                lines += ["```", textwrap.dedent(para), "```", ""]
            else:
                lines += [para, ""]
    if expl.verify:
        body = _verify_lines(expl.verify)
        lines += ["## Verify", "", body[2], "", "```"] + [r.strip() for r in body[4:-2]] + \
                 ["```", "", f"**{body[-1]}**"]
    return "\n".join(lines).rstrip() + "\n"


def render_json(expl: Explanation) -> str:
    """Return the explanation, its findings and any verification as JSON."""
    return json.dumps(asdict(shown(expl)), indent=2, sort_keys=True, default=str) + "\n"
