"""Download one letter: once, atomically, verified to be a PDF, never over someone else's file.

The letter goes to ``DIR/<decision year>/<case number>.pdf``. It is written to a temporary file
beside it (``.<case>.pdf.imr-fetch-part``, recorded in the fetch state before it is created),
checked (a PDF header, an ``%%EOF`` trailer, the length the server announced), flushed to disk,
then linked into place (a link never replaces an existing file) and the temporary removed. A
kill at any moment leaves either no letter file or a complete one; a recorded temporary is
removed by the next run. A file already at the letter's path is never overwritten: a PDF there is
taken as the letter (counted as already here), anything else is reported as in the way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from etl.fetch.client import PoliteClient, SiteUnavailable, TooLarge
from etl.fetch.store import FetchState
from etl.terminal import printable

TEMP_SUFFIX = ".imr-fetch-part"
HEAD_BYTES = 1024
TAIL_BYTES = 2048


@dataclass(frozen=True)
class Outcome:
    status: str  # 'downloaded' | 'present' | 'failed'
    reason: str = ""
    detail: str = ""


def letter_path(out: Path, decision_date: dt.date, case_number: str) -> Path:
    return out / f"{decision_date.year:04d}" / f"{case_number}.pdf"


def temp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_SUFFIX}")


def pdf_problem(handle: BinaryIO, size: int) -> tuple[str, str] | None:
    """None for a complete PDF; else (reason, what the bytes look like)."""
    handle.seek(0)
    head = handle.read(HEAD_BYTES)
    if b"%PDF-" not in head:
        shown = printable(head[:48].decode("latin-1"))
        return "not_a_pdf", f"starts with {shown!r}"
    handle.seek(max(size - TAIL_BYTES, 0))
    if b"%%EOF" not in handle.read(TAIL_BYTES):
        return "incomplete_pdf", f"a PDF of {size:,} bytes without its %%EOF trailer"
    return None


def sha256_file(handle: BinaryIO) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def fetch_letter(
    client: PoliteClient,
    state: FetchState,
    case_number: str,
    url: str,
    target: Path,
    max_bytes: int,
) -> Outcome:
    if target.exists() or target.is_symlink():
        return _adopt(state, case_number, target)
    temp = temp_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _fail(state, case_number, "write_error", f"{target.parent}: {error.strerror}")
    state.begin_download(case_number, temp)
    created = False
    try:
        try:
            handle = open(temp, "x+b", buffering=0)  # noqa: SIM115
            created = True
        except FileExistsError:
            state.end_download(case_number)  # not ours: never to be removed
            return _fail(
                state,
                case_number,
                "file_in_the_way",
                f"{temp} exists and was not made by imr fetch; it was left alone",
            )
        with handle:
            try:
                got = client.download(url, handle, max_bytes)
            except SiteUnavailable as error:
                return _fail(state, case_number, "gave_up", str(error))
            except TooLarge as error:
                return _fail(state, case_number, "too_large", f"{url}: {error}")
            if got.status != 200:
                return _fail(state, case_number, f"http_{got.status}", url)
            problem = pdf_problem(handle, got.size)
            if problem:
                reason, what = problem
                kind = got.content_type or "no Content-Type"
                return _fail(state, case_number, reason, f"{url} ({kind}) {what}")
            sha = sha256_file(handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, target)  # never replaces a file
        except FileExistsError:
            return _adopt(state, case_number, target)
        _fsync_folder(target.parent)
        state.downloaded(case_number, target, sha, got.size)
        return Outcome("downloaded")
    except OSError as error:
        return _fail(state, case_number, "write_error", f"{target}: {error.strerror or error}")
    finally:
        if created:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        state.end_download(case_number)


def _adopt(state: FetchState, case_number: str, target: Path) -> Outcome:
    """A file already at the letter's path: the letter if it is a PDF; else left alone."""
    try:
        with open(target, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            problem = pdf_problem(handle, size)
            sha = sha256_file(handle) if problem is None else ""
    except OSError as error:
        return _fail(state, case_number, "file_in_the_way", f"{target}: {error.strerror}")
    if problem:
        return _fail(
            state,
            case_number,
            "file_in_the_way",
            f"{target} exists and is not the letter ({problem[1]}); it was left alone",
        )
    state.downloaded(case_number, target, sha, size)
    return Outcome("present")


def _fail(state: FetchState, case_number: str, reason: str, detail: str) -> Outcome:
    state.failed(case_number, reason, detail)
    return Outcome("failed", reason, detail)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
