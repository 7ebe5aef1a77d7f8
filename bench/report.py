"""The results as a short table, with the settings they were measured with."""

from __future__ import annotations

import os

from bench.latency import Latencies
from bench.load import LoadResult
from bench.runner import Result


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base > 0 else "n/a"


def _per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:.1f}/s" if seconds >= 0.5 else "too short to rate"


def _latency(lat: Latencies) -> str:
    return f"p50 {lat.p50:.3f} s  p99 {lat.p99:.3f} s"


def _answered(load: LoadResult, asked: int) -> str:
    text = f"{load.accepted}/{asked} accepted in {load.seconds:.1f} s"
    if load.refused or load.errors:
        text += f" ({load.refused} refused, {load.errors} unanswered)"
    return text


def render(result: Result) -> str:
    """The table printed at the end of a run."""
    o, p = result.options, result.planned
    sys_load, bare_load = result.system_load, result.bare_load
    sys_lat, bare_lat = result.system_latency, result.bare_latency
    b = result.backlog
    lines = [
        f"mode {result.backend.mode}: {result.backend.description}, {os.cpu_count()} CPUs",
        f"settings (from plan()): gunicorn --workers {p.web_workers} --threads {p.web_threads},"
        f" celery worker --concurrency {p.worker_concurrency}",
        f"load: {o.concurrency} concurrent clients in {sys_load.processes} processes,"
        f" {o.requests} requests (at most {o.duration:g} s) per side;"
        f" latency: {o.samples} samples at {o.rate:g}/s per side"
        + (" (p99 of under 100 samples is the slowest one)" if o.samples < 100 else ""),
        "",
        f"intake POST /v1/reports   {sys_load.rate:7.0f} req/s"
        f"   bare Flask  {bare_load.rate:7.0f} req/s"
        f"   ratio {_ratio(sys_load.rate, bare_load.rate)}",
        f"accepted -> SMS recorded  {_latency(sys_lat)}"
        f"   bare Celery {_latency(bare_lat)}"
        f"   ratio p50 {_ratio(sys_lat.p50, bare_lat.p50)}"
        f" p99 {_ratio(sys_lat.p99, bare_lat.p99)}",
        "",
        f"intake: {_answered(sys_load, o.requests)};"
        f" bare Flask: {_answered(bare_load, o.requests)}",
        f"after the load, watched {b.seconds:.1f} s: reports finished {b.finished},"
        f" timeline events recorded {b.events} ({_per_second(b.events, b.seconds)}),"
        f" reports still unfinished {b.left}",
        f"latency samples: system {len(sys_lat.seconds)}/{o.samples}"
        f" (missing {sys_lat.missing}), bare {len(bare_lat.seconds)}/{o.samples}"
        f" (missing {bare_lat.missing});"
        f" timelines showing sms_sent: {result.timelines_with_sms}/{o.samples}",
    ]
    return "\n".join(lines)
