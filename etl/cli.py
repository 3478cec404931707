"""The `imr` command. Thin: parses flags, applies them over the settings, calls the library."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from etl.settings import Settings, load_settings
from etl.terminal import printable

# `imr demo`'s corpus: the one `make demo` has always built.
DEMO_LETTERS = 5000
DEMO_SEED = 2013
# The exit status when the reader of the output stopped reading (128 + SIGPIPE, as a shell has it).
BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    # Whatever a message holds, printing it must not fail: what `printable` leaves that the
    # terminal's encoding cannot show is written as a backslash escape.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    settings = load_settings()
    db = getattr(args, "db", None)  # already expanded by _path
    settings = settings.with_overrides(db=db if db is not None else _path(str(settings.db)))
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        status = handler(args, settings)
        sys.stdout.flush()  # a closed pipe fails here, not at the interpreter's exit
        return status
    except KeyboardInterrupt:
        print("interrupted: the warehouse was left as it was", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away (`imr ingest ... | head -1`). What was done stays
        # done (a build publishes whole or not at all); the rest of the output goes nowhere, so
        # that Python's flush at exit does not fail again. The status is a shell's for SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imr",
        description="California IMR Final Determination Letters: ETL, warehouse and dashboard.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="parse letters (PDF, text, folders, zips) into the warehouse",
        description="Parse letters into the DuckDB warehouse. Every file ends up loaded, "
        "unchanged (already there) or rejected with a reason in the rejects table.",
    )
    ingest.add_argument("paths", nargs="+", type=_path, metavar="PATH")
    _add_db(ingest)
    ingest.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    ingest.add_argument(
        "--strict", action="store_true", help="exit non-zero when any file is rejected"
    )
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(handler=_ingest)

    export = commands.add_parser(
        "export",
        help="write the warehouse tables as Parquet or CSV, with the data dictionary",
        description="Write the warehouse tables into DIR, a new or empty folder. Only the files "
        "the export writes are touched; they are listed in DIR/.imr-export.json. CSV cells that "
        "a spreadsheet would read as a formula (= + - @ tab CR) get a leading single quote.",
    )
    export.add_argument("out", type=_path, metavar="DIR")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    export.add_argument(
        "--view",
        metavar="URL",
        help="instead: write the items a dashboard page URL shows (its filters and search), "
        "with their texts, to the new CSV file given as DIR",
    )
    export.add_argument(
        "--force",
        action="store_true",
        help="replace a previous export in DIR (only the files it wrote; nothing else)",
    )
    _add_db(export)
    export.set_defaults(handler=_export)

    dashboard = commands.add_parser(
        "dashboard",
        help="start the dashboard (read-only)",
        description="Serve the warehouse with the project's Streamlit settings (from any folder).",
    )
    _add_db(dashboard)
    _add_serve(dashboard)
    dashboard.set_defaults(handler=_dashboard)

    demo = commands.add_parser(
        "demo",
        help="build the demo warehouse (synthetic letters) and serve it",
        description="Write a deterministic synthetic corpus, ingest it (with any PATH given) into "
        "the demo warehouse and serve it. Everything goes into DATA = $XDG_DATA_HOME/imr-outcomes "
        "(~/.local/share/imr-outcomes when XDG_DATA_HOME is unset) unless --db/--corpus say "
        "otherwise; IMR_DB is never used, so a demo never adds synthetic letters to your "
        "warehouse. Rerunning is quick: the corpus is kept and the ingest is incremental.",
    )
    demo.add_argument(
        "paths",
        nargs="*",
        type=_path,
        metavar="PATH",
        help="more letters to ingest with the synthetic ones (`make demo` adds data/samples)",
    )
    demo.add_argument(
        "--db", type=_path, help="demo warehouse (default DATA/demo.duckdb; never IMR_DB)"
    )
    demo.add_argument(
        "--corpus",
        type=_path,
        metavar="DIR",
        help="folder for the synthetic letters (default: demo-letters beside the warehouse)",
    )
    demo.add_argument(
        "--letters",
        type=int,
        default=DEMO_LETTERS,
        help=f"synthetic letters (default {DEMO_LETTERS})",
    )
    demo.add_argument(
        "--seed", type=int, default=DEMO_SEED, help=f"the corpus's seed (default {DEMO_SEED})"
    )
    demo.add_argument(
        "--no-serve",
        action="store_true",
        help="build the warehouse only; do not start the dashboard",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_serve(demo)
    demo.set_defaults(handler=_demo)

    corpus = commands.add_parser(
        "demo-corpus", help="write a deterministic synthetic corpus of letters"
    )
    corpus.add_argument("--letters", type=int, default=2000, help="letters (default 2000)")
    corpus.add_argument(
        "--seed", type=int, default=2013, help="same seed, same files (default 2013)"
    )
    corpus.add_argument(
        "--out",
        type=_path,
        default=Path("data/demo/letters"),
        metavar="DIR",
        help="output folder (default data/demo/letters, under the current folder)",
    )
    corpus.add_argument(
        "--pdf-share", type=float, default=None, help="share of letters written as PDF"
    )
    corpus.add_argument(
        "--archive", action="store_true", help="one zip per 1,000 letters (benchmark corpora)"
    )
    corpus.set_defaults(handler=_demo_corpus)

    _add_fetch(commands)

    vocab = commands.add_parser("vocab", help="vocabulary maintenance")
    vocab_commands = vocab.add_subparsers(title="vocab commands", metavar="COMMAND")
    report = vocab_commands.add_parser(
        "report", help="what did not resolve: requests, drugs, specialties, citations"
    )
    _add_db(report)
    report.add_argument("--limit", type=int, default=25, help="rows per kind")
    report.set_defaults(handler=_vocab_report)
    return parser


def _path(value: str) -> Path:
    """Every path argument goes through here: ``~`` is expanded once, for every reader and
    writer alike (DuckDB would expand it on its own, ``pathlib`` would not)."""
    return Path(os.path.expanduser(value))


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=_path, help="warehouse path (default data/warehouse/current.duckdb)"
    )


def _add_serve(parser: argparse.ArgumentParser) -> None:
    """The server's flags, alike for `imr dashboard` and `imr demo`."""
    parser.add_argument("--port", type=int, help="port (default 8501, or IMR_PORT)")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name readers use to reach a dashboard bound to another address (repeatable;"
        " the --host address itself is always allowed)",
    )


