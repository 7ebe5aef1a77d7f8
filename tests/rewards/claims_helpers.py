"""Driving hazard claims through their workflow in tests: open one, act on it as staff."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from services.common.contracts import OPEN_HAZARD_CLAIM
from services.common.staff_auth import Caller, Role, StationDirectory, issue, staff_secret
from services.common.station import load_station
from services.rewards import create_app, service
from services.rewards.claims.commands import Context, TransitionClaim
from services.rewards.claims.models import HazardClaim
from services.rewards.runtime import RewardsRuntime
from tests import messages
from tests.factories import fresh_number, hazard

# One staff member of the demo station for each role.
STAFF_OF_ROLE = {
    "officer": "officer-guo",
    "leader": "leader-cheng",
    "desk": "desk-mediator",
    "verifier": "grid-wang",
    "reviewer": "reviewer-zhang",
    "approver": "approver-li",
    "finance": "finance-zhou",
    "ops": "ops-zhao",
}


def caller(runtime: RewardsRuntime, role: str) -> Caller:
    member = StationDirectory(load_station(runtime.settings.station_file)).lookup(
        STAFF_OF_ROLE[role]
    )
    assert member is not None
    return Caller(member=member, role=Role(role))


def open_claim(
    runtime: RewardsRuntime,
    *,
    phone: str | None = None,
    test: bool = False,
    report_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new hazard claim by `phone` (a number of its own unless given)."""
    body = hazard(reporter={"name": "王小明", "phone": phone or fresh_number()})
    extra: dict[str, Any] = {"test": test}
    if report_id is not None:
        extra["report_id"] = report_id
    message = messages.received(OPEN_HAZARD_CLAIM, messages.report(body, **extra))
    assert runtime.messaging.handle_once(
        OPEN_HAZARD_CLAIM,
        message,
        lambda session, msg: service.open_hazard_claim(
            session, report=msg, messaging=runtime.messaging, now=runtime.clock.now()
        ),
        claim_at_commit=True,
    )
    with runtime.db.sessions() as session:
        claim_id = session.scalar(
            select(HazardClaim.id).where(HazardClaim.report_id == message["report_id"])
        )
    assert claim_id is not None
    return claim_id


def context(runtime: RewardsRuntime) -> Context:
    return Context(
        messaging=runtime.messaging,
        rules=runtime.rules,
        payouts=runtime.payouts,
        now=runtime.clock.now(),
    )


def act(
    runtime: RewardsRuntime,
    claim_id: uuid.UUID,
    action: str,
    *,
    by: str | Caller,
    **fields: Any,
) -> HazardClaim:
    """Take one step on a claim in the role `by` (that role's demo staff member) or as `by`."""
    who = by if isinstance(by, Caller) else caller(runtime, by)
    with runtime.db.transaction() as session:  # outbox rows stay for the assertions
        claim = TransitionClaim(claim_id=claim_id, caller=who, action=action, fields=fields).run(
            session, context(runtime)
        )
        _ = claim.history
        return claim


def verify(
    runtime: RewardsRuntime,
    claim_id: uuid.UUID,
    severity: str = "medium",
    *,
    by: str | Caller = "verifier",
) -> HazardClaim:
    return act(runtime, claim_id, "verify", by=by, confirmed=True, severity=severity)


def load(runtime: RewardsRuntime, claim_id: uuid.UUID) -> HazardClaim:
    with runtime.db.sessions() as session:
        claim = session.get_one(HazardClaim, claim_id)
        _ = claim.history
        return claim


def client_for(runtime: RewardsRuntime) -> FlaskClient:
    app = create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    app.extensions["fengqiao"] = runtime
    return app.test_client()


def as_role(runtime: RewardsRuntime, role: str) -> dict[str, str]:
    secret = staff_secret(runtime.settings.var_dir)
    token = issue(
        secret,
        staff_id=STAFF_OF_ROLE[role],
        role=role,
        now=runtime.clock.now(),
        valid_for=timedelta(days=1),
    )
    return {"Authorization": f"Bearer {token}"}
