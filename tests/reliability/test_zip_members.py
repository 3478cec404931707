"""Zip members are read straight from the archive's bytes when stored or deflated
(`etl/inputs._read_member`): the same bytes zipfile gives, and what zipfile refuses is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from etl import inputs

LIMIT = 10 * 1024 * 1024


def _members(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive, archive.infolist()


def _archive(prefix: bytes = b"", **options: object) -> bytes:
    buffer = io.BytesIO()
    buffer.write(prefix)  # a self-extracting stub before the archive: offsets move
    texts = {
        "plain.txt": b"Final Determination Letter\n" * 40,
        "empty.txt": b"",
        "deep/nested/name.txt": bytes(range(256)) * 9,
        "un\u00efcode-\u00e9.txt": "r\u00e9sum\u00e9 \u2014 \u00e9tude\n".encode() * 30,
    }
    with zipfile.ZipFile(buffer, "a" if prefix else "w", **options) as z:  # type: ignore[arg-type]
        for name, text in texts.items():
            z.writestr(name, text)
        with z.open("zip64.txt", "w", force_zip64=True) as member:
            member.write(b"large-file record\n" * 100)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "options",
    [
        {"compression": zipfile.ZIP_STORED},
        {"compression": zipfile.ZIP_DEFLATED},
        {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 9},
        {"compression": zipfile.ZIP_BZIP2},  # through zipfile
        {"compression": zipfile.ZIP_LZMA},  # through zipfile
    ],
    ids=["stored", "deflated", "deflated-9", "bzip2", "lzma"],
)
@pytest.mark.parametrize("prefix", [b"", b"#!/bin/sh\nexit 0\n" * 20], ids=["plain", "prefixed"])
def test_members_read_from_the_bytes_are_what_zipfile_reads(
    options: dict[str, object], prefix: bytes
) -> None:
    raw = _archive(prefix, **options)
    archive, members = _members(raw)
    assert len(members) == 5
    for member in members:
        expected = archive.read(member)
        assert inputs._read_member(archive, raw, member, LIMIT) == expected, member.filename


def _damaged(offset_from: str, change: int, at: int) -> tuple[bytes, zipfile.ZipInfo]:
    raw = bytearray(_archive(compression=zipfile.ZIP_DEFLATED))
    archive, members = _members(bytes(raw))
    member = next(m for m in members if m.filename == "plain.txt")
    header = member.header_offset
    data = header + 30 + len("plain.txt")
    position = {
        "header": header,
        "name": header + 30,
        "data": data,
        "end": data + member.compress_size,
    }
    raw[position[offset_from] + at] ^= change
    return bytes(raw), member


@pytest.mark.parametrize(
    ("where", "at", "change"),
    [
        ("header", 0, 0x01),  # the local header's signature
        ("name", 2, 0x20),  # the local header's name is not the directory's
        ("data", 5, 0x5A),  # the deflate stream (a zlib error, or the CRC)
        ("end", -2, 0x01),  # the stream's last bytes
    ],
)
def test_a_damaged_member_is_refused_as_zipfile_refuses_it(
    where: str, at: int, change: int
) -> None:
    raw, member = _damaged(where, change, at)
    archive = zipfile.ZipFile(io.BytesIO(raw))
    with pytest.raises(Exception) as by_zipfile:  # noqa: PT011 - zlib.error or BadZipFile
        archive.read(member)
    with pytest.raises(type(by_zipfile.value)):
        inputs._read_member(archive, raw, member, LIMIT)


def test_a_member_larger_than_it_declares_is_refused(tmp_path: Path) -> None:
    raw = _archive(compression=zipfile.ZIP_STORED)
    archive, members = _members(raw)
    member = next(m for m in members if m.filename == "plain.txt")
    member.file_size -= 7  # the directory lies: the data runs longer
    with pytest.raises(zipfile.BadZipFile):
        inputs._read_member(archive, raw, member, LIMIT)
    member.file_size += 14  # ... or shorter
    with pytest.raises(zipfile.BadZipFile):
        inputs._read_member(archive, raw, member, LIMIT)


def test_a_member_cut_short_is_refused() -> None:
    raw = _archive(compression=zipfile.ZIP_STORED)
    archive, members = _members(raw)
    member = next(m for m in members if m.filename == "plain.txt")
    with pytest.raises(zipfile.BadZipFile):
        inputs._read_member(archive, raw[: member.header_offset + 60], member, LIMIT)