def _fail(command: str, message: str) -> int:
    """One line on stderr, control characters escaped; exit status 1."""
    print(f"imr {command}: {printable(message)}", file=sys.stderr)
    return 1


def _describe(error: BaseException) -> str:
    """An unexpected OS or DuckDB error in one line."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from etl.ingest import ingest
    from etl.load import WarehouseBusy, WarehouseError
    from etl.rows import convert_without_pandas

    convert_without_pandas()
    settings = settings.with_overrides(jobs=args.jobs)
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            columns = (TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("files"))
            with Progress(*columns, transient=True) as bar:
                task = bar.add_task("ingest", total=None)
                summary = ingest(args.paths, settings, lambda n: bar.advance(task, n))
        else:
            summary = ingest(args.paths, settings)
    except WarehouseBusy as error:
        print(printable(f"imr ingest: {error}; try again when it finishes"), file=sys.stderr)
        return 75
    except WarehouseError as error:
        print(printable(f"imr ingest: {error}"), file=sys.stderr)
        return 1
    except (duckdb.Error, OSError) as error:
        # Disk full, permissions...: the build was discarded, the published warehouse is intact.
        print(
            printable(
                f"imr ingest: could not write the warehouse ({error}); "
                f"the previous warehouse at {settings.db} is unchanged"
            ),
            file=sys.stderr,
        )
        return 1
    print(printable(summary.line()))
    print(printable(f"warehouse: {settings.db} -> {summary.warehouse}"))
    processed = summary.letters + summary.unchanged
    if summary.files and not processed:
        return 1
    if args.strict and summary.rejected:
        return 1
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from etl.export import ExportError, export_warehouse

    if args.view is not None:
        return _export_view(args, settings)
    try:
        written = export_warehouse(settings.db, args.out, args.format, force=args.force)
    except ExportError as error:
        return _fail("export", str(error))
    except (OSError, duckdb.Error) as error:
        return _fail("export", _describe(error))
    for path in written:
        print(printable(path))
    return 0


def _export_view(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from etl.export import ExportError, export_view

    if args.force or args.format != "parquet":
        return _fail("export", "--view writes one new CSV file: --format and --force do not apply")
    try:
        done = export_view(settings.db, args.view, args.out)
    except ExportError as error:
        return _fail("export", str(error))
    except (OSError, duckdb.Error) as error:
        return _fail("export", _describe(error))
    for dropped in done.dropped:
        print(printable(f"imr export: ignored {dropped}: not in this warehouse"), file=sys.stderr)
    print(printable(f"{done.path}: {done.rows:,} items"))
    return 0


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.db.exists():
        return _fail(
            "dashboard", f"no warehouse at {settings.db}; run `imr ingest` or `imr demo` first"
        )
    return _serve(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with the Streamlit server (signals and exit status are its own)."""
    from etl import launch

    settings = settings.with_overrides(port=args.port, host=args.host)
    command = launch.command(
        port=settings.port, host=settings.host, extra_hosts=args.allowed_host or ()
    )
    env = launch.environment(settings.db)
    print(
        printable(f"IMR Outcomes dashboard: {launch.url(settings.host, settings.port)}"), flush=True
    )
    os.execvpe(command[0], command, env)


