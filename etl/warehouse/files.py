"""The warehouse's file lifecycle: version files, the manifest of what we created, the symlink.

``current.duckdb`` is a symlink to a version file ``current.v<stamp>.duckdb``. Every version file
this tool creates is first recorded in a manifest beside the link (``.current.duckdb.versions``),
and clean-up only ever removes files named there and matching the version pattern: a user's
``current.backup.duckdb`` or another warehouse ``current.demo.duckdb`` is never touched.

The previously published version is kept until the next publish, so a reader that resolved the
symlink just before a swap still finds its file; readers also retry once the link moved on.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

from etl.search.store import index_dir_for, remove_index_dir

# How long a fresh reader keeps retrying when the version it resolved vanished under it.
OPEN_RETRY_SECONDS = 5.0


def version_pattern(link: Path) -> re.Pattern[str]:
    """The names this tool gives version files of ``link`` (and their WAL), nothing else."""
    stem = re.escape(link.stem)
    return re.compile(rf"{stem}\.v?\d{{8}}T\d{{6}}-\d{{9}}-\d+\.duckdb(\.wal)?")


def new_version_name(link: Path) -> str:
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    return f"{link.stem}.v{stamp}.duckdb"


def manifest_path(link: Path) -> Path:
    return link.with_name(f".{link.name}.versions")


def read_manifest(link: Path) -> list[str]:
    try:
        text = manifest_path(link).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    pattern = version_pattern(link)
    # A line that is not one of our names (a hand edit) names nothing we may delete.
    return [name for name in text.splitlines() if pattern.fullmatch(name)]


def write_manifest(link: Path, names: Iterable[str]) -> None:
    """Replace the manifest atomically (write a temporary file, fsync, rename)."""
    path = manifest_path(link)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{name}\n" for name in dict.fromkeys(names)))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_path(link.parent)


def record_version(link: Path, name: str) -> None:
    """Remember ``name`` as ours *before* the file exists, so a crash cannot orphan it."""
    write_manifest(link, [*read_manifest(link), name])


def published_target(link: Path) -> str | None:
    """The version file name the link points to, or None (no link, or not a symlink)."""
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return None


def remove_stale_versions(link: Path, keep: Iterable[str]) -> list[str]:
    """Delete the version files we created, except ``keep`` and the published one.

    Returns the names removed. The caller holds the warehouse lock, so no other build writes
    any of them; a reader still on a deleted file keeps reading it (POSIX keeps it alive).
    """
    kept = {*keep, published_target(link)}
    kept |= {f"{name}.wal" for name in kept if name}
    manifest = read_manifest(link)
    removed, remaining = [], []
    for name in manifest:
        if name in kept:
            remaining.append(name)
            continue
        for path in (link.with_name(name), link.with_name(f"{name}.wal")):
            path.unlink(missing_ok=True)
        # DuckDB's spill folder for that version (ours: we named it after the version).
        shutil.rmtree(link.with_name(f"{name}.tmp"), ignore_errors=True)
        # Its search index: only the files we wrote there (etl.search.store). Until the folder
        # is gone the name stays ours, so that a later build tries again.
        if not remove_index_dir(index_dir_for(link.with_name(name))):
            remaining.append(name)
            continue
        removed.append(name)
    if removed:
        write_manifest(link, remaining)
    return removed


def remove_temporaries(link: Path) -> None:
    """Temporary files a killed run of ours left: a manifest or a link being replaced."""
    ours = re.compile(rf"\.{re.escape(link.name)}(\.versions)?\.\d+\.tmp")
    for path in link.parent.iterdir():
        if ours.fullmatch(path.name):
            path.unlink(missing_ok=True)


def adopt_published_version(link: Path) -> None:
    """Record the published version in the manifest if it is not there yet.

    Warehouses published before the manifest existed point to a version named
    ``<stem>.<stamp>.duckdb``: the link proves it is ours, so it is removed once superseded.
    Nothing else is adopted: a file merely named like a version is never deleted.
    """
    target = published_target(link)
    if target and target not in read_manifest(link) and version_pattern(link).fullmatch(target):
        write_manifest(link, [*read_manifest(link), target])


def swap_symlink(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` atomically (rename over the old link)."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    os.replace(temporary, link)
    fsync_path(link.parent)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resolve(link: Path) -> Path:
    """The real file behind ``link`` now."""
    return Path(os.path.realpath(link))


def open_read_only(
    path: Path, config: dict[str, str | bool | int | float | list[str]] | None = None
) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """Open the warehouse read-only on the real file behind ``path``: (connection, that file).

    A publish can move the link and remove the version it pointed to between our resolving it
    and DuckDB opening it; then the link points to a newer complete version, so resolve again.
    """
    deadline = time.monotonic() + OPEN_RETRY_SECONDS
    while True:
        real = resolve(path)
        try:
            return duckdb.connect(str(real), read_only=True, config=config or {}), real
        except duckdb.Error:
            if resolve(path) == real or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
