"""Starts a Celery worker or beat, and only that: `python -m services.common.celery_launch`.

    python -m services.common.celery_launch -A services.intake.worker worker --queues intake ...
    python -m services.common.celery_launch -A services.beat beat --loglevel WARNING

The command line is the one `celery` takes for these two commands, and it is handed to
Celery's own `worker` or `beat` command, so every option (queues, pool, concurrency,
prefetch, hostname, log level, events, beat's schedule file) and every signal (SIGTERM warm
shutdown, SIGQUIT cold) behaves as it does under `celery`.

What is left out is the rest of `celery`: it imports every command it has before running
one, among them its `amqp` shell (click_repl, prompt_toolkit) and each installed plugin
(flower, with tornado and prometheus_client), about 450 modules a worker never runs, which
each worker process kept for its life (decision record 0031).

The `celery` command's own options (`--broker`, `--config`, `--workdir`...) are not taken:
the services read their broker from their settings (`BROKER_URL`, `REDIS_URL`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

COMMANDS = ("worker", "beat")
USAGE = "usage: python -m services.common.celery_launch -A <module> {worker|beat} [options]"


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


def _command(name: str) -> click.Command:
    # Each imported only when run: beat has no use for the worker's modules, nor it for beat's.
    if name == "worker":
        from celery.bin.worker import worker

        return worker
    from celery.bin.beat import beat

    return beat


def launch(app_module: str, name: str, options: list[str]) -> None:
    """Run Celery's `name` command for the app in `app_module`, as `celery -A ...` would.

    Exits the process with the command's exit code, as `celery` does.
    """
    from celery.app.utils import find_app
    from celery.bin.base import CLIContext

    app = find_app(app_module)
    command = _command(name)
    # What `celery` does for its commands once it has the app: the app's own extra options.
    command.params.extend(app.user_options.get(name, []))
    command.params.extend(app.user_options.get("preload", ()))
    # `celery --no-color` is also set by NO_COLOR in the environment.
    no_color = os.environ.get("NO_COLOR", "").lower() not in {"", "0", "false", "no", "off"}
    context = CLIContext(app=app, no_color=no_color, workdir=None, quiet=False)
    command.main(
        args=options,
        prog_name=f"celery {name}",
        obj=context,
        # `celery` reads CELERY_WORKER_<OPTION> (CELERY_BEAT_...) from the environment.
        auto_envvar_prefix=f"CELERY_{name.upper()}",
    )


def main(argv: Sequence[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    try:
        app_module, name, options = parse(words)
    except UsageError as error:
        print(f"{USAGE}\n{error}", file=sys.stderr)
        sys.exit(2)
    if name == "worker":
        # As `celery` does first: an eventlet or gevent pool must patch before other imports.
        from celery import maybe_patch_concurrency

        maybe_patch_concurrency([name, *options])
    launch(app_module, name, options)


if __name__ == "__main__":
    main()
