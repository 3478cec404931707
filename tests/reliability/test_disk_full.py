"""A full disk while the new warehouse is written: a clear error, and the old warehouse intact.

Two ways, neither needing tricks beyond the standard library: a file-size limit
(``RLIMIT_FSIZE``, with SIGXFSZ ignored so that writes fail with EFBIG as on a full disk), and,
where we may mount one, a real small tmpfs that runs out of space (ENOSPC).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from etl.ingest import ingest
from tests.reliability.helpers import run_ingest, seed_texts, settings_for, variant, warehouse_state


@dataclass
class Batches:
    small: Path
    large: Path


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Batches:
    root = tmp_path_factory.mktemp("disk-full")
    seeds = seed_texts()
    for name, numbers in (("small", range(0, 60)), ("large", range(60, 900))):
        (root / name).mkdir()
        for n in numbers:
            (root / name / f"{n}.txt").write_text(variant(seeds[n % len(seeds)], n))
    return Batches(root / "small", root / "large")


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _with_index(versions: list[str]) -> list[str]:
    """Version files with their search index folders (``<version>.search``)."""
    return sorted([*versions, *(f"{v}.search" for v in versions)])


def _assert_clean_failure(result: subprocess.CompletedProcess[str], db: Path) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert "could not write the warehouse" in result.stderr
    assert "is unchanged" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("headroom", ["copy-fails", "build-fails"])
def test_file_size_limit_mid_build_keeps_the_old_warehouse(
    batches: Batches, tmp_path: Path, headroom: str
) -> None:
    settings = settings_for(tmp_path, jobs=2)
    ingest([batches.small], settings)
    before = warehouse_state(settings.db)
    published = os.readlink(settings.db)
    size = settings.db.resolve().stat().st_size
    # Too small even for the copy of the current version, or enough for the copy only.
    limit = size // 2 if headroom == "copy-fails" else size + 256 * 1024
    result = run_ingest([batches.large], settings.db, preexec_fn=_file_size_limit(limit))
    _assert_clean_failure(result, settings.db)
    assert os.readlink(settings.db) == published
    assert warehouse_state(settings.db) == before
    # Space back: the next run succeeds, and nothing of the failed one remains.
    retry = run_ingest([batches.large], settings.db)
    assert retry.returncode == 0, retry.stderr
    state = warehouse_state(settings.db)
    assert state is not None and state[0] == state[1] == 900
    # Nothing of the failed run remains; the version published before the retry is kept
    # until the next build (for readers that resolved the link just before the swap).
    versions = sorted(p.name for p in settings.db.parent.glob("current.*.duckdb*"))
    assert versions == _with_index([published, os.readlink(settings.db)])


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=9m", "tmpfs", str(mount)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("cannot run mount here")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30, check=False)


def test_a_real_full_disk_keeps_the_old_warehouse(batches: Batches, small_tmpfs: Path) -> None:
    db = small_tmpfs / "current.duckdb"
    first = run_ingest([batches.small], db)
    assert first.returncode == 0, first.stderr
    before = warehouse_state(db)
    published = os.readlink(db)
    free_before = _free(small_tmpfs)
    full = run_ingest([batches.large], db)
    _assert_clean_failure(full, db)
    assert "No space left on device" in full.stderr or "space" in full.stderr.lower()
    assert os.readlink(db) == published
    assert warehouse_state(db) == before
    # The failed build's file was removed: the space is free again for the next, smaller run.
    assert sorted(p.name for p in small_tmpfs.glob("current.*.duckdb*")) == _with_index([published])
    # (within a few blocks: the versions file may be rewritten)
    assert _free(small_tmpfs) >= free_before - 64 * 1024


def _free(mount: Path) -> int:
    statvfs = os.statvfs(mount)
    return statvfs.f_bavail * statvfs.f_frsize


def test_a_failed_copy_leaves_no_partial_file(batches: Batches, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, jobs=2)
    ingest([batches.small], settings)
    published = os.readlink(settings.db)
    size = settings.db.resolve().stat().st_size
    result = run_ingest([batches.small], settings.db, preexec_fn=_file_size_limit(size // 2))
    _assert_clean_failure(result, settings.db)
    versions = sorted(p.name for p in settings.db.parent.glob("current.*.duckdb*"))
    assert versions == _with_index([published])
