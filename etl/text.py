"""Text normalisation shared by parse and classify: the punctuation extractors disagree on.

Curly quotes, primes and the many dashes become their ASCII forms, so that every rendering of a
letter reads the same to the parser and every vocabulary pattern is written for one form only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

PUNCTUATION: dict[str, str] = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2032": "'",
    "\u2013": "-",
    "\u2014": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
}
_SPACE_RE = re.compile(r"\s+")
# The longest text whose reading a per-process cache keeps (etl.classify): a crafted letter of
# long distinct texts must not fill a worker's memory with them.
CACHED_TEXT_CHARS = 1_000

_R = TypeVar("_R")


class TextCache(functools.partial[_R]):
    """``functools.lru_cache`` for a function of a text (its first argument) that keeps no text
    longer than ``CACHED_TEXT_CHARS``: a longer one is read and forgotten. ``cache_info`` and
    ``cache_clear`` are the cache's; ``__wrapped__`` the function.

    A ``functools.partial`` of the test and the cache, so that a call goes through C to them:
    a class's own ``__call__`` cost a fifth more a call, tens of calls a letter."""

    cache_info: Callable[[], Any]
    cache_clear: Callable[[], None]

    def __new__(cls, function: Callable[..., _R], maxsize: int) -> TextCache[_R]:
        cached = functools.lru_cache(maxsize=maxsize)(function)

        def call(text: str, *args: Any) -> _R:
            if len(text) <= CACHED_TEXT_CHARS:
                return cached(text, *args)
            return function(text, *args)

        self = super().__new__(cls, call)
        self.cache_info = cached.cache_info
        self.cache_clear = cached.cache_clear
        functools.update_wrapper(self, function)
        return self


def cached_text(maxsize: int) -> Callable[[Callable[..., _R]], TextCache[_R]]:
    """Decorate a function of a text with a ``TextCache`` of ``maxsize`` entries."""
    return lambda function: TextCache(function, maxsize)


Replacements = tuple[tuple[str, str], ...]


def replacements(table: Mapping[str, str | None]) -> Replacements:
    """``table`` (one character -> its replacement, None to delete) for ``replace_chars``.

    Only for tables whose replacements hold none of the characters replaced: then replacing one
    character after another gives what ``str.translate`` gives (checked here).
    """
    pairs = tuple((old, new or "") for old, new in table.items())
    if any(len(old) != 1 or old in new for old, _ in pairs for _, new in pairs):
        raise ValueError("a replacement holds a character that is replaced")
    return pairs


def replace_chars(text: str, pairs: Replacements) -> str:
    """``text.translate(str.maketrans(table))`` for ``pairs = replacements(table)``, but fast.

    ``str.translate`` with a dict raises and clears a ``KeyError`` inside for each character the
    table lacks (every character of a non-ASCII text): 0.5 ms for a 5 kB letter, measured. A
    ``str.replace`` per character present costs microseconds.
    """
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


_PUNCTUATION_PAIRS = replacements(PUNCTUATION)


def fold_punctuation(text: str) -> str:
    """``text`` with ``PUNCTUATION`` made ASCII (an ASCII text comes back as it is)."""
    return text if text.isascii() else replace_chars(text, _PUNCTUATION_PAIRS)


# The characters other than ASCII letters that Python's IGNORECASE matches with an ASCII letter
# (dotted capital I, dotless i, long s, the Kelvin sign): the only ones, too, that str.lower()
# makes longer or ASCII (checked over every code point: tests/test_fast_paths.py).
CASE_SPECIALS = "\u0130\u0131\u017f\u212a"


def lowers_in_place(text: str) -> bool:
    """Whether ``text.lower()`` keeps every character's place and makes an ASCII letter of no
    other character, and IGNORECASE matches an ASCII letter with an ASCII letter only: then
    ASCII words found in the lower-cased text are where an IGNORECASE pattern of them finds
    them."""
    return text.isascii() or not any(special in text for special in CASE_SPECIALS)


def lowered_pattern(source: str) -> str:
    """``source``, a regular expression, with its letters lower-cased but for escapes
    (``\\S``, ``\\B`` ...) and group names: run without IGNORECASE on a lower-cased text that
    ``lowers_in_place``, it finds what ``source`` finds with IGNORECASE in the text
    (``CasePattern``). For patterns whose letters are ASCII and that spell no letter by an
    escape (``\\x41``)."""
    out: list[str] = []
    at = 0
    while at < len(source):
        char = source[at]
        if char == "\\":
            out.append(source[at : at + 2])
            at += 2
        elif source.startswith(("(?P<", "(?P="), at):
            end = source.index(">" if source[at + 3] == "<" else ")", at)
            out.append(source[at : end + 1])
            at = end + 1
        else:
            out.append(char.lower())
            at += 1
    return "".join(out)


class CasePattern:
    """A pattern matched as with IGNORECASE, but without it where that finds the same: on the
    lower-cased text of a text that ``lowers_in_place`` (nearly every one). IGNORECASE makes
    the engine try every letter of the pattern at every position; without it, it scans for
    the letters a match can begin with. A match's spans are the text's either way; its
    groups' text is lower case in the one form: read them from the text by their spans."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self.ignorecase = re.compile(source, flags | re.IGNORECASE)
        self.lowered = re.compile(lowered_pattern(source), flags)

    def prepared(self, text: str) -> tuple[re.Pattern[str], str]:
        """The compiled pattern to run, and the text to run it on, for ``text``."""
        if lowers_in_place(text):
            return self.lowered, text.lower()
        return self.ignorecase, text

    def search(self, text: str) -> re.Match[str] | None:
        pattern, searched = self.prepared(text)
        return pattern.search(searched)


def plain(text: str) -> str:
    """ASCII quotes and dashes, single spaces, trimmed: the form vocabularies are written for."""
    return _SPACE_RE.sub(" ", fold_punctuation(text)).strip()


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, the longest where several begin at one
    place (and, should what follows it fail, the next longest).

    The words' trie, each character's branch once: the engine tries a place by its next
    character, not word by word (an alternation of 936 drug names sorted longest first took
    33 µs a request, this 1.8: docs/benchmarks.md, stop 52). A word's end makes the rest of
    its branch optional, greedy: the longer word first."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def expression(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + expression(node[char]) for char in sorted(node) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return expression(root)
