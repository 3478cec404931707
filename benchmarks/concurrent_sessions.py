"""Many readers at once: browser sessions (default 50) against one dashboard server, every
answer checked against the warehouse, page times and the server's memory reported.

    .venv/bin/python benchmarks/concurrent_sessions.py            # the 4M-item warehouse
    .venv/bin/python benchmarks/concurrent_sessions.py --db path/to/current.duckdb --sessions 10

The default warehouse is the one `benchmarks/full_history.py` builds
(benchmarks/out/full-history-4000000-5/current.duckdb); `--db` takes any other.

One server is started as `imr dashboard` starts it (`etl.launch`, through the browser tests'
`run_dashboard`), on a free loopback port, in its own process. Debian's Chromium is driven by
Playwright (`apt-get install chromium`; never `playwright install`). Each session is a tab of
its own (its own Streamlit session: websocket and script thread) opening the Overview with its
own filters in the URL: the most frequent values of the main filters, one each, then pairs and
decision-year ranges, every set distinct and with items. The numbers each session must show
are counted beforehand straight from the warehouse with DuckDB (the browser tests'
`expected_summary`, not the dashboard's queries).

- First, one session alone with no filter: the server's cold start (imports, the warehouse
  connection, the first queries). Its time is reported apart and its memory is the baseline.
- Then `--sessions` sessions, at most `--concurrency` navigations in flight at once (bounded):
  a session takes a slot, navigates, and gives the slot back once its page is complete (or has
  failed). Finished sessions stay open (connected, idle) until the end: 51 open tabs took about
  5 GiB (PSS) on the browser side on the project's machine.
- Page time: navigation start to the "Disputed items" metric showing the warehouse's number,
  read from the page's own clock (`performance.now()`, checked every 50 ms in the page); and to
  the page complete (its script run ended, as the browser tests' `wait_for_app` waits for),
  when the session gives its slot back. The page must also show the right "Letters" number and
  no exception; anything else, or no right number within `--timeout`, is a wrong answer
  (listed, and the exit status is 1). Median, 95th percentile (nearest rank) and maximum.
- CPU: seconds used by the server, and by the browser side (this script, Playwright, Chromium),
  while the sessions ran. On loopback both share the machine's cores: where the browser side
  dominates, the page times are the browser's more than the server's.
- Memory: the resident set of the server's process tree (Linux /proc), sampled every 0.2 s for
  the peak, and read idle after start, after the first session, and with every session open;
  per extra session = (with every session open - after the first session) / `--sessions`.
  The browser side's memory is reported as PSS (Chromium's processes share most pages).

The browser's tabs share one context (one HTTP cache, like the browser tests: readers coming
back with Streamlit's JavaScript cached); `--fresh-contexts` gives each session a context of
its own (its own cookies and a cold cache). Browser and server share this machine's cores, so
page times are those of a loaded machine, not of a remote reader's.

Results: stdout (Markdown) and benchmarks/out/concurrent_sessions.json (every session: its
filters, the numbers it had to show, its times, what was wrong). docs/deployment.md uses the
memory figures to size dashboard replicas.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, ViewportSize, async_playwright
from playwright.async_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.full_history import tree_rss  # noqa: E402
from benchmarks.ingest_speed import machine  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM_FLAGS,
    VIEWPORT,
    chromium_path,
    run_dashboard,
)
from tests.browser.helpers import (  # noqa: E402
    Expected,
    expected_summary,
    top_values,
    url_with,
    warehouse,
)

DEFAULT_DB = OUT / "full-history-4000000-5" / "current.duckdb"
MIB = 2**20
POLL_MS = 50
# The "Letters" metric is drawn in the same script run as "Disputed items": a short wait.
LETTERS_MS = 15_000

# One session per value of these filters (their most frequent values, most first), then pairs.
SINGLE = (
    ("category", 6),
    ("drug_class", 6),
    ("specialty", 4),
    ("decision", 2),
    ("state", 3),
    ("guideline_source", 3),
    ("reason", 4),
    ("drug", 4),
    ("body_region", 3),
    ("subcategory", 3),
)
PAIRED = (("category", 6), ("drug_class", 6), ("specialty", 4), ("reason", 4))

# Runs in the page: the value of the metric labelled `label` once it reads `want`, as the page's
# clock then (ms since the navigation started); `want` null: the value it reads now, if any.
SHOWS = """([label, want]) => {
  for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
    const name = metric.querySelector('[data-testid="stMetricLabel"]');
    if (!name || ![name, ...name.querySelectorAll('*')].some(
        (e) => e.textContent.trim() === label)) continue;
    const value = metric.querySelector('[data-testid="stMetricValue"]');
    const text = value ? value.textContent.trim() : null;
    if (want === null) return text;
    return text === want ? performance.now() : false;
  }
  return want === null ? null : false;
}"""
# Runs in the page: the page's clock once the app is connected and its script run has ended
# (what the browser tests' `wait_for_app` waits for).
IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.dataset.testConnectionState === 'CONNECTED'
    && app.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]') ? performance.now() : false;
}"""


