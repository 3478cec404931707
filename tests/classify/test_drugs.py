"""Medication requests: strength, quantity, refills, ingredients and the taxonomy's class rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.classify import drugs
from etl.classify.drugs import parse_quantity, parse_refills, parse_strength
from etl.classify.requests import classify_request
from etl.text import trie_pattern
from tests.classify.test_reasons import _sample_norms


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("Norco 10/325mg #120", "10/325mg"),
        ("Norco 10/325 #120", "10/325"),
        ("Norco 7.5-325mg #112", "7.5-325mg"),
        ("Ativan 2mg, #105", "2mg"),
        ("Lidocaine 5% patch #1", "5%"),
        ("Retrospective Lidopro 4%-27.5%-0.0325% 121gm #1", "4%-27.5%-0.0325%"),
        ("Flurbiprofen 10%/Dextromethorphan 5%/Lidocaine 5%, 120grams #1", "10%/5%/5%"),
        ("Tabradol 1mg/ml oral suspension, 250ml", "1mg/ml"),
        ("Diclofenac/misoprostol 75-0.2mg #60 with 2 refills", "75-0.2mg"),
        ("Butrans 10 mcg/hr patch #4", "10mcg/hr"),
        ("Trezix capsule 30.5/30/16mg", "30.5/30/16mg"),
        ("Epidural steroid injection L4-5", None),
        ("Facet joint injections L4-5, L5-S1", None),
        ("MRI C5-6 and C6-7", None),
        ("Retrospective Cyclobenzaprine 5mg tab #30 DOS: 11/14/16", "5mg"),
        ("Norco 5/325mg, 1-2 tabs every 4-6 hrs", "5/325mg"),
        ("Omeprazole", None),
    ],
)
def test_strength(text: str, strength: str | None) -> None:
    assert parse_strength(text) == strength


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("Norco 10/325mg #120", "120"),
        ("Ativan 2mg, #105", "105"),
        ("Norco 10/325mg # 90", "90"),
        ("Gabapentin 600mg qty: 60", "60"),
        ("Fanatrex 25mg/ml oral suspension 420ml", "420ml"),
        ("Lidocaine ointment 5% 106.32gm", "106.32gm"),
        ("Retrospective Lidopro 4%-27.5%-0.0325% 121gm #1", "1"),
        ("Omeprazole 20mg", None),
    ],
)
def test_quantity(text: str, quantity: str | None) -> None:
    assert parse_quantity(text) == quantity


@pytest.mark.parametrize(
    ("text", "refills"),
    [
        ("Diclofenac/misoprostol 75-0.2mg #60 with 2 refills", 2),
        ("Pantoprazole 40mg #60 with one refill", 1),
        ("Three refills of Voltaren 75mg #60", 3),
        ("Norco 10/325mg #120 with no refills", 0),
        ("Norco 10/325mg #120, refills: 5", 5),
        ("Norco 10/325mg #120", None),
    ],
)
def test_refills(text: str, refills: int | None) -> None:
    assert parse_refills(text) == refills


@pytest.mark.parametrize(
    ("text", "subcategory", "drugs"),
    [
        ("Norco 10/325mg #120", "Opioids", ["acetaminophen", "hydrocodone"]),
        ("Post-op Percocet 5/325mg", "Opioids", ["acetaminophen", "oxycodone"]),
        ("Ultracet 37.5/325mg #60", "Opioids", ["acetaminophen", "tramadol"]),
        ("Butrans 10mcg/hr patch #4", "Opioids", ["buprenorphine"]),
        ("Synapryn 10mg/ml oral suspension 500ml", "Opioids", ["glucosamine", "tramadol"]),
        ("Ultram (tramadol) 50mg #90", "Opioids", ["tramadol"]),
        ("Ativan 2mg, #105", "Benzodiazepines", ["lorazepam"]),
        ("Lidoderm 5% patches #30", "Topical Analgesics", ["lidocaine"]),
        ("Voltaren gel 1% 100g", "Topical Analgesics", ["diclofenac"]),
        (
            "Terocin patches #10",
            "Topical Analgesics",
            ["capsaicin", "lidocaine", "menthol", "methyl salicylate"],
        ),
        ("Menthoderm gel 120gm", "Topical Analgesics", ["menthol", "methyl salicylate"]),
        ("Medrox patches #30", "Topical Analgesics", ["capsaicin", "menthol", "methyl salicylate"]),
        ("Salonpas patches", "Topical Analgesics", ["menthol", "methyl salicylate"]),
        (
            "Flurbiprofen 20%/Cyclobenzaprine 4% cream",
            "Topical Compounds",
            ["cyclobenzaprine", "flurbiprofen"],
        ),
        ("Compounded ketoprofen cream 20%", "Topical Compounds", ["ketoprofen"]),
        ("Tabradol 1mg/ml oral suspension, 250ml", "Muscle Relaxant", ["cyclobenzaprine"]),
        ("Deprizine 15mg/ml oral suspension, 250ml", "H2 Blocker", ["ranitidine"]),
        ("Fanatrex 25mg/ml oral suspension 420ml", "Anti-epilepsy drugs", ["gabapentin"]),
        ("Dicopanol 5mg/ml oral suspension, 150ml", "Sedative-hypnotics", ["diphenhydramine"]),
        ("Theramine #120", "Nutritional Products", ["theramine"]),
        ("Sentra PM #60", "Nutritional Products", ["sentra pm"]),
        ("Trepadone #120", "Nutritional Products", ["trepadone"]),
        ("Glucosamine sulfate 500mg #90", "Nutritional Products", ["glucosamine"]),
        ("Fioricet #30", "Barbiturates", ["acetaminophen", "butalbital", "caffeine"]),
        ("Viagra 100mg #10", "Impotence Agents", ["sildenafil"]),
        ("Cialis 5mg #30", "Impotence Agents", ["tadalafil"]),
        ("Synvisc injection to the right knee", "Viscosupplementation", ["hylan g-f 20"]),
        ("Toradol 60mg IM injection", "Injectable Medications", ["ketorolac"]),
        ("Soma 350mg #60", "Muscle Relaxant", ["carisoprodol"]),
        ("Prilosec 20mg #60", "Proton Pump Inhibitors", ["omeprazole"]),
        ("Ambien 10mg #30", "Sedative-hypnotics", ["zolpidem"]),
        ("Cymbalta 60mg #30", "Antidepressant", ["duloxetine"]),
        ("Lyrica 75mg #60", "Anti-epilepsy drugs", ["pregabalin"]),
        ("Zofran ODT 8mg #10", "Antiemetic", ["ondansetron"]),
        ("Imitrex 50mg #9", "Antimigraine Agent", ["sumatriptan"]),
        ("Diclofenac/misoprostol 75-0.2mg #60", "NSAID", ["diclofenac", "misoprostol"]),
        (
            "Norco 10/325mg #90 and Soma 350mg #60",
            "Opioids",
            ["acetaminophen", "carisoprodol", "hydrocodone"],
        ),
    ],
)
def test_medication_class_and_ingredients(text: str, subcategory: str, drugs: list[str]) -> None:
    result = classify_request(text)
    assert (result.category, result.subcategory) == ("Pharmaceuticals", subcategory)
    assert result.medication is not None
    assert result.medication.drugs == drugs
    assert result.unknown_drugs == []


def test_unknown_drug_is_unclassified_and_reported() -> None:
    result = classify_request("Zzyxorin 20mg #60")
    assert (result.category, result.subcategory) == ("Pharmaceuticals", "Unclassified Drug")
    assert result.unknown_drugs == ["Zzyxorin"]
    assert result.medication is not None and result.medication.strength == "20mg"


def test_unknown_ingredient_beside_a_known_one_is_reported() -> None:
    result = classify_request("Norco 10/325mg #60 and Zzyxorin 20mg #60")
    assert result.subcategory == "Opioids"
    assert result.unknown_drugs == ["Zzyxorin"]


def test_service_naming_a_drug_is_not_a_medication() -> None:
    assert classify_request("Twelve acupuncture visits with Capsaicin patch").subcategory == (
        "Acupuncture"
    )
    assert classify_request("Trigger point injection with lidocaine").category == "Injection"
    assert classify_request("Urine drug screen").subcategory == "Lab & Pathology"


def test_a_trie_pattern_matches_the_longest_word_then_the_next() -> None:
    pattern = trie_pattern(["a", "ab", "abc", "b", "x.y"])
    assert re.match(pattern, "abcd")[0] == "abc"  # type: ignore[index]
    assert re.match(pattern, "abx")[0] == "ab"  # type: ignore[index]
    # What follows the longest fails: the next longest is taken, as an alternation would.
    assert re.match(f"(?:{pattern})(?!d)", "abcd")[0] == "ab"  # type: ignore[index]
    assert re.fullmatch(pattern, "x.y") and not re.fullmatch(pattern, "xzy")
    assert re.search(pattern, "zzz") is None


_NAMES = sorted(drugs._lexicon())
# The drug names as one alternation, the longest first: what the trie replaced.
_ALTERNATION = re.compile(
    rf"(?<![a-z0-9])(?:{'|'.join(map(re.escape, sorted(_NAMES, key=len, reverse=True)))})(?![a-z])"
)


def _mentions(pattern: re.Pattern[str], text: str) -> list[tuple[str, int]]:
    return [(m[0], m.start()) for m in pattern.finditer(text)]


def test_drug_names_are_found_as_the_alternation_found_them() -> None:
    assert drugs.find_drug_mentions("Lidoderm patchy and lidoderm patch, lidodermx")[0].name == (
        "lidoderm"
    )
    texts = [*_NAMES, *(n + "x" for n in _NAMES), *(n + " 5%" for n in _NAMES), *_sample_norms()]
    for text in texts:
        assert _mentions(drugs._name_re(), text) == _mentions(_ALTERNATION, text), text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_NAMES),
            st.sampled_from(_NAMES).map(lambda n: n[:-1]),
            st.sampled_from(["", " ", "s", "x", "-", "/", "1", " patch", " er", "%"]),
        ),
        max_size=8,
    )
)
def test_drug_names_in_any_text_are_found_as_the_alternation_found_them(parts: list[str]) -> None:
    text = "".join(parts)
    assert _mentions(drugs._name_re(), text) == _mentions(_ALTERNATION, text)
