"""Parsing workers: a time limit per file, a memory cap per worker, and no orphans.

Regressions for: a file that makes the parser (or PDFium) loop had no limit; a decompression bomb
could take the machine's memory; workers outlived a SIGKILLed main process, blocked forever.
The misbehaving files are simulated in the real `imr ingest` (tests/reliability/helpers.py's
wrapper), since a PDF that really makes PDFium loop is not at hand.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from etl.workers import ANSWER_BYTES, STEP_BATCH, Overrun, R, Steps, T, WorkerPool, _Worker
from tests.conftest import ROOT
from tests.reliability.helpers import query, seed_texts, variant, wrapped_ingest


def _folder(tmp_path: Path, letters: int, extra: str | None = None) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    seeds = seed_texts()
    for n in range(letters):
        (folder / f"{n:03d}.txt").write_text(variant(seeds[n % len(seeds)], n))
    if extra:
        (folder / extra).write_text(variant(seeds[0], 999))
    return folder


def _finish(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"ingest did not finish within {timeout} s")


def test_a_file_past_the_time_limit_is_a_reject_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 6, extra="hang.txt")
    db = tmp_path / "wh" / "current.duckdb"
    started = time.monotonic()
    process = wrapped_ingest(tmp_path, "hang", folder, db, env={"IMR_PARSE_TIMEOUT": "2"})
    _, stderr = _finish(process, timeout=60)
    assert process.returncode == 0, stderr
    assert time.monotonic() - started < 45
    assert query(db, "select count(*) from letters") == [(6,)]
    [(path, reason, detail)] = query(db, "select source_path, reason, detail from rejects")
    assert (path, reason) == (str(folder / "hang.txt"), "parse_timeout")
    assert "2 s" in detail


def test_a_parse_past_the_time_limit_is_that_files_reject_alone(tmp_path: Path) -> None:
    """A worker reads the files it holds before it parses them (etl.workers.Steps): a parse
    that never ends is blamed on its own file, and the files read with it load."""
    folder = _folder(tmp_path, 40, extra="hang.txt")
    for path in sorted(folder.glob("0[23]*.txt")):  # after hang.txt in the walk: in its batch
        path.rename(path.with_name(f"z{path.name}"))
    db = tmp_path / "wh" / "current.duckdb"
    process = wrapped_ingest(tmp_path, "hang_finish", folder, db, env={"IMR_PARSE_TIMEOUT": "2"})
    _, stderr = _finish(process, timeout=60)
    assert process.returncode == 0, stderr
    assert query(db, "select count(*) from letters") == [(40,)]
    [(path, reason)] = query(db, "select source_path, reason from rejects")
    assert (path, reason) == (str(folder / "hang.txt"), "parse_timeout")


def test_a_memory_bomb_is_a_reject_not_the_machines_memory(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 4, extra="bomb.txt")
    db = tmp_path / "wh" / "current.duckdb"
    process = wrapped_ingest(tmp_path, "bomb", folder, db)
    _, stderr = _finish(process, timeout=60)
    assert process.returncode == 0, stderr
    assert query(db, "select count(*) from letters") == [(4,)]
    assert query(db, "select source_path, reason from rejects") == [
        (str(folder / "bomb.txt"), "too_much_memory")
    ]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found |= {int(p) for p in handle.read().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("mode", ["slow", "hang"])
def test_workers_exit_when_the_main_process_is_killed(tmp_path: Path, mode: str) -> None:
    folder = _folder(tmp_path, 40, extra="hang.txt" if mode == "hang" else None)
    if mode == "hang":  # every worker busy in a loop that holds the GIL when the parent dies
        (folder / "hang2.txt").write_text(variant(seed_texts()[1], 998))
        for path in folder.glob("0*.txt"):
            path.unlink()
    db = tmp_path / "wh" / "current.duckdb"
    process = wrapped_ingest(tmp_path, mode, folder, db, sleep=2.0)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while len(workers) < 2:
            assert time.monotonic() < deadline, "the workers never started"
            workers = _children(process.pid)
            time.sleep(0.05)
        time.sleep(0.5)  # inside their first file
        os.kill(process.pid, signal.SIGKILL)  # the main process only, as the OOM killer does
        process.wait()
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), "workers outlived their parent"
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_large_letters_never_deadlock_the_pipes(tmp_path: Path) -> None:
    """Regression: with a second file queued behind a busy worker, a parent writing a large file
    to it while it wrote a large result back blocked both ends for good (seen with letters of
    256 KiB, beyond the pipe's buffer)."""
    folder = tmp_path / "in"
    folder.mkdir()
    seeds = seed_texts()
    prose = "The patient reports ongoing pain and limited function. " * 6000  # ~330 KB
    for n in range(8):
        text = variant(seeds[n % len(seeds)], n)
        # After the note that makes each letter distinct (its id reads the summary's start).
        text = text.replace(f"Reference note {n}. ", f"Reference note {n}. {prose}", 1)
        (folder / f"{n}.txt").write_text(text)
    db = tmp_path / "wh" / "current.duckdb"
    process = wrapped_ingest(tmp_path, "none", folder, db)
    _, stderr = _finish(process, timeout=120)
    assert process.returncode == 0, stderr
    assert query(db, "select count(*), min(length(case_summary)) from letters")[0][0] == 8
    assert query(db, "select min(length(case_summary)) from letters")[0][0] > 300_000


def _run_within(
    pool: WorkerPool[T, R], tasks: list[T], seconds: float
) -> list[tuple[T, R | Overrun]]:
    """The pool's results for ``tasks``, run in a thread: the test fails if it hangs."""
    found: list[tuple[T, R | Overrun]] = []
    runner = threading.Thread(target=lambda: found.extend(pool.run(tasks)), daemon=True)
    runner.start()
    runner.join(timeout=seconds)
    assert not runner.is_alive(), f"the pool did not finish within {seconds} s"
    return found


class _SmallBuffers(WorkerPool[bytes, bytes]):
    """A pool whose parent's socket buffers hold 8 KiB (the kernel doubles the 4 KiB asked):
    what it sends a worker beyond that waits until the worker reads."""

    def _spawn(self) -> _Worker:
        worker = super()._spawn()
        with socket.socket(fileno=os.dup(worker.conn.fileno())) as end:
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        return worker


def _twentyfold_or_fail(task: bytes) -> bytes:
    """A task: its bytes twenty times, but a task of 13s kills its worker, one of 17s hangs."""
    if task[:1] == b"\x0d":
        os._exit(7)
    if task[:1] == b"\x11":
        time.sleep(60)
    return task * 20


@pytest.mark.parametrize("size", [5000, 40_000])
def test_small_socket_buffers_never_deadlock_the_pool(size: int) -> None:
    """Regression: the parent's sends waited for room in a worker's socket. With a buffer
    smaller than the files queued behind a worker (8 KiB here; Linux's default is 208 KiB), the
    parent waited to send to a worker that waited to send its answer to the parent: both ends
    for good (a 14,815-letter ingest hung within seconds). Files of 5 kB (one piece on the
    wire) and 40 kB (a length, then the bytes), answers twenty times larger."""
    pool = _SmallBuffers(_twentyfold_or_fail, jobs=2, time_limit=30, size=len)
    tasks = [bytes([n % 251 or 1]) * size for n in range(400) if n % 251 not in (13, 17)]
    found = _run_within(pool, tasks, seconds=60)
    assert [task for task, _ in found] == tasks
    assert all(result == task * 20 for task, result in found)


def test_with_small_socket_buffers_a_crash_or_a_hang_costs_its_file_only() -> None:
    """A worker that dies or hangs while the parent holds files it has not taken yet (small
    buffers: 40 kB files queue in the parent) costs the file it was on; the rest are sent
    again, to its replacement, and every other result comes back, in order."""
    pool = _SmallBuffers(_twentyfold_or_fail, jobs=2, time_limit=2, size=len)
    tasks = [bytes([n]) * 40_000 for n in range(1, 60)]
    found = _run_within(pool, tasks, seconds=90)
    assert [task for task, _ in found] == tasks
    lost = {task[0]: r.reason for task, r in found if isinstance(r, Overrun)}
    assert lost == {13: "worker_crashed", 17: "parse_timeout"}
    assert all(result == task * 20 for task, result in found if task[0] not in lost)


def _echo_or_fail(task: int) -> int:
    """A task: its square, but 13 kills its worker and 17 makes it hang."""
    if task == 13:
        os._exit(7)  # as a native crash or the OOM killer would
    if task == 17:
        time.sleep(60)
    return task * task


def _pack_or_break(done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A batch's pack that cannot pack task 5's result (as rows that do not fit)."""
    if any(seq == 5 for seq, _ in done):
        raise ValueError("does not fit")
    return [(seq, result + 1) for seq, result in done]


def _tagged(task: int) -> tuple[str, int]:
    return ("first", task)


def _echo_or_fail_after(value: tuple[str, int]) -> int:
    assert value[0] == "first"
    return _echo_or_fail(value[1])


def _fail_first(task: int) -> int:
    return _echo_or_fail(task) and task


def _square(task: int) -> int:
    return task * task


@pytest.mark.parametrize(
    "function",
    [
        _echo_or_fail,
        Steps(_tagged, _echo_or_fail_after),  # the second step crashes or hangs
        Steps(_fail_first, _square),  # the first does
    ],
    ids=["one step", "second of two", "first of two"],
)
def test_answers_in_batches_blame_only_the_file_that_crashed_or_hung(
    function: Callable[[int], int],
) -> None:
    """Workers answer many files in one message: a worker that dies or hangs with finished
    files not yet sent must cost the file it was on, and only that one (the finished ones are
    parsed again), whatever its place in the batch. With two steps a worker holds the files of
    a batch between them: the one blamed is the one whose step crashed or hung, the others
    (the step before done, or not) go again."""
    pool: WorkerPool[int, int] = WorkerPool(function, jobs=2, time_limit=2)
    tasks = list(range(60))
    results = dict(pool.run(tasks))
    assert list(results) == tasks  # every task, in order
    lost = {task: r.reason for task, r in results.items() if isinstance(r, Overrun)}
    assert lost == {13: "worker_crashed", 17: "parse_timeout"}
    assert all(results[t] == t * t for t in tasks if t not in lost)


def _slow_steps_of_0(value: int | tuple[str, int]) -> int | tuple[str, int]:
    """Either step: task 0 takes 2 s over each, the others no time."""
    task = value if isinstance(value, int) else value[1]
    if task == 0:
        time.sleep(2.0)
    return ("first", task) if isinstance(value, int) else task


def test_each_step_of_a_file_is_timed_on_its_own() -> None:
    """A worker takes a file's two steps apart, other files' first steps between them (here
    too quick for the parent to see): a file whose steps each stay under the limit is not
    stopped, though together they pass it (found by a second reader: the parent compared only
    the file a worker was on, and went on timing task 0's first step into its second)."""
    pool: WorkerPool[int, object] = WorkerPool(
        Steps(_slow_steps_of_0, _slow_steps_of_0), jobs=1, time_limit=2.5
    )
    results = dict(_run_within(pool, list(range(6)), seconds=30))
    assert results == {task: task for task in range(6)}


# Steps taken so far in this process (each worker counts its own from its fork).
_STEPS_TAKEN = [0]


def _count_step(value: int | tuple[int, int]) -> tuple[int, int] | tuple[int, int, int]:
    """Either step: the task, with the number of steps this worker had taken before each."""
    taken, _STEPS_TAKEN[0] = _STEPS_TAKEN[0], _STEPS_TAKEN[0] + 1
    time.sleep(0.001)  # long enough for the parent to queue what it may
    return (value, taken) if isinstance(value, int) else (*value, taken)


def _steps_between(results: dict[int, object]) -> dict[int, int]:
    """For each task, the steps its worker took from its first step to its second: a worker
    that takes the first over k files, then the second over each, takes k for each of them."""
    counts: dict[int, int] = {}
    for task, result in results.items():
        assert isinstance(result, tuple) and result[0] == task, result
        counts[task] = result[2] - result[1]
    return counts


def test_a_worker_takes_each_step_over_the_files_it_holds() -> None:
    """A worker holding several files takes the first step over each before the second
    (the PDF ingest's extraction, then the parse: each stays in the CPU's caches), at most
    STEP_BATCH at a time; every file still gets both steps, in order."""
    _STEPS_TAKEN[0] = 0
    pool: WorkerPool[int, object] = WorkerPool(
        Steps(_count_step, _count_step), jobs=1, time_limit=10
    )
    results = dict(pool.run(range(300)))
    assert list(results) == list(range(300))
    batches = _steps_between(results)
    assert max(batches.values()) == STEP_BATCH >= 8  # 64 files are sent at once: whole batches


def test_a_worker_takes_the_second_step_before_heavy_first_steps_pile_up() -> None:
    """The first steps' results a worker holds weigh under ANSWER_BYTES (by the caller's
    weight), as its unsent results do: a letter's text of megabytes is parsed before the next
    is read."""
    heavy = ANSWER_BYTES // 2  # two of them fill a batch

    def weight(value: object) -> int:
        return heavy if isinstance(value, tuple) and len(value) == 2 and value[0] >= 100 else 1

    _STEPS_TAKEN[0] = 0
    pool: WorkerPool[int, object] = WorkerPool(
        Steps(_count_step, _count_step), jobs=1, time_limit=10, weight=weight
    )
    batches = _steps_between(dict(pool.run(range(300))))
    assert max(batches[task] for task in range(90)) == STEP_BATCH
    assert max(batches[task] for task in range(102, 300)) == 2


# How many times the pool's hook has run, in this process (a worker sees the count at its fork).
_HOOKED = [0]


def _hooks_before_fork(task: int) -> int:
    """A task: the hook's count when this worker was forked; 150 kills its worker."""
    if task == 150:
        os._exit(7)
    return _HOOKED[0]


def test_the_callers_hook_runs_before_every_worker_is_forked() -> None:
    """``imr ingest`` writes spool chunks in a thread (etl.load): a worker forked while that
    thread holds a lock (Arrow's, Python's) could wait on it forever, so the pool lets the
    caller finish such work first, before the first workers and before each replacement."""
    _HOOKED[0] = 0

    def hook() -> None:
        _HOOKED[0] += 1

    pool: WorkerPool[int, int] = WorkerPool(
        _hooks_before_fork, jobs=2, time_limit=5, before_fork=hook
    )
    # (each worker is sent 64 tasks at first: the crash comes after both have answered some)
    results = dict(pool.run(list(range(400))))
    assert [task for task, r in results.items() if isinstance(r, Overrun)] == [150]
    assert _HOOKED[0] == 3  # two workers, then the one that replaced the crashed
    seen = {r for r in results.values() if not isinstance(r, Overrun)}
    # Each worker was forked after its hook: the first two saw 1 and 2, the third (if the
    # other had not taken every task left by then) 3.
    assert {1, 2} <= seen <= {1, 2, 3}


def test_a_batch_that_cannot_be_packed_costs_only_its_culprit() -> None:
    pool: WorkerPool[int, int] = WorkerPool(
        lambda task: task, jobs=2, time_limit=10, pack=_pack_or_break
    )
    results = dict(pool.run(range(40)))
    assert list(results) == list(range(40))
    assert isinstance(results[5], Overrun) and results[5].reason == "worker_crashed"
    assert all(results[t] == t + 1 for t in range(40) if t != 5)


def _same_task(task: int) -> int:
    return task


def _batch_sizes(done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A pack that tells each result how many results its batch held."""
    return [(seq, len(done)) for seq, _ in done]


def _untag(value: tuple[str, int]) -> int:
    return value[1]


@pytest.mark.parametrize(
    "function", [_same_task, Steps(_tagged, _untag)], ids=["one step", "second of two"]
)
def test_a_worker_sends_heavy_results_before_they_pile_up(
    function: Callable[[int], int],
) -> None:
    """A worker holds its unsent results under ANSWER_BYTES (by the caller's weight), however
    many files are queued: letters of megabytes must not accumulate 32 to a batch in a worker
    whose address space is capped. With two steps, also when the results grow heavy in the
    second, over files whose first steps were light."""
    heavy = ANSWER_BYTES // 2  # two of them fill a batch
    pool: WorkerPool[int, int] = WorkerPool(
        function,
        jobs=1,
        time_limit=10,
        pack=_batch_sizes,
        weight=lambda value: heavy if isinstance(value, int) and value >= 100 else 1,
    )
    sizes = dict(pool.run(range(200)))
    assert max(sizes[task] for task in range(100)) > 2  # light results share batches ...
    assert max(sizes[task] for task in range(102, 200)) == 2  # ... heavy ones two at most


def test_a_task_lost_with_its_worker_is_retried_even_when_the_reorder_buffer_is_full() -> None:
    """Regression: a worker died holding finished, unanswered tasks while trivial tasks done in
    the parent filled the reorder buffer; the lost tasks waited for room that only they could
    make, and the pool spun forever (seen in a browser-test ingest)."""
    pool: WorkerPool[int, int] = WorkerPool(
        _echo_or_fail, jobs=1, time_limit=10, inline=lambda task: task >= 100
    )
    tasks = [*range(15), *range(100, 100 + 3 * 256)]  # 13 crashes its worker; then trivial ones
    found = _run_within(pool, tasks, seconds=60)
    assert [task for task, _ in found] == tasks
    results = dict(found)
    assert isinstance(results[13], Overrun) and results[13].reason == "worker_crashed"
    assert all(results[t] == t * t for t in tasks if t != 13)


_ARROW_IN_WORKERS = r"""
import sys, tempfile
from pathlib import Path
from etl.ingest import ingest
from etl.settings import Settings
from tests.browser import hostile
folder = Path(tempfile.mkdtemp())
inputs = [Path("data/samples"), hostile.write_letters(folder / "hostile")]
print(ingest(inputs, Settings(db=folder / "wh" / "current.duckdb", jobs=2)).line())
"""


def test_workers_can_pack_rows_into_arrow_under_their_memory_cap() -> None:
    """Regression: workers build their batches' Arrow tables under an address-space cap;
    Arrow's default allocator (mimalloc) failed there ("ArrowMemoryError: malloc of size 64
    failed") and every letter of this small ingest was rejected. Run in a fresh process, as
    `imr ingest` runs."""
    done = subprocess.run(
        [sys.executable, "-c", _ARROW_IN_WORKERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 rejected" in done.stdout, done.stdout


def test_the_queue_behind_a_busy_worker_is_measured_from_the_task_it_is_on() -> None:
    """A task waits when the files a worker has been sent but not begun (those after the one it
    is on; all it has not answered if the parent has not seen it on one), with it, would pass
    QUEUE_BYTES. The pool counts the bytes as it sends and is answered: the answer must be the
    sum's over the tasks in flight, whatever the sizes, answers and task the worker is on."""
    import random
    from types import SimpleNamespace

    from etl.workers import QUEUE_BYTES, _Worker

    class Pipe:
        def send_bytes(self, data: bytes) -> None:
            pass

    pick = random.Random(7)
    pool: WorkerPool[bytes, int] = WorkerPool(len, jobs=1, time_limit=1, size=len)
    checked = 0
    for _ in range(300):
        worker = _Worker(None, Pipe(), SimpleNamespace(value=-1), SimpleNamespace(value=0))
        sizes: dict[int, int] = {}
        answered = -1
        for seq in range(pick.randint(1, 200)):
            sizes[seq] = pick.choice((0, 900, 4000, 30_000))
            pool._send(worker, seq, b"x" * sizes[seq])
            if pick.random() < 0.4:  # the worker answers some of what it has
                for _ in range(pick.randint(0, len(worker.inflight))):
                    answered = worker.inflight[0]
                    pool._answered(worker, answered)
            if not worker.inflight:
                continue
            inflight = list(worker.inflight)
            worker.current.value = pick.choice([*inflight, answered, -1])
            size = pick.choice((100, 5000, 70_000))
            on = worker.current.value
            waiting = inflight[inflight.index(on) + 1 :] if on in inflight else inflight
            expected = sum(sizes[s] for s in waiting) + size > QUEUE_BYTES
            assert pool._queue_full(worker, size) == expected
            checked += 1
    assert checked > 10_000
