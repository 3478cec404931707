"""The benchmarks' reading of the machine's CPU time (/proc/stat): how much of a run's time the
hypervisor gave other guests, which every benchmark now records beside its figures."""

from __future__ import annotations

import sys

import pytest

from benchmarks.ingest_speed import CPU_KINDS, cpu_line, cpu_shares, host_cpu


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
