"""The dimension registry: one entry per dimension the dashboard filters or groups items by.

An entry names the dimension, its URL query parameter, its label and help text, the
``item_facts`` column it reads, whether that column holds one value per item (``scalar``) or a
list (``list``), its sidebar widget (a multiselect, a year range, or none), how its rate table
is ordered, how a value is written in captions, and (the decision) which of its values the
marts count as ``overturned``. From it come the sidebar filters
(``ui.sidebar_filters``), the filter predicate (``queries.filter_predicate``), the filter
options, the "rate by dimension" query of its shape (``sql/rates_scalar.sql``,
``sql/rates_list.sql``), the column and file names of its CSV (``by_<name>``) and the page
captions (label and help).

Adding a dimension is one entry here plus its column in the ``item_facts`` mart (an ETL
migration); a page shows it with one ``ui.rate_section(name, filters)``.

Names and columns are interpolated into SQL (as column names): they are constants checked
below, never user input. Values are always bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Shape = Literal["scalar", "list"]
Widget = Literal["multiselect", "range"]
Order = Literal["count", "value"]

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Dimension:
    """One way of slicing disputed items."""

    name: str
    """Identifier: the Filters key, the column of its rate table and CSV, ``by_<name>`` files."""
    label: str
    """Human name: widget label, chart axis and tooltip title, captions."""
    column: str
    """The ``item_facts`` column (a ``varchar[]`` for the ``list`` shape)."""
    shape: Shape
    """``scalar``: one value per item (NULL = unknown, left out of its rate table).
    ``list``: several per item; an item counts under each of them, so groups overlap."""
    help: str = ""
    """One sentence for the widget tooltip and the caption under its rate table."""
    param: str = ""
    """URL query parameter of its sidebar widget (default: ``name``)."""
    widget: Widget | None = "multiselect"
    """Sidebar filter: ``multiselect`` (values), ``range`` (a year range over an integer
    column), or None (not a filter, only a rate table)."""
    sidebar: bool = True
    """A main filter, shown in the sidebar; False puts its widget under "More filters" (still
    bound to its URL parameter, so links from Explore and shared links can set it)."""
    order: Order = "count"
    """Rate table rows: most items first (``count``) or by value (``value``, e.g. years; drawn
    as a trend)."""
    empty: str | None = None
    """``list`` shape: the value an item with an empty list counts under in rate tables
    (None: such items are left out)."""
    fmt: Callable[[Any], str] = str
    """How a value is written in captions and tooltips."""
    missing: str = ""
    """Why an item may have no value (said where a chart leaves such items out)."""
    per_letter: bool = False
    """Its value is the letter's, the same for every item of a letter (the letter's fields in
    ``item_facts``; the tests check it holds in a warehouse). A query whose groups and filters
    are all such counts a group's letters by their first items (``queries.letters_count``)."""
    reasons_by: bool = False
    """The Reasons page shares each of its values' upheld items out by reason (a scalar); the
    reason_pairs mart counts them under one selection of every filter."""
    outcome: tuple[str, str] | None = None
    """The outcome every count is split by (a scalar every item holds one of two values of):
    its value the marts count as ``overturned`` items, then the other one (the rest). The
    sidebar's options under it and one other selection are then the facet_pairs mart's."""
    combined_with: tuple[str, ...] = ()
    """Filters whose one value selected beside one value of this one the facet_pairs mart
    counts as one selection (``SELECTION_PAIRS``): the sidebar's options and the rate tables
    under both are then sums of the mart, not scans of every item. Each pair costs a whole
    build about 20 s at 4M items (docs/benchmarks.md, stop 69): name the pairs users select
    together."""

    def __post_init__(self) -> None:
        if not self.param:
            object.__setattr__(self, "param", self.name)
        for text in (self.name, self.column, self.param):
            if not _IDENTIFIER.fullmatch(text):
                raise ValueError(f"dimension {self.name!r}: {text!r} is not a plain identifier")
        if self.widget == "range" and self.shape != "scalar":
            raise ValueError(f"dimension {self.name!r}: a range filter needs a scalar column")
        if self.empty is not None and self.shape != "list":
            raise ValueError(f"dimension {self.name!r}: only list dimensions have an empty label")
        if self.reasons_by and self.shape != "scalar":
            raise ValueError(f"dimension {self.name!r}: reasons are shared by a scalar's values")
        if self.outcome is not None and (self.shape != "scalar" or len(set(self.outcome)) != 2):
            raise ValueError(f"dimension {self.name!r}: an outcome is a scalar of two values")
        if self.combined_with and (self.widget != "multiselect" or self.outcome is not None):
            raise ValueError(f"dimension {self.name!r}: only values' filters combine")

    @property
    def title(self) -> str:
        """``By <label>``, for section headings."""
        return f"By {self.label[:1].lower()}{self.label[1:]}"


