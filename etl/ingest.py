"""`imr ingest`: every input file loaded, unchanged or rejected — never lost, never fatal.

The main process walks the inputs, hashes them and skips what the warehouse already holds;
worker processes extract, parse and classify; the main process alone writes DuckDB.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from etl import classify
from etl.inputs import Discovery, Refusal, iter_inputs
from etl.load import WarehouseBuild
from etl.pipeline import Extracted, Loaded, Rejected, extract, finish, sha256_of
from etl.rows import LetterRows, letter_rows, pack, pack_sample, prepare_worker
from etl.settings import Settings
from etl.workers import Overrun, Steps, WorkerPool, answer_full


@dataclass
class IngestSummary:
    files: int = 0
    letters: int = 0  # letters added or re-parsed
    items: int = 0
    rejected: int = 0
    unchanged: int = 0  # already in the warehouse: same file, or another rendering of a letter
    ignored: int = 0  # files in folders that are not letters (.md, .tsv, ...)
    resumed: int = 0  # letters an interrupted earlier run had parsed, loaded by this one
    damaged: int = 0  # ... whose spooled chunk was damaged on disk: dropped
    reasons: Counter[str] = field(default_factory=Counter)
    warehouse: Path | None = None

    def line(self) -> str:
        text = (
            f"{self.files:,} files: {self.letters:,} letters loaded ({self.items:,} items), "
            f"{self.unchanged:,} unchanged, {self.rejected:,} rejected"
        )
        if self.reasons:
            text += " (" + ", ".join(f"{r} {n}" for r, n in self.reasons.most_common()) + ")"
        if self.ignored:
            text += f"; {self.ignored:,} non-letter files ignored"
        if self.resumed:
            text += f"; {self.resumed:,} letters resumed from an interrupted run"
        if self.damaged:
            text += (
                f"; {self.damaged:,} letters an interrupted run had spooled were dropped (their"
                " chunk was damaged on disk): read again from their files, when given"
            )
        return text


# What the walker hands a worker: a file to parse, or a verdict already reached without parsing.
Task = tuple[str, str, bytes, bool, str]  # (kind, path, data, synthetic, sha256 or reason:detail)


def ingest(
    paths: list[Path],
    settings: Settings,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Load ``paths`` into the warehouse at ``settings.db`` and publish the new version."""
    summary = IngestSummary()
    discovery = Discovery()
    with WarehouseBuild(settings.db, settings.build_memory) as build:
        # Files handed out and not yet recorded (the same bytes under another name count once).
        # Recorded ones are the build's to remember: one set of a full history's hashes, not two.
        in_flight: set[str] = set()

        # Pulled by the pool between results, in this thread: it only reads the build.
        def tasks() -> Iterator[Task]:
            for found in iter_inputs(paths, settings, discovery):
                if isinstance(found, Refusal):
                    yield ("refused", found.path, b"", False, f"{found.reason}:{found.detail}")
                    continue
                digest = sha256_of(found.data)
                # A digest handed out is in in_flight until the build's set holds it.
                if digest in in_flight or build.is_unchanged(digest):
                    yield ("unchanged", found.path, b"", False, digest)
                    continue
                in_flight.add(digest)
                yield ("parse", found.path, found.data, found.synthetic, digest)

        for outcome in _run(tasks(), settings, before_fork=build.wait_for_spool):
            summary.files += 1
            if progress:
                progress(1)
            if outcome is None:
                summary.unchanged += 1
                continue
            _record(outcome, build, summary)
            if outcome.sha256:
                in_flight.discard(outcome.sha256)
        summary.ignored = discovery.ignored
        summary.resumed = build.resumed_letters
        summary.damaged = build.damaged_letters
        summary.warehouse = build.publish({"last_ingest": summary.line()})
    return summary


def _record(outcome: Rejected | LetterRows, build: WarehouseBuild, summary: IngestSummary) -> None:
    if isinstance(outcome, LetterRows):
        added = build.add_loaded(outcome)
        if isinstance(added, Rejected):
            summary.rejected += 1
            summary.reasons[added.reason] += 1
        elif added:
            summary.letters += 1
            summary.items += outcome.item_count
        else:
            summary.unchanged += 1
    else:
        build.add_rejected(outcome)
        summary.rejected += 1
        summary.reasons[outcome.reason] += 1


def _extract_task(task: Task) -> Extracted | Rejected | None:
    kind, path, data, synthetic, extra = task
    if kind == "unchanged":
        return None
    if kind == "refused":
        reason, _, detail = extra.partition(":")
        return Rejected(path, None, reason, detail)
    return extract(path, data, synthetic, extra)


def _finish_task(extracted: Extracted | Rejected | None) -> Rejected | LetterRows | None:
    if not isinstance(extracted, Extracted):
        return extracted
    outcome = finish(extracted)
    # Rows are built here, in the worker: the single writer process only appends them.
    return letter_rows(outcome, extracted.size) if isinstance(outcome, Loaded) else outcome


# A file's work: its text, then its letter and rows (a worker's files a step at a time).
_process_task = Steps(_extract_task, _finish_task)


def _weight(result: object) -> int:
    """About the bytes of a result's rows, or of a file's text: a worker's unsent results stay
    far under its memory cap (2 MB letters exist)."""
    if isinstance(result, LetterRows):
        return 4 * result.chars
    return 4 * len(result.text) if isinstance(result, Extracted) else 0


def _run(
    tasks: Iterable[Task], settings: Settings, before_fork: Callable[[], None] | None = None
) -> Iterator[Rejected | LetterRows | None]:
    if settings.jobs <= 0:
        # In this process: no time limit, no crash isolation (debugging, tiny batches). The
        # rows are packed in batches as a worker answers them: one letter a batch made the
        # packing and the writer's appends per letter (a profile of this mode showed them so).
        answer: list[tuple[int, Rejected | LetterRows | None]] = []
        held = 0  # the weight of answer
        for seq, task in enumerate(tasks):
            outcome = _process_task(task)
            answer.append((seq, outcome))
            held += _weight(outcome)
            if answer_full(len(answer), held):
                yield from (packed for _, packed in pack(answer))
                answer, held = [], 0
        yield from (packed for _, packed in pack(answer))
        return
    # What every worker would load for its first letter, loaded once: forked, they inherit it.
    classify.prepare()
    pack_sample()
    pool = WorkerPool(
        _process_task,
        settings.jobs,
        settings.parse_timeout,
        settings.worker_memory_cap(),
        inline=lambda task: task[0] != "parse",
        size=lambda task: len(task[2]),
        pack=pack,  # a batch's rows as Arrow, built in the worker
        weight=_weight,
        initializer=prepare_worker,
        before_fork=before_fork,  # the spool's thread: its Arrow work done before a fork
    )
    for task, result in pool.run(tasks):
        if isinstance(result, Overrun):
            _, path, _, _, digest = task
            yield Rejected(path, digest, result.reason, result.detail)
        else:
            yield result
