"""Mediation's periodic jobs: run by mediation workers, sent by the one beat."""

from __future__ import annotations

from typing import Any

from services.mediation.cases import reminders
from services.mediation.cases import scheduled as cases
from services.mediation.runtime import MediationRuntime

SWEEP_DEADLINES = "mediation.sweep_deadlines"
REMIND_SESSIONS = "mediation.remind_sessions"

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
