"""Text bound for a terminal, made safe to print: control characters shown, never obeyed.

Warehouse values come from letters and file names, which anyone can craft. Printed raw, an
ESC or C1 sequence would be obeyed by the terminal: ``\\x1b[2J`` clears the screen,
``\\x1b]0;…\\x07`` sets the window title, ``\\x1b]52;c;…\\x07`` writes the clipboard. Every
terminal line the ``imr`` command prints from such data goes through `printable` first.
"""

from __future__ import annotations

import os
import re

# C0 (U+0000-U+001F, newline and tab included: layout is ours, never the data's), DEL and C1
# (U+007F-U+009F), the line/paragraph separators, the bidirectional overrides and isolates
# (which can make a line display as something it is not), and lone surrogates: Python decodes
# file-name bytes that are not UTF-8 to U+DC80-U+DCFF ("surrogateescape"), unprintable as is.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str | os.PathLike[str]) -> str:
    """``text`` with every control character escaped: one line, safe for any terminal.

    ESC becomes ``\\x1b``, a newline ``\\n``, a C1 CSI ``\\x9b``, an undecodable file-name byte
    ``\\xff``; everything else (accents, CJK, emoji) is left as it is. The result never holds a
    character a UTF-8 terminal would obey, and encodes to UTF-8 without error.
    """
    return _UNSAFE.sub(_escape, os.fspath(text))
