"""What a nomination's step tells others: the partner's timeline (intake) and SMS (notify).

Both go to the outbox inside the transaction of the step. The partner reads statuses,
villages and dates, never a name, a phone or an amount. The nominee and the nominator
hear of every step; only the recipient of an award is told its amount.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import TimelineEvent
from services.common.messaging import Messaging
from services.common.station import Station
from services.rewards import flows as rewards_flows
from services.rewards.nominations.models import Nomination

AWARD_WORDS = {"brave_act": "见义勇为", "good_deed": "魏村好人"}
AWARD_NAMES = {"brave_act": "brave-act award", "good_deed": "good-neighbour honour"}


def tell_partner(
    session: Session,
    messaging: Messaging,
    *,
    nomination: Nomination,
    event: TimelineEvent,
    detail: str,
    now: datetime,
) -> None:
    """Add a step to the report's timeline at intake (staff nominations have no report)."""
    if nomination.report_id is not None:
        rewards_flows.tell_partner(
            session, messaging, report_id=nomination.report_id, event=event, detail=detail, now=now
        )


def send_sms(
    session: Session,
    messaging: Messaging,
    *,
    nomination: Nomination,
    key: str,
    recipient: str | None,
    template: str,
    params: dict[str, Any],
    urgent: bool = False,
) -> None:
    """Ask notify for one SMS about `nomination`; `key` makes it happen at most once."""
    rewards_flows.send_sms(
        session,
        messaging,
        key=key,
        recipient=recipient,
        template=template,
        params={
            "tracking_code": nomination.tracking_code,
            "award": AWARD_WORDS[nomination.kind],
            **params,
        },
        report_id=None,  # the partner's timeline has each step already, not each SMS
        test=nomination.test,
        urgent=urgent,
    )


def tell_people(
    session: Session,
    messaging: Messaging,
    *,
    nomination: Nomination,
    key: str,
    step: str,
    besides: str | None = None,
) -> None:
    """The nominee and the nominator (but `besides`) hear of a step, each once per key."""
    for phone in people_phones(nomination):
        if phone == besides:
            continue
        send_sms(
            session,
            messaging,
            nomination=nomination,
            key=key,
            recipient=phone,
            template="nomination_step",
            params={"step": step},
        )


def people_phones(nomination: Nomination) -> list[str]:
    """The nominee's and the nominator's phones, once each."""
    phones = [nomination.nominee.get("phone"), nomination.nominator.get("phone")]
    return list(dict.fromkeys(str(p) for p in phones if p))


def leader_phones(station: Station) -> list[str]:
    """The phones of the station's leaders (带班领导), who answer for late decisions."""
    return [
        str(entry["phone"])
        for entry in station.section("staff")
        if "leader" in entry.get("roles", []) and entry.get("phone")
    ]
