"""Crafted hostile letters for the browser tests, modelled on the seed letters' text layout.

* ``FORMULA_CASE``: four items whose requests start with ``= @ + -`` (CSV formula injection);
  two upheld, two overturned, so each decision's download holds some.
* ``MARKUP_CASE``: HTML/JS in the case summary, a request and a rationale; the browser must show
  it as literal text and never run it (``window.__xss`` stays undefined).

Both letters also carry ``MARKER`` in their rationales, so one Letters search finds the two.
"""

from __future__ import annotations

from pathlib import Path

MARKER = "Quillwort"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'

FORMULA_CASE = "CM15-0990001"
MARKUP_CASE = "CM15-0990002"
DECISION_DATE = "2015-04-02"

# (request, decision): the parser takes "<request>: <decision>" lines, so no colon in requests.
FORMULA_ITEMS = [
    ('=HYPERLINK("evil.example","click")', "Overturned"),
    ("@SUM(1+1)*cmd", "Overturned"),
    ("+cmd|' /C calc'!A0", "Upheld"),
    ("-2+3 Norco 10/325mg #60", "Upheld"),
]
MARKUP_REQUEST = "Zorblatt cream " + XSS
MARKUP_SUMMARY = "Summary with markup " + XSS + " end of summary."
MARKUP_RATIONALE = f"Rationale with markup {XSS} {MARKER} end of rationale."

_HEADER = """

Case Number: {case}

Date Assigned: 03/01/2015 Date of Injury:  02/24/2012

Decision Date: 04/02/2015 UR Denial Date:  01/12/2015

Priority:  Standard Application

Received:

02/28/2015



 HOW THE IMR FINAL DETERMINATION WAS MADE



MAXIMUS Federal Services sent the complete case file to an expert reviewer. He/she has no

affiliation with the employer, employee, providers or the claims administrator.



The Expert Reviewer has the following credentials:

State(s) of Licensure: California

Certification(s)/Specialty: Family Practice



CLINICAL CASE SUMMARY

The expert reviewer developed the following clinical case summary based on a review of the case

file, including all medical records:



{summary}



IMR ISSUES, DECISIONS AND RATIONALES

The Final Determination was based on decisions for the disputed items/services set forth below:


"""

_ITEM = """{request}: {decision}



Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment

Guidelines Page(s): 24.



MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines

Page(s): 24.



Decision rationale: {rationale}


"""


def _letter(case: str, summary: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        _ITEM.format(request=request, decision=decision, rationale=rationale)
        for request, decision, rationale in items
    )
    text = _HEADER.format(case=case, summary=summary) + body
    # Text extracted from the PDFs ends every line with a space; so do these letters.
    return "\n".join(line + " " for line in text.split("\n"))


def write_letters(folder: Path) -> Path:
    """Write the two crafted letters as text files into ``folder``; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    formula_items = [
        (request, decision, f"Formula request {n}. {MARKER}. The request is reviewed.")
        for n, (request, decision) in enumerate(FORMULA_ITEMS, start=1)
    ]
    (folder / "formula_injection.txt").write_text(
        _letter(
            FORMULA_CASE,
            "The injured worker is a 50 year old male with chronic low back pain since 2012.",
            formula_items,
        ),
        encoding="utf-8",
    )
    (folder / "markup_injection.txt").write_text(
        _letter(MARKUP_CASE, MARKUP_SUMMARY, [(MARKUP_REQUEST, "Upheld", MARKUP_RATIONALE)]),
        encoding="utf-8",
    )
    return folder
