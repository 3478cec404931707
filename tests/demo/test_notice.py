"""Layout A parser details that the samples do not pin down."""

from __future__ import annotations

import pytest

from etl.parse import LetterError, parse_letter

HEAD = "MAXIMUS FEDERAL SERVICES, INC.\nNotice of Independent Medical Review Determination\n"


def test_repeated_decision_list_gives_one_item_each() -> None:
    decision = (
        "1) MAXIMUS Federal Services, Inc. has determined the request for Soma 350mg #60 is\n"
        "notmedically necessary and appropriate.\n"
    )
    text = (
        HEAD
        + "Dated: 9/3/2013\n"
        + decision
        + "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE\n"
        + decision
    )
    letter = parse_letter(text)
    assert [(i.item_no, i.request, i.decision) for i in letter.items] == [
        (1, "Soma 350mg #60", "Upheld")
    ]
    assert letter.decision_date is not None and letter.decision_date.isoformat() == "2013-09-03"


def test_conflicting_repeat_is_rejected() -> None:
    text = (
        HEAD + "Dated: 9/3/2013\n"
        "1) MAXIMUS Federal Services, Inc. has determined the request for Soma 350mg #60 is not "
        "medically necessary and appropriate.\n"
        "1) MAXIMUS Federal Services, Inc. has determined the request for Soma 350mg #60 is "
        "medically necessary and appropriate.\n"
    )
    with pytest.raises(LetterError) as error:
        parse_letter(text)
    assert error.value.reason == "conflicting_decisions"


def test_notice_without_decisions_is_rejected() -> None:
    with pytest.raises(LetterError) as error:
        parse_letter(HEAD + "Dated: 9/3/2013\nNothing decided here.\n")
    assert error.value.reason == "no_items"


def test_request_with_colon_and_is() -> None:
    text = (
        HEAD + "Dated: 10/1/2013\n"
        "1) MAXIMUS Federal Services, Inc. has determined the request for Retrospective "
        "Pre-operative labs: CBC, BMP DOS: 8/14/2013 is medically necessary and appropriate.\n"
    )
    (item,) = parse_letter(text).items
    assert item.request == "Retrospective Pre-operative labs: CBC, BMP DOS: 8/14/2013"
    assert item.decision == "Overturned"
