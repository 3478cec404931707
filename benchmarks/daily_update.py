"""A day of new letters into the full-history warehouse: what one daily `imr ingest` costs.

    .venv/bin/python benchmarks/full_history.py       # first: the 4M-item warehouse
    .venv/bin/python benchmarks/daily_update.py       # then: 3 days of 1,000 new letters

The warehouse (by default the one benchmarks/full_history.py built) is copied once into this
script's own folder, so the original stays as it is. Each day writes 1,000 new synthetic letters
(the corpus's next case numbers, so none is a duplicate) and runs the real `imr ingest` on them
in a fresh process, timed end to end. Reported per day: seconds, the phases the build recorded
in its meta (`build_seconds`: copy of the published version, open, parse, load, derived tables,
search index; the rest is the checkpoint, the swap and the process's start), and the largest
process's peak RSS. Results: stdout and benchmarks/out/daily_update.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import cpu_shares, host_cpu, machine  # noqa: E402


def copy_warehouse(source: Path, folder: Path) -> Path:
    """The published version of ``source`` and its search index, copied into ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)  # this script's own folder
    folder.mkdir(parents=True)
    version = source.resolve()
    print(f"copying {version} ...", flush=True)
    shutil.copyfile(version, folder / version.name)
    index = version.with_name(version.name + ".search")
    if index.is_dir():
        shutil.copytree(index, folder / index.name)
    (folder / f".{source.name}.versions").write_text(version.name + "\n")
    link = folder / source.name
    link.symlink_to(version.name)
    return link


def write_day(folder: Path, letters: int, seed: int, start: int) -> None:
    from etl.demo.generate import generate_letters

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for letter in generate_letters(letters, seed, start=start):
        (folder / letter.filename).write_bytes(letter.data)


def counts(db: Path) -> tuple[int, int, dict[str, float], dict[str, str]]:
    import duckdb

    con = duckdb.connect(str(db.resolve()), read_only=True)
    try:
        letters, items = con.execute(
            "select count(*), (select count(*) from decisions) from letters"
        ).fetchone() or (0, 0)
        meta = dict(con.execute("select key, value from meta").fetchall())
    finally:
        con.close()
    return letters, items, json.loads(meta.get("build_seconds", "{}")), meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", type=Path, default=OUT / "full-history-4000000-5" / "current.duckdb"
    )
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=5, help="the seed of the warehouse's corpus")
    args = parser.parse_args()
    link = copy_warehouse(args.db, OUT / "daily-update")
    letters, items, _, _ = counts(link)
    print(f"warehouse: {letters:,} letters, {items:,} items", flush=True)
    runs = []
    for day in range(1, args.days + 1):
        folder = OUT / "daily-update-letters" / f"day-{day}"
        write_day(folder, args.letters, args.seed, start=letters)
        command = [sys.executable, "-m", "etl.cli", "ingest", str(folder), "--db", str(link)]
        start = time.perf_counter()
        cpu_before = host_cpu()
        done = subprocess.run(command + ["--quiet"], cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        host = cpu_shares(cpu_before, host_cpu())
        if done.returncode:
            raise SystemExit(f"imr ingest failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        after, items, phases, meta = counts(link)
        index = json.loads(
            (link.resolve().with_name(meta["search_index"]) / "imr-search.json").read_text()
        )
        runs.append(
            {
                "day": day,
                "letters_added": after - letters,
                "items_after": items,
                "seconds": round(seconds, 2),
                "phases": phases,
                "rest": round(seconds - sum(phases.values()), 2),
                "search_index": index.get("mode"),
                "peak_rss_mib_so_far": round(peak),
                "host_cpu": host,
                "summary": done.stdout.strip().splitlines()[0] if done.stdout.strip() else "",
            }
        )
        letters = after
        print(json.dumps(runs[-1]), flush=True)
    results = {"machine": machine(), "warehouse": str(args.db), "runs": runs}
    (OUT / "daily_update.json").write_text(json.dumps(results, indent=2))
    print(
        "\n| day | letters added | items after | seconds | "
        + " | ".join(runs[0]["phases"])
        + " | rest |"
    )
    print("|---" * (5 + len(runs[0]["phases"])) + "|")
    for run in runs:
        cells = " | ".join(f"{v:.2f}" for v in run["phases"].values())
        print(
            f"| {run['day']} | {run['letters_added']:,} | {run['items_after']:,} "
            f"| {run['seconds']:.1f} | {cells} | {run['rest']:.2f} |"
        )


if __name__ == "__main__":
    main()
