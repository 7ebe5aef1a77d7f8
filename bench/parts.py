"""`python -m bench`: the parts of the benchmark, all of them or the ones `--only` names.

- `throughput`: intake and the message path beside a bare Flask app and a bare Celery
  round trip (`bench.cli`, with its own options: `--mode`, `--requests`, ...);
- `drain`: notify's workers working off a backlog of SMS, per pool (`bench.drain`);
- `memory`: every process's memory, idle and after a load of reports (`bench.memory`);
- `staff`: mediation's and rewards' staff transition endpoints beside a bare endpoint doing
  the same writes (`bench.staff`; `--requests`, `--concurrency`, `--duration` as intake's);
- `sustained`: finished reports a second at a steady offered rate, beside bare Celery
  tasks taking the same hops (`bench.sustained`).

`drain`, `memory`, `staff` and `sustained` run on Redis and PostgreSQL (`--redis-url`,
`--postgres-url`).
`--json PATH` (or `-` for stdout) writes what they measured as one record.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.cli import _terminate
from bench.cli import main as throughput_main
from bench.options import parse_options

PARTS = ("throughput", "drain", "memory", "staff", "sustained")
DEFAULT_POOLS = "prefork:1,prefork:2,prefork:4,threads:8"


def _pools(text: str) -> list[tuple[str, int]]:
    pools = []
    for part in text.split(","):
        kind, _, count = part.strip().partition(":")
        if kind not in ("prefork", "threads", "gevent") or not count.isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(f"{part!r} is not POOL:N (prefork, threads, gevent)")
        pools.append((kind, int(count)))
    return pools


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", add_help=False)
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part")
    parser.add_argument("--json", dest="json_path", help="write the record here ('-': stdout)")
    parser.add_argument("--drain-messages", type=int, default=5000, help="SMS in the backlog")
    parser.add_argument(
        "--drain-pools",
        type=_pools,
        default=_pools(DEFAULT_POOLS),
        help=f"notify pools to drain with, POOL:N,... (default {DEFAULT_POOLS})",
    )
    parser.add_argument("--memory-reports", type=int, default=10_000, help="reports sent")
    parser.add_argument("--sustained-seconds", type=float, default=30.0, help="each step's offers")
    parser.add_argument("--sustained-start", type=float, default=2.0, help="system's first rate")
    parser.add_argument("--sustained-bare-start", type=float, default=20.0, help="bare's first")
    parser.add_argument("--sustained-steps", type=int, default=9, help="most steps per side")
    return parser


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _in_workdir(measure: Callable[[Path], Any]) -> Any:
    """`measure(workdir)` in a fresh directory, kept (and said so) if it fails."""
    workdir = Path(tempfile.mkdtemp(prefix="fengqiao-bench-"))
    try:
        result = measure(workdir)
    except BaseException:
        _say(f"logs kept in {workdir}")
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the parts asked for; 0 if every one succeeded."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        _parser().print_help()
        return throughput_main(["--help"])
    ours, rest = _parser().parse_known_args(args)
    parts = ours.only or list(PARTS)
    record: dict[str, Any] = {}
    if "throughput" in parts:
        code = throughput_main(rest)
        if code or parts == ["throughput"]:
            return code
    signal.signal(signal.SIGTERM, _terminate)
    shared = parse_options(rest)  # --redis-url, --postgres-url, --keep
    try:
        if "drain" in parts:
            from bench import drain

            drains = _in_workdir(
                lambda workdir: drain.run(
                    ours.drain_pools,
                    messages=ours.drain_messages,
                    workdir=workdir,
                    redis_url=shared.redis_url,
                    postgres_url=shared.postgres_url,
                )
            )
            print(drain.render(drains))
            record["drain"] = [dataclasses.asdict(d) for d in drains]
        if "memory" in parts:
            from bench import memory

            measured = _in_workdir(
                lambda workdir: memory.run(
                    reports=ours.memory_reports,
                    workdir=workdir,
                    redis_url=shared.redis_url,
                    postgres_url=shared.postgres_url,
                )
            )
            print(memory.render(measured))
            record["memory"] = dataclasses.asdict(measured)
        if "staff" in parts:
            from bench import staff

            steps = _in_workdir(lambda workdir: staff.run(shared, workdir))
            print(staff.render(steps))
            record["staff"] = staff.record(steps)
        if "sustained" in parts:
            from bench import sustained

            path = _in_workdir(
                lambda workdir: sustained.run(
                    seconds=ours.sustained_seconds,
                    system_start=ours.sustained_start,
                    bare_start=ours.sustained_bare_start,
                    max_steps=ours.sustained_steps,
                    workdir=workdir,
                    redis_url=shared.redis_url,
                    postgres_url=shared.postgres_url,
                )
            )
            print(sustained.render(path))
            record["sustained"] = sustained.record(path)
    except KeyboardInterrupt:
        _say("interrupted; everything it started has been stopped")
        return 130
    except Exception as exc:
        _say(f"failed: {type(exc).__name__}: {exc}")
        return 1
    if ours.json_path:
        text = json.dumps(record, indent=2, default=str)
        if ours.json_path == "-":
            print(text)
        else:
            Path(ours.json_path).write_text(text + "\n", encoding="utf-8")
    return 0
