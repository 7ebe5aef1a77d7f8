"""Rewards' periodic jobs: run by rewards workers, sent by the one beat."""

from __future__ import annotations

from typing import Any

from services.rewards.nominations import scheduled as nominations
from services.rewards.runtime import RewardsRuntime

SWEEP_NOMINATIONS = "rewards.sweep_nominations"

SCHEDULE: dict[str, dict[str, Any]] = {
    SWEEP_NOMINATIONS: {
        "task": SWEEP_NOMINATIONS,
        "schedule": 300.0,
        "options": {"expires": 600.0},
    },
}


def register(runtime: RewardsRuntime) -> None:
    """Register rewards' periodic tasks on its Celery app."""

    @runtime.celery.task(name=SWEEP_NOMINATIONS, shared=False)
    def sweep_nominations() -> int:
        """Act once on every reached nomination deadline (notice end, decisions, 复核)."""
        return nominations.sweep_nominations(runtime)
