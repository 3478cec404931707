"""`imr export`: the warehouse tables as files for other tools, with the data dictionary.

What it may touch in ``DIR``, and nothing else:

* It writes only its own files, and names each one in a manifest, ``DIR/.imr-export.json``
  (with the folders it created and its staging folder), before that file exists.
* A folder that is not empty and holds no such manifest is refused. A previous export is
  replaced only with ``force=True``, and then only the files and (empty) folders its manifest
  names are replaced or removed: a user's ``DIR/letters/notes.txt`` or ``DIR/mine.csv`` stays.
  A manifest name that is not one this module gives (a hand edit) names nothing.
* Tables are written into a staging folder inside ``DIR`` and moved into place only once all of
  them are complete; a failed export removes its staging folder and leaves the previous export.
* Nothing is written or removed through a symbolic link inside ``DIR``: folders are walked one
  component at a time with ``O_NOFOLLOW``; a link where the export needs a folder is an error.
* CSV cells a spreadsheet would read as a formula are prefixed with ``'`` (`neutralise`), the
  rule the dashboard's downloads use; Parquet keeps the values as they are.

Every refusal or failure raises `ExportError`, whose message is one line for the user.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.warehouse.files import open_read_only

DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "warehouse.md"
FORMATS = ("parquet", "csv")
MANIFEST = ".imr-export.json"
_MANIFEST_TEMP = f"{MANIFEST}.tmp"
_STAGING_PREFIX = ".imr-export-staging-"
_TOOL = "imr export"

# Item-level tables carry the letter's decision year so that they partition alike.
_EXPORTS = {
    "letters": "select *, year(decision_date) as decision_year from letters",
    "decisions": (
        "select d.*, year(l.decision_date) as decision_year"
        " from decisions d join letters l using (letter_id)"
    ),
    "citations": (
        "select c.*, year(l.decision_date) as decision_year"
        " from citations c join letters l using (letter_id)"
    ),
    "rejects": "select * from rejects",
    "unresolved": "select * from unresolved",
}
_PARTITIONED = ("letters", "decisions", "citations")

# The only names this module writes; a manifest line that is not one of them names nothing.
_OUR_FILE = re.compile(
    r"(?:letters|decisions|citations)/decision_year=[^/\x00]+/[^/\x00]+\.parquet"
    r"|(?:rejects|unresolved)\.parquet"
    r"|(?:letters|decisions|citations|rejects|unresolved)\.csv"
    r"|warehouse\.md"
)
_OUR_FOLDER = re.compile(r"(?:letters|decisions|citations)(?:/decision_year=[^/\x00]+)?")
_OUR_STAGING = re.compile(re.escape(_STAGING_PREFIX) + r"\d+-\d+")

# --- CSV formula injection -----------------------------------------------------------------
# Shared with the dashboard's downloads (dashboard/export.py imports these).

# Cells starting with these are read as formulas by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a formula-like cell with a single quote so spreadsheets show it as text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def neutralise_sql(expression: str) -> str:
    """`neutralise` as a DuckDB expression over a VARCHAR ``expression`` (NULL stays NULL)."""
    starts = " or ".join(f"starts_with({expression}, chr({ord(c)}))" for c in FORMULA_START)
    return f"case when {starts} then '''' || {expression} else {expression} end"


# --- the export ----------------------------------------------------------------------------


class ExportError(Exception):
    """Why the export did not happen (or did not complete), in one line."""


@dataclass
class _Manifest:
    fmt: str = ""
    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    staging: list[str] = field(default_factory=list)


def export_warehouse(db: Path, out: Path, fmt: str = "parquet", force: bool = False) -> list[Path]:
    """Write every table under ``out``; Parquet is partitioned by decision year.

    Returns the tables' paths (a folder per partitioned table, else a file) and the dictionary.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (parquet or csv)")
    if not db.exists():
        raise ExportError(f"no warehouse at {db}")
    try:
        con, _ = open_read_only(db)  # before DIR is touched: a bad warehouse writes nothing
    except duckdb.Error as error:
        raise ExportError(f"cannot read the warehouse at {db}: {_first_line(error)}") from None
    try:
        # Absolute, so that DuckDB neither expands a folder named '~' nor reads 's3://' in it.
        with _Target.open(out.absolute()) as target:
            previous = target.read_manifest()
            target.check_may_replace(previous, force)
            tops = _top_level(fmt)
            for name in tops:
                target.check_output(name, previous, folder=name in _PARTITIONED)
            for name in previous.files if previous else ():
                target.check_removable(name)
            staging = target.begin(previous)
            try:
                files, folders = _write_tables(con, target.path / staging, fmt)
                for name in files:
                    target.check_output(name, previous, folder=False)
            except BaseException:
                target.abort(previous, staging)
                raise
            target.commit(previous, fmt, files, folders, staging)
    finally:
        con.close()
    return [out / name for name in tops]


