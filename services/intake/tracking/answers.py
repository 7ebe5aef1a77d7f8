"""Answer a resident who asked by SMS reply (CX or a 查询码) where his report stands.

Notify hands the question over; the answer is an SMS asked of notify like any other, so it
waits out quiet hours (unless the station makes these answers urgent), keeps to the
number's limits and is never sent to a number that opted out. Its idempotency key is the
reply's: the same reply pushed twice is answered once.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import SEND_SMS, StatusQuestion
from services.common.phones import mask_phone
from services.intake.models import Report
from services.intake.runtime import IntakeRuntime
from services.intake.tracking import service
from services.intake.tracking.texts import STATUS_TEXTS

log = logging.getLogger(__name__)

# A question that reaches intake this late (it waited with the dead letters, say) is left
# unanswered: a status a day old would answer a question the resident no longer has.
STALE_AFTER = timedelta(days=1)


def _asked_about(session: Session, message: dict[str, Any]) -> Report | None:
    """The report the sender asked about: his latest, or the one he named if it is his."""
    reports = service.reports_of(session, phone=message["sender"])
    if message["question"] == StatusQuestion.BY_CODE:
        return next((r for r in reports if r.tracking_code == message["tracking_code"]), None)
    return reports[0] if reports else None


def status_sms(report: Report | None) -> tuple[str, dict[str, str]]:
    """The template and parameters of the answer."""
    if report is None:
        return "report_status_unknown", {}
    view = service.resident_view(report)
    step = view["next_step"]
    return "report_status", {
        "tracking_code": report.tracking_code,
        "status": STATUS_TEXTS.get(report.status, view["status_text"]),
        "next_step": f"下一步：{step['text']}" if step else "",
    }


def answer(session: Session, *, runtime: IntakeRuntime, message: dict[str, Any]) -> bool:
    """Queue the answer to one question, in the caller's transaction; False if none is due."""
    sender, now = message["sender"], runtime.clock.now()
    masked = mask_phone(sender)  # the number is matched, never logged in full
    if now - message["asked_at"] > STALE_AFTER:
        log.info(
            "status question from %s left unanswered: asked at %s", masked, message["asked_at"]
        )
        return False
    subject = "status-answers:" + hashlib.sha256(sender.encode()).hexdigest()[:32]
    if not runtime.status_answer_limiter.hit(subject, now).allowed:
        log.info(
            "status question from %s left unanswered: over %s",
            masked,
            runtime.rules.status_answer_limit,
        )
        return False
    report = _asked_about(session, message)
    template, params = status_sms(report)
    runtime.messaging.publish(
        session,
        SEND_SMS,
        {
            "idempotency_key": f"status-answer:{message['reply_key']}",
            "recipient": sender,
            "template": template,
            "params": params,
            "priority": "urgent" if runtime.rules.status_answers_urgent else "normal",
            # Not linked to the report: an answer is not a step of it, nor of its timeline.
            "report_id": None,
            "test": False,
        },
    )
    log.info(
        "status question from %s answered: %s",
        masked,
        report.tracking_code if report is not None else "no report of this number",
    )
    return True