@dataclass
class Session:
    index: int
    filters: dict[str, Any]
    items: int
    letters: int
    page_ms: float | None = None
    wall_ms: float | None = None
    complete_ms: float | None = None
    correct: bool = False
    problem: str = ""


def filter_sets(db: Path, count: int) -> Iterator[tuple[dict[str, Any], Expected]]:
    """``count`` distinct filter sets with items, and what each must show."""
    seen: set[str] = set()
    made = 0
    for filters in _candidates(db):
        key = json.dumps(filters, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        want = expected_summary(db, filters)
        if want.items == 0:
            continue
        yield filters, want
        made += 1
        if made == count:
            return
    raise SystemExit(f"only {made} distinct filter sets with items in {db}; ask for fewer")


def _candidates(db: Path) -> Iterator[dict[str, Any]]:
    wanted: dict[str, int] = {}
    for name, n in (*SINGLE, *PAIRED):
        wanted[name] = max(wanted.get(name, 0), n)
    top = {name: top_values(db, name, n) for name, n in wanted.items()}
    for name, _ in SINGLE:
        yield from ({name: value} for value in top[name])
    with warehouse(db) as con:
        years = [
            int(row[0])
            for row in con.execute(
                "select distinct decision_year from item_facts"
                " where decision_year is not null order by 1"
            ).fetchall()
        ]
    yield from ({"decision_year": [low, high]} for low, high in zip(years, years[1:], strict=False))
    for name, _ in PAIRED:
        yield from ({name: value, "decision": d} for value in top[name] for d in top["decision"])
    for first, second in zip(PAIRED, PAIRED[1:], strict=False):
        yield from ({first[0]: a, second[0]: b} for a in top[first[0]] for b in top[second[0]])


class PeakSampler(threading.Thread):
    """The largest resident set of a process tree, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = tree_rss(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return max(self.peak, tree_rss(self.pid))


def tree_pids(pid: int) -> set[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    found, stack = set(), [pid]
    while stack:
        current = stack.pop()
        found.add(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return found


def tree_pss(pids: set[int]) -> int:
    """Proportional set size of these processes, in bytes: a page shared by several counts in
    each for its share (Chromium's many processes share most of their pages)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += sum(
                    int(line.split()[1]) * 1024 for line in handle if line.startswith("Pss:")
                )
        except (OSError, ValueError):
            continue
    return total


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU time (user + system) used so far by the server's process tree, and by the rest of
    this process's tree (this script, Playwright's driver, Chromium)."""
    server = tree_pids(server_pid)

    def used(pids: set[int]) -> float:
        ticks = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, ValueError, IndexError):
                continue
        return ticks / os.sysconf("SC_CLK_TCK")

    return used(server), used(tree_pids(os.getpid()) - server)


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


async def drive(
    base: str,
    first: tuple[dict[str, Any], Expected],
    sets: list[tuple[dict[str, Any], Expected]],
    *,
    concurrency: int,
    timeout_ms: float,
    fresh_contexts: bool,
    server_pid: int,
) -> dict[str, Any]:
    viewport: ViewportSize = {"width": VIEWPORT["width"], "height": VIEWPORT["height"]}
    open_pages: list[Page] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        shared: BrowserContext | None = None
        if not fresh_contexts:
            shared = await browser.new_context(viewport=viewport)
        slots = asyncio.Semaphore(concurrency)

        async def session(index: int, filters: dict[str, Any], want: Expected) -> Session:
            result = Session(index, filters, want.items, want.letters)
            async with slots:
                context = shared or await browser.new_context(viewport=viewport)
                page = await context.new_page()
                open_pages.append(page)
                started = time.perf_counter()
                try:
                    await page.goto(
                        url_with(base, "/", filters), wait_until="commit", timeout=timeout_ms
                    )
                    shown = await page.wait_for_function(
                        SHOWS,
                        arg=["Disputed items", f"{want.items:,}"],
                        polling=POLL_MS,
                        timeout=timeout_ms,
                    )
                    result.page_ms = round(float(await shown.json_value()))
                    result.wall_ms = round((time.perf_counter() - started) * 1000)
                    await page.wait_for_function(
                        SHOWS,
                        arg=["Letters", f"{want.letters:,}"],
                        polling=POLL_MS,
                        timeout=LETTERS_MS,
                    )
                    done = await page.wait_for_function(IDLE, polling=POLL_MS, timeout=timeout_ms)
                    result.complete_ms = round(float(await done.json_value()))
                    errors = await page.get_by_test_id("stException").count()
                    result.correct = errors == 0
                    result.problem = "" if result.correct else "an exception is shown"
                except PlaywrightError as error:
                    result.problem = await _what_it_shows(page, want, error)
            return result

        alone = await session(0, *first)
        after_first = tree_rss(server_pid)
        server_cpu, client_cpu = cpu_seconds(server_pid)
        started = time.perf_counter()
        sessions = await asyncio.gather(
            *(session(i, filters, want) for i, (filters, want) in enumerate(sets, 1))
        )
        wall = time.perf_counter() - started
        server_done, client_done = cpu_seconds(server_pid)
        await asyncio.sleep(2)  # let the last reruns settle, every session still connected
        with_all = tree_rss(server_pid)
        client = tree_pss(tree_pids(os.getpid()) - tree_pids(server_pid))
        for page in open_pages:
            await page.close()
        await browser.close()
    return {
        "first": alone,
        "sessions": sessions,
        "wall_s": round(wall, 1),
        "server_cpu_s": round(server_done - server_cpu, 1),
        "client_cpu_s": round(client_done - client_cpu, 1),
        "rss_after_first": after_first,
        "rss_with_all": with_all,
        "client_pss": client,
    }


async def _what_it_shows(page: Page, want: Expected, error: Exception) -> str:
    try:
        items = await page.evaluate(SHOWS, ["Disputed items", None])
        letters = await page.evaluate(SHOWS, ["Letters", None])
        errors = await page.get_by_test_id("stException").count()
    except Exception as unreadable:  # a crashed tab: say so, the run goes on
        return f"{type(error).__name__}; page unreadable ({unreadable})"
    return (
        f"shows items={items!r} letters={letters!r} exceptions={errors}"
        f" (want {want.items:,} / {want.letters:,}): {str(error).splitlines()[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10, help="navigations in flight")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per page")
    parser.add_argument(
        "--fresh-contexts", action="store_true", help="a browser context (cache) per session"
    )
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"no warehouse at {args.db} (build it: benchmarks/full_history.py)")
    if not chromium_path():
        raise SystemExit("Debian's chromium is not installed (apt-get install -y chromium)")
    if args.sessions < 1 or args.concurrency < 1:
        raise SystemExit("--sessions and --concurrency must be at least 1")
    OUT.mkdir(parents=True, exist_ok=True)
    db = args.db.absolute()

    with warehouse(db) as con:
        letters, items = con.execute(
            "select count(*), (select count(*) from decisions) from letters"
        ).fetchone() or (0, 0)
    print(f"machine: {machine()}")
    print(f"warehouse: {letters:,} letters, {items:,} disputed items ({db})")
    print(f"counting what {args.sessions} sessions must show ...", flush=True)
    first: tuple[dict[str, Any], Expected] = ({}, expected_summary(db, {}))
    sets = list(filter_sets(db, args.sessions))

    with (
        tempfile.TemporaryDirectory(prefix="imr-sessions-") as folder,
        run_dashboard(db, Path(folder) / "streamlit.log") as server,
    ):
        pid = server.process.pid
        idle = tree_rss(pid)
        sampler = PeakSampler(pid)
        sampler.start()
        print(f"server {server.url} (pid {pid}); {args.concurrency} in flight at most", flush=True)
        run = asyncio.run(
            drive(
                server.url,
                first,
                sets,
                concurrency=args.concurrency,
                timeout_ms=args.timeout * 1000,
                fresh_contexts=args.fresh_contexts,
                server_pid=pid,
            )
        )
        peak = sampler.stop()
        log = server.output()

    alone: Session = run["first"]
    sessions: list[Session] = run["sessions"]
    right = [s for s in sessions if s.correct]
    shown = _spread([s.page_ms for s in right])
    complete = _spread([s.complete_ms for s in right])
    per_session = (run["rss_with_all"] - run["rss_after_first"]) / len(sessions)
    summary = {
        "sessions": len(sessions),
        "concurrency": args.concurrency,
        "fresh_contexts": args.fresh_contexts,
        "correct": len(right),
        "page_ms": shown,
        "complete_ms": complete,
        "wall_s": run["wall_s"],
        "sessions_per_minute": round(len(sessions) / run["wall_s"] * 60, 1),
        "server_cpu_s": run["server_cpu_s"],
        "client_cpu_s": run["client_cpu_s"],
        "first_session_ms": alone.page_ms,
        "first_session_correct": alone.correct,
        "server_rss_mib": {
            "idle": round(idle / MIB),
            "after_first_session": round(run["rss_after_first"] / MIB),
            "peak": round(peak / MIB),
            "with_all_sessions": round(run["rss_with_all"] / MIB),
            "per_extra_session": round(per_session / MIB, 1),
        },
        "client_pss_mib": round(run["client_pss"] / MIB),
        "server_log_tracebacks": log.count("Traceback"),
        # The last line of each traceback (the error), so a wrong answer can be explained.
        "server_log_errors": sorted(
            {
                block.strip().splitlines()[-1]
                for block in log.split("Traceback")[1:]
                if block.strip()
            }
        ),
    }
    rss = summary["server_rss_mib"]
    print()
    print("| sessions | in flight at most | correct | page time (ms) | median | p95 | max |")
    print("|---|---|---|---|---|---|---|")
    for what, spread in (("numbers shown", shown), ("page complete", complete)):
        print(
            f"| {len(sessions)} | {args.concurrency} | {len(right)}/{len(sessions)} | {what} "
            f"| {spread['median']} | {spread['p95']} | {spread['max']} |"
        )
    print()
    print(
        f"first session alone (cold server): {alone.page_ms} ms, "
        f"{'correct' if alone.correct else 'WRONG: ' + alone.problem}; then "
        f"{len(sessions)} sessions in {run['wall_s']} s ({summary['sessions_per_minute']} a "
        f"minute), CPU: server {run['server_cpu_s']} s, browser side {run['client_cpu_s']} s"
    )
    print()
    print(
        "| server RSS (MiB) | idle | after the first session | peak "
        f"| {len(sessions) + 1} sessions open | per extra session |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| server process tree | {rss['idle']} | {rss['after_first_session']} | {rss['peak']} "
        f"| {rss['with_all_sessions']} | {rss['per_extra_session']} |"
    )
    print()
    print(
        f"browser side (this script, Playwright, Chromium; PSS): {summary['client_pss_mib']} MiB; "
        f"tracebacks in the server log: {summary['server_log_tracebacks']}"
        + "".join(f"\n  {error}" for error in summary["server_log_errors"])
    )
    for wrong in [alone, *sessions]:
        if not wrong.correct:
            print(f"WRONG session {wrong.index} {wrong.filters}: {wrong.problem}")

    results = {
        "machine": machine(),
        "db": str(db),
        "letters": letters,
        "items": items,
        **summary,
        "first_session": asdict(alone),
        "per_session": [asdict(s) for s in sessions],
    }
    (OUT / "concurrent_sessions.json").write_text(json.dumps(results, indent=2))
    if len(right) < len(sessions) or not alone.correct:
        raise SystemExit(1)


def _spread(values: list[float | None]) -> dict[str, int | None]:
    """Median, 95th percentile (nearest rank) and maximum, in whole ms."""
    times = [float(v) for v in values if v is not None]
    if not times:
        return {"median": None, "p95": None, "max": None}
    return {
        "median": round(statistics.median(times)),
        "p95": round(nearest_rank(times, 0.95)),
        "max": round(max(times)),
    }


if __name__ == "__main__":
    main()
