"""Deterministic synthetic Final Determination Letters, each with the parse it must produce.

``generate_letters(n, seed)`` yields ``SyntheticLetter`` objects one at a time (never the whole
corpus): the letter's content, the text of its rendering (or PDF bytes), the expected parse as a
dict comparable with ``structural(parse_letter(text).as_dict())`` and the vocabulary labels the
generator drew each item from (category, subcategory, drug class: what ``classify`` should find).

Letter ``i`` of seed ``s`` depends only on ``(s, i)``: a corpus of 1,000 letters starts with the
corpus of 100. Its layout follows its decision year (2013 -> A, 2014-15 -> B, 2016+ -> B2).
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import Any

from etl.demo.vocab import CitationTemplate, RequestTemplate, Vocab, load_vocab
from etl.model import SYNTHETIC_CASE_PREFIX

SYNTHETIC_PREFIX = SYNTHETIC_CASE_PREFIX
"""Case numbers of synthetic letters start with this (real ones start with 'CM')."""

RENDERINGS = ("pypdf", "pdftotext", "seed", "pdf")
TEXT_RENDERINGS = ("pypdf", "pdftotext", "seed")
LAYOUTS = ("A", "B", "B2")

# Final Determination Letters per decision year, thousands (DWC annual reports; 2013 is the
# second half only, 2019/2021/2022/2025 interpolated).
YEAR_WEIGHTS = {
    2013: 40,
    2014: 144,
    2015: 165,
    2016: 176,
    2017: 172,
    2018: 185,
    2019: 165,
    2020: 137,
    2021: 135,
    2022: 130,
    2023: 131,
    2024: 142,
    2025: 140,
}
# Pharmaceuticals' share of disputed items by decision year (DWC reports: 49% in 2015 -> ~33%).
PHARMA_SHARE = {
    2013: 0.49,
    2014: 0.49,
    2015: 0.49,
    2016: 0.45,
    2017: 0.43,
    2018: 0.42,
    2019: 0.37,
    2020: 0.34,
    2021: 0.33,
    2022: 0.32,
    2023: 0.31,
    2024: 0.33,
    2025: 0.33,
}
# Items per letter: 1-15, most 1-3.
ITEM_COUNT_WEIGHTS = (40, 22, 13, 8, 5, 3.5, 2.5, 1.8, 1.2, 1.0, 0.7, 0.5, 0.4, 0.3, 0.3)
PARTIAL_RATE = 0.10  # of items with a quantity, in layouts B/B2
RETRO_RATE = 0.05  # "Retrospective X DOS: 11/14/16"

# Partial-authorisation endings (the layouts doc lists all four).
PARTIAL_SUFFIXES = (": ", " is ", " is: ", " ")

NON_PHYSICIAN = ("Psychologist", "Chiropractor", "Acupuncturist", "Dentist", "Podiatrist")

EXPECTED_LETTER_FIELDS = (
    "layout",
    "case_number",
    "decision_date",
    "injury_date",
    "injury_year",
    "patient_age",
    "patient_sex",
    "priority",
    "date_assigned",
    "ur_denial_date",
    "application_received",
    "reviewer_states_raw",
    "reviewer_specialties_raw",
    "outcome",
)
EXPECTED_ITEM_FIELDS = (
    "item_no",
    "request",
    "decision",
    "original_request",
    "authorized_portion",
    "claims_admin_guideline",
    "maximus_guideline",
)


def structural(letter: dict[str, Any]) -> dict[str, Any]:
    """The structural fields of a ``Letter.as_dict()``: what the expected parse asserts."""
    out = {key: letter.get(key) for key in EXPECTED_LETTER_FIELDS}
    out["items"] = [
        {key: item.get(key) for key in EXPECTED_ITEM_FIELDS} for item in letter.get("items", [])
    ]
    return out


@dataclass
class Item:
    request: str
    decision: str
    category: str
    subcategory: str
    original_request: str | None = None
    authorized_portion: str | None = None
    partial_wording: str = ", "  # ', ' or ' is '
    partial_suffix: str = ": "
    claims_admin_guideline: str | None = None
    maximus_guideline: str | None = None
    rationale: str = ""
    sources: tuple[tuple[str, str], ...] = ()  # (role, source) of every citation

    @property
    def drug_class(self) -> str | None:
        return self.subcategory if self.category == "Pharmaceuticals" else None


@dataclass
class LetterContent:
    """What a synthetic letter says, before it is laid out and rendered."""

    index: int
    letter_id: str
    layout: str
    variant: str  # layout A: 'notice' | 'documents' | 'professional'; else 'standard'
    decision_date: dt.date
    injury_date: dt.date
    date_assigned: dt.date
    ur_denial_date: dt.date
    application_received: dt.date
    priority: str
    age: int | None
    sex: str | None
    states: list[str]
    states_raw: str
    specialties_raw: str
    summary: str
    summary_states_injury_date: bool
    items: list[Item] = field(default_factory=list)
    glued_not: bool = False  # layout A: "notmedically", the PDF artefact

    @property
    def case_number(self) -> str | None:
        return self.letter_id if self.layout == "B2" else None

    @property
    def outcome(self) -> str:
        decisions = {item.decision for item in self.items}
        if decisions == {"Upheld"}:
            return "Upheld"
        if decisions == {"Overturned"}:
            return "Overturned"
        return "Partially Overturned"

    def expected(self) -> dict[str, Any]:
        """The parse this letter must produce (the fields of ``structural``)."""
        a, b2 = self.layout == "A", self.layout == "B2"
        injury = (
            self.injury_date if (b2 or self.summary_states_injury_date) else None
        )  # B2's header always prints it
        return {
            "layout": self.layout,
            "case_number": self.case_number,
            "decision_date": _iso(self.decision_date) if (a or b2) else None,
            "injury_date": _iso(injury),
            "injury_year": injury.year if injury else None,
            "patient_age": self.age,
            "patient_sex": self.sex,
            "priority": self.priority if b2 else None,
            "date_assigned": _iso(self.date_assigned) if b2 else None,
            "ur_denial_date": _iso(self.ur_denial_date) if (a or b2) else None,
            "application_received": _iso(self.application_received) if (a or b2) else None,
            "reviewer_states_raw": self.states_raw,
            "reviewer_specialties_raw": self.specialties_raw,
            "outcome": self.outcome,
            "items": [
                {
                    "item_no": n,
                    "request": item.request,
                    "decision": item.decision,
                    "original_request": item.original_request,
                    "authorized_portion": item.authorized_portion,
                    "claims_admin_guideline": item.claims_admin_guideline,
                    "maximus_guideline": item.maximus_guideline,
                }
                for n, item in enumerate(self.items, 1)
            ],
        }

    def labels(self) -> list[dict[str, Any]]:
        """Per item, the vocabulary it was drawn from (what classification should find)."""
        return [
            {
                "category": item.category,
                "subcategory": item.subcategory,
                "drug_class": item.drug_class,
                "citation_sources": [list(s) for s in item.sources],
            }
            for item in self.items
        ]


@dataclass
class SyntheticLetter:
    """One generated letter in one rendering, with its expected parse."""

    content: LetterContent
    rendering: str  # one of RENDERINGS
    text: str | None  # the text rendering; None for 'pdf'
    pdf: bytes | None  # the PDF; None for text renderings

    @property
    def letter_id(self) -> str:
        return self.content.letter_id

    @property
    def layout(self) -> str:
        return self.content.layout

    @property
    def filename(self) -> str:
        return f"{self.letter_id}.{'pdf' if self.rendering == 'pdf' else 'txt'}"

    @property
    def data(self) -> bytes:
        if self.pdf is not None:
            return self.pdf
        assert self.text is not None
        return self.text.encode("utf-8")

    def expected(self) -> dict[str, Any]:
        return self.content.expected()

    def render(self, rendering: str) -> str | bytes:
        """The same letter in another rendering (text, or PDF bytes for 'pdf')."""
        from etl.demo.render import render_pdf, render_text

        if rendering == "pdf":
            return render_pdf(self.content)
        return render_text(self.content, rendering)


def generate_letters(
    n: int, seed: int, *, pdf_share: float = 0.0, balanced: bool = False, start: int = 0
) -> Iterator[SyntheticLetter]:
    """Yield letters ``start .. start+n-1`` of the corpus for ``seed``, one at a time.

    ``pdf_share`` of the letters are rendered as PDF (slow: fpdf2), the rest as one of the text
    renderings. ``balanced`` spreads the letters evenly over the three layouts (for tests)
    instead of following the decision-year volumes.
    """
    from etl.demo.render import render_pdf, render_text

    for index in range(start, start + n):
        rng = random.Random(seed * 1_000_000_007 + index)
        # Always drawn first, so that content does not depend on pdf_share.
        pick = rng.random()
        style = TEXT_RENDERINGS[int(rng.random() * 3)]
        content = make_content(rng, index, balanced=balanced)
        if pick < pdf_share:
            yield SyntheticLetter(content, "pdf", None, render_pdf(content))
        else:
            yield SyntheticLetter(content, style, render_text(content, style), None)


# --- Content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    vocab: Vocab
    years: tuple[int, ...]
    year_cum: tuple[float, ...]
    category_cum: dict[int, tuple[tuple[str, ...], tuple[float, ...]]]
    templates: dict[str, tuple[tuple[RequestTemplate, ...], tuple[float, ...]]]
    specialties: tuple[str, ...]
    specialties_cum: tuple[float, ...]
    a_specialties: tuple[str, ...]
    a_specialties_cum: tuple[float, ...]
    states: tuple[str, ...]
    states_cum: tuple[float, ...]
    count_cum: tuple[float, ...]


@cache
def _tables() -> _Tables:
    vocab = load_vocab()
    years = tuple(YEAR_WEIGHTS)
    category_cum = {}
    base_pharma = vocab.category_share["Pharmaceuticals"]
    for year in years:
        names = tuple(vocab.category_share)
        pharma = PHARMA_SHARE[year]
        shares = [
            pharma
            if name == "Pharmaceuticals"
            else vocab.category_share[name] * (1 - pharma) / (1 - base_pharma)
            for name in names
        ]
        category_cum[year] = (names, tuple(accumulate(shares)))
    templates: dict[str, list[RequestTemplate]] = {}
    for template in vocab.requests:
        templates.setdefault(template.category, []).append(template)
    specialties = [name for name, _ in vocab.specialties]
    spec_weights = [w for _, w in vocab.specialties]
    a_specs = [(s, w) for s, w in vocab.specialties if not any(x in s for x in NON_PHYSICIAN)]
    return _Tables(
        vocab=vocab,
        years=years,
        year_cum=tuple(accumulate(YEAR_WEIGHTS.values())),
        category_cum=category_cum,
        templates={
            category: (tuple(rows), tuple(accumulate(r.weight for r in rows)))
            for category, rows in templates.items()
        },
        specialties=tuple(specialties),
        specialties_cum=tuple(accumulate(spec_weights)),
        a_specialties=tuple(s for s, _ in a_specs),
        a_specialties_cum=tuple(accumulate(w for _, w in a_specs)),
        states=tuple(name for name, _ in vocab.states),
        states_cum=tuple(accumulate(w for _, w in vocab.states)),
        count_cum=tuple(accumulate(ITEM_COUNT_WEIGHTS)),
    )


def _pick(rng: random.Random, values: tuple[Any, ...], cum: tuple[float, ...]) -> Any:
    return values[bisect(cum, rng.random() * cum[-1])]


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


_LAYOUT_YEARS = {"A": (2013,), "B": (2014, 2015), "B2": tuple(range(2016, 2026))}


def make_content(rng: random.Random, index: int, *, balanced: bool = False) -> LetterContent:
    t = _tables()
    if balanced:
        year = rng.choice(_LAYOUT_YEARS[LAYOUTS[index % 3]])
    else:
        year = _pick(rng, t.years, t.year_cum)
    layout = "A" if year == 2013 else "B" if year <= 2015 else "B2"
    if year == 2013:  # IMR decisions began mid-2013
        decision = dt.date(2013, 7, 1) + dt.timedelta(days=int(rng.random() * 184))
    else:
        decision = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.random() * 365))
    assigned = decision - dt.timedelta(days=10 + int(rng.random() * 30))
    received = assigned - dt.timedelta(days=int(rng.random() * 10))
    ur_denial = received - dt.timedelta(days=2 + int(rng.random() * 28))

    # Injuries: mostly a few years before the decision, a long tail back to 1990.
    lag_days = 20 + int(rng.expovariate(1 / 900))
    injury = ur_denial - dt.timedelta(days=lag_days)
    if injury.year < 1990:
        injury = dt.date(1990, 1, 1) + dt.timedelta(days=int(rng.random() * 3000))

    age_roll = rng.random()
    age = 22 + int(rng.random() * 52) + (decision.year - injury.year) // 4
    age = min(age, 84)
    sex_roll = rng.random()
    sex = "male" if sex_roll < 0.55 else "female" if sex_roll < 0.95 else None
    if age_roll < 0.04:
        age_out: int | None = None
    else:
        age_out = age

    n_states = 1 + (rng.random() < 0.35) + (rng.random() < 0.2)
    states: list[str] = []
    while len(states) < n_states:
        state = _pick(rng, t.states, t.states_cum)
        if state not in states:
            states.append(state)
    if layout == "A":
        specialties = _pick(rng, t.a_specialties, t.a_specialties_cum)
        states_raw = ", ".join(states)
    elif layout == "B":
        specialties = _pick(rng, t.specialties, t.specialties_cum)
        states_raw = ", ".join(states)
    else:
        specialties = _pick(rng, t.specialties, t.specialties_cum)
        states_raw = ("," if rng.random() < 0.7 else ", ").join(states)

    variant = "standard"
    if layout == "A":
        variant = ("notice", "documents", "professional")[int(rng.random() * 3)]

    letter_id = f"{SYNTHETIC_PREFIX}{decision.year % 100:02d}-{index + 1:07d}"
    summary, states_date = _summary(rng, t.vocab, layout, age_out, sex, injury, ur_denial)
    content = LetterContent(
        index=index,
        letter_id=letter_id,
        layout=layout,
        variant=variant,
        decision_date=decision,
        injury_date=injury,
        date_assigned=assigned,
        ur_denial_date=ur_denial,
        application_received=received,
        priority="Expedited" if rng.random() < 0.03 else "Standard",
        age=age_out,
        sex=sex,
        states=states,
        states_raw=states_raw,
        specialties_raw=specialties,
        summary=summary,
        summary_states_injury_date=states_date,
        glued_not=layout == "A" and rng.random() < 0.4,
    )
    n_items = 1 + bisect(t.count_cum, rng.random() * t.count_cum[-1])
    seen: set[str] = set()
    while len(content.items) < n_items:
        item = _item(rng, t, layout, year, decision)
        if item.request in seen:
            continue
        seen.add(item.request)
        content.items.append(item)
    return content


_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(day: dt.date, style: int) -> str:
    """0: MM/DD/YYYY, 1: M/D/YYYY, 2: MM-DD-YYYY, 3: MM-DD-YY, 4: 'October 24, 2016',
    5: MM/DD/YY."""
    if style == 0:
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    if style == 1:
        return f"{day.month}/{day.day}/{day.year}"
    if style == 2:
        return f"{day.month:02d}-{day.day:02d}-{day.year}"
    if style == 3:
        return f"{day.month:02d}-{day.day:02d}-{day.year % 100:02d}"
    if style == 5:
        return f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}"
    return f"{_MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def _summary(
    rng: random.Random,
    vocab: Vocab,
    layout: str,
    age: int | None,
    sex: str | None,
    injury: dt.date,
    ur_denial: dt.date,
) -> tuple[str, bool]:
    """The case summary and whether it states the injury date."""
    style = int(rng.random() * 5)
    if style == 3 and injury.year < 1931:  # two-digit years only read back above the pivot
        style = 2
    date = format_date(injury, 1 if layout == "A" else style)
    sex_word = sex or "individual"
    article = "an" if sex_word[0] in "aeiou" else "a"
    if sex and rng.random() < 0.08:
        sex_word = "man" if sex == "male" else "woman"
    roll = rng.random()
    states_date = True
    if layout == "A":
        if age is None:
            opening = f"The patient is {article} {sex_word} with a date of injury of {date}."
        elif roll < 0.6:
            opening = f"The patient is a {age} year-old {sex_word} with a date of Injury of {date}."
        else:
            opening = (
                f"The applicant is a {age} year-old {sex_word} who reported an industrial "
                f"injury on {date}."
            )
    elif age is None:
        opening = (
            f"The injured worker is {article} {sex_word} who sustained an industrial injury "
            f"on {date}."
        )
    elif roll < 0.35:
        opening = (
            f"The injured worker is a {age} year old {sex_word} who sustained an industrial "
            f"injury on {date}."
        )
    elif roll < 0.5:
        opening = (
            f"This case involves a now {age}-year-old {sex_word} with a history of an "
            f"occupational claim from {date}."
        )
    elif roll < 0.65:
        opening = (
            f"This is a {age}-year-old {sex_word} patient, who sustained an industrial injury "
            f"on {date}."
        )
    elif roll < 0.8:
        opening = f"This is a {age} year old {sex_word} with a date of injury on {date}."
    elif roll < 0.9 or layout != "B2":
        opening = (
            f"The injured worker is a {age} year old {sex_word} with chronic pain associated "
            f"with an industrial injury of {date}."
        )
    else:  # B2 only: the header states the date of injury
        opening = (
            f"The injured worker is a {age} year old {sex_word} with chronic neck and back pain."
        )
        states_date = False
    diagnoses = vocab.phrases["diagnoses"]
    history = vocab.phrases["history"]
    parts = [opening, f"Diagnoses include {diagnoses[int(rng.random() * len(diagnoses))]}."]
    visit = format_date(ur_denial - dt.timedelta(days=5 + int(rng.random() * 60)), 1)
    ur = format_date(ur_denial, 1)
    first = int(rng.random() * len(history))
    for j in range(2 + int(rng.random() * 4)):  # consecutive picks: distinct, and cheap
        sentence = history[(first + j) % len(history)]
        if "{" in sentence:
            sentence = sentence.replace("{visit}", visit).replace("{ur}", ur)
        parts.append(sentence)
    return " ".join(parts), states_date


def _item(rng: random.Random, t: _Tables, layout: str, year: int, decision: dt.date) -> Item:
    names, cum = t.category_cum[year]
    category = _pick(rng, names, cum)
    rows, row_cum = t.templates[category]
    template: RequestTemplate = _pick(rng, rows, row_cum)
    overturned = rng.random() < t.vocab.overturn_rate[category]
    item = Item(
        request="",
        decision="Overturned" if overturned else "Upheld",
        category=category,
        subcategory=template.subcategory,
    )
    if template.quantities:
        n = template.quantities[int(rng.random() * len(template.quantities))]
        request = template.template.replace("{n}", str(n))
        if layout != "A" and n >= 4 and rng.random() < PARTIAL_RATE:
            authorized = max(1, int(n * (0.25 + rng.random() * 0.5)))
            item.original_request = request
            item.authorized_portion = template.template.replace("{n}", str(authorized))
            request = template.template.replace("{n}", str(n - authorized))
            item.partial_wording = ", " if rng.random() < 0.8 else " is "
            item.partial_suffix = PARTIAL_SUFFIXES[int(rng.random() * 4)]
            if item.partial_wording == " is " and item.partial_suffix.startswith(" is"):
                item.partial_suffix = ": "
    else:
        request = template.template
    if item.original_request is None and rng.random() < RETRO_RATE:
        service = decision - dt.timedelta(days=30 + int(rng.random() * 90))
        request = f"Retrospective {request} DOS: {format_date(service, 1 if layout == 'A' else 5)}"
    item.request = request
    _guidelines(rng, t.vocab, layout, item, template)
    _rationale(rng, t.vocab, item)
    return item


def _citation_pool(
    vocab: Vocab, template: RequestTemplate, style: str
) -> tuple[CitationTemplate, ...]:
    groups = [template.subcategory]
    if template.subcategory.startswith("Topical"):
        groups.append("Topical")
    groups += [template.category, "general"]
    for group in groups:
        pool = vocab.citations.get((group, style))
        if pool:
            return pool
    raise LookupError(f"no citations for {template} in style {style}")


def _guidelines(
    rng: random.Random, vocab: Vocab, layout: str, item: Item, template: RequestTemplate
) -> None:
    style = "A" if layout == "A" else "B" if layout == "B" else "B2"
    pool = _citation_pool(vocab, template, style)
    extra = vocab.citations.get((template.category, style)) or vocab.citations[("general", style)]
    sources: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    for role in ("claims_administrator", "maximus"):
        roll = rng.random()
        if roll < (0.07 if role == "claims_administrator" else 0.02):
            texts[role] = _no_evidence(layout, role)
            continue
        chosen = [pool[int(rng.random() * len(pool))]]
        if rng.random() < 0.25:
            other = extra[int(rng.random() * len(extra))]
            if other.text != chosen[0].text:
                chosen.append(other)
        sources += [(role, c.source) for c in chosen]
        texts[role] = _guideline_text(rng, layout, role, chosen)
    item.claims_admin_guideline = texts["claims_administrator"]
    item.maximus_guideline = texts["maximus"]
    item.sources = tuple(sources)


def _no_evidence(layout: str, role: str) -> str:
    if layout == "A":
        if role == "claims_administrator":
            return (
                "The Claims Administrator did not cite any evidence-based guidelines for its "
                "decision."
            )
        return "The Expert Reviewer did not cite any medical evidence for his/her decision."
    if role == "claims_administrator":
        return "The Claims Administrator did not cite any medical evidence for its decision."
    return "The expert reviewer did not cite any medical evidence for its decision."


def _guideline_text(
    rng: random.Random, layout: str, role: str, chosen: list[CitationTemplate]
) -> str:
    if layout == "A":
        sentences = []
        for citation in chosen:
            mtus = citation.source == "MTUS"
            if role == "claims_administrator":
                sentences.append(
                    f"The Claims Administrator based its decision on {citation.text}"
                    + (
                        ", which is part of the MTUS."
                        if mtus
                        else ", which is not part of the MTUS."
                    )
                )
            elif mtus:
                sentences.append(
                    f"The Expert Reviewer relied on {citation.text}, which is part of the MTUS."
                )
            else:
                sentences.append(
                    "The Expert Reviewer found that no section of the MTUS was applicable. Per the "
                    "Strength of Evidence hierarchy established by the California Department of "
                    "Industrial Relations, Division of Workers' Compensation, the Expert Reviewer "
                    f"based his/her decision on {citation.text}."
                )
        return " ".join(sentences)
    parts = [c.text for c in chosen]
    if all(c.source != "MTUS" for c in chosen) and rng.random() < 0.6:
        if role == "claims_administrator":
            parts.insert(0, "The Claims Administrator did not base their decision on the MTUS.")
        elif layout == "B2":
            parts.insert(
                0,
                "The Expert Reviewer based their decision on recommendation(s) outside of the "
                "MTUS Guidelines.",
            )
    return " ".join(parts)


def _rationale(rng: random.Random, vocab: Vocab, item: Item) -> None:
    pool = vocab.phrases["upheld" if item.decision == "Upheld" else "overturned"]
    body = [s for s in pool if "{request}" not in s]
    closing = next(s for s in pool if "{request}" in s)
    first = int(rng.random() * len(body))
    sentences = [body[(first + j) % len(body)] for j in range(1 + int(rng.random() * 3))]
    sentences.append(closing.replace("{request}", item.request))
    item.rationale = " ".join(sentences)
