"""The options `fengqiao run` gives its processes, read from `plan()` so baselines match."""

from __future__ import annotations

from dataclasses import dataclass

from services.cli.run import plan


def _without(options: list[str], flag: str) -> list[str]:
    """`options` minus `flag` and the value that follows it."""
    if flag not in options:
        return list(options)
    at = options.index(flag)
    return options[:at] + options[at + 2 :]


def _value(options: list[str], flag: str) -> str:
    return options[options.index(flag) + 1] if flag in options else "?"


@dataclass(frozen=True)
class Planned:
    python: str
    gunicorn_options: list[str]  # the intake API's, without --bind and the app
    worker_program: list[str]  # what starts the intake worker, up to its -A
    worker_options: list[str]  # the intake worker's, without -A, --queues and --hostname

    @property
    def web_workers(self) -> str:
        return _value(self.gunicorn_options, "--workers")

    @property
    def web_threads(self) -> str:
        return _value(self.gunicorn_options, "--threads")

    @property
    def worker_concurrency(self) -> str:
        return _value(self.worker_options, "--concurrency")

    def gunicorn(self, bind: str, app: str) -> list[str]:
        """A gunicorn command line for `app` with the intake API's settings."""
        return [self.python, "-m", "gunicorn", "--bind", bind, *self.gunicorn_options, app]

    def celery_worker(self, app: str, queue: str) -> list[str]:
        """A Celery worker command line for `app`, started as the intake worker is."""
        return [
            *self.worker_program,
            *["-A", app, "worker"],
            *["--queues", queue, "--hostname", f"{queue}@%h"],
            *self.worker_options,
        ]


def planned() -> Planned:
    """What `plan()` runs for intake, in the current environment."""
    argv = {process.name: process.argv for process in plan()}
    api = argv["intake-api"]
    # [python, -m, gunicorn, <options>..., <app>]
    gunicorn_options = _without(api[api.index("gunicorn") + 1 : -1], "--bind")
    worker = argv["intake-worker"]
    # [python, -m, <launcher>, -A, <app>, worker, <options>...]
    worker_program = worker[: worker.index("-A")]
    worker_options = worker[worker.index("worker") + 1 :]
    for flag in ("--queues", "-Q", "--hostname", "-n"):
        worker_options = _without(worker_options, flag)
    return Planned(
        python=api[0],
        gunicorn_options=gunicorn_options,
        worker_program=worker_program,
        worker_options=worker_options,
    )
