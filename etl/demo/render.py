"""Lay a synthetic letter out as the posted PDFs do, then render it as PDF or extracted text.

``layout_blocks`` turns content into paragraphs of physical lines (wrapped at ~95 characters like
the PDFs). The text renderings imitate the extractors users hold letters in:

- ``pypdf``: "Label: value" header lines, a blank " " line between paragraphs, trailing spaces,
  a form feed opening each new page;
- ``pdftotext``: the case header as a column of labels then a column of values, no blank lines
  between paragraphs, a form feed closing each page;
- ``seed``: like the two seed letters, every line followed by a blank line.

``render_pdf`` draws the same lines with fpdf2 (a dev dependency, imported lazily).
"""

from __future__ import annotations

import datetime as dt
import re

from etl.demo.generate import Item, LetterContent, format_date

WIDTH = 95
LINES_PER_PAGE = 50
_WRAP = re.compile(rf".{{1,{WIDTH}}}(?:\s+|$)")

HOW_MADE = (
    "MAXIMUS Federal Services sent the complete case file to an expert reviewer. He/she has no "
    "affiliation with the employer, employee, providers or the claims administrator. He/she has "
    "been in active clinical practice for more than five years and is currently working at least "
    "24 hours a week in active practice. The expert reviewer was selected based on his/her "
    "clinical experience, education, background, and expertise in the same or similar "
    "specialties that evaluate and/or treat the medical condition and disputed items/Service. "
    "He/she is familiar with governing laws and regulations, including the strength of evidence "
    "hierarchy that applies to Independent Medical Review determinations."
)
SUMMARY_PREAMBLE = (
    "The expert reviewer developed the following clinical case summary based on a review of the "
    "case file, including all medical records:"
)
ISSUES_PREAMBLE = (
    "The Final Determination was based on decisions for the disputed items/services set forth "
    "below:"
)
A_COMPLETED = (
    "MAXIMUS Federal Services, Inc. has completed the Independent Medical Review (IMR) of the "
    "above workers' compensation case. This letter provides you with the IMR Final Determination "
    "and explains how the determination was made."
)
A_QUALIFICATIONS = (
    "He/she has been in active clinical practice for more than five years and is currently "
    "working at least 24 hours a week in active practice. The physician reviewer was selected "
    "based on his/her clinical experience, education, background, and expertise in the same or "
    "similar specialties that evaluate and/or treat the medical condition and disputed "
    "items/services. The physician reviewer is familiar with governing laws and regulations, "
    "including the strength of evidence hierarchy that applies to Independent Medical Review "
    "determinations."
)
A_DISCLAIMER = (
    "The expert reviewer's case summary below is copied verbatim from the Utilization Review "
    "decision (UR) in the case file. The expert reviewer reviewed all of the medical records in "
    "the case file and found the summary accurate and complete."
)
A_TRAILER = "cc: Department of Industrial Relations, Division of Workers' Compensation"

Block = list[str]


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """Greedy wrap at whitespace (one regex pass: the generator must stay fast)."""
    if len(text) <= width:
        return [text]
    if width == WIDTH:
        return [line.rstrip() for line in _WRAP.findall(text)]
    return [line.rstrip() for line in re.findall(rf".{{1,{width}}}(?:\s+|$)", text)]


def _variety(content: LetterContent) -> int:
    """A small number that varies from letter to letter, for rendering choices."""
    return (content.index * 2654435761) >> 7


def layout_blocks(content: LetterContent) -> list[Block]:
    if content.layout == "A":
        return _blocks_a(content)
    return _blocks_b(content)