def _top_level(fmt: str) -> list[str]:
    if fmt == "csv":
        names = [f"{table}.csv" for table in _EXPORTS]
    else:
        names = [t if t in _PARTITIONED else f"{t}.parquet" for t in _EXPORTS]
    return [*names, "warehouse.md"]


def _write_tables(
    con: duckdb.DuckDBPyConnection, staging: Path, fmt: str
) -> tuple[list[str], list[str]]:
    """Every table into ``staging``; returns (files, folders) relative to it, POSIX style."""
    try:
        for table, query in _EXPORTS.items():
            if fmt == "csv":
                target, options = staging / f"{table}.csv", "format csv, header"
                query = _neutralised(con, query)
            elif table in _PARTITIONED:
                target, options = staging / table, "format parquet, partition_by (decision_year)"
            else:
                target, options = staging / f"{table}.parquet", "format parquet"
            con.execute(f"copy ({query}) to {_literal(str(target))} ({options})")
        _write_dictionary(staging / "warehouse.md")
    except duckdb.Error as error:
        raise ExportError(f"could not write the export: {_first_line(error)}") from None
    except OSError as error:
        raise ExportError(f"could not write the export: {_os_error(error)}") from None
    files, folders = [], []
    for root, dirs, names in os.walk(staging):
        here = Path(root).relative_to(staging)
        folders += [(here / d).as_posix() for d in dirs]
        for name in names:
            relative = (here / name).as_posix()
            if not _OUR_FILE.fullmatch(relative):
                raise ExportError(f"unexpected file in the export: {relative}")
            files.append(relative)
    return sorted(files), sorted(folders)


def _write_dictionary(target: Path) -> None:
    """docs/warehouse.md in a checkout; an installed package has no docs/, so there it is the
    tables' dictionary generated from the warehouse contract."""
    if DICTIONARY.exists():
        shutil.copyfile(DICTIONARY, target)
        return
    from etl.warehouse.dictionary import render

    text = f"# The warehouse: data dictionary\n\n{render()}\n"
    target.write_text(text, encoding="utf-8")


