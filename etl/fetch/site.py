"""DWC's IMR Decision Search: where it is, what its treatment search sends, where letters are.

Searches are form-encoded POSTs to the search page sharing one cookie jar (the client's): a
treatment search sends ``Fname=Tx`` with the date ranges and filters, then ``Submit=Submit`` for
the first page or ``newpageno=N&Submit=Next`` for page N.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from etl.fetch.client import PoliteClient, SiteUnavailable
from etl.fetch.pages import LayoutError, ResultsPage, check_search_form, form_date, parse_results

DEFAULT_SITE = "https://www.dir.ca.gov"
SEARCH_PATH = "/dwc/imr/IMRDecisionSearch.asp"


class OffSite(Exception):
    """A letter link that leaves the site."""


@dataclass(frozen=True)
class Window:
    """Decisions dated ``first`` to ``last``, both included."""

    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def halves(self) -> tuple[Window, Window]:
        middle = self.first + dt.timedelta(days=(self.days - 1) // 2)
        return Window(self.first, middle), Window(middle + dt.timedelta(days=1), self.last)

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def search_url(site: str) -> str:
    return site.rstrip("/") + SEARCH_PATH


class DwcSearch:
    def __init__(self, client: PoliteClient, site: str = DEFAULT_SITE) -> None:
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--site must be an http(s) address, not {site!r}")
        self.client = client
        self.site = site.rstrip("/")
        self.url = search_url(site)
        self._host = parts.netloc.lower()
        self._opened = False

    def open(self) -> None:
        """Load the search page (it starts the site's session) and check its form."""
        answer = self.client.request("GET", self.url)
        html = self._html(answer, "the search page")
        check_search_form(html)
        self._opened = True

    def page(self, window: Window, number: int) -> ResultsPage:
        if not self._opened:
            self.open()
        data = [
            ("Fname", "Tx"),
            ("Caseno", ""),
            ("DoIStart", ""),
            ("DoIEnd", ""),
            ("ReqStart", ""),
            ("ReqEnd", ""),
            ("DecStart", form_date(window.first)),
            ("DecEnd", form_date(window.last)),
            ("SpecialtyV", ""),
            ("OutcomeV", ""),
            ("SubCategoryV", ""),
        ]
        if number > 1:
            data += [("newpageno", str(number)), ("Submit", "Next")]
        else:
            data.append(("Submit", "Submit"))
        headers = {"Referer": self.url, "Origin": self.site}
        answer = self.client.request("POST", self.url, form=data, headers=headers)
        html = self._html(answer, f"results page {number} of {window}")
        try:
            return parse_results(html)
        except LayoutError as error:
            raise LayoutError(f"results page {number} of {window}: {error.what}", html) from None

    def letter_url(self, href: str) -> str:
        """The letter's address: the link resolved against the search page, on the same site."""
        url = urljoin(self.url, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != self._host:
            raise OffSite(f"the letter link {href!r} leaves {self._host}")
        return url

    def _html(self, answer: httpx.Response, what: str) -> str:
        if answer.status_code != 200:
            raise SiteUnavailable(f"{what}: HTTP {answer.status_code} from {answer.url}")
        kind = answer.headers.get("Content-Type", "")
        if "html" not in kind.lower():
            raise LayoutError(f"{what} came as {kind or 'no Content-Type'}, not HTML", answer.text)
        return answer.text
