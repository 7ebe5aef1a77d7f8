"""Driving nominations through their workflow in tests: open one, act on it as staff."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.common.contracts import OPEN_NOMINATION, RECORD_REPORT_EVENT
from services.common.staff_auth import (
    Caller,
    Role,
    StaffMember,
    StationDirectory,
    issue,
    staff_secret,
)
from services.common.station import load_station
from services.rewards import create_app, service
from services.rewards.nominations.commands import Context, TransitionNomination
from services.rewards.nominations.models import Nomination
from services.rewards.runtime import RewardsRuntime
from tests import messages
from tests.factories import fresh_number, nomination
from tests.outbox import outbox_where

# One staff member of the demo station for each role.
STAFF_OF_ROLE = {
    "officer": "officer-mo",  # weicun-6…8: the factories' nominations are in weicun-7
    "leader": "leader-cheng",
    "desk": "desk-mediator",
    "verifier": "grid-wang",
    "reviewer": "reviewer-zhang",
    "approver": "approver-li",
    "finance": "finance-zhou",
    "ops": "ops-zhao",
}
REVIEWER = ("reviewer-zhang", "reviewer")
APPROVER = ("approver-li", "approver")
FINANCE = ("finance-zhou", "finance")
LEADER = ("leader-cheng", "leader")
# A station may give one person both roles; the four-eyes rule must still hold.
BOTH = StaffMember(
    id="reviewer-zhang", name="张审核", roles=frozenset({Role.REVIEWER, Role.APPROVER})
)


def caller(runtime: RewardsRuntime, staff_id: str, role: str) -> Caller:
    member = StationDirectory(load_station(runtime.settings.station_file)).lookup(staff_id)
    assert member is not None
    return Caller(member=member, role=Role(role))


def open_nomination(
    runtime: RewardsRuntime, kind: str = "brave_act", **overrides: Any
) -> uuid.UUID:
    """A new nomination from intake in weicun-7, with phones no other test uses."""
    body = nomination(
        kind,
        reporter={"name": "王师傅", "phone": fresh_number()[-11:]},
        nominee={"name": "张先生", "phone": fresh_number()[-11:]},
        **overrides,
    )
    message = messages.received(OPEN_NOMINATION, messages.report(body))

    def handler(session: Any, msg: dict[str, Any]) -> None:
        service.open_nomination(
            session,
            report=msg,
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )

    assert runtime.messaging.handle_once(OPEN_NOMINATION, message, handler, claim_at_commit=True)
    with runtime.db.sessions() as session:
        found = session.scalar(
            select(Nomination.id).where(Nomination.report_id == message["report_id"])
        )
    assert found is not None
    return found


def act(
    runtime: RewardsRuntime,
    nomination_id: uuid.UUID,
    action: str,
    *,
    by: tuple[str, str] | Caller | None = REVIEWER,
    **fields: Any,
) -> Nomination:
    """Take one step as `by` (staff id and role, or a caller); None is the deadline sweep."""
    who = caller(runtime, *by) if isinstance(by, tuple) else by
    ctx = Context(
        messaging=runtime.messaging,
        rules=runtime.rules,
        now=runtime.clock.now(),
        payouts=runtime.payouts,
    )
    with runtime.messaging.transaction() as session:
        command = TransitionNomination(
            nomination_id=nomination_id, caller=who, action=action, fields=fields
        )
        command.run(session, ctx)
    return load(runtime, nomination_id)


def load(runtime: RewardsRuntime, nomination_id: uuid.UUID) -> Nomination:
    with runtime.db.sessions() as session:
        found = session.scalar(
            select(Nomination)
            .where(Nomination.id == nomination_id)
            .options(selectinload(Nomination.history), selectinload(Nomination.objections))
        )
        assert found is not None
        session.expunge(found)
        return found


def approved_brave_act(runtime: RewardsRuntime, tier: str = "merit") -> uuid.UUID:
    """A brave act reviewed, not noticed (the actor's safety) and approved."""
    nomination_id = open_nomination(runtime)
    act(runtime, nomination_id, "review", recommend=True, tier=tier, reason="witnesses agree")
    act(runtime, nomination_id, "skip_notice", reason="the actor fears reprisal")
    act(runtime, nomination_id, "approve", by=APPROVER)
    return nomination_id


def partner_events(runtime: RewardsRuntime, report_id: uuid.UUID | None) -> list[str]:
    """The timeline events rewards sent intake about a report (SMS carry the id too)."""
    return [
        str(message["event"])
        for task, message in outbox_where(runtime, "report_id", equals=str(report_id))
        if task == RECORD_REPORT_EVENT.task
    ]


def client_for(runtime: RewardsRuntime) -> FlaskClient:
    app = create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    app.extensions["fengqiao"] = runtime
    return app.test_client()


def headers(runtime: RewardsRuntime, staff_id: str, role: str) -> dict[str, str]:
    secret = staff_secret(runtime.settings.var_dir)
    token = issue(
        secret, staff_id=staff_id, role=role, now=runtime.clock.now(), valid_for=timedelta(days=1)
    )
    return {"Authorization": f"Bearer {token}"}


def as_role(runtime: RewardsRuntime, role: str) -> dict[str, str]:
    return headers(runtime, STAFF_OF_ROLE[role], role)
