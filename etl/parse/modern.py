"""Layouts B (2014-15) and B2 (2016+, with the case header block).

The letter is a run of headed sections; the items section is a sequence of
``<request>: Upheld`` followed by the three labelled fields. Nothing marks where one item's
rationale ends and the next request begins, so requests are found from their decision line
backwards (see ``_request_start``).
"""

from __future__ import annotations

import bisect
import collections
import re

from etl.model import Decision, Letter, LetterError
from etl.parse.common import (
    DATE,
    join_lines,
    parse_date,
    set_case_summary,
)
from etl.text import CasePattern, lowers_in_place

_HOW_MADE = "HOW THE IMR FINAL DETERMINATION WAS MADE"
_CREDENTIALS = re.compile(r"^The Expert Reviewer has the following credentials", re.I)
_STATES = re.compile(r"^State\(?s?\)?\s*of\s*Licensure\s*:\s*(.*)$", re.I)
_SPECIALTY = re.compile(r"^Certification\(?s?\)?\s*/\s*Specialt(?:y|ies)\s*:\s*(.*)$", re.I)
_SUMMARY = "CLINICAL CASE SUMMARY"
_SUMMARY_PREAMBLE = re.compile(
    r"^The expert reviewer developed the following clinical case summary based on a review of"
    r" the case file, including all medical records:?\s*",
    re.I,
)
_ISSUES = re.compile(r"^IMR ISSUES,? DECISIONS,? AND RATIONALES?$", re.I)
# The lengths of a line it can match: 34 characters, and two commas, an S and a final newline.
_ISSUES_LENGTHS = range(34, 39)

# The three labelled fields of an item, in letter order.
# Each alternation written once, composed below.
_FIELDS = r"Claims Administrator guideline|MAXIMUS guideline|Decision rationale"
_DECISIONS = r"Upheld|Overturned"
# Verdict words a rationale may end on without a full stop.
_VERDICT_WORDS = r"necessary|appropriate|established|indicated|supported|warranted|recommended"

_FIELD = re.compile(rf"({_FIELDS})\s*:", re.I)
# The same labels, lower-cased, for an ASCII text (see _split_fields), and what follows one
# (matched where a label ends: the lookbehind keeps a search linear in a run of spaces).
_FIELD_LABELS = tuple(_FIELDS.lower().split("|"))
_COLON_AFTER = re.compile(r"(?<!\s)\s*+:")
_FIELD_LINE = re.compile(rf"^(?:{_FIELDS})\s*:", re.I)
_DECISION_END = re.compile(rf"(?:^|[\s:,])({_DECISIONS})\.?$", re.I)
# The decision and the separators before it (": Upheld", " is: Overturned"). Written to run in
# linear time: a match may only begin where a run of separators begins (the lookbehind), and
# each run is taken whole (possessive), so a request padded with thousands of colons or spaces
# is not split every possible way at every position. It finds the same, leftmost, match as
# ``[\s,:]*(?:\bis\b)?[\s:]*\b(Upheld|Overturned)\.?$`` did.
_DECISION_SUFFIX = re.compile(
    rf"(?<![\s,:])(?:[\s,:]*+\bis\b[\s:]*+|[\s,:]*+)\b({_DECISIONS})\.?$", re.I
)
# A rationale's last line: a finished sentence, or the verdict phrase some reviewers leave bare.
_SENTENCE_END = re.compile(rf"(?:[.!?;]['\")\]]?|\b(?:{_VERDICT_WORDS}))$", re.I)
# Where a search for it starts, before the end of the text (then from the start if needed:
# _decision_suffix).
DECISION_REACH = 24

# Some extractors glue a rationale's last sentence to the next request on one line
# ("...medically necessary and appropriate.Retrospective Norco 10/325mg #180: Upheld").
_GLUED_REQUEST = re.compile(
    rf"^(?P<rationale>.*(?:\b(?:{_VERDICT_WORDS})\s*\.['\"]?\s*|[a-z)]\.['\"]?))"
    rf"(?P<request>[A-Z0-9][^.]*(?:{_DECISIONS})\.?)$"
)

