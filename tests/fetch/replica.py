"""A local replica of DWC's IMR Decision Search (treatment search), on loopback only.

It serves the documented structure (etl/fetch/pages.py): the search page with its forms (and a
session cookie the searches must send back), result pages of 25 rows in a
``<table class="tabborder">`` with further treatments of a case as rows whose first cell spans
five columns, the total in a ``<strong>`` after the table, a ``Nextpage`` form while pages
remain, and letter PDFs at site-relative links. Faults are switched on per test: a site that
stops serving past ``site_cap`` rows (a window too large), 503s with Retry-After, a connection
dropped mid-PDF, a PDF that stalls (to kill the fetch there), a letter link to an HTML page, a
slow answer (a timeout) and changed layouts.
"""

from __future__ import annotations

import datetime as dt
import html
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SEARCH_PATH = "/dwc/imr/IMRDecisionSearch.asp"
LETTERS_PATH = "/dwc/imr/decisions/"
COOKIE = "ASPSESSIONIDREPLICA"
HEADER = (
    "Case Number",
    "Decision Date",
    "Date of Injury",
    "Received Date",
    "IMRO Reviewer Specialty",
    "Request Category",
    "SubCategory/Drug",
    "Request Decision",
)
TX_FIELDS = (
    "Caseno",
    "DoIStart",
    "DoIEnd",
    "ReqStart",
    "ReqEnd",
    "DecStart",
    "DecEnd",
    "SpecialtyV",
    "OutcomeV",
    "SubCategoryV",
)


@dataclass
class Treatment:
    category: str
    subcategory: str
    decision: str


@dataclass
class Case:
    case_number: str
    decision_date: dt.date
    injury_date: dt.date | None
    received_date: dt.date | None
    specialty: str
    treatments: list[Treatment]
    pdf: bytes
    href: str | None = None  # default: LETTERS_PATH + case + .pdf

    @property
    def link(self) -> str:
        return self.href or f"{LETTERS_PATH}{self.case_number}.pdf"


@dataclass
class Logged:
    method: str
    path: str
    form: dict[str, str]
    start: float
    end: float = 0.0
    status: int = 0
    user_agent: str = ""
    cookie: str = ""


