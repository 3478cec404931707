"""The polite client against the replica: pacing, identification, retries, Retry-After."""

from __future__ import annotations

import io
import time

import pytest

from etl.fetch.client import (
    DEFAULT_DELAY,
    MIN_DELAY,
    PoliteClient,
    SiteUnavailable,
    TooLarge,
    retry_after,
)
from etl.fetch.site import SEARCH_PATH
from tests.fetch.conftest import fast_client
from tests.fetch.replica import LETTERS_PATH


def test_the_delay_has_a_floor_only_tests_can_lower() -> None:
    assert PoliteClient().delay == DEFAULT_DELAY == 1.0
    assert PoliteClient(delay=MIN_DELAY).delay == 0.2
    for bad in (0.0, 0.19, -1.0, float("nan")):
        with pytest.raises(ValueError, match="at least 0.2"):
            PoliteClient(delay=bad)
    assert PoliteClient(delay=0.0, floor=0.0).delay == 0.0  # the test-only parameter


def test_requests_are_one_at_a_time_spaced_and_identified(replica, january_cases) -> None:
    site, url = replica(january_cases[:6])
    delay = 0.1
    with fast_client(delay=delay) as client:
        client.request("GET", url + SEARCH_PATH)
        for case in january_cases[:6]:
            client.download(url + LETTERS_PATH + case.case_number + ".pdf", io.BytesIO(), 10**6)
    # As the server saw them: its clock adds scheduling jitter (2 busy cores), so the bounds are
    # loose here; test_pacing_counts_from_the_start_of_the_previous_request checks them exactly.
    starts = [entry.start for entry in site.log]
    assert len(starts) == 7
    assert starts[-1] - starts[0] >= 6 * delay * 0.75
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.3 * delay
    assert site.max_in_flight == 1
    agents = {entry.user_agent for entry in site.log}
    assert len(agents) == 1 and agents.pop().startswith("imr-outcomes/")


def test_pacing_counts_from_the_start_of_the_previous_request() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))
        now[0] += seconds

    client = PoliteClient(delay=1.0, sleep=sleep, clock=lambda: now[0])
    client._wait_turn()  # the first request goes at once
    now[0] += 0.3  # it took 0.3 s
    client._wait_turn()
    now[0] += 2.5  # a slow one
    client._wait_turn()
    assert waits == [0.7] and client.requests == 3
    client.close()


def test_a_503_waits_what_retry_after_asks(replica, january_cases) -> None:
    site, url = replica(january_cases[:1], search_503=1, retry_after="1")
    with fast_client() as client:
        client.request("GET", url + SEARCH_PATH)
        answer = client.request("POST", url + SEARCH_PATH, form=[("Fname", "Tx")])
        assert client.retried == 1
    refused, retried = site.searches()
    assert refused.status == 503 and answer.status_code == 400  # the replica's bad request
    assert retried.start - refused.start >= 1.0  # the client waited what Retry-After said


def test_failures_back_off_exponentially_then_give_up(replica, january_cases) -> None:
    site, url = replica(january_cases[:1], search_503=10, retry_after="")
    waits: list[float] = []
    client = fast_client(retries=3, backoff=1.0, max_backoff=3.0, sleep=waits.append)
    with client, pytest.raises(SiteUnavailable, match="HTTP 503, 3 retries exhausted"):
        client.request("POST", url + SEARCH_PATH, form=[("Fname", "Tx")])
    assert waits == [1.0, 2.0, 3.0]  # 1, 2, 4 capped at 3
    assert len(site.searches()) == 4


def test_a_server_asking_to_wait_too_long_stops_the_request(replica, january_cases) -> None:
    site, url = replica(january_cases[:1], search_503=1, retry_after="7200")
    with fast_client() as client, pytest.raises(SiteUnavailable, match="wait 7200 s"):
        client.request("POST", url + SEARCH_PATH, form=[("Fname", "Tx")])


def test_a_timeout_is_retried(replica, january_cases) -> None:
    case = january_cases[0]
    # The answer comes 3 s late; the client gives up after 0.3 s (a wide margin on a busy box).
    site, url = replica([case], slow_once={case.case_number}, slow_seconds=3.0)
    sink = io.BytesIO()
    with fast_client(timeout=0.3) as client:
        got = client.download(url + LETTERS_PATH + case.case_number + ".pdf", sink, 10**6)
        assert client.retried == 1
    assert got.status == 200 and sink.getvalue() == case.pdf
    assert len(site.downloads()) == 2


def test_a_connection_dropped_mid_file_is_retried_from_the_start(replica, january_cases) -> None:
    case = january_cases[0]
    site, url = replica([case], drop_once={case.case_number})
    sink = io.BytesIO()
    with fast_client() as client:
        got = client.download(url + LETTERS_PATH + case.case_number + ".pdf", sink, 10**6)
    assert got.size == len(case.pdf) and sink.getvalue() == case.pdf
    assert len(site.downloads()) == 2 and site.served_pdf[case.case_number] == 1


def test_other_statuses_are_not_retried_and_sizes_are_capped(replica, january_cases) -> None:
    case = january_cases[0]
    site, url = replica([case])
    with fast_client() as client:
        got = client.download(url + LETTERS_PATH + "CM00-0000000.pdf", io.BytesIO(), 10**6)
        assert got.status == 404 and client.retried == 0
        with pytest.raises(TooLarge):
            client.download(url + LETTERS_PATH + case.case_number + ".pdf", io.BytesIO(), 100)
    assert len(site.downloads()) == 2


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("120") == 120.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    value = retry_after(later)
    assert value is not None and 55 <= value <= 61
    assert retry_after("Mon, 01 Jan 2001 00:00:00 GMT") == 0.0
