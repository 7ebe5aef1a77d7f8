"""Rows for the staff transitions to act on, made through the services' own code.

Each case is opened by mediation's `open_case` and each hazard claim by rewards'
`open_hazard_claim`, from a report in the shape intake hands over (through the message
contract's schema), as their consumers do: every column, the owner, the due date, the
history row and the outbox message are the services' own. The transactions are the
services' `Messaging.transaction`, so those messages are relayed to the broker at once.

The staff who act are the demo station's: the officer of weicun-3 accepts its cases, the
grid officer verifies the claims; `token()` signs them a staff token as
`fengqiao staff token` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.config import SCHEDULER, load_settings
from services.common.contracts import OPEN_CASE, OPEN_HAZARD_CLAIM, Contract
from services.common.staff_auth import issue, staff_secret

ACCEPTING_OFFICER = ("officer-guo", "officer")  # owns weicun-3, where the cases are
VERIFIER = ("grid-wang", "verifier")
CASE_VILLAGE = "weicun-3"
ACCEPT = {"action": "accept", "risk_grade": "B"}
VERIFY = {"action": "verify", "confirmed": True, "severity": "medium"}
BATCH = 100  # rows per transaction while seeding
TOKEN_DAYS = 1


def token(staff_id: str, role: str) -> str:
    """A staff token for `staff_id` acting as `role`, with the station's secret."""
    secret = staff_secret(load_settings(SCHEDULER).var_dir)
    return issue(
        secret,
        staff_id=staff_id,
        role=role,
        now=datetime.now(UTC),
        valid_for=timedelta(days=TOKEN_DAYS),
    )


def _phone(kind: int, i: int) -> str:
    """A mobile number of its own for row `i`: no rebound, no monthly cap is shared."""
    return f"+8613{kind}{i:08d}"


def _received(contract: Contract, report: dict[str, Any]) -> dict[str, Any]:
    """`report` as its consumer receives it: through the contract's schema both ways."""
    now = datetime.now(UTC)
    envelope = {"message_id": uuid.uuid4(), "version": contract.version, "sent_at": now}
    return contract.load(contract.dump({**envelope, **report}))


def _report(i: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "report_id": uuid.uuid4(),
        "tracking_code": f"WB{i:08d}",
        "kind": kind,
        "occurred_at": datetime.now(UTC) - timedelta(hours=2),
        **fields,
    }


def dispute_report(i: int) -> dict[str, Any]:
    """The i-th dispute: in weicun-3, its reporter and parties on numbers of their own."""
    return _received(
        OPEN_CASE,
        _report(
            i,
            "dispute",
            summary="Neighbours disagree over a shared drain",
            details="Water from one yard runs into the other.",
            location={"village": CASE_VILLAGE, "address": f"三组 {i}号"},
            reporter={"name": "陈先生", "phone": _phone(5, i)},
            parties=[
                {"name": "陈大哥", "phone": _phone(6, i), "role": "claimant"},
                {"name": "陈二弟", "phone": _phone(7, i), "role": "respondent"},
            ],
        ),
    )


def hazard_report(i: int) -> dict[str, Any]:
    """The i-th hazard, at an address and from a reporter of its own."""
    return _received(
        OPEN_HAZARD_CLAIM,
        _report(
            i,
            "hazard",
            summary="Sagging wires in a rental house",
            location={"village": "weicun-5", "address": f"五组出租屋 {i}号"},
            reporter={"name": "王小明", "phone": _phone(8, i)},
            hazard={"category": "wiring", "severity": "medium"},
        ),
    )


def _seed(
    count: int, transaction: Callable[[], Any], open_one: Callable[[Any, int], uuid.UUID]
) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for start in range(0, count, BATCH):
        with transaction() as session:
            ids += [open_one(session, i) for i in range(start, min(start + BATCH, count))]
    return ids


def open_cases(count: int) -> list[uuid.UUID]:
    """`count` new cases awaiting acceptance, opened by mediation's own `open_case`."""
    from services.mediation import runtime as mediation_runtime
    from services.mediation import service

    rt = mediation_runtime.build()

    def open_one(session: Any, i: int) -> uuid.UUID:
        case = service.open_case(
            session,
            report=dispute_report(i),
            messaging=rt.messaging,
            rules=rt.rules,
            now=rt.clock.now(),
        )
        return case.id

    try:
        return _seed(count, rt.messaging.transaction, open_one)
    finally:
        rt.db.dispose()


def open_claims(count: int) -> list[uuid.UUID]:
    """`count` new hazard claims awaiting verification, opened by rewards' own code."""
    from services.rewards import runtime as rewards_runtime
    from services.rewards import service

    rt = rewards_runtime.build()

    def open_one(session: Any, i: int) -> uuid.UUID:
        claim = service.open_hazard_claim(
            session, report=hazard_report(i), messaging=rt.messaging, now=rt.clock.now()
        )
        return claim.id

    try:
        return _seed(count, rt.messaging.transaction, open_one)
    finally:
        rt.db.dispose()
