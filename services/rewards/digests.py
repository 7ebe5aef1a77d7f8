"""The rewards digest: verifiers, reviewers and approvers hear by SMS what waits for them.

The station file names the staff and their phones. A digest goes to a member only when
something waits for one of their roles, at most once per `REWARDS_DIGEST_INTERVAL_HOURS`:
the SMS key names the interval's window, so a beat firing every few minutes (or twice)
sends each member one digest per window.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from services.common.contracts import SEND_SMS
from services.common.phones import normalise_mobile
from services.common.staff_auth import Role
from services.common.station import load_station
from services.rewards.claims.models import HazardClaim
from services.rewards.claims.workflow import ClaimStatus
from services.rewards.nominations.models import Nomination
from services.rewards.nominations.workflow import NominationStatus
from services.rewards.runtime import RewardsRuntime

# What waits for each role, as the digest's params name it.
WAITING_FOR = {
    Role.VERIFIER: "to_verify",  # hazard claims awaiting verification
    Role.REVIEWER: "to_review",  # nominations submitted, or reviewed and awaiting the notice
    Role.APPROVER: "to_approve",  # nominations awaiting approval
}


def waiting(runtime: RewardsRuntime) -> Counter[str]:
    """How many claims and nominations (test ones left out) wait at each step."""
    with runtime.db.sessions() as session:
        claims = session.scalar(
            select(func.count()).where(
                HazardClaim.status == ClaimStatus.AWAITING_VERIFICATION, ~HazardClaim.test
            )
        )
        nominations = dict(
            session.execute(
                select(Nomination.status, func.count())
                .where(~Nomination.test)
                .group_by(Nomination.status)
            ).all()
        )
    return Counter(
        to_verify=int(claims or 0),
        to_review=int(
            nominations.get(NominationStatus.SUBMITTED, 0)
            + nominations.get(NominationStatus.UNDER_REVIEW, 0)
        ),
        to_approve=int(nominations.get(NominationStatus.AWAITING_APPROVAL, 0)),
    )


def send_digests(runtime: RewardsRuntime) -> int:
    """One SMS per staff member something waits for, once per window; how many were asked."""
    now = runtime.clock.now()
    window = int(now.timestamp() // runtime.rules.digest_interval.total_seconds())
    counts = waiting(runtime)
    sent = 0
    with runtime.messaging.transaction() as session:
        for member in load_station(runtime.settings.station_file).section("staff"):
            roles = {Role(r) for r in member.get("roles", [])} & set(WAITING_FOR)
            if not member.get("phone") or not any(counts[WAITING_FOR[r]] for r in roles):
                continue
            runtime.messaging.publish(
                session,
                SEND_SMS,
                {
                    "idempotency_key": f"rewards-digest:{member['id']}:{window}",
                    "recipient": normalise_mobile(member["phone"]),
                    "template": "rewards_digest",
                    "params": {
                        name: counts[name] if role in roles else 0
                        for role, name in WAITING_FOR.items()
                    },
                    "priority": "normal",
                    "report_id": None,
                    "test": False,
                },
            )
            sent += 1
    return sent