# The original request ends at the first "was the original request." (an atomic group: when
# the rest fails from there it fails from any later one too, so trying each would only make a
# request repeating the phrase quadratic).
_PARTIAL_AUTHORIZED = re.compile(
    r"^(?>(?P<original>.+?) was the original request\.\s*+)(?P<authorized>.+?) was authorized by"
    r" the Claims Administrator\.\s*+The remaining IMR eligible portion of the original request"
    r"(?:\s*+,|\s++is)?\s*+(?P<request>.+)$",
    re.I,
)
_PARTIAL_LEAVING = re.compile(
    r"^(?>(?P<original>.+?) was the original request\.\s*+The Claims Administrator authorized )"
    r"(?P<authorized>.+?),? leaving the original request IMR eligible\.\s*+The original request"
    r"(?:\s*+,|\s++is)?\s*+(?P<request>.+)$",
    re.I,
)

# Header labels and the kind of value each takes; extractors print them as "Label: value" pairs
# or as a column of labels followed by a column of values, so values are dealt out in order.
_HEADER_LABELS = {
    "case number": "case",
    "date assigned": "date",
    "decision date": "date",
    "priority": "priority",
    "date of injury": "date",
    "ur denial date": "date",
    "application received": "date",
}
# Matched as with IGNORECASE (etl.text.CasePattern: a value's text is read from the header).
_HEADER_TOKEN = CasePattern(
    r"(?P<label>Case\s+Number|Date\s+Assigned|Decision\s+Date|Priority|Date\s+of\s+Injury"
    r"|UR\s+Denial\s+Date|Application\s+Received)\s*:"
    rf"|(?P<case>\b[A-Z]{{2}}\d{{2}}-\d{{7}}\b)|(?P<date>{DATE})"
    r"|(?P<priority>\b(?:Standard|Expedited|Urgent)\b)"
)


def looks_modern(lines: list[str]) -> bool:
    head = lines[:120]
    return any(line.upper().startswith(_HOW_MADE) for line in head) or any(
        _is_issues(line) for line in lines
    )


def parse_modern(lines: list[str]) -> Letter:
    issues_at, how_at, summary_at = _headings(lines)
    if issues_at is None:
        raise LetterError("missing_section", "no 'IMR ISSUES, DECISIONS AND RATIONALES' section")

    header = _parse_header(lines[: how_at if how_at is not None else 0])
    letter = Letter(layout="B2" if header.get("case number") else "B")
    letter.case_number = header.get("case number")
    letter.decision_date = parse_date(header.get("decision date"))
    letter.date_assigned = parse_date(header.get("date assigned"))
    letter.ur_denial_date = parse_date(header.get("ur denial date"))
    letter.application_received = parse_date(header.get("application received"))
    letter.priority = header.get("priority")

    credentials_end = summary_at if summary_at is not None else issues_at
    _parse_credentials(lines[:credentials_end], letter)

    if summary_at is not None:
        summary = _SUMMARY_PREAMBLE.sub("", join_lines(lines[summary_at + 1 : issues_at]))
        set_case_summary(letter, summary)
    # The header's date of injury, where printed, is authoritative.
    letter.injury_date = parse_date(header.get("date of injury")) or letter.injury_date

    letter.items = _parse_items(lines[issues_at + 1 :])
    if not letter.items:
        raise LetterError("no_items", "the issues section lists no decided item")
    return letter


def _is_issues(line: str) -> bool:
    """``_ISSUES.match(line)``, the pattern tried only on lines of its lengths (with IGNORECASE a
    character matches one character): it runs on every line of a letter."""
    return len(line) in _ISSUES_LENGTHS and _ISSUES.match(line) is not None


def _headings(lines: list[str]) -> tuple[int | None, int | None, int | None]:
    """The first line of the issues heading, of the how-made one and of the case summary's
    (None where there is none), in one pass: three scans, each calling a test per line, took
    a tenth of parsing a letter. The how-made and summary tests read a line's upper case,
    made once."""
    issues = how = summary = None
    for index, line in enumerate(lines):
        if issues is None and _is_issues(line):
            issues = index
        if how is None or summary is None:
            upper = line.upper()
            if how is None and upper.startswith(_HOW_MADE):
                how = index
            if summary is None and upper == _SUMMARY:
                summary = index
        elif issues is not None:
            break
    return issues, how, summary


def _find(lines: list[str], test: object) -> int | None:
    for index, line in enumerate(lines):
        if test(line):  # type: ignore[operator]
            return index
    return None


