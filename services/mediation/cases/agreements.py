"""调解协议书: the agreement a resolved session records, and its reminders to the parties.

The parties may jointly apply to the court for judicial confirmation (司法确认) within
the confirmation window (30 days); they are reminded once before it closes, and, if the
station wants (`MEDIATION_PERFORM_REMINDER_DAYS` > 0), once before the deadline to
perform. Each reminder's time is stored with the agreement and marked sent in the
transaction that asks notify for it, so it goes once; notify holds it over quiet hours.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.common.clock import STATION_TZ
from services.mediation.cases import flows
from services.mediation.models import Agreement, Case
from services.mediation.rules import MediationRules
from services.mediation.runtime import MediationRuntime

BATCH = 200


def record(
    session: Session, case: Case, *, fields: dict[str, Any], rules: MediationRules, now: datetime
) -> Agreement:
    """Store the agreement of `case` with the times of its reminders."""
    confirm_by = now + rules.confirmation_window
    perform_by = fields["perform_by"]
    perform_reminder_at = None
    if rules.perform_reminder_before is not None:
        deadline = datetime.combine(perform_by, time(9), tzinfo=STATION_TZ)
        perform_reminder_at = max(now, deadline - rules.perform_reminder_before)
    agreement = Agreement(
        case_id=case.id,
        parties=fields.get("parties") or [p.name for p in case.parties],
        facts=fields["facts"],
        terms=fields["terms"],
        perform_by=perform_by,
        made_at=now,
        confirm_by=confirm_by,
        confirm_reminder_at=max(now, confirm_by - rules.confirmation_reminder_before),
        perform_reminder_at=perform_reminder_at,
    )
    session.merge(agreement)  # a rebound case resolved again replaces its agreement
    return agreement


def remind_agreements(runtime: MediationRuntime) -> int:
    """Send every agreement reminder whose time has come; returns how many were sent."""
    now = runtime.clock.now()
    sent = 0
    with runtime.messaging.transaction() as session:
        due = session.scalars(
            select(Agreement)
            .where(
                or_(
                    (Agreement.confirm_reminder_at <= now)
                    & Agreement.confirm_reminded_at.is_(None),
                    (Agreement.perform_reminder_at <= now)
                    & Agreement.perform_reminded_at.is_(None),
                )
            )
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for agreement in due:
            sent += _remind(session, runtime, agreement, now)
    return sent


def _remind(
    session: Session, runtime: MediationRuntime, agreement: Agreement, now: datetime
) -> int:
    case = session.get_one(Case, agreement.case_id)
    sent = 0
    if agreement.confirm_reminded_at is None and _due(agreement.confirm_reminder_at, now):
        agreement.confirm_reminded_at = now
        if now < agreement.confirm_by:  # a reminder after the window would mislead
            confirm_by = agreement.confirm_by.astimezone(STATION_TZ).date().isoformat()
            _tell_parties(session, runtime, case, "judicial_confirmation_reminder", confirm_by)
            sent += 1
    if agreement.perform_reminded_at is None and _due(agreement.perform_reminder_at, now):
        agreement.perform_reminded_at = now
        if now.astimezone(STATION_TZ).date() <= agreement.perform_by:
            _tell_parties(
                session,
                runtime,
                case,
                "agreement_perform_reminder",
                agreement.perform_by.isoformat(),
            )
            sent += 1
    return sent


def _due(at: datetime | None, now: datetime) -> bool:
    return at is not None and at <= now


def _tell_parties(
    session: Session, runtime: MediationRuntime, case: Case, template: str, by: str
) -> None:
    for phone in flows.parties_phones(case):
        flows.send_sms(
            session,
            runtime.messaging,
            case=case,
            key=f"{template}:{case.id}",
            recipient=phone,
            template=template,
            params={"by": by},
        )
