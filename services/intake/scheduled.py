"""Intake's periodic jobs (tasks run by intake workers; the beat process only sends them)."""

from __future__ import annotations

from typing import Any

from services.common.scheduling import register_relay_task, relay_schedule
from services.intake.runtime import IntakeRuntime


def register(runtime: IntakeRuntime) -> None:
    """Register intake's periodic tasks on its Celery app."""
    register_relay_task(runtime.messaging)


def schedule(relay_seconds: float) -> dict[str, dict[str, Any]]:
    """Intake's entries in the beat schedule."""
    return relay_schedule("intake", relay_seconds)
