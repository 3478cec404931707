"""Finding the input files: files, folders (recursive) and zip archives, read safely.

Archives are read in memory and never extracted, so a member named ``../../x`` cannot write
anywhere; such members are still refused, with a reason, because no honest letter export has them.
Every input becomes either an ``Input`` (bytes to parse) or a ``Refusal`` (recorded as a reject).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from etl.model import SYNTHETIC_MARKER
from etl.settings import Settings

LETTER_SUFFIXES = {".pdf", ".txt"}
ARCHIVE_SUFFIXES = {".zip"}


@dataclass(frozen=True)
class Input:
    path: str  # display path; for archive members 'archive.zip!/member'
    data: bytes
    synthetic: bool = False


@dataclass(frozen=True)
class Refusal:
    path: str
    reason: str
    detail: str


@dataclass
class Discovery:
    """Counts of what a walk passed over, for the summary line."""

    ignored: int = 0  # files in folders whose suffix is not a letter or archive
    # Folder -> holds (or is below) a synthetic marker; lives as long as the walk.
    synthetic_folders: dict[Path, bool] = field(default_factory=dict)


def iter_inputs(
    paths: list[Path], settings: Settings, discovery: Discovery
) -> Iterator[Input | Refusal]:
    """Yield every input under ``paths`` in a stable order, reading one file at a time."""
    for root in paths:
        try:
            missing = not root.exists() and not root.is_symlink()
            folder = not missing and root.is_dir()
        except OSError as error:  # e.g. a parent folder we may not enter
            yield Refusal(display_path(root), "unreadable_file", error.strerror or str(error))
            continue
        if missing:
            yield Refusal(display_path(root), "not_found", "no such file or folder")
        elif folder:
            yield from _walk(root, settings, discovery)
        else:
            # A file named on the command line is an input whatever its suffix.
            yield from _read_file(
                root, settings, discovery, _is_synthetic(root.parent, discovery.synthetic_folders)
            )


def _walk(root: Path, settings: Settings, discovery: Discovery) -> Iterator[Input | Refusal]:
    # A folder that cannot be listed is a reject with its path, never silently skipped.
    unlistable: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=unlistable.append):
        yield from _unlistable(unlistable)
        dirs.sort()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        synthetic = _is_synthetic(Path(folder), discovery.synthetic_folders)
        for name in sorted(files):
            path = Path(folder, name)
            suffix = path.suffix.lower()
            if name.startswith(".") or suffix not in LETTER_SUFFIXES | ARCHIVE_SUFFIXES:
                discovery.ignored += 1
                continue
            yield from _read_file(path, settings, discovery, synthetic)
    yield from _unlistable(unlistable)


def _unlistable(errors: list[OSError]) -> Iterator[Refusal]:
    while errors:
        error = errors.pop(0)
        shown = display_path(error.filename or "?")
        yield Refusal(shown, "unreadable_file", f"folder: {error.strerror or error}")


def display_path(path: str | Path) -> str:
    """A path as stored and shown: bytes that are not UTF-8 (legal in Linux file names, which
    Python keeps as lone surrogates) become backslash escapes such as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_synthetic(folder: Path, known: dict[Path, bool]) -> bool:
    """A folder is synthetic when it or an ancestor holds a ``.synthetic`` marker file."""
    folder = folder.resolve()
    if folder not in known:
        try:
            marked = (folder / SYNTHETIC_MARKER).is_file()
        except OSError:  # a folder we may list but not enter: its files are refused one by one
            marked = False
        parent = folder.parent
        known[folder] = marked or (parent != folder and _is_synthetic(parent, known))
    return known[folder]


def _read_file(
    path: Path, settings: Settings, discovery: Discovery, synthetic: bool
) -> Iterator[Input | Refusal]:
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            yield Refusal(display_path(path), "not_a_file", "not a regular file")
            return
        if info.st_size > settings.max_file_bytes:
            yield Refusal(
                display_path(path),
                "too_large",
                f"{info.st_size:,} bytes; the limit is {settings.max_file_bytes:,}",
            )
            return
        if path.suffix.lower() in ARCHIVE_SUFFIXES:
            yield from _read_archive(path, settings, discovery, synthetic)
            return
        data = path.read_bytes()
    except OSError as error:
        yield Refusal(display_path(path), "unreadable_file", error.strerror or str(error))
        return
    yield Input(display_path(path), data, synthetic)


