"""Old outbox rows and processed ids are pruned, never before a redelivery could come; the
broker's visibility timeout outlasts every countdown a task uses."""

from __future__ import annotations

import ast
import importlib
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import services
from services.common.celery_app import (
    COUNTDOWNS_SECONDS,
    LONGEST_REDELIVERY_SECONDS,
    LONGEST_RUN_SECONDS,
    VISIBILITY_TIMEOUT_SECONDS,
)
from services.common.config import SERVICES, Settings
from services.common.messaging import DEFAULT_RETENTION, Messaging
from services.common.scheduling import register_relay_task
from services.intake.models import OutboxMessage, ProcessedMessage
from services.intake.runtime import IntakeRuntime
from tests import infra
from tests.conftest import NOW


def add_outbox_row(runtime: IntakeRuntime, *, created: Any, published: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    with runtime.db.transaction() as session:
        session.add(
            OutboxMessage(
                id=row_id,
                task="notify.send_sms",
                payload={"message_id": str(row_id)},
                created_at=created,
                published_at=published,
                attempts=1,
            )
        )
    return row_id


def add_processed(runtime: IntakeRuntime, *, at: Any) -> uuid.UUID:
    message_id = uuid.uuid4()
    with runtime.db.transaction() as session:
        session.add(
            ProcessedMessage(
                message_id=message_id, task="intake.record_report_event", processed_at=at
            )
        )
    return message_id


def test_pruning_forgets_only_what_is_older_than_the_retention(intake: IntakeRuntime) -> None:
    retention = intake.messaging.retention
    old = NOW - retention - timedelta(minutes=1)
    recent = NOW - retention + timedelta(minutes=1)
    old_published = add_outbox_row(intake, created=old, published=old)
    recent_published = add_outbox_row(intake, created=old, published=recent)
    never_published = add_outbox_row(intake, created=old, published=None)
    old_handled = add_processed(intake, at=old)
    recent_handled = add_processed(intake, at=recent)

    pruned = intake.messaging.prune()

    assert pruned == {"outbox": 1, "processed": 1}
    with intake.db.sessions() as session:
        assert session.get(OutboxMessage, old_published) is None
        assert session.get(OutboxMessage, recent_published) is not None
        assert session.get(OutboxMessage, never_published) is not None  # still to be sent
        assert session.get(ProcessedMessage, old_handled) is None
        assert session.get(ProcessedMessage, recent_handled) is not None


def test_messages_are_kept_longer_than_any_redelivery_can_take(intake: IntakeRuntime) -> None:
    assert DEFAULT_RETENTION.total_seconds() > LONGEST_REDELIVERY_SECONDS
    assert Settings.message_retention_hours * 3600 > LONGEST_REDELIVERY_SECONDS
    assert intake.messaging.retention.total_seconds() > LONGEST_REDELIVERY_SECONDS

    with pytest.raises(ValueError, match="longer than a redelivery"):
        Messaging(
            service="intake",
            db=intake.db,
            celery=intake.celery,
            clock=intake.clock,
            outbox=intake.messaging.outbox,
            processed=intake.messaging.processed,
            dead_letters=intake.messaging.dead_letters,
            retention=timedelta(seconds=LONGEST_REDELIVERY_SECONDS),
        )


def worker_tasks(service: str, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    """A service's runtime and every task its worker registers, on an embedded configuration."""
    runtime: Any = importlib.import_module(f"services.{service}.runtime").build(
        infra.settings_for(
            service,
            database_url=f"sqlite:///{tmp_path / service}.sqlite3",
            broker_url="filesystem://localhost/",
            var_dir=tmp_path,
        )
    )
    register_relay_task(runtime.messaging)
    importlib.import_module(f"services.{service}.tasks").register(runtime)
    if (Path(services.__file__).parent / service / "scheduled.py").exists():
        importlib.import_module(f"services.{service}.scheduled").register(runtime)
    tasks = {name: task for name, task in runtime.celery.tasks.items() if name.startswith(service)}
    return runtime, tasks


@pytest.mark.parametrize("service", SERVICES)
def test_no_task_waits_longer_than_the_visibility_timeout_allows(
    service: str, tmp_path: Path
) -> None:
    longest = max(COUNTDOWNS_SECONDS.values())
    runtime, tasks = worker_tasks(service, tmp_path)

    assert runtime.celery.conf.broker_transport_options["visibility_timeout"] == (
        VISIBILITY_TIMEOUT_SECONDS
    )
    assert longest + LONGEST_RUN_SECONDS <= VISIBILITY_TIMEOUT_SECONDS
    assert runtime.messaging.retry_backoff_max <= longest  # consumers' own retries
    assert runtime.messaging.retry_delay(50) <= longest
    for name, task in tasks.items():
        if getattr(task, "autoretry_for", ()):  # Celery's own retries
            assert task.retry_backoff_max <= longest, name
            assert task.default_retry_delay <= longest, name
    runtime.db.dispose()


def countdown_users() -> set[str]:
    """Files under services/ that pass a countdown or an eta to a task."""
    root = Path(services.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg in {"countdown", "eta"}:
                found.add(str(path.relative_to(root)))
    return found


def test_every_countdown_is_one_the_visibility_timeout_knows() -> None:
    # The only countdown is a consumer's retry, bounded by RETRY_BACKOFF_MAX_SECONDS. A new
    # one must be added to COUNTDOWNS_SECONDS (and checked here) so the timeout outlasts it.
    assert countdown_users() == {"common/messaging.py"}