_OVERLAP = "An item counts under each {what}, so the groups overlap."

# The order here is the sidebar's order.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "category",
        "Request category",
        "category",
        "scalar",
        help="DWC request category of the disputed treatment.",
        reasons_by=True,
    ),
    Dimension(
        "drug_class",
        "Drug class",
        "drug_class",
        "scalar",
        help="Pharmaceuticals only: the DWC subcategory of the drug.",
        reasons_by=True,
    ),
    Dimension(
        "drug",
        "Drug (generic ingredient)",
        "drugs",
        "list",
        help=_OVERLAP.format(what="generic ingredient of its drug (combination products)"),
        empty="(no drug named)",
    ),
    Dimension(
        "specialty",
        "Reviewer specialty",
        "reviewer_specialties",
        "list",
        per_letter=True,
        help=_OVERLAP.format(what="specialty its reviewer lists"),
        empty="(not stated)",
    ),
    Dimension(
        "guideline_source",
        "Guideline source (MAXIMUS)",
        "guideline_sources",
        "list",
        help=_OVERLAP.format(what="guideline source MAXIMUS cites for it"),
        empty="(none cited)",
    ),
    Dimension(
        "state",
        "Reviewer licensure state",
        "reviewer_states",
        "list",
        per_letter=True,
        help=_OVERLAP.format(what="state its reviewer is licensed in"),
        empty="(not stated)",
    ),
    Dimension(
        "decision",
        "Decision",
        "decision",
        "scalar",
        help="Upheld or Overturned.",
        outcome=("Overturned", "Upheld"),
    ),
    Dimension(
        "reason",
        "Reviewer's reason",
        "reasons",
        "list",
        help="Why the reviewer decided as it did, found in the rationale (the taxonomy's labels). "
        + _OVERLAP.format(what="reason found for it"),
        empty="(none found)",
        # Which arguments win under which guideline: the reasons' page selects both.
        combined_with=("guideline_source",),
    ),
    Dimension(
        "injury_year",
        "Injury year",
        "injury_year",
        "scalar",
        per_letter=True,
        help="Setting a range leaves out items whose letters do not state the injury year.",
        widget="range",
        order="value",
        missing="the letter states no injury date",
    ),
    Dimension(
        "decision_year",
        "Decision year",
        "decision_year",
        "scalar",
        per_letter=True,
        help="Setting a range leaves out items whose letters do not state the decision date "
        "(most 2014–15 letters state no decision date): a year filter is about dates, so an "
        "undated item is in no year.",
        widget="range",
        order="value",
        missing="most 2014–15 letters state no decision date",
    ),
    Dimension(
        "guideline_document",
        "Guideline document (MAXIMUS)",
        "guideline_documents",
        "list",
        help=_OVERLAP.format(what="document MAXIMUS cites for it"),
        sidebar=False,
        empty="(none cited)",
    ),
    Dimension(
        "years_to_decision",
        "Years from injury to decision",
        "years_to_decision",
        "scalar",
        per_letter=True,
        help="Decision year minus injury year; items whose letters lack either are left out.",
        widget="range",
        sidebar=False,
        order="value",
        missing="the letter lacks the injury or the decision date",
    ),
    Dimension(
        "subcategory",
        "Request subcategory",
        "subcategory",
        "scalar",
        help="DWC request subcategory (for pharmaceuticals, the drug class).",
        sidebar=False,
    ),
    Dimension(
        "priority",
        "Review priority",
        "priority",
        "scalar",
        per_letter=True,
        help="Standard or Expedited review, where the letter prints it.",
        sidebar=False,
    ),
    Dimension(
        "decision_quarter",
        "Decision quarter",
        "decision_quarter",
        "scalar",
        per_letter=True,
        help="Year and quarter of the decision date; letters without one are left out.",
        sidebar=False,
        order="value",
        missing="most 2014–15 letters state no decision date",
    ),
    Dimension(
        "decision_month",
        "Decision month",
        "decision_month",
        "scalar",
        per_letter=True,
        help="Year and month of the decision date; letters without one are left out.",
        sidebar=False,
        order="value",
        missing="most 2014–15 letters state no decision date",
    ),
    Dimension(
        "age_band",
        "Patient age band",
        "age_band",
        "scalar",
        per_letter=True,
        help="From the case summary (“a 48 year old male”); letters that do not state the age "
        "are left out.",
        sidebar=False,
        order="value",
    ),
    Dimension(
        "patient_sex",
        "Patient sex",
        "patient_sex",
        "scalar",
        per_letter=True,
        help="From the case summary's opening sentences; letters that do not state it are left "
        "out.",
        sidebar=False,
    ),
    Dimension(
        "body_region",
        "Body region (diagnoses)",
        "body_regions",
        "list",
        per_letter=True,
        help="Regions the letter's diagnoses name (vocabulary: body_regions.csv). "
        + _OVERLAP.format(what="region its diagnoses name"),
        sidebar=False,
        empty="(not stated)",
    ),
    Dimension(
        "licensed_in_california",
        "Reviewer licensed in California",
        "licensed_in_california",
        "scalar",
        per_letter=True,
        help="“yes” when California is among the reviewer's licensure states, “only elsewhere” "
        "when the letter names others only; left out when it names none.",
        sidebar=False,
    ),
    Dimension(
        "items_in_letter",
        "Items in the letter",
        "items_in_letter",
        "scalar",
        per_letter=True,
        help="How many treatment requests the item's letter decides.",
        widget="range",
        sidebar=False,
        order="value",
    ),
    Dimension(
        "partial_authorization",
        "Partial authorization",
        "partial_authorization",
        "scalar",
        help="“yes” when the claims administrator authorized part of the request and only the "
        "rest went to IMR.",
        sidebar=False,
    ),
    Dimension(
        "letter_era",
        "Letter layout / era",
        "letter_era",
        "scalar",
        per_letter=True,
        help="The letter's layout: A 2013 notices, B 2014–15 letters, B2 2016+ letters.",
        sidebar=False,
        order="value",
    ),
)