def _read_archive(
    path: Path, settings: Settings, discovery: Discovery, synthetic: bool
) -> Iterator[Input | Refusal]:
    try:
        # Read whole (archives are no larger than max_file_bytes): members are then inflated
        # from memory, not by a seek and a read of the file each.
        raw = path.read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except OSError as error:
        yield Refusal(display_path(path), "unreadable_file", error.strerror or str(error))
        return
    except Exception as error:  # noqa: BLE001 - any malformed archive is a refusal, not a crash
        yield Refusal(display_path(path), "bad_zip", f"{type(error).__name__}: {error}")
        return
    total = 0
    over_total = False
    shown_archive = display_path(path)
    with archive:
        members = sorted(archive.infolist(), key=lambda m: m.filename)
        for member in members:
            if member.is_dir():
                continue
            shown = f"{shown_archive}!/{member.filename}"
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or member.filename[1:2] == ":":
                yield Refusal(shown, "unsafe_zip_path", "absolute or '..' path inside the archive")
                continue
            if stat.S_ISLNK(member.external_attr >> 16):
                yield Refusal(shown, "zip_symlink", "symbolic link inside the archive")
                continue
            suffix = name.suffix.lower()
            if suffix in ARCHIVE_SUFFIXES:
                yield Refusal(shown, "nested_archive", "archives inside archives are not opened")
                continue
            if suffix not in LETTER_SUFFIXES or name.name.startswith("."):
                discovery.ignored += 1  # READMEs, indexes, OS clutter, as in a folder walk
                continue
            if over_total:
                # Past the total limit nothing more is inflated, but every letter is accounted for.
                yield Refusal(shown, "zip_bomb_total", "not read: the archive exceeded its limit")
                continue
            refusal = _check_member(member, settings, total)
            if refusal:
                yield Refusal(shown, *refusal)
                over_total = refusal[0] == "zip_bomb_total"
                continue
            if member.flag_bits & 0x1:
                yield Refusal(shown, "encrypted_zip_member", "the member needs a password")
                continue
            try:
                data = _read_member(archive, raw, member, settings.max_file_bytes)
            except Exception as error:  # noqa: BLE001 - zlib.error, NotImplementedError, bad CRC...
                yield Refusal(shown, "bad_zip_member", f"{type(error).__name__}: {error}")
                continue
            total += len(data)
            yield Input(shown, data, synthetic)


def _check_member(
    member: zipfile.ZipInfo, settings: Settings, total: int
) -> tuple[str, str] | None:
    if member.file_size > settings.max_file_bytes:
        return ("too_large", f"{member.file_size:,} bytes inflated")
    if member.compress_size and member.file_size / member.compress_size > settings.max_zip_ratio:
        ratio = member.file_size // member.compress_size
        return ("zip_bomb_ratio", f"compression ratio {ratio}:1")
    if total + member.file_size > settings.max_zip_total_bytes:
        return ("zip_bomb_total", "the archive inflates beyond the total size limit")
    return None


# A member's local header (zipfile's structFileHeader): its name and extra field's lengths.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


def _read_member(
    archive: zipfile.ZipFile, raw: bytes, member: zipfile.ZipInfo, limit: int
) -> bytes:
    """The member's bytes. Stored and deflated members (every letter archive seen) are read
    straight from the archive's bytes, checked as zipfile checks them (the local header, the
    size, the CRC): opening each through zipfile cost about half of reading one (43 against 22
    µs, docs/benchmarks.md); any other method goes through zipfile."""
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
        member.flag_bits & 0x60  # patched data, strong encryption: zipfile refuses them
    ):
        return _read_with_zipfile(archive, member, limit)
    at = member.header_offset
    header = raw[at : at + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("Bad magic number for file header")
    fields = _LOCAL_HEADER.unpack(header)
    name_length, extra_length = fields[10], fields[11]
    start = at + _LOCAL_HEADER.size
    encoding = "utf-8" if member.flag_bits & 0x800 else "cp437"
    if raw[start : start + name_length] != member.orig_filename.encode(encoding):
        raise zipfile.BadZipFile(f"File name in directory {member.orig_filename!r} differs")
    start += name_length + extra_length
    payload = memoryview(raw)[start : start + member.compress_size]
    if len(payload) != member.compress_size:
        raise zipfile.BadZipFile("the member's data is cut short")
    # At most one byte past the declared size (no more than the limit: _check_member): a
    # member longer or shorter than it says is refused.
    wanted = min(member.file_size, limit) + 1
    if member.compress_type == zipfile.ZIP_STORED:
        data = bytes(payload[:wanted])
    else:
        data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(payload, wanted)
    if len(data) != member.file_size:
        raise zipfile.BadZipFile("the member's size differs from its declared size")
    if zlib.crc32(data) != member.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {member.filename!r}")
    return data


def _read_with_zipfile(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    # The declared size can lie: read at most limit + 1 bytes and refuse anything longer.
    with archive.open(member) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError("member inflates beyond its declared size")
    return data
