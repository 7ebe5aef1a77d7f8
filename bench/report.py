"""The results as a short table, with the settings they were measured with."""

from __future__ import annotations

import json
import os
from typing import Any

from bench.baselines import HOPS_TO_SMS
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
    chain_lat, writes_load = result.chain_latency, result.writes_load
    alone, b = result.alone_load, result.backlog
    lines = [
        f"mode {result.backend.mode}: {result.backend.description}, {os.cpu_count()} CPUs",
        f"settings (from plan()): gunicorn --workers {p.web_workers} --threads {p.web_threads},"
        f" celery worker --concurrency {p.worker_concurrency}",
        f"load: {o.concurrency} concurrent clients in {sys_load.processes} processes,"
        f" {o.requests} requests (at most {o.duration:g} s) per side;"
        f" latency: {o.samples} samples at {o.rate:g}/s per side"
        + (" (p99 of under 100 samples is the slowest one)" if o.samples < 100 else ""),
        "",
        f"intake POST /v1/reports   {alone.rate:7.0f} req/s"
        f"   bare Flask  {bare_load.rate:7.0f} req/s"
        f"   ratio {_ratio(alone.rate, bare_load.rate)}   (workers paused)",
        f"{'':26}{'':11}   same writes {writes_load.rate:7.0f} req/s"
        f"   ratio {_ratio(alone.rate, writes_load.rate)}",
        f"  while the workers run   {sys_load.rate:7.0f} req/s"
        f"   same writes {writes_load.rate:7.0f} req/s"
        f"   ratio {_ratio(sys_load.rate, writes_load.rate)}",
        f"  API CPU per request   {alone.cpu_ms_per_request:7.2f} ms "
        f"   same writes {writes_load.cpu_ms_per_request:7.2f} ms "
        f"   ratio {_ratio(writes_load.cpu_ms_per_request, alone.cpu_ms_per_request)}"
        f"   (bare Flask {bare_load.cpu_ms_per_request:.2f} ms; workers paused)",
        f"accepted -> SMS recorded  {_latency(sys_lat)}"
        f"   bare Celery {_latency(bare_lat)}"
        f"   ratio p50 {_ratio(sys_lat.p50, bare_lat.p50)}"
        f" p99 {_ratio(sys_lat.p99, bare_lat.p99)}",
        f"{'':26}{'':23}   {HOPS_TO_SMS}-hop chain {_latency(chain_lat)}"
        f"   ratio p50 {_ratio(sys_lat.p50, chain_lat.p50)}"
        f" p99 {_ratio(sys_lat.p99, chain_lat.p99)}",
        "",
        f"intake: workers paused {_answered(alone, o.requests)},"
        f" running {_answered(sys_load, o.requests)};"
        f" bare Flask: {_answered(bare_load, o.requests)};"
        f" same writes: {_answered(writes_load, o.requests)}",
        f"after the load, watched {b.seconds:.1f} s: reports finished {b.finished},"
        f" timeline events recorded {b.events} ({_per_second(b.events, b.seconds)}),"
        f" reports still unfinished {b.left}",
        f"latency samples: system {len(sys_lat.seconds)}/{o.samples}"
        f" (missing {sys_lat.missing}), bare {len(bare_lat.seconds)}/{o.samples}"
        f" (missing {bare_lat.missing}), chain {len(chain_lat.seconds)}/{o.samples}"
        f" (missing {chain_lat.missing});"
        f" timelines showing sms_sent: {result.timelines_with_sms}/{o.samples}",
    ]
    return "\n".join(lines)


def _load_figures(load: LoadResult) -> dict[str, Any]:
    return {
        "accepted_per_second": round(load.rate, 1),
        "server_cpu_ms_per_request": round(load.cpu_ms_per_request, 3),
        "accepted": load.accepted,
        "refused": load.refused,
        "unanswered": load.errors,
        "seconds": round(load.seconds, 2),
    }


def _latency_figures(lat: Latencies) -> dict[str, Any]:
    return {
        "p50_seconds": round(lat.p50, 4),
        "p99_seconds": round(lat.p99, 4),
        "samples": len(lat.seconds),
        "missing": lat.missing,
    }


def _ratio_value(value: float, base: float) -> float | None:
    return round(value / base, 3) if base > 0 else None


def render_json(result: Result) -> str:
    """The same figures and ratios as `render`, as one JSON object."""
    o, p, b = result.options, result.planned, result.backlog
    sys_load, sys_lat = result.system_load, result.system_latency
    bare_lat, chain_lat = result.bare_latency, result.chain_latency
    alone = result.alone_load
    figures = {
        "mode": result.backend.mode,
        "cpus": os.cpu_count(),
        "settings": {
            "web_workers": p.web_workers,
            "web_threads": p.web_threads,
            "worker_concurrency": p.worker_concurrency,
            "requests": o.requests,
            "concurrency": o.concurrency,
            "samples": o.samples,
            "rate": o.rate,
        },
        "intake": {
            "workers_paused": _load_figures(alone),
            "workers_running": _load_figures(sys_load),
            "bare_flask": _load_figures(result.bare_load),
            "same_writes": _load_figures(result.writes_load),
            "ratio_to_bare_flask": _ratio_value(alone.rate, result.bare_load.rate),
            "ratio_to_same_writes": _ratio_value(alone.rate, result.writes_load.rate),
            "ratio_to_same_writes_workers_running": _ratio_value(
                sys_load.rate, result.writes_load.rate
            ),
            # Same-writes CPU per request over intake's: like the rates, higher is better.
            "cpu_ratio_to_same_writes": _ratio_value(
                result.writes_load.cpu_ms_per_request, alone.cpu_ms_per_request
            ),
        },
        "accepted_to_sms": {
            "system": _latency_figures(sys_lat),
            "bare_celery": _latency_figures(bare_lat),
            "same_hops_chain": {**_latency_figures(chain_lat), "hops": HOPS_TO_SMS},
            "ratio_to_bare_celery": {
                "p50": _ratio_value(sys_lat.p50, bare_lat.p50),
                "p99": _ratio_value(sys_lat.p99, bare_lat.p99),
            },
            "ratio_to_same_hops_chain": {
                "p50": _ratio_value(sys_lat.p50, chain_lat.p50),
                "p99": _ratio_value(sys_lat.p99, chain_lat.p99),
            },
            "timelines_with_sms": result.timelines_with_sms,
        },
        "backlog": {
            "seconds": round(b.seconds, 2),
            "finished": b.finished,
            "events": b.events,
            "left": b.left,
        },
    }
    return json.dumps(figures, indent=2)
