"""The morning digest: open, due today and overdue cases per owner, once per station day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.common.clock import STATION_TZ, FrozenClock
from services.mediation.cases.digests import send_digests
from services.mediation.models import Case
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, open_case
from tests.outbox import outbox_where


def test_each_owner_hears_the_counts_of_their_cases_once_a_day(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=4000))  # a day of this test's own
    late, _ = open_case(mediation), open_case(mediation)
    act(mediation, late, "reassign", by=("leader-cheng", "leader"), officer="officer-mo")
    clock.advance(timedelta(hours=25))  # both past acceptance
    with mediation.db.sessions() as session:
        mine = session.scalars(
            select(Case).where(
                Case.owner_id == "officer-mo",
                Case.status.not_in(["declined", "closed"]),
                Case.test.is_(False),
            )
        ).all()
    expected_open = len(mine)
    expected_overdue = sum(1 for c in mine if c.due_at and c.due_at < clock.now())

    send_digests(mediation)
    send_digests(mediation)

    rows = outbox_where(mediation, "recipient", equals="+8613951900013")  # 莫警官
    digests = [body for _, body in rows if body["template"] == "officer_digest"]
    keys = {body["idempotency_key"] for body in digests}
    day = clock.now().astimezone(STATION_TZ).date().isoformat()
    assert keys == {f"digest:officer-mo:{day}"}
    assert digests[-1]["params"]["open"] == expected_open
    assert digests[-1]["params"]["overdue"] == expected_overdue >= 1
