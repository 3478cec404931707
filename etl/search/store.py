"""The search index folder beside a warehouse version file, and only what we put in it.

A version file ``current.v<stamp>.duckdb`` has its index in ``current.v<stamp>.duckdb.search/``.
The folder is created by a build, which first writes the marker ``imr-search.json`` in it (state
``building``), then Tantivy's files, then rewrites the marker (state ``complete``, with the
index's id) before the version is published. The version's ``meta`` table names the folder and
that id: a reader trusts an index only when both agree, so it never reads an index that does not
match its warehouse.

Removal (``remove_index_dir``) deletes only the marker and files named as Tantivy names its
own (``meta.json``, ``.managed.json``, its lock files, segment files ``<32 hex>.<ext>``, its
atomic-write temporaries), then the folder if it is empty: a file a user put there stays, and so
does the folder. Nothing here imports DuckDB or Tantivy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

SUFFIX = ".search"
MARKER = "imr-search.json"
BUILDING = "building"
COMPLETE = "complete"

# Files Tantivy writes in an index folder (MmapDirectory): its metadata, its lock files, the
# segment components (``<uuid>.<ext>``, deletes as ``<uuid>.<opstamp>.del``, the doc store
# being written as ``<uuid>.store.temp``: a build killed then leaves it) and the temporary
# files of its atomic writes.
_TANTIVY_FILES = re.compile(
    r"meta\.json|\.managed\.json|\.tantivy-(?:meta|writer)\.lock"
    r"|[0-9a-f]{32}\.(?:idx|pos|term|store|store\.temp|fast|fieldnorm|(?:\d+\.)?del)"
    r"|\.tmp[A-Za-z0-9_]{1,32}"
)
# Copied, not hard-linked, into a new index: Tantivy replaces them (by rename) as it commits.
_MUTABLE = frozenset({"meta.json", ".managed.json"})
_META_LOCK = ".tantivy-meta.lock"
_LOCKS = frozenset({_META_LOCK, ".tantivy-writer.lock"})


def index_dir_for(version: Path) -> Path:
    """The index folder of a warehouse version file."""
    return version.with_name(version.name + SUFFIX)


def is_tantivy_file(name: str) -> bool:
    return bool(_TANTIVY_FILES.fullmatch(name))


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of an index folder, or None (absent, unreadable, not ours)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(folder: Path, data: dict[str, Any]) -> None:
    """Replace the marker atomically (temporary file, fsync, rename, fsync of the folder)."""
    temporary = folder / f".{MARKER}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / MARKER)
    fsync_path(folder)


def create_index_dir(folder: Path, data: dict[str, Any]) -> None:
    """Create the folder (it must not exist) and mark it ours at once."""
    folder.mkdir()
    write_marker(folder, {**data, "state": BUILDING})


def remove_index_dir(folder: Path) -> bool:
    """Delete what we wrote in ``folder``, then the folder if nothing else is left.

    Without our marker only a folder empty but for the marker's temporary file is removed (a
    build killed between creating the folder and marking it: the temporary file written, not
    yet renamed). Returns True when the folder is gone.
    """
    if folder.is_symlink() or not folder.is_dir():
        return not folder.exists() and not folder.is_symlink()
    marker_tmp = re.compile(rf"\.{re.escape(MARKER)}\.\d+\.tmp")
    marked = (folder / MARKER).is_file()
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) and (
            marker_tmp.fullmatch(entry.name) or (marked and is_tantivy_file(entry.name))
        ):
            os.unlink(entry.path)
    if marked:
        (folder / MARKER).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


def link_copy(source: Path, target: Path) -> None:
    """Fill the empty folder ``target`` with ``source``'s index: segment files hard-linked
    (Tantivy never changes them once written), its metadata copied; lock files and our marker
    left out. Falls back to copying where hard links are refused."""
    for entry in os.scandir(source):
        name = entry.name
        if name in _LOCKS or not entry.is_file(follow_symlinks=False) or not is_tantivy_file(name):
            continue
        if name.startswith(".tmp"):
            continue
        destination = target / name
        if name in _MUTABLE:
            shutil.copyfile(entry.path, destination)
            continue
        try:
            os.link(entry.path, destination)
        except OSError:
            shutil.copyfile(entry.path, destination)


def share_files(folder: Path) -> None:
    """Give Tantivy's files the permissions of our marker, which a new file gets under the
    umask: Tantivy's atomic writes leave ``meta.json`` and ``.managed.json`` readable by their
    owner only, so a dashboard run as another user (a replica over the published warehouse)
    could not open the index. A reader also takes a shared lock on ``.tantivy-meta.lock``,
    which Tantivy opens for writing: whoever may read the index may write that empty file (a
    published index is never written again: the next version gets a folder of its own)."""
    mode = stat.S_IMODE((folder / MARKER).stat().st_mode)
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False) or not is_tantivy_file(entry.name):
            continue
        wanted = mode | (mode & 0o444) >> 1 if entry.name == _META_LOCK else mode
        if stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) != wanted:
            os.chmod(entry.path, wanted)


def fsync_tree(folder: Path) -> None:
    """fsync every file of the folder, then the folder."""
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            fsync_path(Path(entry.path))
    fsync_path(folder)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
