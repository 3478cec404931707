"""The index's fields: one document per disputed item.

Text fields use Tantivy's ``default`` tokenizer (split on what is not a letter or digit, lower
case, words over 40 characters dropped): no stemming, so a phrase is the words written and a
prefix (``improv*``) matches every word it begins.

``key`` ties a document to its item: DuckDB's ``hash(letter_id, item_no, salt)``, checked unique
over the warehouse's items at every build (``salt`` is recorded in the index's marker, and
changed — with a full rebuild — should two items ever share one). The dashboard computes the
same hash to semi-join matches onto its tables.
"""

from __future__ import annotations

import tantivy

# Bumped when the fields or their analysis change: an index of another format is rebuilt.
# 2: no text stored (snippets and similar decisions read it from the warehouse).
FORMAT = 2

KEY = "key"
LETTER_ID = "letter_id"
ITEM_NO = "item_no"
REQUEST = "request"
RATIONALE = "rationale"
GUIDELINES = "guidelines"
SUMMARY = "summary"
DIAGNOSES = "diagnoses"
DRUG = "drug"
CATEGORY = "category"
DRUG_CLASS = "drug_class"

# Searched when a query names no field, with their BM25 boosts.
DEFAULT_FIELDS: dict[str, float] = {
    REQUEST: 2.0,
    DRUG: 1.5,
    RATIONALE: 1.0,
    DIAGNOSES: 0.8,
    GUIDELINES: 0.6,
    SUMMARY: 0.5,
}
# Field names a user may write (``rationale:"urine drug screen"``); other names are words.
USER_FIELDS = frozenset(DEFAULT_FIELDS) | {LETTER_ID, CATEGORY, DRUG_CLASS}
# Raw (untokenized) fields: matched as written.
RAW_FIELDS = frozenset({LETTER_ID, CATEGORY, DRUG_CLASS})
# The texts snippets are cut from (in this order of preference). The index stores no text:
# its caller reads them from the warehouse (at 4M items the stored texts took 741 MB, 37% of
# the index, and 6% of its build's CPU).
SNIPPET_FIELDS = (RATIONALE, REQUEST, GUIDELINES)
TOKENIZER = "default"
MAX_TOKEN_CHARS = 40


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field(KEY, stored=True, indexed=True, fast=True)
    builder.add_text_field(LETTER_ID, stored=True, tokenizer_name="raw")
    builder.add_unsigned_field(ITEM_NO, stored=True)
    for name in (REQUEST, RATIONALE, GUIDELINES, SUMMARY, DIAGNOSES, DRUG):
        builder.add_text_field(name, stored=False, tokenizer_name=TOKENIZER)
    for name in (CATEGORY, DRUG_CLASS):
        builder.add_text_field(name, stored=False, tokenizer_name="raw")
    return builder.build()


def analyzer() -> tantivy.TextAnalyzer:
    """The text fields' analysis, for tokenizing query words the same way."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .build()
    )