def _blocks_b(content: LetterContent) -> list[Block]:
    blocks: list[Block] = [
        ["HOW THE IMR FINAL DETERMINATION WAS MADE"],
        wrap(HOW_MADE),
        [
            "The Expert Reviewer has the following credentials:",
            f"State(s) of Licensure: {content.states_raw}",
            *_specialty_lines(content.specialties_raw),
        ],
        ["CLINICAL CASE SUMMARY", *wrap(SUMMARY_PREAMBLE)],
        wrap(content.summary),
        ["IMR ISSUES, DECISIONS AND RATIONALES", ISSUES_PREAMBLE],
    ]
    variety = _variety(content)
    for n, item in enumerate(content.items):
        blocks.append(_request_lines(item, own_line=(variety >> n) % 13 == 0))
        blocks.append(wrap(f"Claims Administrator guideline: {item.claims_admin_guideline}"))
        blocks.append(wrap(f"MAXIMUS guideline: {item.maximus_guideline}"))
        blocks.append(wrap(f"Decision rationale: {item.rationale}"))
    return blocks


def _specialty_lines(specialties: str) -> list[str]:
    line = f"Certification(s)/Specialty: {specialties}"
    marker = "Public Health & General Preventive Medicine"
    if marker in line and len(line) > WIDTH:
        # Wraps after the ampersand in the posted PDFs.
        head, tail = line.split("General Preventive Medicine", 1)
        return [head.rstrip(), ("General Preventive Medicine" + tail).strip()]
    return wrap(line)


def _request_lines(item: Item, *, own_line: bool) -> list[str]:
    if item.original_request:
        text = (
            f"{item.original_request} was the original request. {item.authorized_portion} was "
            "authorized by the Claims Administrator. The remaining IMR eligible portion of the "
            f"original request{item.partial_wording}{item.request}"
        )
        suffix = item.partial_suffix
    else:
        text = item.request
        suffix = ": "
    if own_line:
        return [*wrap(text + suffix.rstrip()), item.decision]
    return wrap(f"{text}{suffix}{item.decision}")


