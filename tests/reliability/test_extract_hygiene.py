"""Extraction hygiene: what reaches the parser is text, never terminal control sequences or NULs.

A letter's words end up in the warehouse, the dashboard and the terminal (``imr report``,
``rejects``). A request carrying ``ESC ] 52 ; c ; ... BEL`` (set the clipboard) or ``ESC [ 2 J``
(clear the screen) must not reach them as live escape sequences; a text file with NUL bytes is a
binary file, wherever the NULs are. All through ``etl.pipeline.process``, as a batch runs it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from etl.model import Letter
from etl.pipeline import Loaded, Rejected, process
from tests.reliability.helpers import SEEDS, text_pdf, variant

SEED = (SEEDS / "000_8688a23c91e089a1.txt").read_text(encoding="utf-8")
REQUEST = "Ativan 2mg, #105"
assert REQUEST in SEED

OSC_52 = "\x1b]52;c;SGVsbG8=\x07"  # OSC 52: write "Hello" to the clipboard, ended by BEL
CLEAR = "\x1b[2J"  # CSI 2 J: clear the screen


def _controls(value: str) -> set[str]:
    """Control characters in ``value`` other than the line feed (C0, DEL, C1)."""
    return {c for c in value if unicodedata.category(c) == "Cc" and c != "\n"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _loaded(name: str, data: bytes) -> Letter:
    outcome = process(name, data)
    assert isinstance(outcome, Loaded), outcome
    return outcome.letter


def _no_controls_anywhere(letter: Letter) -> None:
    found = {c for s in _strings(letter.as_dict()) for c in _controls(s)}
    assert not found, f"control characters in the parsed letter: {sorted(found)!r}"


def _hostile_letter() -> str:
    """The seed with escape sequences in its first request and in its case summary."""
    text = SEED.replace(REQUEST, f"{REQUEST} {OSC_52}{CLEAR}", 1)
    return text.replace("This is a", f"This is a{CLEAR}", 1)


def test_escape_sequences_in_a_text_letter_are_removed() -> None:
    letter = _loaded("hostile.txt", _hostile_letter().encode("utf-8"))
    request = letter.items[0].request
    assert "\x1b" not in request and "\x07" not in request
    # The words stay; only the control characters go.
    assert request.startswith(REQUEST)
    assert "]52;c;SGVsbG8=" in request
    assert letter.case_summary and "\x1b" not in letter.case_summary
    assert letter.patient_age == 58
    _no_controls_anywhere(letter)


def test_escape_sequences_in_a_pdf_letter_are_removed() -> None:
    # pdfium returns ESC and BEL from a PDF's text layer as they are.
    letter = _loaded("hostile.pdf", text_pdf(variant(_hostile_letter(), 7101)))
    assert letter.items[0].request.startswith(REQUEST)
    assert "\x1b" not in letter.items[0].request
    _no_controls_anywhere(letter)


@pytest.mark.parametrize(
    ("name", "control"),
    [
        ("bel", "\x07"),
        ("backspace", "\x08"),
        ("escape", "\x1b"),
        ("delete", "\x7f"),
        ("csi-c1", "\x9b"),
        ("osc-c1", "\x9d"),
    ],
)
def test_every_control_character_is_removed_utf8(name: str, control: str) -> None:
    text = SEED.replace(REQUEST, f"{REQUEST}{control}31m", 1)
    letter = _loaded(f"{name}.txt", text.encode("utf-8"))
    assert letter.items[0].request == f"{REQUEST}31m"
    _no_controls_anywhere(letter)


def test_c1_bytes_of_a_latin1_file_are_removed() -> None:
    # 0x81 and 0x9d are undefined in cp1252: the file falls back to latin-1, where they are C1.
    data = SEED.replace(REQUEST, f"{REQUEST} caf\xe9 \x81\x9dx", 1).encode("latin-1")
    letter = _loaded("latin1.txt", data)
    assert letter.items[0].request == f"{REQUEST} caf\xe9 x"
    _no_controls_anywhere(letter)


def test_word_separating_controls_keep_the_words_apart() -> None:
    # A vertical tab (Word's manual line break) or an information separator between two words
    # becomes a space: the words are kept, and kept apart.
    text = SEED.replace("Ativan 2mg", "Ativan\x0b2mg", 1).replace("#105:", "#105\x1f:", 1)
    letter = _loaded("vt.txt", text.encode("utf-8"))
    assert letter.items[0].request == REQUEST


def test_line_breaks_of_every_kind_give_the_same_letter() -> None:
    reference = _loaded("lf.txt", SEED.encode("utf-8"))
    crlf = _loaded("crlf.txt", SEED.replace("\n", "\r\n").encode("utf-8"))
    cr = _loaded("cr.txt", SEED.replace("\n", "\r").encode("utf-8"))
    assert crlf.as_dict() == reference.as_dict()
    assert cr.as_dict() == reference.as_dict()


def test_tabs_and_page_breaks_are_kept_as_text_layout() -> None:
    text = SEED.replace("Ativan 2mg, #105: Upheld", "Ativan\t2mg, #105: Upheld\f", 1)
    letter = _loaded("tab.txt", text.encode("utf-8"))
    assert letter.items[0].request == REQUEST


# --- NUL bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("at", [10, 1999, 2000, 2500, -20])
def test_a_nul_byte_anywhere_makes_a_text_file_binary(at: int) -> None:
    data = SEED.encode("utf-8")
    assert len(data) > 4000
    position = at % len(data)
    data = data[:position] + b"\x00" + data[position:]
    outcome = process("nul.txt", data)
    assert isinstance(outcome, Rejected), outcome
    assert outcome.reason == "binary_file"


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-16"),
        lambda t: t.encode("utf-16-le"),
        lambda t: t.encode("utf-16-be"),
        lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    ],
    ids=["utf-16-bom", "utf-16-le", "utf-16-be", "utf-16-be-bom"],
)
def test_utf16_letters_are_still_text(encode: Any) -> None:
    reference = _loaded("utf8.txt", SEED.encode("utf-8"))
    letter = _loaded("utf16.txt", encode(SEED))
    assert letter.as_dict() == reference.as_dict()


def test_a_nul_character_in_utf16_text_makes_it_binary() -> None:
    text = SEED[:3000] + "\x00" + SEED[3000:]
    for data in (text.encode("utf-16"), text.encode("utf-16-le")):
        outcome = process("nul16.txt", data)
        assert isinstance(outcome, Rejected), outcome
        assert outcome.reason == "binary_file"


def test_a_letter_padded_to_megabytes_is_rejected_not_loaded() -> None:
    """Regression: 45 MB letters (a padded case summary) parsed, then exhausted the build's
    memory at the final commit; a text far longer than any letter is a reject."""
    seed = sorted(SEEDS.glob("*.txt"))[0].read_text()
    padded = seed.replace("\n", "\n" + "Ongoing pain. " * 200_000 + "\n", 1)
    outcome = process("padded.txt", padded.encode())
    assert isinstance(outcome, Rejected) and outcome.reason == "text_too_long"
    assert isinstance(process("seed.txt", seed.encode()), Loaded)