@dataclass
class Replica:
    cases: list[Case]
    page_size: int = 25
    site_cap: int | None = None  # rows served at most per search (the site stops there)
    count_cases: bool = False  # the total counts cases rather than rows
    layout: str = "documented"
    change_layout_after: tuple[int, str] | None = None  # (searches served, the new layout)
    search_503: int = 0  # the next N searches answer 503 with Retry-After
    retry_after: str = "1"
    drop_once: set[str] = field(default_factory=set)  # first download cut mid-body
    not_pdf: set[str] = field(default_factory=set)  # letter link answers an HTML page
    letter_503: set[str] = field(default_factory=set)  # letter link answers 503, always
    slow_once: set[str] = field(default_factory=set)  # first download answers too late
    slow_seconds: float = 1.0
    stall: set[str] = field(default_factory=set)  # download sends half then waits
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    log: list[Logged] = field(default_factory=list)
    served_pdf: Counter[str] = field(default_factory=Counter)  # complete PDF bodies sent
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._seen: Counter[str] = Counter()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        replica = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without this, each answer waits
                # for the client's delayed ACK (~40 ms).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                replica._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                replica._handle(self, "POST")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up (a timeout, a killed fetch): nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- what the tests look at ----------------------------------------------------------------

    def searches(self) -> list[Logged]:
        return [e for e in self.log if e.method == "POST"]

    def downloads(self) -> list[Logged]:
        return [e for e in self.log if e.path.startswith(LETTERS_PATH)]

    def rows(self) -> list[tuple[Case, int]]:
        """Every (case, treatment index), in the site's order."""
        ordered = sorted(self.cases, key=lambda c: (c.decision_date, c.case_number))
        return [(case, i) for case in ordered for i in range(len(case.treatments))]

    # -- serving -------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(request.path).path
        form: dict[str, str] = {}
        if method == "POST":
            length = int(request.headers.get("Content-Length") or 0)
            body = request.rfile.read(length).decode("ascii")
            form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        entry = Logged(
            method,
            path,
            form,
            time.monotonic(),
            user_agent=request.headers.get("User-Agent", ""),
            cookie=request.headers.get("Cookie", ""),
        )
        with self._lock:
            self.log.append(entry)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if path == SEARCH_PATH and method == "GET":
                self._send(request, entry, 200, self._search_page(), "text/html", cookie=True)
            elif path == SEARCH_PATH and method == "POST":
                self._search(request, entry, form)
            elif path.startswith(LETTERS_PATH) and method == "GET":
                self._letter(request, entry, path[len(LETTERS_PATH) :].removesuffix(".pdf"))
            else:
                self._send(request, entry, 404, b"<html><body>Not found</body></html>")
        finally:
            entry.end = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    def _send(
        self,
        request: BaseHTTPRequestHandler,
        entry: Logged,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        *,
        cookie: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        entry.status = status
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        if cookie:
            request.send_header("Set-Cookie", f"{COOKIE}=replica-session; Path=/")
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)
        request.wfile.flush()

    def _search_page(self) -> bytes:
        tx_fields = list(TX_FIELDS)
        if self.layout == "form_changed":
            tx_fields[tx_fields.index("DecStart")] = "DecisionFrom"
        inputs = "\n".join(
            f'<select name="{name}"><option value="">All</option>'
            f'<option value="Pharmaceuticals *  * Opioids">Pharmaceuticals *  * Opioids</option>'
            "</select>"
            if name.endswith("V")
            else f'<input type="text" name="{name}" size="10">'
            for name in tx_fields
        )
        page = f"""<!DOCTYPE html>
<html><head><title>IMR Decision Search</title></head><body>
<h1>Independent Medical Review (IMR) Decisions</h1>
<form name="CaseSearch" method="post" action="IMRDecisionSearch.asp">
<input type="hidden" name="Fname" value="Case">
<input type="text" name="Caseno"><input type="text" name="DecStart">
<input type="text" name="DecEnd">
<select name="CaseOutcomeV"><option value="">All</option></select>
<input type="submit" name="Submit" value="Submit">
</form>
<form name="TxSearch" method="post" action="IMRDecisionSearch.asp">
<input type="hidden" name="Fname" value="Tx">
{inputs}
<input type="submit" name="Submit" value="Submit">
</form>
</body></html>"""
        return page.encode()

    def _search(self, request: BaseHTTPRequestHandler, entry: Logged, form: dict[str, str]) -> None:
        if self.search_503 > 0:
            self.search_503 -= 1
            self._send(
                request,
                entry,
                503,
                b"<html><body>Service Unavailable</body></html>",
                headers={"Retry-After": self.retry_after},
            )
            return
        if f"{COOKIE}=" not in entry.cookie:
            body = (
                b"<html><body><p>Your session has expired. Please search again.</p></body></html>"
            )
            self._send(request, entry, 200, body)
            return
        try:
            assert form["Fname"] == "Tx"
            for name in TX_FIELDS:
                assert name in form, name
            first = dt.datetime.strptime(form["DecStart"], "%m/%d/%Y").date()
            last = dt.datetime.strptime(form["DecEnd"], "%m/%d/%Y").date()
            page = int(form.get("newpageno", "1")) if form.get("Submit") == "Next" else 1
            assert form.get("Submit") in ("Submit", "Next")
        except (AssertionError, KeyError, ValueError) as error:
            text = f"<html><body><p>Bad request: {html.escape(str(error))}</p></body></html>"
            self._send(request, entry, 400, text.encode())
            return
        if self.change_layout_after and len(self.searches()) > self.change_layout_after[0]:
            self.layout = self.change_layout_after[1]
        self._send(request, entry, 200, self.results_page(first, last, page).encode())

    def results_page(self, first: dt.date, last: dt.date, page: int) -> str:
        rows = [(c, i) for c, i in self.rows() if first <= c.decision_date <= last]
        total = len({c.case_number for c, _ in rows}) if self.count_cases else len(rows)
        if self.site_cap is not None:
            rows = rows[: self.site_cap]
        if not rows:
            return "<html><body><p>No records found for your search.</p></body></html>"
        shown = rows[(page - 1) * self.page_size : page * self.page_size]
        more = page * self.page_size < len(rows)
        header = list(HEADER)
        table_class = "tabborder"
        if self.layout == "new_column":
            header.insert(2, "Outcome Date")
        if self.layout == "renamed_table":
            table_class = "results-grid"
        lines = [
            "<!DOCTYPE html><html><head><title>IMR Decision Search</title></head><body>",
            "<h2>Treatment Search Results</h2>",
            f'<table class="{table_class}" width="100%" cellpadding="2">',
            "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>",
        ]
        for case, index in shown:
            t = case.treatments[index]
            tail = (
                f"<td>{html.escape(t.category)}</td><td>{html.escape(t.subcategory)}</td>"
                f"<td>{html.escape(t.decision)}</td>"
            )
            if index == 0:
                extra = "<td>01/01/2020</td>" if self.layout == "new_column" else ""
                lines.append(
                    f'<tr><td><a href="{html.escape(case.link)}" target="_blank">'
                    f"{html.escape(case.case_number)}</a></td>"
                    f"<td>{_us(case.decision_date)}</td>{extra}<td>{_us(case.injury_date)}</td>"
                    f"<td>{_us(case.received_date)}</td><td>{html.escape(case.specialty)}</td>"
                    f"{tail}</tr>"
                )
            else:
                lines.append(f'<tr><td colspan="5">&nbsp;</td>{tail}</tr>')
        lines.append("</table>")
        lines.append(f"<p>Total number of results: <strong>{total:,}</strong></p>")
        if more:
            lines.append(
                '<form name="Nextpage" method="post" action="IMRDecisionSearch.asp">'
                f'<input type="hidden" name="newpageno" value="{page + 1}">'
                '<input type="submit" name="Submit" value="Next"></form>'
            )
        lines.append("</body></html>")
        return "\n".join(lines)

    def _letter(self, request: BaseHTTPRequestHandler, entry: Logged, case_number: str) -> None:
        case = next((c for c in self.cases if c.case_number == case_number), None)
        if case is None:
            self._send(request, entry, 404, b"<html><body>Not found</body></html>")
            return
        with self._lock:
            self._seen[case_number] += 1
            first_time = self._seen[case_number] == 1
        if case_number in self.letter_503:
            body = b"<html><body>Service Unavailable</body></html>"
            self._send(request, entry, 503, body, headers={"Retry-After": "0"})
            return
        if case_number in self.not_pdf:
            body = b"<html><body><h1>This document has moved</h1></body></html>"
            self._send(request, entry, 200, body)
            return
        if case_number in self.slow_once and first_time:
            time.sleep(self.slow_seconds)
        partial = (case_number in self.drop_once and first_time) or case_number in self.stall
        if not partial:
            # Counted before the body goes out: a client that has read it all may look at the
            # count before this thread would have moved on (a race CI once lost).
            with self._lock:
                self.served_pdf[case_number] += 1
            self._send(request, entry, 200, case.pdf, "application/pdf")
            return
        entry.status = 200
        request.send_response(200)
        request.send_header("Content-Type", "application/pdf")
        request.send_header("Content-Length", str(len(case.pdf)))
        request.end_headers()
        request.wfile.write(case.pdf[: len(case.pdf) // 2])
        request.wfile.flush()
        if case_number in self.stall:
            self.stalled.set()
            self.release.wait(timeout=30)
        request.close_connection = True  # the rest never comes


def _us(day: dt.date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else ""
