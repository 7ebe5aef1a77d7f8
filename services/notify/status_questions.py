"""What a resident's reply asks for: to stop messages (TD), the status of a report, or nothing.

A question is handed to intake, which knows the reports and answers with an SMS of its own;
notify never reads reports. A number on the opt-out list asks nothing: it gets no answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import tracking_codes
from services.common.contracts import ANSWER_STATUS_QUERY, StatusQuestion
from services.common.messaging import Messaging
from services.common.phones import mask_phone
from services.notify import optouts
from services.notify.models import InboundSms

log = logging.getLogger(__name__)

# 查询 (CX) alone asks for the latest report; a 查询码, with CX or 查询 before it or not,
# asks for that one.
STATUS_WORDS = frozenset({"CX", "查询", "查询进度", "查进度"})
_ASKING_PREFIX = re.compile(r"^(?:CX|查询)[:：]?")


@dataclass(frozen=True)
class Question:
    question: StatusQuestion
    tracking_code: str | None = None


def question_in(text: str) -> Question | None:
    """The status question a reply asks, or None if it asks none."""
    compact = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    if compact in STATUS_WORDS:
        return Question(StatusQuestion.LATEST)
    code = tracking_codes.normalise(_ASKING_PREFIX.sub("", compact))
    return Question(StatusQuestion.BY_CODE, code) if code is not None else None


def reply_key(*, provider: str, sender: str, text: str, at: datetime) -> str:
    """The same for a reply a provider pushes again, so it is answered once."""
    return hashlib.sha256(f"{provider}|{sender}|{at.isoformat()}|{text}".encode()).hexdigest()


def seen_before(session: Session, *, provider: str, sender: str, text: str, at: datetime) -> bool:
    """Whether this reply was recorded already (the provider pushed it again)."""
    return (
        session.scalar(
            select(InboundSms.id).where(
                InboundSms.provider == provider,
                InboundSms.sender == sender,
                InboundSms.received_at == at,
                InboundSms.text == text,
            )
        )
        is not None
    )


def ask_intake(
    session: Session,
    *,
    messaging: Messaging,
    provider: str,
    sender: str,
    text: str,
    at: datetime,
) -> bool:
    """Hand a status question to intake, in the caller's transaction; False if none asked."""
    question = question_in(text)
    if question is None:
        return False
    if optouts.opted_out(session, sender):
        log.info("status question from %s ignored: the number opted out", mask_phone(sender))
        return False
    messaging.publish(
        session,
        ANSWER_STATUS_QUERY,
        {
            "reply_key": reply_key(provider=provider, sender=sender, text=text, at=at),
            "sender": sender,
            "question": question.question,
            "tracking_code": question.tracking_code,
            "asked_at": at,
        },
    )
    log.info("status question from %s handed to intake", mask_phone(sender))
    return True
