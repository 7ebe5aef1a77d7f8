"""Rewards' periodic jobs: run by rewards workers, sent by the one beat."""

from __future__ import annotations

from typing import Any

from services.rewards import digests
from services.rewards.nominations import scheduled as nominations
from services.rewards.runtime import RewardsRuntime

SWEEP_NOMINATIONS = "rewards.sweep_nominations"
SEND_DIGESTS = "rewards.send_digests"

SCHEDULE: dict[str, dict[str, Any]] = {
    SWEEP_NOMINATIONS: {
        "task": SWEEP_NOMINATIONS,
        "schedule": 300.0,
        "options": {"expires": 600.0},
    },
    SEND_DIGESTS: {  # often; each member's key allows one digest per interval
        "task": SEND_DIGESTS,
        "schedule": 900.0,
        "options": {"expires": 900.0},
    },
}


def register(runtime: RewardsRuntime) -> None:
    """Register rewards' periodic tasks on its Celery app."""

    @runtime.celery.task(name=SWEEP_NOMINATIONS, shared=False)
    def sweep_nominations() -> int:
        """Act once on every reached nomination deadline (notice end, decisions, 复核)."""
        return nominations.sweep_nominations(runtime)

    @runtime.celery.task(name=SEND_DIGESTS, shared=False)
    def send_digests() -> int:
        """Verifiers, reviewers and approvers: what waits for them, once per interval."""
        return digests.send_digests(runtime)