def _blocks_a(content: LetterContent) -> list[Block]:
    dated = format_date(content.decision_date, 1)
    notmed = "notmedically" if content.glued_not else "not medically"
    decisions = [
        wrap(
            f"{n}) MAXIMUS Federal Services, Inc. has determined the request for {item.request} "
            f"is {notmed if item.decision == 'Upheld' else 'medically'} necessary and appropriate."
        )
        for n, item in enumerate(content.items, 1)
    ]
    application = wrap(
        "An application for Independent Medical Review was filed on "
        f"{format_date(content.application_received, 1)} disputing the Utilization Review Denial "
        f"dated {format_date(content.ur_denial_date, 1)}. A Notice of Assignment and Request for "
        "Information was provided to the above parties on "
        f"{format_date(content.date_assigned, 1)}."
    )
    reviewer = (
        f"The physician reviewer is Board Certified in {content.specialties_raw} and is licensed "
        f"to practice in {content.states_raw}."
    )
    blocks: list[Block] = []
    if content.variant == "documents":
        blocks.append(
            [
                "MAXIMUS FEDERAL SERVICES, INC. Notice of Independent Medical Review "
                f"Determination Dated: {dated}"
            ]
        )
    else:
        blocks.append(
            [
                "MAXIMUS FEDERAL SERVICES, INC.",
                "Notice of Independent Medical Review Determination",
                f"Dated: {dated}",
            ]
        )
    blocks += decisions
    summary = wrap(f'"{content.summary}"' if content.variant == "notice" else content.summary)

    if content.variant == "notice":
        upheld = all(item.decision == "Upheld" for item in content.items)
        overturned = all(item.decision == "Overturned" for item in content.items)
        final = (
            "UPHOLD. This means we decided that none of the disputed items/services are "
            "medically necessary and appropriate."
            if upheld
            else "OVERTURN. This means we decided that all of the disputed items/services are "
            "medically necessary and appropriate."
            if overturned
            else "PARTIAL OVERTURN. This means we decided that some of the disputed "
            "items/services are medically necessary and appropriate."
        )
        blocks.append(["INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE", *wrap(A_COMPLETED)])
        blocks.append(wrap(f"Final Determination: {final}"))
        blocks += decisions
        blocks.append(application)
        blocks.append(
            [
                "Medical Qualifications of the Expert Reviewer:",
                *wrap(f"{reviewer} {A_QUALIFICATIONS}"),
            ]
        )
        blocks.append(["Case Summary:", *wrap(A_DISCLAIMER)])
        blocks.append(summary)
        for n, item in enumerate(content.items, 1):
            blocks.append(wrap(f"{n}) Regarding the request for {item.request}:"))
            blocks.append(
                [
                    "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:",
                    *wrap(item.claims_admin_guideline or ""),
                ]
            )
            blocks.append(
                [
                    "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:",
                    *wrap(item.maximus_guideline or ""),
                ]
            )
            blocks.append(["Rationale for the Decision:", *wrap(item.rationale)])
    elif content.variant == "documents":
        blocks.append(application)
        blocks.append(
            [
                "Medical Qualifications of the Expert Reviewer:",
                *wrap(f"{reviewer} {A_QUALIFICATIONS}"),
            ]
        )
        blocks.append(["Case Summary:", *wrap(A_DISCLAIMER)])
        blocks.append(summary)
        start = content.injury_date + dt.timedelta(days=30)
        blocks.append(
            [
                "DOCUMENTS REVIEWED",
                "Application of Independent Medical Review, dated "
                + format_date(content.application_received, 1),
                "Utilization Review Determination dated " + format_date(content.ur_denial_date, 1),
                f"Medical Records from {format_date(start, 1)} through "
                + format_date(content.ur_denial_date, 1),
            ]
        )
        blocks.append(["IMR DECISION(S) AND RATIONALE(S)"])
        for n, item in enumerate(content.items, 1):
            blocks.append(wrap(f"{n}) Regarding the request for {item.request}:"))
            blocks.append(
                wrap(
                    "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator: "
                    + (item.claims_admin_guideline or "")
                )
            )
            blocks.append(
                wrap(
                    "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: "
                    + (item.maximus_guideline or "")
                )
            )
            blocks.append(wrap(f"Rationale for the Decision: {item.rationale}"))
    else:  # 'professional'
        blocks.append(application)
        blocks.append(["MEDICAL PROFESSIONAL REVIEW"])
        blocks.append(["MEDICAL REVIEWER QUALIFICATIONS:", *wrap(reviewer)])
        blocks.append(["CASE SUMMARY:", *summary])
        blocks.append(["ISSUE AT DISPUTE:"])
        for n, item in enumerate(content.items, 1):
            blocks.append(wrap(f"{n}) Regarding the request for {item.request}:"))
            blocks.append(wrap(f"Claims Administrator guideline: {item.claims_admin_guideline}"))
            blocks.append(wrap(f"MAXIMUS guideline: {item.maximus_guideline}"))
            blocks.append(wrap(f"Decision rationale: {item.rationale}"))
    blocks.append(wrap(A_TRAILER))
    return blocks


def _header_values(content: LetterContent) -> dict[str, str]:
    return {
        "Case Number:": content.letter_id,
        "Date Assigned:": format_date(content.date_assigned, 0),
        "Decision Date:": format_date(content.decision_date, 0),
        "Priority:": content.priority,
        "Date of Injury:": format_date(content.injury_date, 0),
        "UR Denial Date:": format_date(content.ur_denial_date, 0),
        "Application Received:": format_date(content.application_received, 0),
    }


def _pypdf_header(content: LetterContent) -> list[str]:
    v = _header_values(content)
    return [
        " ",
        f"Case Number: {v['Case Number:']}  ",
        f"Date Assigned: {v['Date Assigned:']} Date of Injury:  {v['Date of Injury:']} ",
        f"Decision Date: {v['Decision Date:']} UR Denial Date:  {v['UR Denial Date:']} ",
        f"Priority:  {v['Priority:']} Application ",
        "Received:  ",
        f"{v['Application Received:']} ",
        " ",
    ]


def _pdftotext_header(content: LetterContent) -> list[str]:
    v = _header_values(content)
    return [
        "Case Number:",
        "Date Assigned:",
        "Decision Date:",
        "Priority:",
        "",
        v["Case Number:"],
        v["Date Assigned:"],
        v["Decision Date:"],
        v["Priority:"],
        "",
        "Date of Injury:",
        "UR Denial Date:",
        "Application",
        "Received:",
        "",
        v["Date of Injury:"],
        v["UR Denial Date:"],
        v["Application Received:"],
        "",
    ]


