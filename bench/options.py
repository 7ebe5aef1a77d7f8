"""Command-line options of `python -m bench`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

MODES = ("embedded", "redis")


@dataclass(frozen=True)
class Options:
    mode: str
    requests: int
    concurrency: int
    duration: float
    samples: int
    rate: float
    redis_url: str
    postgres_url: str
    keep: bool
    json: bool = False


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Options from the command line, with defaults that finish in a few minutes."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the system against a bare Flask app and a bare Celery round trip.",
    )
    parser.add_argument("--mode", choices=MODES, default="embedded", help="backends to run on")
    parser.add_argument(
        "--requests", type=_positive_int, default=2000, help="POSTs per throughput run"
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, default=16, help="concurrent HTTP clients"
    )
    parser.add_argument(
        "--duration",
        type=_positive_float,
        default=20.0,
        help="longest a throughput run may take, in seconds",
    )
    parser.add_argument(
        "--samples", type=_positive_int, default=40, help="latency samples per measurement"
    )
    # A modest rate, so latency is not queueing: on the embedded broker a worker takes
    # about ten messages a second, and notify handles two or three per report.
    parser.add_argument(
        "--rate", type=_positive_float, default=1.0, help="latency samples sent per second"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="redis mode: a Redis database of its own (it is flushed before and after)",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="redis mode: a PostgreSQL role that may create and drop databases",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument(
        "--json", action="store_true", help="print the figures and ratios as JSON, not a table"
    )
    namespace = parser.parse_args(argv)
    return Options(**vars(namespace))
