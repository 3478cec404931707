"""Disputed requests to DWC request category/subcategory.

Order of decision (rules are rows of ``request_rules.csv``, first match wins within a stage):
1. 'pre' rules: services whose text may name a drug without being a medication request
   (acupuncture with a capsaicin patch, a lidocaine trigger point injection, urine drug screens,
   medication-management visits, pre-op labs).
2. A known drug name (curated tables) -> Pharmaceuticals, subcategory = drug class.
3. 'post' rules: every other service.
4. Medication-looking text (strength, dosage form, '#N'): the ``drug_named_entity_recognition``
   fallback, else Pharmaceuticals / 'Unclassified Drug'.
5. Nothing matched: Other / Unclassified.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from etl.classify import drugs, tables
from etl.classify.gates import GateWords, gate_of, opens
from etl.text import cached_text, plain

PHARMACEUTICALS = "Pharmaceuticals"
OTHER = "Other"
UNCLASSIFIED = "Unclassified"


@dataclass
class RequestClass:
    """A request's labels plus, for medications, what the drug tables made of it."""

    category: str
    subcategory: str
    medication: drugs.Medication | None = None
    unresolved_request: bool = False
    unknown_drugs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    category: str
    subcategory: str
    gate: frozenset[str]  # words one of which every match holds (etl.classify.gates)


@dataclass(frozen=True)
class _Stage:
    rules: tuple[Rule, ...]
    gates: GateWords  # the rules' gate words, found in a request in one scan


@functools.cache
def _compiled_rules() -> dict[str, _Stage]:
    stages: dict[str, list[Rule]] = {"pre": [], "post": []}
    for row in tables.request_rules():
        # Patterns are lower case and matched against lower-cased text: much faster than
        # IGNORECASE on these long alternations.
        stages[row["stage"]].append(
            Rule(
                re.compile(row["pattern"]),
                row["category"],
                row["subcategory"],
                frozenset(gate_of(row["pattern"])),
            )
        )
    return {
        stage: _Stage(tuple(rules), GateWords({word for rule in rules for word in rule.gate}))
        for stage, rules in stages.items()
    }


_SPACE_RE = re.compile(r"\s+")


def normalise_request(text: str) -> str:
    """Single-spaced, trimmed, curly quotes/dashes made ASCII: the form rules are written for."""
    return plain(text)


# "Retrospective: ..." / "Prospective request for ..." say when, not what: rules anchored at the
# start of a request ('^pre-op', '^associated surgical service') must see past them.
_TIMING_PREFIX_RE = re.compile(
    r"^(?:retrospective|retro|prospective|concurrent)\b[\s:,-]*(?:request for\s+)?"
)


def match_rule(text: str, stage: str) -> tuple[str, str] | None:
    """(category, subcategory) of the first rule of ``stage`` matching ``text``."""
    lowered = _TIMING_PREFIX_RE.sub("", text.lower())
    rules = _compiled_rules()[stage]
    # A rule whose gate stays shut cannot match: a request new to the cache tried its stage's
    # every rule, most of its classification's time on the real letters (stop 52).
    words = rules.gates.found_in(lowered)
    for rule in rules.rules:
        if opens(rule.gate, words) and rule.pattern.search(lowered):
            return rule.category, rule.subcategory
    return None


@cached_text(maxsize=16384)
def classify_request(request: str) -> RequestClass:
    """Category/subcategory of one request; cached because requests repeat a lot."""
    text = normalise_request(request)
    hit = match_rule(text, "pre")
    if hit:
        return RequestClass(*hit)
    mentions = drugs.find_drug_mentions(text)
    if mentions:
        return _medication(drugs.classify_medication(text, mentions))
    hit = match_rule(text, "post")
    if hit and hit[0] == PHARMACEUTICALS:
        return _medication(drugs.classify_medication(text, []), hit[1])
    if hit:
        return RequestClass(*hit)
    if drugs.looks_like_medication(text) or _looks_like_name(text):
        generics = drugs.lookup_external(text)
        if generics:
            return _medication(drugs.classify_external(text, generics))
        if drugs.looks_like_medication(text):
            return _medication(drugs.classify_unknown(text))
    return RequestClass(OTHER, UNCLASSIFIED, unresolved_request=True)


def _medication(med: drugs.Medication, subcategory: str | None = None) -> RequestClass:
    if subcategory and med.drug_class == drugs.UNCLASSIFIED_DRUG:
        med.drug_class = subcategory
    return RequestClass(PHARMACEUTICALS, med.drug_class, med, unknown_drugs=list(med.unknown))


_NAME_ONLY_RE = re.compile(r"^(?:retrospective\s+|retro\s+|prospective\s+)?[A-Za-z][\w-]+$")


def _looks_like_name(text: str) -> bool:
    """A bare single word ('Omeprazole', 'Etodolac') is worth asking the fallback about."""
    return bool(_NAME_ONLY_RE.match(text))
