"""The terminal sink: every line rnngraph writes to stdout or stderr as text passes here.

A graph file's names reach the terminal in summaries, explanations, tables and error lines.
Its control characters (ESC, BEL, the C1 controls 0x80-0x9f such as 0x9b, the one-byte CSI,
NUL, VT, FF, CR), lone surrogates and the bidirectional overrides would move the cursor,
retitle the window or reorder the line; they are shown as visible symbols instead.  Each other
sink has its own sanitiser: DOT, SVG and HTML ``draw.statements`` (``bounded_text``, ``dot_quote``,
``html_escape``), JSON ``json.dumps`` (which escapes every control character).
"""

from __future__ import annotations

import io
import re

__all__ = ["terminal_text", "TerminalStream", "guard"]

# C0 controls but tab and newline -> the Unicode control pictures (U+2400 + code); DEL -> U+2421.
_TABLE = {code: chr(0x2400 + code) for code in range(32) if code not in (9, 10)}
_TABLE[0x7F] = "\u2421"
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0)})  # C1: 0x9b is a CSI by itself
# Line and paragraph separators, bidirectional embeddings, overrides and isolates.
_TABLE.update({code: "\ufffd" for code in (0x2028, 0x2029, *range(0x202A, 0x202F),
                                          *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)})
_SURROGATES = re.compile("[\ud800-\udfff]")


def terminal_text(text) -> str:
    """Return ``text`` safe to print on a terminal: no control sequence of a file survives."""
    return _SURROGATES.sub("\ufffd", str(text).translate(_TABLE))


class TerminalStream(io.TextIOBase):
    """A text stream that writes through :func:`terminal_text` to the stream it wraps.

    ``raw`` is the wrapped stream, for rnngraph's own control sequences (a progress line's
    ``\\r\\033[K``); ``buffer`` and ``fileno`` pass through (drawings written as bytes).
    """

    def __init__(self, raw):
        super().__init__()
        self.raw = raw

    def write(self, text) -> int:
        self.raw.write(terminal_text(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def buffer(self):
        return self.raw.buffer

    @property
    def encoding(self):
        return getattr(self.raw, "encoding", "utf-8")


def guard(stream):
    """Return ``stream`` wrapped in a :class:`TerminalStream` (once)."""
    return stream if isinstance(stream, TerminalStream) else TerminalStream(stream)