BY_NAME: dict[str, Dimension] = {d.name: d for d in DIMENSIONS}
FILTERS: tuple[Dimension, ...] = tuple(d for d in DIMENSIONS if d.widget is not None)
"""Every filter (a widget bound to its URL parameter); ``sidebar`` says which are main ones."""
REASONS_BY: tuple[Dimension, ...] = tuple(d for d in DIMENSIONS if d.reasons_by)
"""The Reasons page's "Reasons by" sections, in this order."""
OUTCOMES: tuple[Dimension, ...] = tuple(d for d in FILTERS if d.outcome is not None)
"""The filter of the outcome (``Dimension.outcome``), or none."""


def selection_pairs(filters: tuple[Dimension, ...]) -> tuple[tuple[Dimension, Dimension], ...]:
    """The pairs of ``filters`` whose values the facet_pairs mart counts together
    (``combined_with``), each once, between two values' filters (not a range, not the
    outcome, not itself)."""
    by_name = {d.name: d for d in filters}
    pairs = []
    for a in filters:
        for name in a.combined_with:
            b = by_name.get(name)
            if b is None or b is a or b.widget != "multiselect" or b.outcome is not None:
                raise ValueError(
                    f"dimension {a.name!r}: {name!r} is not a values' filter to combine"
                )
            pairs.append((a, b))
    if len({frozenset((a.name, b.name)) for a, b in pairs}) != len(pairs):
        raise ValueError("a pair of filters is combined twice")
    return tuple(pairs)


SELECTION_PAIRS = selection_pairs(FILTERS)
"""The pairs of filters whose values the facet_pairs mart counts together (``combined_with``)."""
# A pair's name and its values' in facet_pairs: "<a>&<b>", "<value of a>\x1f<value of b>" (the
# unit separator: no label holds it, and "&" no dimension's name).
PAIR_JOIN = "&"
VALUE_JOIN = "\x1f"


def pair_name(a: Dimension, b: Dimension) -> str:
    """The facet_pairs ``dimension`` of the selections of ``a`` and ``b`` together."""
    return f"{a.name}{PAIR_JOIN}{b.name}"


if len(OUTCOMES) > 1:
    raise ValueError("one dimension at most is the outcome")
if len(BY_NAME) != len(DIMENSIONS) or len({d.param for d in FILTERS}) != len(FILTERS):
    raise ValueError("dimension names and URL parameters must be unique")


def get(name: str) -> Dimension:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no dimension {name!r} in the registry") from None
