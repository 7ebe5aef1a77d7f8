"""Workers and beat answer no HTTP request: they do not load Flask (docs/capacity.md, memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.config import SERVICES

WEB_ONLY = ("flask", "flask_smorest", "werkzeug", "jinja2", "apispec", "webargs")


@pytest.mark.parametrize("module", [*(f"services.{s}.worker" for s in SERVICES), "services.beat"])
def test_a_worker_process_loads_no_web_framework(module: str, tmp_path: Path) -> None:
    probe = f"import sys, {module}\nprint(','.join(m for m in {WEB_ONLY!r} if m in sys.modules))\n"
    # The embedded defaults (SQLite, the filesystem broker) under tmp_path: nothing to reach.
    unset = {"BROKER_URL", "REDIS_URL", *(f"{s.upper()}_DATABASE_URL" for s in SERVICES)}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env["FENGQIAO_VAR_DIR"] = str(tmp_path)
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    assert loaded == ""


def loaded_by(statement: str, modules: tuple[str, ...], tmp_path: Path, **env: str) -> list[str]:
    """Which of `modules` a fresh process has loaded after running `statement`."""
    listed = f"print(','.join(m for m in {modules!r} if m in sys.modules))"
    probe = f"import sys\n{statement}\n{listed}\n"
    unset = {"BROKER_URL", "REDIS_URL", *(f"{s.upper()}_DATABASE_URL" for s in SERVICES)}
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    environment.update(FENGQIAO_VAR_DIR=str(tmp_path), **env)
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=environment
    ).stdout.strip()
    return found.split(",") if found else []


@pytest.mark.parametrize(
    "statement",
    [
        "import services.notify.worker",
        "from services.notify import create_app; create_app()",
        "import services.intake.worker",
    ],
    ids=["notify-worker", "notify-api", "intake-worker"],
)
def test_no_http_client_is_loaded_until_one_is_used(statement: str, tmp_path: Path) -> None:
    """Only Aliyun's and Tencent's adapters and agencies' callbacks send over HTTP."""
    assert loaded_by(statement, ("httpx",), tmp_path, SMS_PROVIDERS="log") == []


def test_a_configured_provider_brings_its_http_client(tmp_path: Path) -> None:
    statement = "from services.notify.providers import provider_named; provider_named('tencent')"
    tencent = {
        "TENCENT_SECRET_ID": "id",
        "TENCENT_SECRET_KEY": "key",
        "TENCENT_SMS_APP_ID": "1400000000",
        "TENCENT_SMS_TEMPLATES": "{}",
    }
    assert loaded_by(statement, ("httpx",), tmp_path, **tencent) == ["httpx"]


APIS = [f"from services.{s} import create_app; create_app()" for s in SERVICES]
WORKERS = [f"import services.{s}.worker" for s in SERVICES]
POSTGRESQL = {f"{s.upper()}_DATABASE_URL": f"postgresql://fq@127.0.0.1:1/{s}" for s in SERVICES}


@pytest.mark.parametrize("statement", [*APIS, *WORKERS, "import services.beat"])
def test_each_process_loads_only_its_own_databases_dialect(statement: str, tmp_path: Path) -> None:
    """`INSERT … ON CONFLICT` is built in the dialect in use (`insert_on_conflict`); building
    an app or a worker connects to nothing, so the address need not answer."""
    sqlite, postgresql = "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql"
    assert sqlite not in loaded_by(statement, (sqlite, postgresql), tmp_path, **POSTGRESQL)
    assert postgresql not in loaded_by(statement, (sqlite, postgresql), tmp_path)


@pytest.mark.parametrize("statement", [*APIS, "import services.beat"])
def test_a_process_that_runs_no_worker_loads_no_worker_code(statement: str, tmp_path: Path) -> None:
    """Celery's Django fixup, left out (`create_celery`), imported `celery.worker` anywhere."""
    assert loaded_by(statement, ("celery.worker", "celery.fixups.django"), tmp_path) == []


def test_the_intake_worker_loads_limits_on_its_first_limited_answer(tmp_path: Path) -> None:
    """Only residents' SMS questions are limited in the worker; the API limits every request.

    tests/test_status_by_sms.py answers (and refuses the fourth) through such a limiter.
    """
    limited = ("limits", "wrapt", "deprecated")
    assert loaded_by("import services.intake.worker", limited, tmp_path) == []
    first_use = (
        "from services.intake.worker import app\n"
        "from services.intake.runtime import build\n"
        "build().status_answer_limiter.limiter()"
    )
    assert loaded_by(first_use, ("limits",), tmp_path) == ["limits"]
    assert loaded_by(APIS[0], ("limits",), tmp_path) == ["limits"]


@pytest.mark.parametrize("statement", WORKERS)
def test_only_beat_loads_beats_scheduler(statement: str, tmp_path: Path) -> None:
    """Workers register the periodic tasks (`scheduling`); beat alone schedules them."""
    assert loaded_by(statement, ("celery.beat", "shelve"), tmp_path) == []


def test_beat_runs_its_own_scheduler() -> None:
    from kombu.utils.imports import symbol_by_name

    from services.beat import app
    from services.common.beat_scheduler import QuietScheduler

    assert symbol_by_name(app.conf.beat_scheduler) is QuietScheduler