def _neutralised(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """``query`` with every text column neutralised (numbers, dates and lists stay as they are:
    a list is written ``[…]``, which no spreadsheet reads as a formula)."""
    columns = []
    for name, kind, *_ in con.execute(f"describe {query}").fetchall():
        quoted = '"' + name.replace('"', '""') + '"'
        columns.append(f"{neutralise_sql(quoted)} as {quoted}" if kind == "VARCHAR" else quoted)
    return f"select {', '.join(columns)} from ({query})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _os_error(error: OSError) -> str:
    return error.strerror or str(error)


# --- the target folder, walked by file descriptors -----------------------------------------

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class _Target:
    """``DIR``, held open and locked; every path below it is reached without following links."""

    def __init__(self, path: Path, fd: int, created: list[Path]) -> None:
        self.path, self.fd, self.created = path, fd, created

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path) -> Iterator[_Target]:
        created: list[Path] = []
        try:
            info = os.stat(path)  # DIR itself may be a link: the user named it
        except FileNotFoundError:
            if os.path.lexists(path):
                raise ExportError(f"{path} is a broken symbolic link") from None
            missing = path
            while not os.path.lexists(missing.parent) and missing.parent != missing:
                missing = missing.parent
            try:
                os.makedirs(path)
            except OSError as error:
                raise ExportError(f"cannot create {path}: {_os_error(error)}") from None
            created = [path, *[p for p in path.parents if p == missing or missing in p.parents]]
        except OSError as error:
            raise ExportError(f"cannot open {path}: {_os_error(error)}") from None
        else:
            if not stat.S_ISDIR(info.st_mode):
                raise ExportError(f"{path} is a file, not a folder; give a folder to export into")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            raise ExportError(f"cannot open {path}: {_os_error(error)}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ExportError(f"another imr export is writing to {path}") from None
            yield cls(path, fd, created)
        finally:
            os.close(fd)

    # -- reading and checking (nothing written) -------------------------------------------

    def read_manifest(self) -> _Manifest | None:
        try:
            fd = os.open(MANIFEST, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ExportError(f"cannot read {self.path / MANIFEST}: {_os_error(error)}") from None
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(16 * 1024 * 1024)
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("tool") != _TOOL:
            raise ExportError(
                f"{self.path / MANIFEST} is not a manifest imr export wrote; "
                "refusing to touch this folder"
            )

        def names(key: str, pattern: re.Pattern[str]) -> list[str]:
            values = data.get(key)
            values = values if isinstance(values, list) else []
            return [v for v in values if isinstance(v, str) and pattern.fullmatch(v)]

        return _Manifest(
            fmt=str(data.get("format", "")),
            files=names("files", _OUR_FILE),
            folders=names("folders", _OUR_FOLDER),
            staging=names("staging", _OUR_STAGING),
        )

    def check_may_replace(self, previous: _Manifest | None, force: bool) -> None:
        if previous is None:
            if os.listdir(self.fd):
                raise ExportError(
                    f"{self.path} is not empty and holds no imr export; "
                    "export into a new or empty folder"
                )
        elif not force:
            raise ExportError(
                f"{self.path} holds a previous export; add --force to replace it "
                "(only the files it wrote are replaced)"
            )

    def check_output(self, name: str, previous: _Manifest | None, folder: bool) -> None:
        """``name`` may be written: no link or file where a folder goes, and nothing of the
        user's where a file goes (only a file of the previous export may be replaced)."""
        parts = name.split("/")
        folders = parts if folder else parts[:-1]
        with self._walk(folders, create=False) as fd:
            if fd is None or folder:
                return
            info = self._lstat(parts[-1], fd)
            ours = previous is not None and name in previous.files
            if info is not None and (stat.S_ISDIR(info.st_mode) or not ours):
                raise ExportError(
                    f"{self.path / name} already exists and was not written by imr export; "
                    "move it away or export elsewhere"
                )

    def check_removable(self, name: str) -> None:
        """The previous export's ``name`` is not reached through a link (or we would remove a
        file elsewhere)."""
        with self._walk(name.split("/")[:-1], create=False):
            pass

    # -- writing --------------------------------------------------------------------------

    def begin(self, previous: _Manifest | None) -> str:
        """Record a new staging folder in the manifest, then create it; returns its name."""
        staging = f"{_STAGING_PREFIX}{os.getpid()}-{time.time_ns()}"
        base = previous or _Manifest()
        try:
            self._write_manifest(
                _Manifest(base.fmt, base.files, base.folders, [*base.staging, staging])
            )
            os.mkdir(staging, dir_fd=self.fd)
        except OSError as error:
            self.abort(previous, staging)
            raise ExportError(f"cannot write to {self.path}: {_os_error(error)}") from None
        return staging

    def abort(self, previous: _Manifest | None, staging: str) -> None:
        """Undo `begin`: the staging folder goes, the previous manifest (or none) comes back."""
        self._remove_tree(staging)
        if previous is not None:
            with contextlib.suppress(OSError):
                self._write_manifest(previous)
            return
        for name in (MANIFEST, _MANIFEST_TEMP):
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.fd)
        for folder in self.created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only empty, and only the ones this export created

    def commit(
        self,
        previous: _Manifest | None,
        fmt: str,
        files: list[str],
        folders: list[str],
        staging: str,
    ) -> None:
        """Move the staged files into place, then remove what the new export no longer has."""
        base = previous or _Manifest()
        wanted = set(folders) | {f for f in _top_level(fmt) if f in _PARTITIONED}
        # Folders we create now are ours; existing ones are ours only if the manifest says so.
        claimed = set(base.folders) | {f for f in wanted if not self._exists(f)}
        try:
            # First name everything that may be ours after a crash at any point below.
            self._write_manifest(
                _Manifest(
                    fmt,
                    sorted({*base.files, *files}),
                    sorted(claimed),
                    [*base.staging, staging],
                )
            )
            for folder in sorted(wanted, key=lambda f: f.count("/")):
                with self._walk(folder.split("/"), create=True):
                    pass
            for name in files:
                parts = name.split("/")
                with (
                    self._walk([staging, *parts[:-1]], create=False) as source,
                    self._walk(parts[:-1], create=True) as target,
                ):
                    os.replace(parts[-1], parts[-1], src_dir_fd=source, dst_dir_fd=target)
            for name in sorted(set(base.files) - set(files)):
                self._remove_file(name)
            remaining = []
            for folder in sorted(claimed, key=lambda f: -f.count("/")):  # deepest first
                if folder in wanted or not self._remove_empty_folder(folder):
                    remaining.append(folder)
            stale = [s for s in base.staging if s != staging and not self._remove_tree(s)]
            if not self._remove_tree(staging):
                stale.append(staging)
            self._write_manifest(_Manifest(fmt, files, sorted(remaining), stale))
        except OSError as error:
            raise ExportError(
                f"could not move the export into place in {self.path}: {_os_error(error)}"
            ) from None

    # -- helpers --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _walk(self, parts: Iterable[str], create: bool) -> Iterator[int | None]:
        """A descriptor of ``DIR/parts…``, never through a link; None when a part is missing
        (and ``create`` is false)."""
        fd = os.dup(self.fd)
        try:
            done: list[str] = []
            for part in parts:
                done.append(part)
                info = self._lstat(part, fd)
                shown = self.path.joinpath(*done)
                if info is None and create:
                    os.mkdir(part, dir_fd=fd)
                elif info is None:
                    yield None
                    return
                elif stat.S_ISLNK(info.st_mode):
                    raise ExportError(
                        f"{shown} is a symbolic link; imr export never writes through one"
                    )
                elif not stat.S_ISDIR(info.st_mode):
                    raise ExportError(f"{shown} is a file where imr export needs a folder")
                try:
                    child = os.open(part, _DIRECTORY, dir_fd=fd)
                except OSError as error:
                    if error.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped under us
                        raise ExportError(f"{shown} changed while exporting; try again") from None
                    raise
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _lstat(name: str, fd: int) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def _exists(self, folder: str) -> bool:
        parts = folder.split("/")
        with self._walk(parts[:-1], create=False) as fd:
            return fd is not None and self._lstat(parts[-1], fd) is not None

    def _remove_file(self, name: str) -> None:
        parts = name.split("/")
        with self._walk(parts[:-1], create=False) as fd:
            if fd is None:
                return
            info = self._lstat(parts[-1], fd)
            if info is not None and not stat.S_ISDIR(info.st_mode):
                os.unlink(parts[-1], dir_fd=fd)  # a link itself, never its target

    def _remove_empty_folder(self, folder: str) -> bool:
        """rmdir, never rmtree: a folder holding anything of the user's stays. True if gone."""
        parts = folder.split("/")
        with self._walk(parts[:-1], create=False) as fd:
            if fd is None:
                return True
            try:
                os.rmdir(parts[-1], dir_fd=fd)
            except FileNotFoundError:
                return True
            except OSError:
                return False
            return True

    def _remove_tree(self, staging: str) -> bool:
        """Remove one of our staging folders (recorded in the manifest before it was made)."""
        try:
            info = self._lstat(staging, self.fd)
            if info is None:
                return True
            if not stat.S_ISDIR(info.st_mode):
                return False
            shutil.rmtree(staging, dir_fd=self.fd)  # does not follow links inside
        except OSError:
            return False
        return True

    def _write_manifest(self, manifest: _Manifest) -> None:
        """Replace the manifest atomically (temporary file, fsync, rename)."""
        data = {
            "tool": _TOOL,
            "version": 1,
            "format": manifest.fmt,
            "files": manifest.files,
            "folders": manifest.folders,
            "staging": manifest.staging,
        }
        text = json.dumps(data, indent=1, ensure_ascii=True) + "\n"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(_MANIFEST_TEMP, flags, 0o644, dir_fd=self.fd)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(_MANIFEST_TEMP, MANIFEST, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(_MANIFEST_TEMP, dir_fd=self.fd)
            raise


# --- one dashboard view as a CSV (`imr export --view URL FILE.csv`) ------------------------


@dataclass
class ViewExport:
    path: Path
    rows: int
    dropped: list[str]  # URL parameters that are not options of this warehouse


def export_view(db: Path, url: str, target: Path) -> ViewExport:
    """Stream the items a dashboard page URL shows (its filters and its search) into the new
    CSV file ``target``, with their texts (request, rationale, guidelines, citations, reasons
    when the warehouse has them), cells neutralised like every CSV of this project.

    ``target`` must not exist: the file is written beside it under a temporary name and linked
    into place only when complete (never over a file, even one appearing meanwhile); a failure
    removes the temporary file and leaves nothing.
    """
    from dashboard import queries, search, view
    from dashboard.export import prepare

    if target.exists() or target.is_symlink():
        raise ExportError(f"{target} exists; it was left untouched: choose a new file name")
    if not target.parent.is_dir():
        raise ExportError(f"{target.parent} is not a folder")
    if not db.exists():
        raise ExportError(f"no warehouse at {db}")
    verified, real = open_read_only(db)
    try:
        con = queries.connect(real)
    finally:
        verified.close()
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    rows = 0
    try:
        if queries.missing_columns(con).height:
            raise ExportError(
                "this warehouse lacks columns the dashboard reads: run `imr ingest` on it first"
            )
        options = queries.filter_options(con)
        generics = options.filter(options["dimension"] == "drug")
        drugs = search.drug_options(con, tuple(generics.select("value", "n").iter_rows()))
        values = {v for v in drugs.get_column("value").to_list() if "→" not in v}
        chosen = view.parse(url, options, values)
        with open(temporary, "xb") as handle:
            handle.write(b"\xef\xbb\xbf")
            first = True
            for frame in search.items_text_batches(con, chosen.filters):
                if frame.height == 0 and not first:
                    continue
                prepare(frame).write_csv(handle, include_header=first)
                first = False
                rows += frame.height
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)  # never replaces a file
        except FileExistsError:
            raise ExportError(f"{target} appeared while exporting; it was left untouched") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    temporary.unlink(missing_ok=True)
    return ViewExport(target, rows, chosen.dropped)
