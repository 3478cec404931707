"""A polite HTTP client: one request at a time, spaced, identified, retried with backoff.

* One request at a time (a plain synchronous client, one cookie jar shared by every request),
  and at least ``delay`` seconds between the starts of two requests (1 s by default; never less
  than ``MIN_DELAY``: only tests may lower that floor, through the ``floor`` argument).
* A User-Agent that names the tool and its version.
* 5xx answers, 429, timeouts and dropped connections are retried ``retries`` times, waiting
  ``backoff`` × 2ⁿ seconds (at most ``max_backoff``) — or what the server's ``Retry-After`` asks,
  when it asks for longer. A server asking for more than ``max_retry_after`` seconds stops the
  request (``SiteUnavailable``) rather than hold a run for hours.
* Downloads stream into a file the caller owns, rewritten from its start on every attempt, and
  stop at ``max_bytes``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import importlib.metadata
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import httpx

MIN_DELAY = 0.2  # seconds between two requests: the least any user setting may ask for
DEFAULT_DELAY = 1.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def user_agent() -> str:
    try:
        version = importlib.metadata.version("imr-outcomes")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return (
        f"imr-outcomes/{version} (IMR Outcomes `imr fetch`: one request at a time, "
        "at most one a second by default)"
    )


class SiteUnavailable(Exception):
    """The site kept failing (or asked us to wait too long); the message says how."""


class TooLarge(Exception):
    """A download went past its size limit."""


@dataclass(frozen=True)
class Downloaded:
    status: int
    content_type: str
    size: int


def check_delay(delay: float, floor: float = MIN_DELAY) -> float:
    if not delay >= floor:  # NaN fails too
        raise ValueError(f"the delay between requests must be at least {floor} s, not {delay}")
    return float(delay)


class PoliteClient:
    def __init__(
        self,
        *,
        delay: float = DEFAULT_DELAY,
        retries: int = 5,
        backoff: float = 2.0,
        max_backoff: float = 120.0,
        max_retry_after: float = 900.0,
        timeout: float = 60.0,
        floor: float = MIN_DELAY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``floor`` is for tests only: the least ``delay`` accepted (``MIN_DELAY`` otherwise)."""
        self.delay = check_delay(delay, floor)
        self.retries = max(retries, 0)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock
        self._last_start: float | None = None
        self.requests = 0  # requests sent, retries included
        self.retried = 0
        self._client = httpx.Client(
            headers={"User-Agent": user_agent()},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,
            http2=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pacing --------------------------------------------------------------------------------

    def _wait_turn(self) -> None:
        if self._last_start is not None:
            gap = self._last_start + self.delay - self._clock()
            if gap > 0:
                self._sleep(gap)
        self._last_start = self._clock()
        self.requests += 1

    def _pause_before_retry(self, attempt: int, retry_after: float | None, what: str) -> None:
        if attempt >= self.retries:
            raise SiteUnavailable(f"{what}, {self.retries} retries exhausted")
        if retry_after is not None and retry_after > self.max_retry_after:
            raise SiteUnavailable(
                f"{what}; the site asks to wait {retry_after:.0f} s before trying again"
            )
        wait = min(self.backoff * 2**attempt, self.max_backoff)
        if retry_after is not None:
            wait = max(wait, retry_after)
        self.retried += 1
        self._sleep(wait)

    # -- requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        form: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The answer, body read. 5xx/429/timeouts are retried; other statuses are returned.
        ``form`` is sent form-encoded, its fields in the order given."""
        headers = dict(headers or {})
        content = None
        if form is not None:
            content = urllib.parse.urlencode(form).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        attempt = 0
        while True:
            self._wait_turn()
            try:
                answer = self._client.request(method, url, content=content, headers=headers)
            except httpx.TransportError as error:  # timeouts, refused or dropped connections
                self._pause_before_retry(attempt, None, f"{method} {url}: {_describe(error)}")
                attempt += 1
                continue
            except httpx.HTTPError as error:  # too many redirects and the like: not transient
                raise SiteUnavailable(f"{method} {url}: {error}") from None
            if answer.status_code in RETRY_STATUSES:
                self._pause_before_retry(
                    attempt,
                    retry_after(answer.headers.get("Retry-After")),
                    f"{method} {url}: HTTP {answer.status_code}",
                )
                attempt += 1
                continue
            return answer

    def download(self, url: str, sink: BinaryIO, max_bytes: int) -> Downloaded:
        """Stream ``url`` into ``sink`` (rewritten from its start on each attempt)."""
        attempt = 0
        while True:
            self._wait_turn()
            try:
                with self._client.stream("GET", url) as answer:
                    if answer.status_code in RETRY_STATUSES:
                        answer.read()
                        self._pause_before_retry(
                            attempt,
                            retry_after(answer.headers.get("Retry-After")),
                            f"GET {url}: HTTP {answer.status_code}",
                        )
                        attempt += 1
                        continue
                    content_type = answer.headers.get("Content-Type", "")
                    if answer.status_code != 200:
                        return Downloaded(answer.status_code, content_type, 0)
                    sink.seek(0)
                    sink.truncate()
                    size = 0
                    for chunk in answer.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise TooLarge(f"larger than {max_bytes:,} bytes")
                        sink.write(chunk)
                    return Downloaded(200, content_type, size)
            except httpx.TransportError as error:  # a timeout, or the connection dropped mid-file
                self._pause_before_retry(attempt, None, f"GET {url}: {_describe(error)}")
                attempt += 1
            except httpx.HTTPError as error:
                raise SiteUnavailable(f"GET {url}: {error}") from None


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


def _describe(error: httpx.TransportError) -> str:
    kind = type(error).__name__
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{kind}: {text}" if text else kind
