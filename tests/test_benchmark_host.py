"""The benchmarks' reading of the machine's CPU time (/proc/stat): how much of a run's time the
hypervisor gave other guests, which every benchmark now records beside its figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from benchmarks.ingest_speed import CPU_KINDS, _rounds_only, cpu_line, cpu_shares, host_cpu


def test_shares_split_the_time_between_two_readings() -> None:
    # user nice system idle iowait irq softirq steal
    before = (1000, 0, 200, 5000, 10, 0, 5, 300)
    after = (1450, 0, 290, 5150, 10, 0, 15, 600)  # +450 +90 +150 +10 +300 of 1,000 ticks
    assert cpu_shares(before, after) == {"busy": 0.55, "idle": 0.15, "steal": 0.3}
    assert cpu_line(cpu_shares(before, after)) == (
        "host CPU during the run: busy 55%, idle 15%, stolen by the hypervisor 30%"
    )


def test_no_readings_no_shares() -> None:
    reading = tuple(range(len(CPU_KINDS)))
    assert cpu_shares((), reading) == {}
    assert cpu_shares(reading, reading) == {}  # no time passed
    assert cpu_line({}).startswith("host CPU: not known")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_the_machine_is_read_on_linux() -> None:
    first = host_cpu()
    assert len(first) == len(CPU_KINDS)
    sum(i * i for i in range(200_000))  # some CPU time passes
    second = host_cpu()
    assert all(b >= a for a, b in zip(first, second, strict=True))


def test_each_phase_gets_the_cores_the_tree_kept_busy_in_it() -> None:
    from benchmarks.full_history import phase_cores

    # 2 s of start-up and publishing (1 s at each end), then 10 s on 2 cores, 10 s on 1 core.
    cpu = [(float(t), 0.0) for t in range(2)]
    cpu += [(float(t), 2.0 * (t - 1)) for t in range(2, 12)]
    cpu += [(float(t), 20.0 + (t - 11)) for t in range(12, 23)]
    cores = phase_cores({"parse": 10.0, "load": 10.0, "tiny": 1.0}, cpu, seconds=23.0)
    assert cores == {"parse": 2.0, "load": 1.0}  # a phase under 5 s is left out
    assert phase_cores({}, cpu, 23.0) == {} and phase_cores({"parse": 9.0}, [], 9.0) == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_the_tree_cpu_counts_a_child_that_has_exited() -> None:
    import os
    import subprocess
    import time

    from benchmarks.full_history import tree_cpu

    seen: dict[int, float] = {}
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    child = subprocess.Popen([sys.executable, "-c", busy + "input()"], stdin=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        while tree_cpu(os.getpid(), seen) - seen.get(os.getpid(), 0) < 0.25:
            assert time.monotonic() < deadline, "the child never used its CPU"
            time.sleep(0.05)
        during = tree_cpu(os.getpid(), seen)
    finally:
        child.communicate(b"\n")
    assert child.pid in seen and seen[child.pid] >= 0.25
    assert tree_cpu(os.getpid(), seen) >= during  # the exited child's time is kept


def test_crosstab_speed_takes_pairs_of_two_dimensions_apart() -> None:
    # A name alone once crossed a dimension with itself; unknown names fail at the command line.
    import argparse

    from benchmarks.crosstab_speed import pair

    assert pair("drug:reason") == ("drug", "reason")
    for wrong in ("drug", "drug:drug", "drug:nothing", "drug:reason:state", ":reason", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="rows:cols"):
            pair(wrong)


def test_the_pdf_rounds_alone_give_the_median_of_their_ratios(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--no-pdf-extras``: the ratio is the rounds' median, as with the extras."""
    timings = [(30.0, 60.0, 20.0, 38.0), (33.0, 64.0, 20.0, 39.0), (28.0, 55.0, 20.0, 37.0)]
    result = _rounds_only([Path("a.pdf"), Path("b.pdf")], 2, timings)
    assert result["ratio"] == 1.5  # of 1.5, 1.65 and 1.4
    assert result["cpu_ratio"] == round(60.0 / 38.0, 2)  # of 1.58, 1.64 and 1.49
    rounds = result["rounds"]
    assert isinstance(rounds, list)
    assert [r["ingest_seconds"] for r in rounds] == [30.0, 33.0, 28.0]
    assert "ratio **1.5x**" in capsys.readouterr().out


def test_the_machine_line_names_the_parser_its_ingests_run() -> None:
    import subprocess

    from tests.conftest import ROOT

    script = "from benchmarks.ingest_speed import machine; print(machine())"
    lines = {
        mode: subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "IMR_NATIVE": mode},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for mode in ("off", "auto")
    }
    assert lines["off"].endswith(", pure-Python parser")
    assert lines["auto"].endswith((", pure-Python parser", ", compiled parser (mypyc)"))
