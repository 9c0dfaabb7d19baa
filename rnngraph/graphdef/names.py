"""Node keys as people read them: ``rnn/while ▸ body ▸ basic_rnn_cell/MatMul``.

:func:`walk` keys a node of an expanded function body under its caller with rnngraph's reserved
``::`` (``rnn/while/body::/basic_rnn_cell/MatMul``; a result ``…/body::/::retval_add``).  Those
keys stay in data (JSON, DOM ids); text shown to people shows :func:`display_name` instead: the
caller, the function's role and the node's own name, joined by " ▸ " (a result is
``result add``; the spaces are no-break spaces).  No TensorFlow name holds "▸" or a space, so
the form never collides with a real name, and :func:`key_of` turns it back into the key.
"""

from __future__ import annotations

import re

from .walk import RESERVED

__all__ = ["display_name", "display_text", "key_of", "SEPARATOR"]

# No-break spaces: a line wrapped by words never splits a name.
SEPARATOR = "\u00a0▸\u00a0"
_RESULT_WORD = "result\u00a0"
_RESULT = f"{RESERVED}retval_"
_NAME = r"[A-Za-z0-9_.\-/>]"
# A key holding "::": name characters and "::" runs, starting and ending on a name character
# or "::" (``rnn/while/body::/::retval_add``).
_KEY = re.compile(rf"{_NAME}*(?:{re.escape(RESERVED)}{_NAME}*)+")


def display_name(key: str) -> str:
    """Return ``key`` as people read it; a key without ``::`` is returned as it is.

    A node's key gives caller ▸ role ▸ name (an odd number of parts); a function body's own
    scope (``rnn/while/body::``) gives caller ▸ role.
    """
    if RESERVED not in key:
        return key
    parts = []
    rest = key + "/" if key.endswith(RESERVED) else key
    while f"{RESERVED}/" in rest:
        head, _, rest = rest.partition(f"{RESERVED}/")
        caller, _, role = head.rpartition("/")
        parts += [caller, role]
    if rest.startswith(_RESULT):
        rest = _RESULT_WORD + rest[len(_RESULT):]
    if rest:
        parts.append(rest)
    return SEPARATOR.join(parts)


def key_of(shown: str) -> str:
    """Return the key :func:`display_name` showed as ``shown`` (the inverse)."""
    parts = shown.split(SEPARATOR)
    if len(parts) == 1:
        return shown
    last = parts.pop() if len(parts) % 2 else None
    key = "".join(f"{parts[i]}/{parts[i + 1]}{RESERVED}/" for i in range(0, len(parts), 2))
    if last is None:  # a body's own scope
        return key[:-1]
    if last.startswith(_RESULT_WORD):
        last = _RESULT + last[len(_RESULT_WORD):]
    return key + last


def display_text(text: str) -> str:
    """Return ``text`` with every key in it shown by :func:`display_name`."""
    if RESERVED not in text:
        return text
    def shown(match) -> str:
        key = match.group(0)
        stem = key.rstrip(".")  # a sentence's full stop is not part of the key
        return display_name(stem) + key[len(stem):]

    return _KEY.sub(shown, text)
