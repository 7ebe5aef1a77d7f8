"""Starts a Celery worker or beat, and only that: `python -m services.common.celery_launch`.

    python -m services.common.celery_launch -A services.intake.worker worker --queues intake ...
    python -m services.common.celery_launch -A services.beat beat --loglevel WARNING

The command line is written as for `celery`, with the options of `celery worker` and
`celery beat` that the services use (below); they mean what they mean there, and the
process is Celery's own worker (`app.Worker`) or beat (`app.Beat`), with its signals: SIGTERM
a warm shutdown, SIGQUIT a cold one. Any other option is refused rather than ignored.

What is left out is the `celery` command: it imports every command it has before running
one, among them its `amqp` shell (click_repl, prompt_toolkit) and each installed plugin
(flower, with tornado and prometheus_client), several hundred modules a worker never runs
and would keep for its life (decision record 0031). Its options of its own (`--broker`,
`--config`, `--workdir`...) are not taken: the services read their broker from their
settings (`BROKER_URL`, `REDIS_URL`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

COMMANDS = ("worker", "beat")
USAGE = "usage: python -m services.common.celery_launch -A <module> {worker|beat} [options]"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "FATAL")


class UsageError(Exception):
    """The command line is not `-A <module> worker|beat [options]`."""


def parse(argv: Sequence[str]) -> tuple[str, str, list[str]]:
    """(app module, command, the command's options) of `-A <module> <command> <options>...`."""
    words = list(argv)
    if len(words) >= 2 and words[0] in {"-A", "--app"}:
        app, rest = words[1], words[2:]
    elif words and words[0].startswith("--app="):
        app, rest = words[0].removeprefix("--app="), words[1:]
    else:
        raise UsageError("the app comes first: -A <module>")
    if not rest or rest[0] not in COMMANDS:
        raise UsageError(f"then the command, one of {', '.join(COMMANDS)}")
    return app, rest[0], rest[1:]


def _comma_list(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


def _count(value: str) -> int | None:
    """A whole number of at least 0; 0 leaves it to the app's setting, as in `celery worker`."""
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("cannot be negative")
    return number or None


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"not one of {', '.join(LOG_LEVELS)}")
    return value.upper()


def _parser(command: str) -> argparse.ArgumentParser:
    # No abbreviations: `celery` takes none, and a command line must mean the same to both.
    parser = argparse.ArgumentParser(
        prog=f"celery_launch -A <module> {command}", allow_abbrev=False
    )
    parser.add_argument("-l", "--loglevel", type=_log_level, default="WARNING")
    return parser


def worker_options(options: Sequence[str]) -> dict[str, Any]:
    """`app.Worker`'s arguments for the `celery worker` options given; None: the app's setting."""
    from celery.concurrency import get_available_pool_names

    parser = _parser("worker")
    parser.add_argument("-n", "--hostname")
    parser.add_argument("-Q", "--queues", type=_comma_list)
    parser.add_argument("-P", "--pool", default="prefork", choices=get_available_pool_names())
    parser.add_argument("-c", "--concurrency", type=_count)
    parser.add_argument("--prefetch-multiplier", type=int)
    parser.add_argument("--max-tasks-per-child", type=int)
    parser.add_argument("-E", "--task-events", "--events", action="store_true", default=None)
    for feature in ("gossip", "mingle", "heartbeat"):
        parser.add_argument(f"--without-{feature}", action="store_true")
    return vars(parser.parse_args(list(options)))


def beat_options(options: Sequence[str]) -> dict[str, Any]:
    """`app.Beat`'s arguments for the `celery beat` options given; None: the app's setting."""
    parser = _parser("beat")
    parser.add_argument("-s", "--schedule")
    parser.add_argument("-S", "--scheduler")
    parser.add_argument("--max-interval", type=int)
    return vars(parser.parse_args(list(options)))


def run_worker(app: Celery, options: dict[str, Any]) -> int:
    """Run the worker until it is stopped; its exit code. Built as `celery worker` builds it."""
    from celery import concurrency
    from celery.utils.log import mlevel
    from celery.utils.nodenames import default_nodename, host_format

    arguments = dict(options)
    pool = arguments.pop("pool")
    if pool == "prefork" and app.conf.worker_pool:  # the default, and the app names a pool
        pool = app.conf.worker_pool
    arguments["pool_cls"] = concurrency.get_implementation(pool)
    arguments["hostname"] = host_format(default_nodename(arguments["hostname"]))
    arguments["loglevel"] = mlevel(arguments["loglevel"])
    worker = app.Worker(**arguments)
    worker.start()
    return int(worker.exitcode or 0)


def run_beat(app: Celery, options: dict[str, Any]) -> int:
    """Run beat until it is stopped. Built as `celery beat` builds it."""
    from celery.utils.log import mlevel

    app.Beat(**{**options, "loglevel": mlevel(options["loglevel"])}).run()
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    try:
        app_module, command, options = parse(words)
    except UsageError as error:
        print(f"{USAGE}\n{error}", file=sys.stderr)
        sys.exit(2)
    # Parsed before the app is imported: a wrong option costs no connection to anything.
    parsed = worker_options(options) if command == "worker" else beat_options(options)
    if command == "worker":
        # As `celery` does first: an eventlet or gevent pool must patch before other imports.
        from celery import maybe_patch_concurrency

        maybe_patch_concurrency(["worker", "--pool", parsed["pool"]])
    from celery.app.utils import find_app

    app = find_app(app_module)
    sys.exit(run_worker(app, parsed) if command == "worker" else run_beat(app, parsed))


if __name__ == "__main__":
    main()
