"""How fast the synthetic corpus generator writes letters' text (``etl.demo.generate_letters``).

    .venv/bin/python benchmarks/demo_speed.py                # 3,000 letters, 5 rounds
    .venv/bin/python benchmarks/demo_speed.py --letters 20000 --rounds 3

Each round generates the same letters (one seed) in this process, on one core, and counts
them; nothing is written to disk (``imr demo-corpus`` adds the files). Reported: each round's
letters per second, their median, the machine and its CPU shares over the run. This was a unit
test's bound once (2,500 letters/s): a timed unit test fails on a busy machine for no fault
of the code.

Results: stdout and benchmarks/out/demo_speed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import cpu_line, cpu_shares, host_cpu, machine  # noqa: E402


def rate(letters: int, seed: int) -> float:
    """Letters per second of one round."""
    from etl.demo import generate_letters

    started = time.perf_counter()
    count = sum(1 for _ in generate_letters(letters, seed))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    before = host_cpu()
    rates = [rate(args.letters, args.seed) for _ in range(args.rounds)]
    shares = cpu_shares(before, host_cpu())
    result = {
        "machine": machine(),
        "letters": args.letters,
        "seed": args.seed,
        "letters_per_second": [round(r) for r in rates],
        "median_letters_per_second": round(statistics.median(rates)),
        "host_cpu": shares,
    }
    print(machine())
    print(cpu_line(shares))
    print(
        f"{args.letters:,} letters, {args.rounds} rounds: "
        + ", ".join(f"{r:,.0f}" for r in rates)
        + f" letters/s (median {statistics.median(rates):,.0f})"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "demo_speed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
