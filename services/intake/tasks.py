"""Intake's Celery tasks: thin wrappers that hand each message to `service.py`."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import ANSWER_STATUS_QUERY, RECORD_REPORT_EVENT
from services.intake import service
from services.intake.callbacks import tasks as callback_tasks
from services.intake.runtime import IntakeRuntime
from services.intake.tracking import answers

log = logging.getLogger(__name__)


def register(runtime: IntakeRuntime) -> None:
    """Register intake's consumers, and its own callback delivery task, on its Celery app."""
    callback_tasks.register(runtime)

    # Claimed at the commit: every effect of these is in the transaction, and a twin of the
    # same event or report meets the first at its row's unique key (record 0037).
    @runtime.messaging.consumer(RECORD_REPORT_EVENT, claim_at_commit=True)
    def record_report_event(session: Session, message: dict[str, Any]) -> None:
        """Add another service's event to a report's timeline."""
        if not service.record_event(
            session, message=message, now=runtime.clock.now(), messaging=runtime.messaging
        ):
            log.warning("event %s names unknown report %s", message["event"], message["report_id"])

    @runtime.messaging.consumer(ANSWER_STATUS_QUERY)
    def answer_status_query(session: Session, message: dict[str, Any]) -> None:
        """Answer a resident's SMS question about his report, by SMS."""
        answers.answer(session, runtime=runtime, message=message)
