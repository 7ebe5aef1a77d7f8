"""Every timeline event and status has a Chinese sentence a resident may read."""

from __future__ import annotations

import re

from services.common.contracts import TimelineEvent
from services.intake.schemas import STATUSES
from services.intake.service import STATUS_BY_EVENT, IntakeEvent
from services.intake.tracking.texts import EVENT_TEXTS, NEXT_STEPS, STATUS_TEXTS

_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_FOR_RESIDENTS = re.compile(r"[A-Za-z【】]")  # no codes, names of staff ids, signatures


def test_every_event_has_a_resident_sentence() -> None:
    events = {e.value for e in TimelineEvent} | {e.value for e in IntakeEvent}

    assert events - EVENT_TEXTS.keys() == set()
    assert EVENT_TEXTS.keys() - events == set()  # and no sentence for an event nobody sends


def test_every_sentence_is_chinese_and_plain() -> None:
    texts = [t.text for t in EVENT_TEXTS.values()] + list(STATUS_TEXTS.values())
    texts += list(NEXT_STEPS.values())

    assert all(_CJK.search(text) and not _NOT_FOR_RESIDENTS.search(text) for text in texts)


def test_every_status_has_a_text() -> None:
    assert set(STATUS_TEXTS) == set(STATUSES)


def test_every_event_that_moves_a_status_is_shown() -> None:
    hidden = {event for event, text in EVENT_TEXTS.items() if not text.shown}

    assert hidden & set(STATUS_BY_EVENT) == set()
    assert set(NEXT_STEPS) <= {event for event, text in EVENT_TEXTS.items() if text.shown}
