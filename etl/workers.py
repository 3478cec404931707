"""Worker processes that parse files, and are killed when they overrun.

``imr ingest``'s main process walks and hashes the inputs and writes the warehouse; parsing runs
here. Each worker gets files one by one over a pipe (several queued, so it never waits for the
parent), takes a task's steps over the files it holds a step at a time (``Steps``), and answers
them in batches: up to ``BATCH`` results or ``ANSWER_BYTES`` in one message,
at once when no file is queued (one message and one unpickling per batch, not per file; the
caller's ``pack`` can turn a batch's results into columns). Shared integers say which file a
worker is on and how many steps it has begun, so the parent always knows which file a worker is
on and since when:

* a file that runs past ``time_limit`` (a pathological PDF that makes PDFium loop, which no signal
  inside the worker can interrupt) gets its worker killed and becomes a ``parse_timeout`` reject
  (each step of a file is timed on its own);
* a worker that dies (a native crash, the kernel's OOM killer, its memory cap) costs its file
  only, a ``worker_crashed`` reject; a fresh worker takes its place, and the files it had
  finished but not yet answered are parsed again;
* each worker's address space is capped (``memory_limit`` bytes beyond what it started with), so
  a decompression bomb fails inside that worker instead of exhausting the machine;
* workers die with their parent: on Linux the kernel kills them (``PR_SET_PDEATHSIG``), and a
  watchdog thread covers the rest, so a SIGKILLed ``imr ingest`` leaves no orphans behind.

Results come back in input order (a bounded reorder buffer), so which of two renderings of one
letter is recorded first never depends on timing.

The parent never waits to send: what a worker's socket does not take at once waits in that
worker's outbox and goes when the socket has room. A send that waited could hang both ends for
good, the parent stuck sending to a worker stuck sending its answer to the parent: with the
local sockets' buffers at 8 KiB (Linux's default is 208 KiB; a kernel may be set lower), a
14,815-letter ingest hung within seconds (``test_small_socket_buffers_never_deadlock_the_pool``).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import pickle
import resource
import select
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Results held back waiting for a slower earlier file; beyond either limit no new file is
# handed out, so memory stays bounded whatever the files.
REORDER_LIMIT = 256
REORDER_BYTES = 64 * 1024 * 1024
# Results a worker sends back in one message (fewer when no file is queued behind them).
BATCH = 32
# ... and fewer when their weight (the caller's ``weight``: about a result's bytes) reaches this:
# a worker holds what it has not sent, under its memory cap.
ANSWER_BYTES = 8 * 1024 * 1024
# Files a worker takes a step over before the next step (``Steps``): 8 to 32 measured alike.
STEP_BATCH = BATCH // 2
# Files in flight per worker (answered in batches): the next ones are already there when a
# worker finishes one, so it never waits for the parent. A worker that dies or overruns costs
# only the file it is on.
DEPTH = 2 * BATCH
# Sends that never wait (the module's docstring): MSG_DONTWAIT, where the platform has it.
_DONTWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)
# Files queued behind a busy worker's current one stay under this many bytes together (a larger
# file waits for an idle worker): about 25 letters of text, so that a worker's answers are
# nearly whole batches, not what was queued when the parent last looked (18 letters on average
# with 64 KiB, 28 with this; a batch's Arrow costs a worker 40 us a letter at 18, 30 at 32). It
# mostly fits Linux's default socket buffer (34 letters of 5 kB, 49 of 2 kB), so there the
# outbox seldom holds anything.
# Without sends that never wait, the queue must fit any buffer, so that sending never blocks.
QUEUE_BYTES = 128 * 1024 if _DONTWAIT else 64 * 1024
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Steps(Generic[T, R]):
    """A task's work in two steps, ``first`` then ``then``. A worker takes the first step over
    every file it holds (up to ``STEP_BATCH``, and while their first steps' results weigh
    under ``ANSWER_BYTES`` by the pool's ``weight``), then the second over each (answering
    whenever its results make a whole answer): each step's code and data stay in the CPU's
    caches across files. PDFium's extraction and the parser taking turns a letter each cost
    the PDF ingest's workers 5% more CPU (docs/benchmarks.md, stop 55). Called as one
    function, it is the two steps in turn."""

    first: Callable[[T], Any]
    then: Callable[[Any], R]

    def __call__(self, task: T) -> R:
        return self.then(self.first(task))


@dataclass
class Overrun:
    """What ``run`` yields for a task whose worker was killed or died."""

    reason: str  # 'parse_timeout' | 'worker_crashed'
    detail: str


@dataclass
class _Worker:
    process: Any
    conn: Connection
    current: Any  # shared with the worker: the task number it is on (-1: none yet)
    # ... and the steps it has begun (a file's second step, after other files' first steps, is
    # a new one even if the parent never saw those)
    steps: Any
    inflight: deque[int] = field(default_factory=deque)  # task numbers sent, in order
    started: float = 0.0  # when the one it is on began (as far as the parent has seen)
    # The task number it was on, and the steps it had begun, when the parent last looked
    seen: tuple[int, int] = (-1, 0)
    # Bytes sent to it so far, and for each task in flight the count right after it was sent:
    # what waits behind the one it is on is a subtraction (``WorkerPool._queue_full``).
    sent_bytes: int = 0
    sent_through: dict[int, int] = field(default_factory=dict)
    answered_through: int = 0  # sent_through of the last task it answered
    # The parent's end of the socket, for sends that never wait (None: sends wait), and what
    # it has not taken yet: framed messages, in order, in pieces (each: whether it ends one).
    sender: socket.socket | None = None
    outbox: deque[tuple[memoryview, bool]] = field(default_factory=deque)

    def on(self) -> tuple[int, int]:
        return (self.current.value, self.steps.value)


class WorkerPool(Generic[T, R]):
    def __init__(
        self,
        function: Callable[[T], R],
        jobs: int,
        time_limit: float,
        memory_limit: int = 0,
        inline: Callable[[T], bool] | None = None,
        size: Callable[[T], int] = lambda task: 0,
        pack: Callable[[list[tuple[int, R]]], list[tuple[int, R]]] | None = None,
        weight: Callable[[R], int] | None = None,
        initializer: Callable[[], None] | None = None,
        before_fork: Callable[[], None] | None = None,
    ) -> None:
        self.function = function
        self.initializer = initializer  # runs first in each worker, before its memory cap
        # Runs here before a worker is forked: a thread of the caller's that may hold a lock
        # the child would need (Arrow's, Python's) finishes its work first.
        self.before_fork = before_fork
        self.weight = weight  # about the bytes of a result, while a worker holds it
        # Runs in the worker on each batch of (task number, result) before it is sent back.
        self.pack = pack
        # Tasks for which this is true are trivial: run here, in order, without a round trip.
        self.inline = inline
        self.size = size  # bytes a task carries (what it costs to send)
        self.jobs = max(jobs, 1)
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        start = "fork" if sys.platform != "win32" else "spawn"
        # fork: workers start in milliseconds and inherit the loaded vocabularies. No DuckDB
        # connection is ever used in a child, so forking a parent that holds one is safe.
        self.context: Any = multiprocessing.get_context(start)
        self.workers: list[_Worker] = []

    def run(self, tasks: Iterable[T]) -> Iterator[tuple[T, R | Overrun]]:
        """Yield ``(task, result)`` for every task, in task order."""
        pending = iter(tasks)
        exhausted = False
        next_seq = 0  # next task number to hand out
        next_out = 0  # next task number to yield
        self._done: dict[int, R | Overrun] = {}
        self._held = 0  # bytes of results held back for order
        self._sizes: dict[int, int] = {}  # ... per task
        self._retry: deque[int] = deque()  # tasks a dead worker had queued or not answered
        queued: dict[int, T] = {}
        self._queued = queued
        try:
            self.workers = []
            for _ in range(self.jobs):  # one at a time: close() stops those forked
                self.workers.append(self._spawn())
            while True:
                for worker in self.workers:
                    # A retried task goes out whatever the reorder buffer holds: it is older than
                    # every result held there, which wait for it (a full buffer waited forever).
                    while len(worker.inflight) < DEPTH and (self._retry or self._room()):
                        if self._retry:
                            seq = self._retry.popleft()
                        else:
                            task = None if exhausted else next(pending, None)
                            if task is None:
                                exhausted = True
                                break
                            seq, next_seq = next_seq, next_seq + 1
                            queued[seq] = task
                            if self.inline and self.inline(task):
                                self._done[seq] = self.function(task)
                                continue
                        if worker.inflight and self._queue_full(worker, self.size(queued[seq])):
                            # A busy worker may be writing a large result back: tasks that
                            # overfill the pipe to it could block both ends for good. This one
                            # waits (for an idle worker if it is large).
                            self._retry.appendleft(seq)
                            break
                        self._send(worker, seq, queued[seq])
                busy = [w for w in self.workers if w.inflight]
                if busy:
                    self._collect(busy)
                while next_out in self._done:
                    result = self._done.pop(next_out)
                    self._held -= self._sizes.pop(next_out, 0)
                    yield queued.pop(next_out), result
                    next_out += 1
                if exhausted and not busy and not self._retry:
                    break
        finally:
            self.close()

    def _queue_full(self, worker: _Worker, size: int) -> bool:
        """Whether a task of ``size`` bytes would put the tasks sent to ``worker`` that it has
        not begun (as far as the parent knows: it may be further on) over QUEUE_BYTES: those
        sent after the one it is on, or all it has not answered if the parent has not seen it
        on one. Counted as they are sent, not summed task by task on every send."""
        begun = worker.sent_through.get(worker.current.value, worker.answered_through)
        return worker.sent_bytes - begun + size > QUEUE_BYTES

    def _room(self) -> bool:
        return len(self._done) < REORDER_LIMIT and self._held < REORDER_BYTES

    def _send(self, worker: _Worker, seq: int, task: T) -> None:
        idle = not worker.inflight and not worker.outbox
        if idle:
            worker.started = time.monotonic()
            worker.seen = worker.on()
        worker.inflight.append(seq)
        worker.sent_bytes += self.size(task)
        worker.sent_through[seq] = worker.sent_bytes
        # Plain pickle: Connection.send's ForkingPickler took 3.2 us a letter to pickle, this 0.5.
        message = pickle.dumps((seq, task), pickle.HIGHEST_PROTOCOL)
        if worker.sender is None or idle:
            # To an idle worker a send may wait (it has answered everything: it only reads), so
            # a file larger than the socket's buffer goes whole, at once. A dead worker refuses
            # the pipe: _collect then sees EOF and records the crash.
            with contextlib.suppress(OSError):
                worker.conn.send_bytes(message)
            return
        worker.outbox.extend(_framed(message))
        self._flush(worker)

    def _flush(self, worker: _Worker, waited: bool = False) -> None:
        """Send what the worker's socket takes now of its outbox, without waiting. ``waited``:
        the socket had had no room for it: a file whose last bytes go now starts the worker's
        clock again (done with the one before, the worker was reading it, its answer held back
        until then). A hung worker reads nothing, so it cannot put its own clock back."""
        outbox = worker.outbox
        while outbox and worker.sender is not None:
            piece, last = outbox[0]
            try:
                sent = worker.sender.send(piece, _DONTWAIT)
            except BlockingIOError:
                return  # full: the rest goes when _collect sees room
            except OSError:
                outbox.clear()  # a dead worker: _collect sees its end and records the crash
                return
            if sent < len(piece):
                outbox[0] = (piece[sent:], last)
                return  # a part taken: the socket is full now (no second send to learn it)
            outbox.popleft()
            if last and waited:
                worker.started = time.monotonic()

    def _collect(self, busy: list[_Worker]) -> None:
        for worker in busy:
            self._watch(worker)
        deadline = min(w.started for w in busy) + self.time_limit
        timeout = max(min(deadline - time.monotonic(), 1.0), 0)
        ready: list[Any]
        if any(w.outbox for w in busy):
            ready = self._wait_or_send(busy, timeout)
        else:
            ready = wait([w.conn for w in busy], timeout=timeout)
        for worker in busy:
            if worker.conn in ready:
                try:
                    message = worker.conn.recv_bytes()
                except (EOFError, OSError):
                    self._lose(
                        worker, Overrun("worker_crashed", "the process reading this file died")
                    )
                    continue
                answers = pickle.loads(message)
                for seq, result in answers:
                    self._answered(worker, seq)
                    self._done[seq] = result
                    self._sizes[seq] = len(message) // len(answers)
                self._held += len(message) // len(answers) * len(answers)
                self._watch(worker)
            elif time.monotonic() - worker.started > self.time_limit:
                stopped = f"still running after {self.time_limit:g} s; the worker was stopped"
                self._lose(worker, Overrun("parse_timeout", stopped))

    def _wait_or_send(self, busy: list[_Worker], timeout: float) -> list[Connection]:
        """Wait for an answer, sending what waits in outboxes as their sockets take it:
        the connections with something to read (or closed), as ``wait`` gives them."""
        poller = select.poll()
        for worker in busy:
            events = select.POLLIN | (select.POLLOUT if worker.outbox else 0)
            poller.register(worker.conn.fileno(), events)
        ready = dict(poller.poll(timeout * 1000))
        readable = []
        for worker in busy:
            events = ready.get(worker.conn.fileno(), 0)
            if events & select.POLLOUT:
                self._flush(worker, waited=True)
            if events & ~select.POLLOUT:  # an answer, or the worker's end closed
                readable.append(worker.conn)
        return readable

    def _answered(self, worker: _Worker, seq: int) -> None:
        # A worker answers its files in the order it got them.
        if worker.inflight.popleft() != seq:
            raise RuntimeError("a worker answered out of order")
        worker.answered_through = worker.sent_through.pop(seq)

    def _watch(self, worker: _Worker) -> None:
        """Start the clock of a worker's file when it moves on to another file or step: each
        step of a file (``Steps``) is timed on its own."""
        on = worker.on()
        if on != worker.seen:
            worker.seen = on
            worker.started = time.monotonic()

    def _lose(self, worker: _Worker, overrun: Overrun) -> None:
        """The worker is dead or stopped: the file it was on gets ``overrun``; the others it
        had (queued, or finished and not yet answered) go again."""
        on = worker.current.value
        current = on if on in worker.inflight else worker.inflight[0]
        self._done[current] = overrun
        self._retry.extendleft(reversed([s for s in worker.inflight if s != current]))
        self._replace(worker)

    def _spawn(self) -> _Worker:
        if self.before_fork:
            self.before_fork()
        parent_end, child_end = self.context.Pipe(duplex=True)
        current = self.context.RawValue("q", -1)  # shared memory: no lock, one writer
        steps = self.context.RawValue("q", 0)
        process = self.context.Process(
            target=_worker_main,
            args=(
                child_end,
                self.function,
                os.getpid(),
                self.memory_limit,
                current,
                steps,
                self.pack,
                self.weight,
                self.initializer,
            ),
            daemon=True,
        )
        process.start()
        child_end.close()
        sender = None
        if _DONTWAIT:  # the same socket, for sends that never wait (closed with the worker)
            sender = socket.socket(fileno=os.dup(parent_end.fileno()))
            # Blocking, as the connection expects of their shared socket, whatever
            # socket.setdefaulttimeout() says (each send is told not to wait).
            sender.setblocking(True)
        return _Worker(process, parent_end, current, steps, sender=sender)

    def _replace(self, worker: _Worker) -> None:
        self._stop(worker)
        index = self.workers.index(worker)
        self.workers[index] = self._spawn()

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.process.kill()
        worker.process.join(timeout=5)
        _close(worker)

    def close(self) -> None:
        for worker in self.workers:
            if worker.sender is None:
                with contextlib.suppress(Exception):
                    worker.conn.send_bytes(pickle.dumps(None))
                continue
            # The end of the work, after what waits in the outbox (nothing, unless the caller
            # stopped early). Not waited for: a worker it does not reach is killed below.
            worker.outbox.extend(_framed(pickle.dumps(None)))
            self._flush(worker)
        for worker in self.workers:
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                self._stop(worker)
            else:
                _close(worker)
        self.workers = []


def _framed(message: bytes) -> list[tuple[memoryview, bool]]:
    """``message`` as ``Connection.send_bytes`` puts it on the wire (a length, then the bytes),
    for ``Connection.recv_bytes`` at the other end: the outbox's pieces."""
    if len(message) > 0x7FFFFFFF:
        header = struct.pack("!iQ", -1, len(message))
    elif len(message) <= 16384:  # one send for a letter of text (the copy costs less)
        return [(memoryview(struct.pack("!i", len(message)) + message), True)]
    else:
        header = struct.pack("!i", len(message))
    return [(memoryview(header), False), (memoryview(message), True)]


