"""Data of a desk test's own: a desk copying a seeded desk's hours, cases to book."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from services.mediation.desks import service as desks
from services.mediation.desks.models import CalendarDay
from services.mediation.models import Case
from services.mediation.runtime import MediationRuntime
from tests.conftest import NOW


def desk_like(runtime: MediationRuntime, code: str) -> str:
    """A new desk with the hours of the seeded desk `code`, so no other test books at it."""
    with runtime.db.transaction() as session:
        seeded = desks.get_desk(session, code)
        fields = {name: getattr(seeded, name) for name in desks.HOURS_FIELDS}
        own = f"{code}-{secrets.token_hex(4)}"
        desks.save_desk(session, code=own, changes={"name": seeded.name, **fields})
    return own


def new_case(runtime: MediationRuntime) -> uuid.UUID:
    """A case to book sessions for."""
    with runtime.db.transaction() as session:
        case = Case(
            id=uuid.uuid4(),
            report_id=uuid.uuid4(),
            tracking_code="WC" + secrets.token_hex(4).upper(),
            village="weicun-3",
            owner_id="officer-guo",
            status="local_mediation",
            summary="A boundary dispute",
            occurred_at=NOW,
            reporter={"name": "陈先生", "phone": "+8613800138000"},
            due_at=NOW,
            due_kind="local_mediation",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(case)
    return case.id


@contextmanager
def loaded_days(runtime: MediationRuntime, days: dict[date, bool]) -> Iterator[None]:
    """Dates loaded for one test (date → working), forgotten afterwards."""
    with runtime.db.transaction() as session:
        desks.load_calendar_days(
            session, days=[{"date": day, "working": working} for day, working in days.items()]
        )
    try:
        yield
    finally:
        with runtime.db.transaction() as session:
            for day in days:
                if session.get(CalendarDay, day) is not None:
                    desks.remove_calendar_day(session, day=day)
