"""What `fengqiao run` starts: each worker's Celery pool, and a supervisor that stays small."""

from __future__ import annotations

import subprocess
import sys

import pytest
from environs import Env

from services.cli.run import plan, worker_pool
from services.common.config import SERVICES


def option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def worker_argv(service: str) -> list[str]:
    return next(p.argv for p in plan(Env()) if p.name == f"{service}-worker")


def test_notify_runs_a_pool_of_threads_and_the_others_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("WORKER_CONCURRENCY", *(f"{s.upper()}_WORKER_POOL" for s in SERVICES)):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NOTIFY_WORKER_CONCURRENCY", raising=False)
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)  # SQLite's file

    notify = worker_argv("notify")
    assert (option(notify, "--pool"), option(notify, "--concurrency")) == ("threads", "8")
    for service in ("intake", "mediation", "rewards"):
        argv = worker_argv(service)
        assert (option(argv, "--pool"), option(argv, "--concurrency")) == ("prefork", "1")


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@db/intake", "postgresql+psycopg://db/intake", "postgres://db/i"]
)
def test_intake_runs_four_threads_on_a_database_that_locks_rows(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    for name in ("WORKER_CONCURRENCY", *(f"{s.upper()}_WORKER_POOL" for s in SERVICES)):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("INTAKE_WORKER_CONCURRENCY", raising=False)
    monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    monkeypatch.setenv("MEDIATION_DATABASE_URL", url.replace("intake", "mediation"))

    intake = worker_argv("intake")
    assert (option(intake, "--pool"), option(intake, "--concurrency")) == ("threads", "4")
    mediation = worker_argv("mediation")  # CPU-bound work on one case: processes
    assert (option(mediation, "--pool"), option(mediation, "--concurrency")) == ("prefork", "1")
    monkeypatch.setenv("INTAKE_WORKER_POOL", "prefork")
    monkeypatch.setenv("INTAKE_WORKER_CONCURRENCY", "2")
    assert worker_pool("intake", Env()) == ("prefork", 2)  # the settings still decide


def test_the_environment_chooses_a_workers_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_CONCURRENCY", "3")
    monkeypatch.setenv("NOTIFY_WORKER_POOL", "prefork")
    monkeypatch.setenv("NOTIFY_WORKER_CONCURRENCY", "2")
    monkeypatch.setenv("MEDIATION_WORKER_CONCURRENCY", "5")

    assert worker_pool("notify", Env()) == ("prefork", 2)
    assert worker_pool("mediation", Env()) == ("prefork", 5)
    assert worker_pool("intake", Env()) == ("prefork", 3)


def test_the_supervisor_loads_no_service_code() -> None:
    """`fengqiao run` stays running as long as the system: it holds only what supervising needs."""
    probe = (
        "import sys\n"
        "from services.cli import main\n"
        "main.get_command(None, 'run')\n"
        "heavy = ('sqlalchemy', 'flask', 'alembic', 'services.intake')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""