_CURLY = str.maketrans({"'": "\u2019"})


def render_text(content: LetterContent, style: str) -> str:
    """The letter as one extractor would print it: 'pypdf', 'pdftotext' or 'seed'."""
    blocks = layout_blocks(content)
    variety = _variety(content)
    out: list[str] = []
    count = 0
    if style == "pdftotext":
        if content.layout == "B2":
            out += _pdftotext_header(content)
            count = 8
        for block in blocks:
            for line in block:
                if count == LINES_PER_PAGE:
                    out.append("\f" + line)
                    count = 1
                else:
                    out.append(line)
                    count += 1
        text = "\n".join(out) + "\n\f"
    elif style == "pypdf":
        if content.layout == "B2":
            out += _pypdf_header(content)
            count = 8
        for block in blocks:
            for line in block:
                if count == LINES_PER_PAGE:
                    out.append("\f" + line + " ")
                    count = 1
                else:
                    out.append(line + " ")
                    count += 1
            out.append(" ")
        text = "\n".join(out) + "\n"
    elif style == "seed":
        if content.layout == "B2":
            out += _pypdf_header(content)
        for block in blocks:
            heading = len(block) == 1 and block[0].isupper()
            for line in block:
                out.append((" " + line if heading else line) + " ")
            out.append(" ")
        text = "\n\n".join(out) + "\n"
    else:
        raise ValueError(f"unknown text rendering {style!r}")
    if variety % 5 == 0:  # curly apostrophes, as some extractors print them
        text = text.translate(_CURLY)
    return text


# fpdf2's core fonts are Latin-1: the few typographic characters beyond it are drawn plainly.
_LATIN1 = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-"})
_PDF_EPOCH = dt.datetime(2013, 1, 1, tzinfo=dt.UTC)
_PAGE_BOTTOM = 792.0 - 48.0  # US letter height in points, less the bottom margin


def render_pdf(content: LetterContent) -> bytes:
    """The letter as a PDF (fpdf2, core Helvetica), deterministic byte for byte."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="letter")
    pdf.set_creation_date(_PDF_EPOCH)
    pdf.set_auto_page_break(False)
    pdf.set_title("Independent Medical Review Final Determination (synthetic)")
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    left, top, step = 60.0, 60.0, 13.0
    y = top
    count = 0
    if content.layout == "B2":
        v = _header_values(content)
        rows = [
            ("Case Number:", v["Case Number:"], "", ""),
            ("Date Assigned:", v["Date Assigned:"], "Date of Injury:", v["Date of Injury:"]),
            ("Decision Date:", v["Decision Date:"], "UR Denial Date:", v["UR Denial Date:"]),
            ("Priority:", v["Priority:"], "Application Received:", v["Application Received:"]),
        ]
        for label, value, label2, value2 in rows:
            pdf.set_font("Helvetica", "B", 10)
            pdf.text(left, y, label)
            if label2:
                pdf.text(320, y, label2)
            pdf.set_font("Helvetica", "", 10)
            pdf.text(left + 100, y, value)
            if value2:
                pdf.text(440, y, value2)
            y += step
        y += step
        count = 6
    for block in layout_blocks(content):
        heading = len(block) == 1 and block[0].isupper()
        if heading:
            pdf.set_font("Helvetica", "B", 10)
        for line in block:
            # Break on lines and on height: the half-line gaps between blocks add up, and text
            # drawn below the page's edge is silently lost to every extractor.
            if count >= LINES_PER_PAGE or y > _PAGE_BOTTOM:
                pdf.add_page()
                y, count = top, 0
            pdf.text(left, y, line.translate(_LATIN1))
            y += step
            count += 1
        if heading:
            pdf.set_font("Helvetica", "", 10)
        y += step / 2
    return bytes(pdf.output())
