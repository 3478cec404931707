"""Layout A: the 2013 "Notice of Independent Medical Review Determination" and its early variants.

The 2013 letters state their decisions first, as a numbered list of sentences
(``1) MAXIMUS Federal Services, Inc. has determined the request for X is not medically necessary
and appropriate.``) that some variants repeat under ``INDEPENDENT MEDICAL REVIEW DECISION AND
RATIONALE``; one numbered detail block per item (``1) Regarding the request for X:``) then gives
the guidelines each side relied on and the rationale. Dates and the reviewer's credentials are in
prose. The variants differ only in their section headings (``DOCUMENTS REVIEWED``,
``IMR DECISION(S) AND RATIONALE(S)``, ``MEDICAL PROFESSIONAL REVIEW`` / ``ISSUE AT DISPUTE:`` /
``MEDICAL REVIEWER QUALIFICATIONS:``) and in the labels of the detail fields, so the parser works
on the whole letter joined into one paragraph and finds everything by its wording.
"""

from __future__ import annotations

import re

from etl.model import OVERTURNED, UPHELD, Decision, Letter, LetterError
from etl.parse.common import (
    DATE,
    join_lines,
    parse_date,
    set_case_summary,
)

_MARKERS = (
    "notice of independent medical review determination",
    "independent medical review decision and rationale",
    "imr decision(s) and rationale(s)",
    "medical professional review",
    "medical reviewer qualifications:",
)

# "1) MAXIMUS Federal Services, Inc. has determined the request for X is notmedically necessary
# and appropriate." The request may itself contain " is " and colons: the sentence is anchored on
# its fixed ending, taken at its first occurrence. A request never runs on into the next item's
# sentence: without that bound, a text of many openings and no ending made every opening scan to
# the end of the text (quadratic). Whitespace between words is taken whole (possessive) and the
# request ends on a non-space, so that runs of spaces cannot be split every possible way.
_DECISION_OPENING = r"(?<![\w)])\d{1,2}\s?[).]\s*+MAXIMUS\s++Federal\b"
_DECISION = re.compile(
    r"(?<![\w)])(?P<no>\d{1,2})\s?[).]\s*+MAXIMUS\s++Federal\s++Services,?\s++Inc\.?\s++has"
    r"\s++determined\s++(?:that\s++)?the\s++request\s++for\s++"
    rf"(?P<request>(?:(?!{_DECISION_OPENING}).)+?)(?<!\s)"
    r"\s++is\s++(?P<not>not\s?)?medically\s++necessary\s++and\s++appropriate\b\.?",
    re.I,
)
# "1) Regarding the request for X:" opens an item's detail block (and never runs on into the next).
_DETAIL_OPENING = r"(?<![\w)])\d{1,2}\s?[).]\s*+Regarding\s++the\s++request\b"
_DETAIL = re.compile(
    r"(?<![\w)])(?P<no>\d{1,2})\s?[).]\s*+Regarding\s++the\s++request\s++for\s++"
    rf"(?P<request>(?:(?!{_DETAIL_OPENING}).)+?)(?<!\s)\s*+:\s*+"
    r"(?=Medical Treatment Guideline|Claims Administrator guideline|MAXIMUS guideline"
    r"|Rationale for the Decision|Decision rationale)",
    re.I,
)
_CA_LABEL = (
    r"Medical\s+Treatment\s+Guideline\(?s?\)?\s+Relied\s+Upon\s+by\s+the\s+Claims\s+Administrator"
    r"|Claims\s+Administrator\s+guideline"
)
_MAX_LABEL = (
    r"Medical\s+Treatment\s+Guideline\(?s?\)?\s+Relied\s+Upon\s+by\s+the\s+(?:Expert|Physician)"
    r"\s+Reviewer|MAXIMUS\s+guideline"
)
_RATIONALE_LABEL = r"Rationale\s+for\s+the\s+Decision|Decision\s+rationale"
_FIELD = re.compile(
    rf"(?P<ca>{_CA_LABEL})\s*:|(?P<max>{_MAX_LABEL})\s*:|(?P<rat>{_RATIONALE_LABEL})\s*:", re.I
)

_DATED = re.compile(rf"\bDated\s*+:?\s*+(?P<date>{DATE})", re.I)
_APPLICATION = re.compile(
    rf"application\s+for\s+Independent\s+Medical\s+Review\s+was\s+(?:filed|received)\s+on\s+"
    rf"(?P<date>{DATE})",
    re.I,
)
_UR_DENIAL = re.compile(
    rf"Utilization\s+Review\s+(?:Denial|determination|decision)\s+dated\s+(?P<date>{DATE})", re.I
)
# "The physician reviewer is Board Certified in X, and is licensed to practice in Y." Neither
# part runs on into a later reviewer sentence, and the specialties end at the first "and is
# licensed to practice in" (atomic: if no states follow that one, none follow a later one).
_REVIEWER_OPENING = r"\b(?:physician|expert|medical)\s++reviewer\s++is\b"
_REVIEWER = re.compile(
    rf"{_REVIEWER_OPENING}\s++(?:Board\s++Certified|Licensed)\s++in\s++"
    rf"(?>(?P<specialties>(?:(?!{_REVIEWER_OPENING}).)+?)(?<!\s)"
    r",?\s++and\s++is\s++licensed\s++to\s++practice\s++in\s++)"
    rf"(?P<states>(?:(?!{_REVIEWER_OPENING}).)+?)(?<!\s)\s*+\.",
    re.I,
)