def _close(worker: _Worker) -> None:
    worker.conn.close()
    if worker.sender is not None:
        worker.sender.close()
    worker.outbox.clear()


def _worker_main(
    conn: Connection,
    function: Callable[[Any], Any],
    parent: int,
    memory_limit: int,
    current: Any,
    steps_begun: Any,
    pack: Callable[[list[tuple[int, Any]]], list[tuple[int, Any]]] | None,
    weight: Callable[[Any], int] | None,
    initializer: Callable[[], None] | None,
) -> None:
    _die_with_parent(parent)
    # What the worker inherited (the vocabularies, the parent's own state) never becomes
    # garbage here: out of the collector's sight, its collections do not walk it, nor write
    # to its objects' headers (which copies the parent's pages into the worker).
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if initializer:
        initializer()
    if memory_limit:
        _cap_address_space(memory_limit)
    steps = function if isinstance(function, Steps) else Steps(function, _same)
    weigh = weight or (lambda result: 0)

    def on(seq: int) -> None:
        """Tell the parent the file, and that a step begins (its clock starts again)."""
        current.value = seq
        steps_begun.value += 1

    done: list[tuple[int, Any]] = []
    held = 0  # the weight of done
    waiting: deque[tuple[int, Any]] = deque()  # received, not begun
    while True:
        if done and (answer_full(len(done), held) or not (waiting or conn.poll())):
            _answer(conn, done, on, pack)
            done, held = [], 0
        # The files here already, up to a batch (the first waited for): the end of the work
        # (None) or of the parent (EOF) ends the worker, as the parent needs no more answers.
        while len(waiting) < STEP_BATCH and (not waiting or conn.poll()):
            try:
                message = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return
            if message is None:
                return
            waiting.append(message)
        # ``current`` names the file each step is on: a file that hangs or crashes a step is
        # the one blamed, and the others the worker held go again (WorkerPool._lose).
        begun: list[tuple[int, Any]] = []
        weighed = 0
        while waiting and len(done) + len(begun) < BATCH and weighed < ANSWER_BYTES:
            seq, task = waiting.popleft()
            on(seq)
            value = steps.first(task)
            weighed += weigh(value)
            begun.append((seq, value))
        for seq, value in begun:
            on(seq)
            result = steps.then(value)
            done.append((seq, result))
            held += weigh(result)
            if answer_full(len(done), held):  # heavy results go before the batch's next
                _answer(conn, done, on, pack)
                done, held = [], 0


def _same(value: Any) -> Any:
    return value


def answer_full(results: int, held: int) -> bool:
    """Whether results of this count and weight make a whole answer (``BATCH``,
    ``ANSWER_BYTES``): a worker sends them then, and so does parsing in the caller's process."""
    return results >= BATCH or held >= ANSWER_BYTES


def _answer(
    conn: Connection,
    done: list[tuple[int, Any]],
    on: Callable[[int], None],
    pack: Callable[[list[tuple[int, Any]]], list[tuple[int, Any]]] | None,
) -> None:
    try:
        conn.send_bytes(pickle.dumps(pack(done) if pack else done))
        return
    except Exception:  # noqa: BLE001 - found again below, file by file
        pass
    # One result breaks the batch: answered one by one, the one that fails kills this worker
    # while it is the file "on" (``current``), and the parent blames that file alone.
    for seq, result in done:
        on(seq)
        one = [(seq, result)]
        conn.send_bytes(pickle.dumps(pack(one) if pack else one))


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the kernel could be told
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _cap_address_space(extra: int) -> None:
    """Allow this process ``extra`` bytes of address space beyond what it maps already."""
    try:
        with open("/proc/self/statm") as handle:
            mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    limit = mapped + extra
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
