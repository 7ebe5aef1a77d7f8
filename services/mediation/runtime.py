"""Mediation's process wiring."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from services.common.clock import Clock
from services.common.config import Settings, load_settings
from services.common.runtime import Runtime, build_runtime
from services.mediation.models import DeadLetter, OutboxMessage, ProcessedMessage
from services.mediation.rules import MediationRules, load_rules

log = logging.getLogger(__name__)


@dataclass
class MediationRuntime(Runtime):
    rules: MediationRules = field(default_factory=load_rules)
    # The calendar's unknown years last logged, so /readyz logs a change once, not each probe.
    _logged_calendar: str = field(default="", init=False, repr=False)

    def readiness_notes(self) -> dict[str, str]:
        """The calendar: years in use that the holiday package does not know yet."""
        from services.mediation.desks.service import unknown_years_in_use

        try:
            with self.db.sessions() as session:
                unknown = unknown_years_in_use(session, now=self.clock.now())
        except Exception as exc:  # the database check says why
            return {"calendar": f"unknown: {type(exc).__name__}"}
        note = calendar_note(unknown)
        if note != self._logged_calendar:
            self._logged_calendar = note
            if unknown:
                log.warning("working calendar: %s", note)
        return {"calendar": note}


def calendar_note(unknown: dict[int, int]) -> str:
    """`ok`, or each unknown year with the dates staff loaded for it."""
    if not unknown:
        return "ok"
    years = ", ".join(f"{year} ({loaded} dates loaded)" for year, loaded in sorted(unknown.items()))
    return f"fallback to Monday-Friday plus loaded dates for {years}"


def build(settings: Settings | None = None, clock: Clock | None = None) -> MediationRuntime:
    """Mediation's runtime from the environment (or the settings a test hands in)."""
    return build_runtime(
        MediationRuntime,
        settings=settings or load_settings("mediation"),
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        dead_letters=DeadLetter,
        clock=clock,
    )
