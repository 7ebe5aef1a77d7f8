"""Mediation's periodic jobs: run by mediation workers, sent by the one beat."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from services.mediation.cases import agreements, digests, reminders, retention
from services.mediation.cases import scheduled as cases
from services.mediation.runtime import MediationRuntime

SWEEP_DEADLINES = "mediation.sweep_deadlines"
REMIND_SESSIONS = "mediation.remind_sessions"
REMIND_FOLLOW_UPS = "mediation.remind_follow_ups"
SEND_DIGESTS = "mediation.send_digests"
SEND_CASE_DIGESTS = "mediation.send_case_digests"
REMIND_AGREEMENTS = "mediation.remind_agreements"
ERASE_EXPIRED = "mediation.erase_expired_personal_data"

SCHEDULE: dict[str, dict[str, Any]] = {
    SWEEP_DEADLINES: {
        "task": SWEEP_DEADLINES,
        "schedule": 60.0,
        "options": {"expires": 120.0},
    },
    REMIND_SESSIONS: {
        "task": REMIND_SESSIONS,
        "schedule": 60.0,
        "options": {"expires": 120.0},
    },
    REMIND_FOLLOW_UPS: {
        "task": REMIND_FOLLOW_UPS,
        "schedule": 300.0,
        "options": {"expires": 600.0},
    },
    SEND_CASE_DIGESTS: {
        "task": SEND_CASE_DIGESTS,
        "schedule": 60.0,
        "options": {"expires": 120.0},
    },
    REMIND_AGREEMENTS: {
        "task": REMIND_AGREEMENTS,
        "schedule": 300.0,
        "options": {"expires": 600.0},
    },
    SEND_DIGESTS: {
        "task": SEND_DIGESTS,
        "schedule": crontab(hour=0, minute=30),  # 08:30 at the station (UTC+8, no DST)
        "options": {"expires": 3600.0},
    },
    ERASE_EXPIRED: {
        "task": ERASE_EXPIRED,
        "schedule": crontab(hour=19, minute=0),  # 03:00 at the station, a quiet hour
        "options": {"expires": 3600.0},
    },
}


def register(runtime: MediationRuntime) -> None:
    """Register mediation's periodic tasks on its Celery app."""

    @runtime.celery.task(name=SWEEP_DEADLINES, shared=False)
    def sweep_deadlines() -> int:
        """Act once on every breached case deadline (acceptance, local window, session, 回访)."""
        return cases.sweep_deadlines(runtime)

    @runtime.celery.task(name=REMIND_SESSIONS, shared=False)
    def remind_sessions() -> int:
        """Remind the parties of their sessions, a day and two hours before."""
        return reminders.remind_sessions(runtime)

    @runtime.celery.task(name=REMIND_FOLLOW_UPS, shared=False)
    def remind_follow_ups() -> int:
        """Remind owners of the follow-ups (回访) due within a day, one SMS per owner."""
        return reminders.remind_follow_ups(runtime)

    @runtime.celery.task(name=SEND_DIGESTS, shared=False)
    def send_digests() -> int:
        """Each officer's morning digest: open cases, due today, overdue."""
        return digests.send_digests(runtime)

    @runtime.celery.task(name=SEND_CASE_DIGESTS, shared=False)
    def send_case_digests() -> int:
        """Each owner's new cases in one SMS per interval (with his overdue count)."""
        return digests.send_case_digests(runtime)

    @runtime.celery.task(name=REMIND_AGREEMENTS, shared=False)
    def remind_agreements() -> int:
        """Remind the parties of judicial confirmation (司法确认) and of performing."""
        return agreements.remind_agreements(runtime)

    @runtime.celery.task(name=ERASE_EXPIRED, shared=False)
    def erase_expired_personal_data() -> int:
        """Erase the personal fields of cases ended longer than the retention period."""
        return retention.erase_expired(runtime)