class _Pending:
    """Labels waiting for a value, in order; every operation in constant time.

    A list did the same, but ``remove`` and ``pop(0)`` on it made a header of thousands of labels
    quadratic. Removed entries are only marked and skipped when an end is popped.
    """

    def __init__(self) -> None:
        self._entries: collections.deque[tuple[int, str]] = collections.deque()
        self._live: dict[str, collections.deque[int]] = {}  # label -> its entries, in order
        self._removed: set[int] = set()
        self._count = 0
        self._next = 0

    def __bool__(self) -> bool:
        return self._count > 0

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and bool(self._live.get(label))

    def append(self, label: str) -> None:
        self._entries.append((self._next, label))
        self._live.setdefault(label, collections.deque()).append(self._next)
        self._next += 1
        self._count += 1

    def remove(self, label: str) -> None:
        """Remove the first entry of ``label``."""
        self._removed.add(self._live[label].popleft())
        self._count -= 1

    def pop(self, first: bool = False) -> str:
        """Remove and return the last entry (the first one with ``first``)."""
        while True:
            number, label = self._entries.popleft() if first else self._entries.pop()
            if number in self._removed:
                self._removed.discard(number)
                continue
            if first:
                self._live[label].popleft()
            else:
                self._live[label].pop()
            self._count -= 1
            return label


