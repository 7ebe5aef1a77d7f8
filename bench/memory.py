"""Every process's memory: idle after starting, idle after a warm-up, and after a load of reports.

`fengqiao run` starts the whole system on fresh Redis and PostgreSQL databases; each process
it supervises, and each process those start (gunicorn's workers, a Celery worker's pool), is
read from /proc: RSS (what the limit is about) and PSS (RSS with shared pages divided among
their sharers, so a forked worker is not charged for its master's code).

The first reading is taken once the system is up and quiet; a warm-up of a few hundred
reports follows, since a process loads code and fills caches on its first requests (that
is not a leak), and a second idle reading. Then `reports` reports, each from its own number,
are posted and worked off, and a third reading shows whether memory came back to the second.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.load import Load, run_load
from bench.probes import Probes
from bench.processes import Child
from bench.runner import distinct_reporters, say
from bench.system import start_system
from chaos.procfs import PROC, children_of
from services.cli.demo import demo_key, seed_stories

QUIET_SECONDS = 15.0  # after starting or working: timers settle, nothing is in flight
WARM_UP_REPORTS = 300
CONCURRENCY = 16
POSTS_PER_SECOND_AT_LEAST = 5.0  # a load slower than this is a failure, not a run to wait out
WORK_OFF_TIMEOUT_SECONDS = 1800.0
LIMIT_MB = 80.0  # the most any process may hold idle
LEAK_TOLERANCE = 0.10  # after the load, at most this much above the warm idle reading
PER_NUMBER_LIMITS_OFF = {
    "NOTIFY_PER_NUMBER_MINUTE": "100000",
    "NOTIFY_PER_NUMBER_HOUR": "100000",
    "NOTIFY_PER_NUMBER_DAY": "100000",
}
STARTED = re.compile(r"^started (\S+) \(pid (\d+)\)$", re.M)


@dataclass(frozen=True)
class Reading:
    rss_mb: float
    pss_mb: float


@dataclass
class Process:
    label: str  # "intake-api", "intake-api worker 1", "notify-worker"...
    pid: int
    readings: dict[str, Reading] = field(default_factory=dict)


@dataclass(frozen=True)
class Memory:
    processes: list[Process]
    reports: int
    accepted: int
    posted_seconds: float
    worked_off_seconds: float
    unfinished: int  # reports not worked off in time

    def over_limit(self, phase: str) -> list[Process]:
        return [p for p in self.processes if phase in p.readings and _rss(p, phase) > LIMIT_MB]

    def grown(self) -> list[Process]:
        return [
            p
            for p in self.processes
            if {"warm", "after"} <= p.readings.keys()
            and _rss(p, "after") > _rss(p, "warm") * (1 + LEAK_TOLERANCE)
        ]


def _rss(process: Process, phase: str) -> float:
    return process.readings[phase].rss_mb


def _kb_field(text: str, name: str) -> float | None:
    match = re.search(rf"^{name}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 if match else None


def read(pid: int) -> Reading | None:
    """The process's RSS and PSS in MB; None if it is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
        rollup = (PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return None
    rss, pss = _kb_field(status, "VmRSS"), _kb_field(rollup, "Pss")
    return None if rss is None or pss is None else Reading(rss, pss)


def _descendants(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        found += [child, *_descendants(child)]
    return found


def processes_of(system: Child) -> list[Process]:
    """Every process `fengqiao run` started and what those started, labelled."""
    log = system.log_path.read_text(encoding="utf-8", errors="replace")
    latest = {name: int(pid) for name, pid in STARTED.findall(log)}  # restarts: the last one
    found = [Process("fengqiao run (supervisor)", system.pid)]
    for name, pid in sorted(latest.items()):
        found.append(Process(name, pid))
        for n, child in enumerate(_descendants(pid), start=1):
            found.append(Process(f"{name} child {n}", child))
    return found


def take_reading(processes: list[Process], phase: str) -> None:
    for process in processes:
        reading = read(process.pid)
        if reading is not None:
            process.readings[phase] = reading


def _wait_worked_off(probes: Probes, timeout: float) -> int:
    """Wait until every report is finished, or `timeout`; the reports still unfinished."""
    deadline = time.monotonic() + timeout
    while (left := probes.unfinished_reports()) and time.monotonic() < deadline:
        time.sleep(1.0)
    return left


def _post(url: str, headers: dict[str, str], bodies: list[bytes]) -> tuple[int, float]:
    load = Load(
        url=url,
        headers=headers,
        bodies=bodies,
        requests=len(bodies),
        concurrency=CONCURRENCY,
        duration=len(bodies) / POSTS_PER_SECOND_AT_LEAST,
    )
    result = run_load(load)
    return result.accepted, result.seconds


def run(*, reports: int, workdir: Path, redis_url: str, postgres_url: str) -> Memory:
    """Start the system, read its memory idle, warm, and after `reports` reports; stop it."""
    with contextlib.ExitStack() as stack:
        running = start_system(
            stack,
            part="memory",
            workdir=workdir,
            redis_url=redis_url,
            postgres_url=postgres_url,
            # The load's clients each open with the same first report: per-number limits
            # would hold those SMS for an hour, and this part measures memory.
            env=PER_NUMBER_LIMITS_OFF,
            spare_port_variable="CONSOLE_PORT",  # the console measured too
        )
        system = running.process
        probes = stack.enter_context(contextlib.closing(Probes()))
        time.sleep(QUIET_SECONDS)
        processes = processes_of(system)
        take_reading(processes, "idle")
        url = f"{running.url('intake')}/v1/reports"
        headers = {"Authorization": f"Bearer {demo_key()}", "Content-Type": "application/json"}
        bodies = distinct_reporters(seed_stories(datetime.now(UTC)), WARM_UP_REPORTS + reports)
        say(f"memory: warming up with {WARM_UP_REPORTS} reports")
        _post(url, headers, bodies[:WARM_UP_REPORTS])
        _wait_worked_off(probes, WORK_OFF_TIMEOUT_SECONDS)
        time.sleep(QUIET_SECONDS)
        take_reading(processes, "warm")
        say(f"memory: posting {reports} reports")
        accepted, posted = _post(url, headers, bodies[WARM_UP_REPORTS:])
        take_reading(processes, "posted")
        say(f"memory: {accepted} accepted in {posted:.0f} s; waiting for the workers")
        started = time.monotonic()
        unfinished = _wait_worked_off(probes, WORK_OFF_TIMEOUT_SECONDS)
        worked_off = time.monotonic() - started
        time.sleep(QUIET_SECONDS)
        take_reading(processes, "after")
        system.check_alive()
    return Memory(processes, reports, accepted, posted, worked_off, unfinished)


def _cell(process: Process, phase: str) -> str:
    reading = process.readings.get(phase)
    return f"{reading.rss_mb:6.1f} ({reading.pss_mb:5.1f})" if reading else f"{'gone':>14}"


def render(memory: Memory) -> str:
    """One line per process: RSS (PSS) in MB in each phase, and the verdicts."""
    lines = [
        f"memory, RSS (PSS) in MB: idle after start, idle after {WARM_UP_REPORTS} reports,"
        f" right after posting {memory.reports}, idle after working them off",
        f"  {'process':34} {'idle':>14} {'warm':>14} {'posted':>14} {'after':>14}  after/warm",
    ]
    for p in memory.processes:
        growth = (
            f"{_rss(p, 'after') / _rss(p, 'warm') - 1:+.1%}"
            if {"warm", "after"} <= p.readings.keys()
            else "n/a"
        )
        cells = " ".join(_cell(p, phase) for phase in ("idle", "warm", "posted", "after"))
        lines.append(f"  {p.label:34} {cells}  {growth}")
    total = sum(p.readings["warm"].pss_mb for p in memory.processes if "warm" in p.readings)
    over = memory.over_limit("warm") + memory.over_limit("idle")
    lines += [
        f"  all processes together (PSS, warm idle): {total:.0f} MB",
        f"  {memory.accepted}/{memory.reports} reports accepted in {memory.posted_seconds:.0f} s,"
        f" worked off {memory.worked_off_seconds:.0f} s later"
        + (f" ({memory.unfinished} still unfinished)" if memory.unfinished else ""),
        f"  over {LIMIT_MB:g} MB idle: {', '.join(sorted({p.label for p in over})) or 'none'};"
        f" grown over {LEAK_TOLERANCE:.0%} after the load:"
        f" {', '.join(p.label for p in memory.grown()) or 'none'}",
    ]
    return "\n".join(lines)
