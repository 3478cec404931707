"""Medication requests: names to ingredients and DWC drug class; strength, quantity, refills.

Curated tables (``drugs.csv`` brand -> ingredients, ``ingredient_classes.csv`` ingredient -> class)
come first. ``drug_named_entity_recognition`` (exact matching only: its fuzzy mode is broken) is a
brand -> generic fallback; it takes ~2 s to import, so it is imported lazily and only when a request
looks like a medication that the tables do not know.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from etl.classify import tables
from etl.text import cached_text, trie_pattern

UNCLASSIFIED_DRUG = "Unclassified Drug"
OPIOIDS = "Opioids"
TOPICAL_ANALGESICS = "Topical Analgesics"
TOPICAL_COMPOUNDS = "Topical Compounds"
INJECTABLE = "Injectable Medications"

# Taxonomy rules 1 and 5 first, then the usual "what is this item for" order; acetaminophen,
# caffeine, GI protectants and supplements only decide when nothing stronger is present.
CLASS_PRIORITY = (
    OPIOIDS,
    "Barbiturates",
    "Viscosupplementation",
    "Impotence Agents",
    "Antimigraine Agent",
    "NSAID",
    "Muscle Relaxant",
    "Anti-epilepsy drugs",
    "Antidepressant",
    "Benzodiazepines",
    "Sedative-hypnotics",
    "AntiAnxiety",
    "Atypical Antipsychotic",
    "Stimulants",
    "Cannabinoids",
    "Opioid Antagonist",
    TOPICAL_ANALGESICS,
    "Proton Pump Inhibitors",
    "H2 Blocker",
    "Antiemetic",
    "Antihistamine",
    "Adrenal Cortical Steroids",
    "Androgens & Anabolic Steroids",
    "Hormones",
    "Bisphosphonates",
    "TNF Modifiers",
    INJECTABLE,
    "Dopamine agonists",
    "Antihypertensive",
    "Beta-blocker",
    "Calcium Channel Blocker",
    "Alpha-blocker",
    "Statin",
    "Fibric Acid",
    "Antidiabetics",
    "Anti-coagulant",
    "Anti-infectives",
    "Asthma Medications",
    "Misc Analgesics",
    "GI Agents",
    "Nutritional Products",
)
_PRIORITY = {name: i for i, name in enumerate(CLASS_PRIORITY)}
# Classes whose injected form (Toradol IM, B12 shots, Depo-Testosterone) is an office-administered
# 'Injectable Medications' item; injected opioids, hyaluronates, insulin etc. keep their class.
_OFFICE_INJECTED = frozenset(
    {
        "NSAID",
        "Nutritional Products",
        "Adrenal Cortical Steroids",
        "Androgens & Anabolic Steroids",
        "Hormones",
        "Misc Analgesics",
        "Antiemetic",
        "Antihistamine",
        "Anti-infectives",
        "Muscle Relaxant",
    }
)

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 50,000 IU too
_STRENGTH_RE = re.compile(
    rf"(?<![\w.])(?:"
    rf"{_NUM}\s?%(?:\s?[-/]\s?{_NUM}\s?%)*"  # 5%, 4%-27.5%-0.0325%
    rf"|{_NUM}(?:(?:\s?(?:mg|mcg))?\s?[/-]\s?{_NUM})+\s?(?:mg|mcg)\b"  # 10/325mg, 7.5-325mg
    rf"|{_NUM}\s?(?:mg|mcg|µg|meq|iu|units?)(?:\s?/\s?(?:ml|g|gm|hr|h|5\s?ml|actuation|dose))?\b"
    rf"|{_NUM}/(?:300|325|500|650|750)\b"  # Norco 10/325 written without a unit
    r")",
    re.IGNORECASE,
)
_PERCENT_RE = re.compile(r"%")
_COUNT_RE = re.compile(r"#\s?(\d+(?:\.\d+)?)")
_QTY_RE = re.compile(r"\b(?:qty|quantity)\s*[:.#]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_AMOUNT_RE = re.compile(
    rf"(?<![\w./])({_NUM})\s?(ml|g|gm|gms|grams?|oz)\b(?!\s?/)",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "no": 0,
    "zero": 0,
    "one": 1,
    "a": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_REFILL_RE = re.compile(
    r"\b(\d+|no|zero|one|a|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"\s*(?:\(\d+\)\s*)?(?:additional\s+)?refills?\b"
    r"|\brefills?\s*(?:x|:|of)?\s*(\d+)\b",
    re.IGNORECASE,
)
_TOPICAL_RE = re.compile(
    r"\b(?:creams?|gels?|patch(?:es)?|ointments?|lotions?|sprays?|topical(?:ly)?|transdermal|"
    r"rubs?|roll-?on|liniment|balm|foam|salve|emulsion|film)\b",
    re.IGNORECASE,
)
# Percent strengths and gram amounts are written only for creams, gels and patches.
_TOPICAL_HINT_RE = re.compile(r"\d\s?%|\d\s?(?:g|gm|gms|grams?)\b|\bpercent\b", re.IGNORECASE)
_NOT_SKIN_RE = re.compile(r"\b(?:nasal|intranasal|inhal\w*|ophthalmic|otic|eye|ear)\b", re.I)
_COMPOUND_RE = re.compile(r"\bcompound", re.IGNORECASE)
_INJECTION_RE = re.compile(
    r"\b(?:inject\w*|intramuscular|im|iv|intravenous|shots?|infusions?)\b", re.IGNORECASE
)
_MED_FORM_RE = re.compile(
    r"\b(?:tabs?|tablets?|caps?|capsules?|creams?|gels?|ointments?|lotions?|patch(?:es)?|"
    r"suspension|solution|syrup|elixir|suppositor\w*|lozenges?|inhalers?|drops|po|bid|tid|qid|"
    r"qhs|prn|q\d+h|sig|dispense|refills?|er|xr|sr|cr|dr|ods?)\b",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
# Words that sit next to a strength but are not drug names.
_NOT_DRUG_TEXT = """
    retrospective retro prospective request requested dispensed date dates dos tablet tablets
    tabs caps capsule capsules cream creams gel gels ointment lotion patch patches spray topical
    transdermal oral suspension solution syrup liquid extended release delayed sodium potassium
    hydrochloride citrate sulfate tartrate bitartrate besylate succinate maleate acetate base
    daily twice three times once every hours hour needed bedtime night morning with without
    refill refills quantity compound compounded compounding post pre-op post-op postop preop
    units unit strength dose doses supply supplies days weeks week month months medication
    medications trial order ordered prescription prescribed each apply total grams gram
    kit pack packs bottle bottles tube tubes package original remaining portion authorized
    injection injections inject nasal vial vials pump pen pens syringe
