"""The morning digest: open, due today and overdue cases per owner, once per station day."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from sqlalchemy import select

from services.common.clock import STATION_TZ, FrozenClock
from services.mediation.cases.digests import send_case_digests, send_digests
from services.mediation.models import Case, Staff, Village
from services.mediation.runtime import MediationRuntime
from tests.factories import fresh_number
from tests.mediation.cases_helpers import act, load, open_case
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


def _officer_with_villages(mediation: MediationRuntime, *names: str) -> tuple[str, str, list[str]]:
    """A new officer (id, phone) owning one new village per name: cases no other test has."""
    officer, phone = f"officer-{uuid.uuid4().hex[:8]}", fresh_number()
    codes = [f"v-{uuid.uuid4().hex[:8]}" for _ in names]
    with mediation.db.transaction() as session:
        session.add(Staff(id=officer, name="测警官", phone=phone, roles=["officer"]))
        session.flush()
        session.add_all(
            Village(code=code, name=name, officer_id=officer)
            for code, name in zip(codes, names, strict=True)
        )
    return officer, phone, codes


def _digests_to(mediation: MediationRuntime, phone: str) -> list[dict[str, object]]:
    rows = outbox_where(mediation, "recipient", equals=phone)
    return [body["params"] for _, body in rows if body["template"] == "cases_digest"]


def test_new_cases_reach_their_officer_in_one_sms_per_interval(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    officer, phone, (ninth, tenth) = _officer_with_villages(mediation, "魏村九组", "魏村十组")
    first = [open_case(mediation, location={"village": v}) for v in (ninth, ninth, ninth, tenth)]

    send_case_digests(mediation)
    send_case_digests(mediation)
    assert _digests_to(mediation, phone) == [
        {"new": 4, "villages": "魏村九组3件、魏村十组1件", "overdue": 0}
    ]
    assert all(load(mediation, c).announced_at == clock.now() for c in first)

    clock.advance(timedelta(minutes=1))
    later = [open_case(mediation, location={"village": tenth}) for _ in range(2)]
    send_case_digests(mediation)
    assert len(_digests_to(mediation, phone)) == 1  # within the interval: they wait
    assert all(load(mediation, c).announced_at is None for c in later)

    clock.advance(mediation.rules.digest_interval)
    send_case_digests(mediation)
    assert _digests_to(mediation, phone)[-1] == {"new": 2, "villages": "魏村十组2件", "overdue": 0}

    clock.advance(timedelta(hours=25))  # all six past acceptance (no sweep here)
    open_case(mediation, location={"village": ninth})
    send_case_digests(mediation)
    assert _digests_to(mediation, phone)[-1] == {"new": 1, "villages": "魏村九组1件", "overdue": 6}
    assert len(_digests_to(mediation, phone)) == 3
    with mediation.db.sessions() as session:
        assert session.get_one(Staff, officer).case_digest_at == clock.now()


def test_two_digest_runs_at_once_send_one_sms(mediation: MediationRuntime) -> None:
    _, phone, (village,) = _officer_with_villages(mediation, "魏村十一组")
    for _ in range(5):
        open_case(mediation, location={"village": village})
    barrier = threading.Barrier(2)
    sent: list[object] = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            sent[i] = send_case_digests(mediation)
        except BaseException as error:
            sent[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(n, int) for n in sent), sent
    assert _digests_to(mediation, phone) == [{"new": 5, "villages": "魏村十一组5件", "overdue": 0}]