def _parse_header(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    pending = {"case": _Pending(), "date": _Pending(), "priority": _Pending()}
    text = "\n".join(lines)
    previous_label: str | None = None
    previous_end = 0
    pairs = False
    pattern, searched = _HEADER_TOKEN.prepared(text)
    for token in pattern.finditer(searched):
        # The one group of the four that matched (none of them can match empty, and DATE
        # holds no group of its own).
        kind = token.lastgroup
        if kind == "label":
            label = " ".join(token["label"].lower().split())
            if label not in found:
                pending[_HEADER_LABELS[label]].append(label)
            previous_label, previous_end = label, token.end()
            continue
        assert kind is not None
        queue = pending[kind]
        # "Label: value" pairs (pypdf, pdfium): a value on its label's line is that label's, and
        # one on a later line belongs to the latest label still waiting, so a label printed
        # without a value shifts nothing. A column of labels then a column of values
        # (pdftotext): values are dealt out to the labels in order.
        if (
            previous_label is not None
            and previous_label in queue
            and "\n" not in text[previous_end : token.start()]
        ):
            label = previous_label
            queue.remove(label)
            pairs = True
        elif queue:
            label = queue.pop(first=not pairs)
        else:
            continue
        found[label] = text[token.start(kind) : token.end(kind)].strip()
        previous_label = None
    if "priority" in found:
        found["priority"] = found["priority"].capitalize()
    return found


def _parse_credentials(lines: list[str], letter: Letter) -> None:
    start = _find(lines, lambda line: bool(_CREDENTIALS.match(line)))
    if start is None:
        return
    states: list[str] = []
    specialties: list[str] = []
    current: list[str] | None = None
    for line in lines[start + 1 :]:
        if match := _STATES.match(line):
            current = states
            line = match[1]
        elif match := _SPECIALTY.match(line):
            current = specialties
            line = match[1]
        if current is not None and line:
            # A wrapped specialty line continues the previous one ("Public Health &" / ...).
            current.append(line)
    letter.reviewer_states_raw = join_lines(states) or None
    letter.reviewer_specialties_raw = join_lines(specialties) or None


def _parse_items(lines: list[str]) -> list[Decision]:
    lines = _drop_preamble(lines)
    # Whether each line opens a labelled field, tested once for the passes below.
    fields = [_FIELD_LINE.match(line) is not None for line in lines]
    lines, fields = _split_glued_requests(lines, fields)
    decision_lines = _decision_lines(lines, fields)
    if not decision_lines:
        return []
    # Every labelled-field line, found once: scanning the rest of the letter again for each item
    # made a letter of thousands of items quadratic.
    field_lines = [i for i, is_field in enumerate(fields) if is_field]
    starts: list[int] = []
    lower = 0
    for n, at in enumerate(decision_lines):
        start = lower if n == 0 else _request_start(lines, at, lower)
        starts.append(start)
        # The next request cannot begin before this item's rationale has its first line: the
        # line after the item's last labelled field before the next decision line.
        next_at = decision_lines[n + 1] if n + 1 < len(decision_lines) else len(lines)
        last = bisect.bisect_left(field_lines, next_at) - 1
        lower = field_lines[last] + 1 if last >= 0 and field_lines[last] > at else at + 1

    items = []
    for n, (start, at) in enumerate(zip(starts, decision_lines, strict=True)):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        items.append(_parse_item(n + 1, lines[start : at + 1], lines[at + 1 : end]))
    return items


_PREAMBLE = (
    "the final determination was based on decisions for the disputed items/services set forth below"
)


def _drop_preamble(lines: list[str]) -> list[str]:
    """Lines after the fixed 'The Final Determination was based on ...' sentence, which may
    wrap anywhere or lose its colon."""
    text = ""
    for index, line in enumerate(lines[:4]):
        text = f"{text} {line.lower()}".strip()
        if text.rstrip(": ") == _PREAMBLE:
            return lines[index + 1 :]
        if not _PREAMBLE.startswith(text):
            return lines[index:]
    return lines


# What a line glued to a request ends with (_GLUED_REQUEST, case-sensitive): a line that does
# not is not tried against the pattern, which backtracks over the whole line.
_GLUED_ENDINGS = ("Upheld", "Upheld.", "Overturned", "Overturned.")


def _split_glued_requests(lines: list[str], fields: list[bool]) -> tuple[list[str], list[bool]]:
    """The lines with glued requests split off, and which of them open a labelled field."""
    split: list[str] = []
    split_fields: list[bool] = []
    for i, line in enumerate(lines):
        next_is_field = i + 1 < len(lines) and fields[i + 1]
        # ``$`` also matches before a final newline: the test allows for one.
        glued = next_is_field and line.removesuffix("\n").endswith(_GLUED_ENDINGS)
        match = _GLUED_REQUEST.match(line) if glued else None
        if match:
            parts = [match["rationale"], match["request"]]
            split += parts
            split_fields += [_FIELD_LINE.match(part) is not None for part in parts]
        else:
            split.append(line)
            split_fields.append(fields[i])
    return split, split_fields


def _ends_with_decision(line: str) -> bool:
    """``_DECISION_END.search(line)``, tried at the end of the line only.

    A match is at most 13 characters ending at the end (or before a final newline), or begins
    at the start of a line that short, so a search from 16 characters before the end finds a
    match exactly when a search of the whole line does, without trying every position.
    """
    return _DECISION_END.search(line, max(len(line) - 16, 0)) is not None


def _decision_lines(lines: list[str], fields: list[bool]) -> list[int]:
    """Indexes of the lines that end a request with its decision (``fields``: which lines open
    a labelled field).

    Such a line is followed straight away by one of the item's labelled fields; a labelled
    field not preceded by a decision means wording we do not know, which must not be guessed.
    """
    found = []
    for i in range(1, len(lines)):
        if not fields[i] or fields[i - 1]:
            continue
        prev = lines[i - 1]
        if _ends_with_decision(prev):
            found.append(i - 1)
        elif not _is_field_continuation(lines, fields, i - 1):
            raise LetterError("unknown_decision", f"no Upheld/Overturned before: {prev[-120:]!r}")
    return found


def _is_field_continuation(lines: list[str], fields: list[bool], index: int) -> bool:
    """True when ``lines[index]`` belongs to a labelled field (so the next field is no new item)."""
    for j in range(index, -1, -1):
        if fields[j]:
            return not lines[j].lower().startswith("decision rationale")
        if _ends_with_decision(lines[j]):
            return False
    return False


def _decision_suffix(text: str) -> re.Match[str] | None:
    """``_DECISION_SUFFIX.search(text)``, tried near the end first.

    A search of the whole text tries every position; the match ends at the end, so one is
    found from ``DECISION_REACH`` characters before it unless it begins earlier. It may begin
    earlier only where a match from there begins after an "is" (the one word a match holds
    before the decision: the earlier match holds that "is"), or at the place the search began
    (a run of separators cut), or where none was found from there: then the whole text is
    searched, as before.
    """
    at = max(len(text) - DECISION_REACH, 0)
    match = _DECISION_SUFFIX.search(text, at)
    if at and (
        match is None
        or match.start() == at
        or text[max(match.start() - 2, 0) : match.start()].lower() == "is"
    ):
        return _DECISION_SUFFIX.search(text)
    return match


def _ends_sentence(line: str) -> bool:
    """``_SENTENCE_END.search(line)``, tried at the end of the line only: a match is at most 12
    characters ending at the end (or before a final newline), and the word boundary it may
    begin with still sees the character before where the search starts."""
    return _SENTENCE_END.search(line, max(len(line) - 16, 0)) is not None


def _request_start(lines: list[str], at: int, lower: int) -> int:
    """First line of the request whose decision is on line ``at``, never before ``lower``."""
    start = at
    line = lines[at]
    suffix = _decision_suffix(line)  # (the one match: _DECISION_SUFFIX ends at the end)
    bare = (line[: suffix.start()] + line[suffix.end() :] if suffix else line).strip(" :,")
    if not bare or bare.lower() == "is":
        start -= 1  # decision alone on its line: the request ends on the line above
    while start - 1 >= lower and not _ends_sentence(lines[start - 1]):
        start -= 1
    # A partial authorisation's request holds full sentences: take them all.
    text = join_lines(lines[start : at + 1]).lower()
    if ("eligible portion" in text or "original request" in text) and (
        "was the original request" not in text or text.startswith("the remaining")
    ):
        for back in range(start - 1, max(lower, start - 8) - 1, -1):
            if "was the original" in join_lines(lines[back : at + 1]).lower():
                start = back
                # The sentence may begin mid-line after the rationale's last words.
                while start - 1 >= lower and not _ends_sentence(lines[start - 1]):
                    start -= 1
                break
    return max(start, lower)


def _parse_item(item_no: int, request_lines: list[str], field_lines: list[str]) -> Decision:
    text = join_lines(request_lines)
    match = _decision_suffix(text)
    if not match:  # _decision_lines guarantees one; kept as a guard
        raise LetterError("unknown_decision", text[-120:])
    decision = match[1].capitalize()
    request = text[: match.start()].strip(" :,")
    original = authorized = None
    partial = _PARTIAL_AUTHORIZED.match(request) or _PARTIAL_LEAVING.match(request)
    if partial:
        original = partial["original"].strip()
        authorized = partial["authorized"].strip()
        request = partial["request"].strip(" :,.")
    if not request:
        raise LetterError("missing_request", f"item {item_no} has a decision but no request")

    fields: dict[str, str] = {}
    body = join_lines(field_lines)
    parts = _split_fields(body)
    # parts: [before, label, value, label, value, ...]
    for label, value in zip(parts[1::2], parts[2::2], strict=True):
        key = label.lower().split()[0]
        fields.setdefault(key, value.strip())
    return Decision(
        item_no=item_no,
        request=request,
        decision=decision,
        original_request=original,
        authorized_portion=authorized,
        claims_admin_guideline=fields.get("claims") or None,
        maximus_guideline=fields.get("maximus") or None,
        rationale=fields.get("decision") or None,
    )


def _split_fields(body: str) -> list[str]:
    """``_FIELD.split(body)``, several times faster.

    With IGNORECASE the engine tries the labels at every position; here each label is looked
    for as a string in the lower-cased text (a fast scan), and a colon after it checked.
    Lower-casing moves no character and finds the labels where IGNORECASE does, but in a text
    of one of four rare characters (``etl.text.lowers_in_place``); no two matches can overlap
    (a label holds no other, nor begins inside one, nor in the spaces and colon after one), so
    the matches are the split's; the parts are cut from the text as written.
    """
    if not lowers_in_place(body):
        return _FIELD.split(body)
    lower = body.lower()
    found: list[tuple[int, int, int]] = []  # (label start, label end, match end)
    for label in _FIELD_LABELS:
        at = lower.find(label)
        while at >= 0:
            colon = _COLON_AFTER.match(lower, at + len(label))
            if colon:
                found.append((at, at + len(label), colon.end()))
            at = lower.find(label, at + 1)
    parts: list[str] = []
    end = 0
    for start, label_end, match_end in sorted(found):
        parts += [body[end:start], body[start:label_end]]
        end = match_end
    parts.append(body[end:])
    return parts