_SUMMARY_START = re.compile(r"\b(?:Expert\s+Reviewer\s+)?Case\s+Summary\s*:", re.I)
# Where the case summary ends: the next section of any variant.
_SUMMARY_END = re.compile(
    r"\bDOCUMENTS\s+REVIEWED\b|\bIMR\s+DECISION\(S\)\s+AND\s+RATIONALE\(S\)|ISSUES?\s+AT\s+DISPUTE\s*:"
    r"|Medical\s+Qualifications\s+of\s+the\s+Expert\s+Reviewer|MEDICAL\s+REVIEWER\s+QUALIFICATIONS"
    r"|MEDICAL\s+PROFESSIONAL\s+REVIEW|INDEPENDENT\s+MEDICAL\s+REVIEW\s+DECISION\s+AND\s+RATIONALE"
    r"|(?<![\w)])\d{1,2}\s?[).]\s*(?:Regarding\s+the\s+request|MAXIMUS\s+Federal\s+Services)",
)
# The disclaimer that opens the summary (it is copied from the UR decision).
_SUMMARY_DISCLAIMER = re.compile(
    r"^(?:The\s+(?:expert|physician)\s+reviewer'?s?\s+case\s+summary\s+below[^.]*\.\s*"
    r"(?:(?:The|It)\s+(?:expert|physician)\s+reviewer\s+(?:reviewed|has\s+reviewed)[^.]*\.\s*)?)",
    re.I,
)
# The detail blocks end where a trailer begins (copies, signature), when there is one.
_TRAILER = re.compile(r"\s(?:cc:|Effect\s+of\s+the\s+Decision\s*:)", re.I)


def has_notice_heading(lines: list[str]) -> bool:
    head = " ".join(lines[:200]).lower()
    return any(marker in head for marker in _MARKERS)


def looks_notice(lines: list[str]) -> bool:
    """A 2013 heading and at least one numbered "has determined the request" sentence.

    Both are required: a later letter may quote a 2013 heading in its prose, and a 2013 letter
    may carry the later "HOW THE IMR FINAL DETERMINATION WAS MADE" heading.
    """
    return has_notice_heading(lines) and _DECISION.search(join_lines(lines)) is not None


def parse_notice(lines: list[str]) -> Letter:
    text = join_lines(lines)
    letter = Letter(layout="A")

    decisions: dict[int, tuple[str, str]] = {}
    for match in _DECISION.finditer(text):
        number = int(match["no"])
        decision = UPHELD if match["not"] else OVERTURNED
        request = _clean_request(match["request"])
        if number in decisions:
            # The list is printed twice in some variants: one item each, and they must agree.
            if decisions[number][1] != decision:
                raise LetterError("conflicting_decisions", f"item {number} decided both ways")
            continue
        decisions[number] = (request, decision)
    if not decisions:
        raise LetterError("no_items", "no 'MAXIMUS Federal Services, Inc. has determined' sentence")
    numbers = sorted(decisions)
    if numbers != list(range(1, len(numbers) + 1)):
        raise LetterError("item_numbering", f"decision list numbered {numbers}")

    if dated := _DATED.search(text[:600]):
        letter.decision_date = parse_date(dated["date"])
    if application := _APPLICATION.search(text):
        letter.application_received = parse_date(application["date"])
    if ur_denial := _UR_DENIAL.search(text):
        letter.ur_denial_date = parse_date(ur_denial["date"])
    if reviewer := _REVIEWER.search(text):
        letter.reviewer_specialties_raw = reviewer["specialties"].strip(" ,") or None
        letter.reviewer_states_raw = reviewer["states"].strip(" ,") or None

    _parse_summary(text, letter)

    details = _details(text)
    for number in numbers:
        request, decision = decisions[number]
        fields = details.get(number, {})
        letter.items.append(
            Decision(
                item_no=number,
                request=request,
                decision=decision,
                claims_admin_guideline=fields.get("ca") or None,
                maximus_guideline=fields.get("max") or None,
                rationale=fields.get("rat") or None,
            )
        )
    return letter


def _clean_request(request: str) -> str:
    request = request.strip(" ,:")
    if not request:
        raise LetterError("missing_request", "a decision sentence names no request")
    return request


def _parse_summary(text: str, letter: Letter) -> None:
    start = _SUMMARY_START.search(text)
    if not start:
        return
    end = _SUMMARY_END.search(text, start.end())
    summary = text[start.end() : end.start() if end else len(text)].strip()
    summary = _SUMMARY_DISCLAIMER.sub("", summary).strip().strip('"').strip()
    set_case_summary(letter, summary)


def _details(text: str) -> dict[int, dict[str, str]]:
    """Each item's labelled fields, by item number (first block per number wins)."""
    blocks = list(_DETAIL.finditer(text))
    found: dict[int, dict[str, str]] = {}
    for n, block in enumerate(blocks):
        end = blocks[n + 1].start() if n + 1 < len(blocks) else len(text)
        body = text[block.end() : end]
        if n + 1 == len(blocks) and (trailer := _TRAILER.search(body)):
            body = body[: trailer.start()]
        number = int(block["no"])
        if number in found:
            continue
        fields: dict[str, str] = {}
        labels = list(_FIELD.finditer(body))
        for i, label in enumerate(labels):
            key = next(k for k in ("ca", "max", "rat") if label[k])
            value_end = labels[i + 1].start() if i + 1 < len(labels) else len(body)
            fields.setdefault(key, body[label.end() : value_end].strip())
        found[number] = fields
    return found