def demo_home(env: Mapping[str, str] | None = None) -> Path:
    """Where `imr demo` keeps its warehouse and corpus: ``$XDG_DATA_HOME/imr-outcomes``, or
    ``~/.local/share/imr-outcomes`` (XDG: a relative XDG_DATA_HOME is ignored)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME", "").strip()
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "imr-outcomes"


_DEMO_STAMP = ".imr-demo.json"


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from etl.demo.corpus import DEFAULT_PDF_SHARE, write_corpus

    db = args.db if args.db is not None else demo_home() / "demo.duckdb"
    corpus = args.corpus if args.corpus is not None else db.parent / "demo-letters"
    settings = settings.with_overrides(db=db)
    wanted = {"letters": args.letters, "seed": args.seed, "pdf_share": DEFAULT_PDF_SHARE}
    stamp = corpus / _DEMO_STAMP
    try:
        kept = json.loads(stamp.read_text(encoding="utf-8")) == wanted
    except (OSError, ValueError):
        kept = False
    try:
        if kept:
            print(printable(f"corpus: {corpus} (kept: {args.letters} letters, seed {args.seed})"))
        else:
            print(printable(f"corpus: writing {args.letters} synthetic letters to {corpus}"))
            stamp.unlink(missing_ok=True)
            summary = write_corpus(
                corpus, letters=args.letters, seed=args.seed, pdf_share=DEFAULT_PDF_SHARE
            )
            stamp.write_text(json.dumps(wanted), encoding="utf-8")
            print(printable(f"corpus: {summary.letters} letters, {summary.items} items"))
        db.parent.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        return _fail("demo", _describe(error))
    ingest_args = argparse.Namespace(
        paths=[corpus, *args.paths], jobs=None, strict=False, quiet=args.quiet
    )
    status = _ingest(ingest_args, settings)
    if status != 0:
        return status
    if args.no_serve:
        print(printable(f"serve it with: imr dashboard --db {db}"))
        return 0
    return _serve(args, settings)


def _demo_corpus(args: argparse.Namespace, settings: Settings) -> int:
    from etl.demo.corpus import DEFAULT_PDF_SHARE, write_corpus

    summary = write_corpus(
        args.out,
        letters=args.letters,
        seed=args.seed,
        pdf_share=DEFAULT_PDF_SHARE if args.pdf_share is None else args.pdf_share,
        archive=args.archive,
    )
    for key, value in summary.as_dict().items():
        print(printable(f"{key}: {value}"))
    return 0


def _vocab_report(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from etl.report import ReportError, vocabulary_report

    try:
        report = vocabulary_report(settings.db, args.limit)  # values escaped, layout ours
    except ReportError as error:
        return _fail("vocab report", str(error))
    except (OSError, duckdb.Error) as error:
        return _fail("vocab report", _describe(error))
    print(report)
    return 0


def _add_fetch(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fetch = commands.add_parser(
        "fetch",
        help="download letters, and DWC's index of them, from DWC's IMR Decision Search",
        description="Walk DWC's IMR Decision Search (treatment search) by decision date, record "
        "DWC's index rows in the warehouse table dwc_index, download each letter PDF once "
        "(DIR/<year>/<case>.pdf) and, with --ingest, ingest the new letters. Polite: one "
        "request at a time, --delay seconds apart. Resumable: run the same command again after "
        "a stop or a kill.",
    )
    when = fetch.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--decided",
        type=_date_range,
        metavar="A..B",
        help="decision dates to fetch, both included: 2024-01-01..2024-03-31",
    )
    when.add_argument(
        "--update",
        action="store_true",
        help="continue from the latest decision date already held to today",
    )
    fetch.add_argument(
        "--out",
        type=_path,
        metavar="DIR",
        help="folder for the letters (default: letters/dwc in the data folder `imr demo` uses)",
    )
    fetch.add_argument("--ingest", action="store_true", help="ingest the new letters")
    _add_db(fetch)
    fetch.add_argument(
        "--site",
        metavar="URL",
        help="the site's base address (default https://www.dir.ca.gov; tests use a replica)",
    )
    fetch.add_argument(
        "--delay",
        type=float,
        metavar="SECONDS",
        help="seconds between two requests (default 1, or IMR_FETCH_DELAY; at least 0.2)",
    )
    fetch.add_argument(
        "--window-limit",
        type=int,
        metavar="N",
        help="halve a window of decision dates while it has more results (default 1000)",
    )
    fetch.add_argument("--quiet", action="store_true", help="no progress; the summary only")
    fetch.set_defaults(handler=_fetch)


def _date_range(value: str) -> tuple[dt.date, dt.date]:
    first, sep, last = value.partition("..")
    try:
        if not sep:
            raise ValueError
        return dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected A..B with dates as YYYY-MM-DD (2024-01-01..2024-03-31), got {value!r}"
        ) from None


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    import sqlite3

    import duckdb

    from etl.fetch.client import MIN_DELAY
    from etl.fetch.run import FetchError, FetchRequest, FetchSummary, fetch
    from etl.fetch.site import DEFAULT_SITE
    from etl.fetch.store import FetchBusy, state_folder
    from etl.fetch.walker import DEFAULT_LIMIT

    if args.delay is not None and not args.delay >= MIN_DELAY:
        return _fail("fetch", f"--delay must be at least {MIN_DELAY} seconds, not {args.delay}")
    if args.window_limit is not None and args.window_limit < 1:
        return _fail("fetch", "--window-limit must be at least 1")
    settings = settings.with_overrides(fetch_delay=args.delay)
    first, last = args.decided if args.decided else (None, None)
    request = FetchRequest(
        first=first,
        last=last,
        update=args.update,
        out=args.out if args.out is not None else demo_home() / "letters" / "dwc",
        site=args.site or DEFAULT_SITE,
        ingest=args.ingest,
        limit=args.window_limit or DEFAULT_LIMIT,
    )

    def lines(event: str, summary: FetchSummary) -> None:
        if event == "window":
            print(printable(summary.line()), file=sys.stderr, flush=True)

    try:
        if args.quiet:
            summary = fetch(request, settings)
        elif not sys.stderr.isatty():
            summary = fetch(request, settings, listener=lines)
        else:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            # The bar: days of decision dates walked; the text: the summary so far (on stderr:
            # stdout holds the summary alone).
            columns = (TextColumn("fetch"), BarColumn(), TextColumn("{task.description}"))
            console = Console(stderr=True)
            with Progress(*columns, transient=True, console=console) as bar:
                task = bar.add_task("opening DWC's search", total=None)

                def show(event: str, summary: FetchSummary) -> None:
                    days = done = None
                    if summary.first and summary.last:
                        days = (summary.last - summary.first).days + 1
                        done = (summary.through - summary.first).days + 1 if summary.through else 0
                    line = (
                        f"{summary.through or summary.first} · {summary.cases:,} cases · "
                        f"{summary.downloaded:,} new · {summary.skipped:,} here · "
                        f"{sum(summary.failed.values()):,} failed"
                    )
                    bar.update(task, total=days, completed=done or 0, description=line)

                summary = fetch(request, settings, listener=show)
    except FetchBusy as error:
        print(printable(f"imr fetch: {error}; try again when it finishes"), file=sys.stderr)
        return 75
    except (FetchError, ValueError) as error:
        return _fail("fetch", str(error))
    except (OSError, sqlite3.Error, duckdb.Error) as error:
        return _fail("fetch", _describe(error))
    except KeyboardInterrupt:
        print(
            printable(
                f"imr fetch: interrupted; what was fetched is kept in {state_folder(settings.db)}:"
                " run the same command again to resume"
            ),
            file=sys.stderr,
        )
        return 130
    for line in summary.lines():
        print(line)
    if summary.layout_changed:
        return 3
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
