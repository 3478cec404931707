"""The golden form of a parsed letter: every structured field, and short anchors of the prose.

Golden files hold derived labels, never the letter itself, so long prose (case summary,
rationale) is reduced to its first and last few words: enough to catch a rationale that swallowed
the next request, or a summary cut short.
"""

from __future__ import annotations

import re
from typing import Any

from etl.model import Letter

ANCHOR_WORDS = 6
# Extractors disagree on line-end hyphens and spacing; compare text fields without them.
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
TEXT_FIELDS = {
    "diagnoses",
    "claims_admin_guideline",
    "maximus_guideline",
    "raw",
    "section",
    "document",
    "summary_start",
    "rationale_start",
    "rationale_end",
}


def golden_view(letter: Letter) -> dict[str, Any]:
    data = letter.as_dict()
    summary = data.pop("case_summary") or ""
    data["summary_start"] = " ".join(summary.split()[:ANCHOR_WORDS])
    for item in data["items"]:
        # The reasons have golden files of their own (tests/golden/reasons, human labels).
        item.pop("reasons", None)
        item.pop("reason_evidence", None)
        words = (item.pop("rationale") or "").split()
        item["rationale_start"] = " ".join(words[:ANCHOR_WORDS])
        item["rationale_end"] = " ".join(words[-ANCHOR_WORDS:])
    return data


def comparable(value: Any, key: str = "") -> Any:
    """The view with text fields reduced to lower-case letters and digits."""
    if isinstance(value, dict):
        return {k: comparable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v, key) for v in value]
    if isinstance(value, str) and key in TEXT_FIELDS:
        return _NOT_ALNUM.sub("", value.lower())
    return value
