"""The `imr` command. Thin: parses flags, applies them over the settings, calls the library."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from etl.settings import Settings, load_settings
from etl.terminal import printable

# `imr demo`'s corpus: the one `make demo` has always built.
DEMO_LETTERS = 5000
DEMO_SEED = 2013


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
        return handler(args, settings)
    except KeyboardInterrupt:
        print("interrupted: the warehouse was left as it was", file=sys.stderr)
        return 130


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

    try:
        written = export_warehouse(settings.db, args.out, args.format, force=args.force)
    except ExportError as error:
        return _fail("export", str(error))
    except (OSError, duckdb.Error) as error:
        return _fail("export", _describe(error))
    for path in written:
        print(printable(path))
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


if __name__ == "__main__":
    raise SystemExit(main())
