"""Classification against the demo generator's own labels: an independent check at scale.

The generator draws each request from its own vocabulary with the label it should get; the
classifier never sees those labels. Bars as in the classification issue, on 1,500 letters.
"""

from __future__ import annotations

from etl.classify import classify_letter
from etl.demo import generate_letters
from etl.parse import parse_letter


def test_classifier_recovers_generator_labels() -> None:
    items = category = subcategory = sources = 0
    for synthetic in generate_letters(1500, seed=99):
        if synthetic.text is None:
            continue
        letter = parse_letter(synthetic.text)
        classify_letter(letter)
        for item, label in zip(letter.items, synthetic.content.labels(), strict=True):
            items += 1
            category += item.category == label["category"]
            subcategory += item.subcategory == label["subcategory"]
            got = {(c.role, c.source) for c in item.citations}
            sources += got == {tuple(pair) for pair in label["citation_sources"]}
    assert items > 3000
    assert category / items >= 0.95
    assert subcategory / items >= 0.90
    assert sources / items >= 0.95