"""
_NOT_DRUG_WORDS = frozenset(_NOT_DRUG_TEXT.split())


@dataclass
class Medication:
    """What a medication request resolves to."""

    drug_class: str
    drugs: list[str] = field(default_factory=list)
    strength: str | None = None
    quantity: str | None = None
    refills: int | None = None
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Mention:
    name: str
    start: int
    end: int
    ingredients: tuple[str, ...]
    drug_class: str  # product-level override ('' when derived from ingredients)
    form: str  # 'topical' | 'transdermal' | 'oral' | ''
    is_product: bool  # a brand/product row rather than a bare ingredient


@functools.cache
def _lexicon() -> dict[str, tuple[tuple[str, ...], str, str, bool]]:
    """Every known name -> (ingredients, class override, form, is_product)."""
    lex: dict[str, tuple[tuple[str, ...], str, str, bool]] = {}
    for ingredient in tables.ingredient_classes():
        lex[ingredient] = ((ingredient,), "", "", False)
    for name, row in tables.drug_products().items():
        ingredients = tuple(i.strip().lower() for i in row["ingredients"].split("+") if i.strip())
        is_product = name not in ingredients
        lex[name] = (ingredients, row["drug_class"], row["form"], is_product)
    return lex


@functools.cache
def _name_re() -> re.Pattern[str]:
    # The longest name first, so 'lidoderm patch' wins over 'lidoderm' at the same position.
    return re.compile(rf"(?<![a-z0-9])(?:{trie_pattern(_lexicon())})(?![a-z])")


def find_drug_mentions(text: str) -> list[_Mention]:
    """Known drug names in ``text`` (curated tables only), in order of appearance."""
    lowered = text.lower()
    lex = _lexicon()
    mentions = []
    for m in _name_re().finditer(lowered):
        ingredients, drug_class, form, is_product = lex[m.group(0)]
        mentions.append(
            _Mention(m.group(0), m.start(), m.end(), ingredients, drug_class, form, is_product)
        )
    return mentions


def parse_strength(text: str) -> str | None:
    """Strength as written (spaces removed): '10/325mg', '2mg', '5%', '4%-27.5%-0.0325%'.

    Several separate percentages (a compound's ingredients) are joined with '/'.
    Spine levels (L4-5, C5-6), dates and dosing ranges carry no unit, so never match.
    """
    found = [m.group(0).replace(" ", "") for m in _STRENGTH_RE.finditer(text)]
    if not found:
        return None
    if len(found) > 1 and all(_PERCENT_RE.search(s) for s in found):
        return "/".join(found)
    return found[0]


def parse_quantity(text: str) -> str | None:
    """Dispensed quantity: the number after '#' ('#120' -> '120') or 'qty'; else a package
    amount as written ('250ml', '120grams') when no count is given."""
    for pattern in (_COUNT_RE, _QTY_RE):
        m = pattern.search(text)
        if m:
            return m.group(1)
    m = _AMOUNT_RE.search(text)
    return (m.group(1) + m.group(2)) if m else None


def parse_refills(text: str) -> int | None:
    """'with 2 refills' -> 2, 'with one refill' -> 1, 'no refills' -> 0."""
    m = _REFILL_RE.search(text)
    if not m:
        return None
    word = (m.group(1) or m.group(2)).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def looks_like_medication(text: str) -> bool:
    """A strength with a unit, a dosage form or '#N' next to a name we may not know."""
    return bool(_STRENGTH_RE.search(text) or _MED_FORM_RE.search(text))


@cached_text(maxsize=4096)
def lookup_external(text: str) -> tuple[str, ...]:
    """Generic names found by drug_named_entity_recognition (exact match), lower case."""
    from drug_named_entity_recognition import find_drugs  # ~2 s import: only when needed

    tokens = re.findall(r"[A-Za-z][A-Za-z0-9-]*", text)
    names: list[str] = []
    for drug, _start, _end in find_drugs(tokens, is_ignore_case=True):
        name = str(drug.get("name", "")).lower()
        name = re.sub(r"\s+(patch|cream|gel|tablets?|capsules?|injection|oral)$", "", name)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def classify_medication(text: str, mentions: list[_Mention] | None = None) -> Medication:
    """Ingredients, class, strength, quantity and refills of one medication request."""
    if mentions is None:
        mentions = find_drug_mentions(text)
    ingredients: list[str] = []
    for mention in mentions:
        for ingredient in mention.ingredients:
            if ingredient not in ingredients:
                ingredients.append(ingredient)
    unknown = _unknown_names(text, mentions)
    # Blank out names first so that 'Tylenol #3' is not read as a quantity of 3.
    unnamed = text
    for m in mentions:
        if m.end > m.start:
            unnamed = unnamed[: m.start] + " " * (m.end - m.start) + unnamed[m.end :]
    return Medication(
        drug_class=_choose_class(text, mentions, ingredients),
        drugs=sorted(ingredients),
        strength=parse_strength(text),
        quantity=parse_quantity(unnamed),
        refills=parse_refills(text),
        unknown=unknown,
    )


def classify_external(text: str, generics: tuple[str, ...]) -> Medication:
    """A medication the tables did not know but the fallback package named."""
    classes = tables.ingredient_classes()
    unknown = [g for g in generics if g not in classes]
    known = [g for g in generics if g in classes]
    mentions = [_Mention(g, 0, 0, (g,), "", "", False) for g in known]
    med = classify_medication(text, mentions) if known else _unclassified(text, [])
    med.drugs = sorted(set(med.drugs) | set(generics))
    med.unknown = unknown
    if unknown and not known:
        med.drug_class = UNCLASSIFIED_DRUG
    return med


def classify_unknown(text: str) -> Medication:
    """A medication-looking request with no name we know: class 'Unclassified Drug'."""
    name = guess_drug_name(text)
    return _unclassified(text, [name] if name else [text.strip()])


def guess_drug_name(text: str) -> str | None:
    """The word(s) naming the drug: those before the first strength/form, minus filler."""
    stop = _STRENGTH_RE.search(text) or _MED_FORM_RE.search(text) or _COUNT_RE.search(text)
    head = text[: stop.start()] if stop else text
    words = [w for w in _WORD_RE.findall(head) if w.lower() not in _NOT_DRUG_WORDS]
    return " ".join(words[-2:]) if words else None


def _unclassified(text: str, unknown: list[str]) -> Medication:
    return Medication(
        drug_class=UNCLASSIFIED_DRUG,
        strength=parse_strength(text),
        quantity=parse_quantity(text),
        refills=parse_refills(text),
        unknown=unknown,
    )


def _choose_class(text: str, mentions: list[_Mention], ingredients: list[str]) -> str:
    classes = tables.ingredient_classes()
    ingredient_classes = [classes.get(i, "") for i in ingredients]
    if OPIOIDS in ingredient_classes:  # taxonomy rule 1
        return OPIOIDS
    topical = not _NOT_SKIN_RE.search(text) and (
        bool(_TOPICAL_RE.search(text) or _TOPICAL_HINT_RE.search(text))
        or any(m.form in ("topical", "transdermal") for m in mentions)
    )
    if topical:  # rule 2
        if any(m.drug_class == TOPICAL_COMPOUNDS for m in mentions) or _is_compound(text, mentions):
            return TOPICAL_COMPOUNDS
        return TOPICAL_ANALGESICS
    overrides = [m.drug_class for m in mentions if m.drug_class]
    candidates = overrides or [c for c in ingredient_classes if c]
    if not candidates:
        return UNCLASSIFIED_DRUG
    best = min(candidates, key=lambda c: _PRIORITY.get(c, len(_PRIORITY)))
    if best in _OFFICE_INJECTED and _INJECTION_RE.search(text):
        return INJECTABLE
    return best


def _is_compound(text: str, mentions: list[_Mention]) -> bool:
    """Called compound, or two or more separately named ingredients (not one brand)."""
    if _COMPOUND_RE.search(text):
        return True
    generics = {m.name for m in mentions if not m.is_product}
    return len(generics) >= 2


_LAST_WORD_RE = re.compile(r"([a-z][a-z-]{3,})$")  # compiled here: see etl.classify.prepare


def _unknown_names(text: str, mentions: list[_Mention]) -> list[str]:
    """Words written right before a strength that no table knows (e.g. a new kit's name)."""
    covered = [(m.start, m.end) for m in mentions]
    lowered = text.lower()
    unknown = []
    for strength in _STRENGTH_RE.finditer(text):
        before = lowered[: strength.start()].rstrip(" /,(")
        word_match = _LAST_WORD_RE.search(before)
        if not word_match:
            continue
        start = word_match.start()
        if any(s <= start < e for s, e in covered):
            continue
        word = word_match.group(1)
        if word in _NOT_DRUG_WORDS or word in _lexicon():
            continue
        unknown.append(text[start : start + len(word)])
    return unknown
