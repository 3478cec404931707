"""Gates: words one of which every match of a pattern contains, so that a text holding none of
them is passed over without running the pattern.

A gate is derived from the pattern itself (``gate_of``), never written by hand, and the words of
many patterns' gates are found in a text in one scan (``GateWords``): the reasons' patterns
(etl/classify/reasons.py) and the request rules (etl/classify/requests.py) run only where a
gate opens. Tests check on every sample, real letter and row example that a gate never hides a
match.
"""

from __future__ import annotations

import re
import re._constants as _sre  # the parsed form of a pattern, to derive its gate
import re._parser as _sre_parse

from etl.text import trie_pattern


def _alternatives(op: object, av: object) -> tuple[str, ...] | None:
    """The literal prefixes of a mandatory group's alternatives, if every one has one."""
    if op is _sre.SUBPATTERN:
        if av[1] & _sre.SRE_FLAG_IGNORECASE:  # type: ignore[index]
            return None  # (?i:...): its literals may match other cases
        return _gate(list(av[3]))  # type: ignore[index]
    if op is _sre.BRANCH:
        prefixes: list[str] = []
        for branch in av[1]:  # type: ignore[index]
            found = _gate(list(branch))
            if not found:
                return None
            prefixes += found
        return tuple(prefixes)
    if op is _sre.LITERAL:
        return (chr(av),)  # type: ignore[arg-type]
    return None


def _gate(items: list[tuple[object, object]]) -> tuple[str, ...]:
    """Strings one of which any match of the sequence contains: the longest literal run it
    always holds, or the literal prefixes of a mandatory group's every alternative."""
    best: tuple[str, ...] = ()
    run = ""
    candidates: list[tuple[str, ...]] = []
    for op, av in items:
        if op is _sre.LITERAL:
            run += chr(av)  # type: ignore[arg-type]
            continue
        if run:
            candidates.append((run,))
            run = ""
        if op is _sre.AT:
            continue
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:  # type: ignore[index]
            inner = _gate(list(av[2]))  # type: ignore[index]
            if inner:
                candidates.append(inner)
            continue
        found = _alternatives(op, av)
        if found:
            candidates.append(found)
    if run:
        candidates.append((run,))
    for found in candidates:
        # The most selective: the shortest of its strings is the longest.
        if min(map(len, found)) > (min(map(len, best)) if best else 0):
            best = found
    return best


def gate_of(pattern: str) -> tuple[str, ...]:
    """Words one of which every match of ``pattern`` contains (``()`` when none is certain).

    None from a part of a pattern that ignores case (``(?i)``, ``(?i:...)``): its literals
    match other cases, some of which ``str.lower`` does not make (the long s, the Kelvin
    sign), so no word of the text as written is certain."""
    parsed = _sre_parse.parse(pattern)
    if not parsed or parsed.state.flags & _sre.SRE_FLAG_IGNORECASE:
        return ()
    return tuple(sorted(set(_gate(list(parsed)))))


def opens(gate: frozenset[str] | tuple[str, ...], words: set[str]) -> bool:
    """Whether a pattern of ``gate`` may match a text holding the gate words ``words``
    (``GateWords.found_in``): no gate, or one of its words there."""
    return not gate or not words.isdisjoint(gate)


class GateWords:
    """Which of some patterns' gate words a text holds, found in one scan of it.

    Tested word by word for each pattern, the reasons' gates cost a real letter more than its
    patterns did (most sentences of real letters are new to the cache): about 25 µs a sentence,
    against 10 for this scan (docs/benchmarks.md, stop 52). The words make a trie whose regular
    expression (``trie_pattern``), tried at every position (a lookahead), matches there the
    longest word that begins there; a word found holds every shorter one it begins with, which
    are found with it. So every word that occurs is found. Linear in the text: a position is
    tried for at most the longest word's length."""

    def __init__(self, words: set[str]) -> None:
        self.regex = re.compile(f"(?=({trie_pattern(words)}))") if words else None
        # Each word's own prefixes among the words, itself included.
        self.within = {
            w: frozenset(w[:n] for n in range(1, len(w) + 1) if w[:n] in words) for w in words
        }

    def found_in(self, text: str) -> set[str]:
        found: set[str] = set()
        if self.regex is not None:
            for word in {match[1] for match in self.regex.finditer(text)}:
                found |= self.within[word]
        return found
