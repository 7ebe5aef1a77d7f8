"""Reads of the services' own databases: what the system has finished, and when."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from services.common.config import load_settings
from services.common.db import Database
from services.intake.models import Report, ReportEvent
from services.notify.models import SmsMessage

# The acknowledgement intake's routing asks notify for (a duplicate hazard's is worded apart).
ACK_TEMPLATES = ("report_received", "report_duplicate")
# A finished report has its "received" event, its owner's event and the ack's "sms_sent"
# (the same test `fengqiao demo` applies).
FINISHED_EVENTS = 3
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Backlog:
    finished: int  # reports finished while watched
    events: int  # timeline events recorded while watched
    seconds: float  # how long they were watched
    left: int  # reports still unfinished at the end


class Probes:
    """Read-only access to intake's and notify's databases, as configured for the run."""

    def __init__(self) -> None:
        self.intake = Database(load_settings("intake").database_url)
        self.notify = Database(load_settings("notify").database_url)

    def close(self) -> None:
        self.intake.dispose()
        self.notify.dispose()

    def finished_reports(self) -> int:
        """Reports with all the events a routed, acknowledged report has."""
        with self.intake.sessions() as session:
            done = (
                select(ReportEvent.report_id)
                .group_by(ReportEvent.report_id)
                .having(func.count() >= FINISHED_EVENTS)
                .subquery()
            )
            return session.scalar(select(func.count()).select_from(done)) or 0

    def unfinished_reports(self) -> int:
        """Reports still short of those events."""
        with self.intake.sessions() as session:
            total = session.scalar(select(func.count()).select_from(Report)) or 0
        return total - self.finished_reports()

    def events(self) -> int:
        """Timeline events recorded so far: progress even while no report is finished yet."""
        with self.intake.sessions() as session:
            return session.scalar(select(func.count()).select_from(ReportEvent)) or 0

    def watch_backlog(self, window: float) -> Backlog:
        """How fast the workers work off what a load left behind, watched for `window` s."""
        started = time.monotonic()
        finished, events = self.finished_reports(), self.events()
        left = self.unfinished_reports()
        while left and time.monotonic() - started < window:
            time.sleep(POLL_SECONDS)
            left = self.unfinished_reports()
        return Backlog(
            finished=self.finished_reports() - finished,
            events=self.events() - events,
            seconds=time.monotonic() - started,
            left=left,
        )

    def acks_sent(self, report_ids: list[uuid.UUID], timeout: float) -> dict[uuid.UUID, datetime]:
        """When each report's acknowledgement SMS was sent (`sent_at`), waiting for all of them."""
        found: dict[uuid.UUID, datetime] = {}
        deadline = time.monotonic() + timeout
        while True:
            with self.notify.sessions() as session:
                rows = session.execute(
                    select(SmsMessage.report_id, SmsMessage.sent_at).where(
                        SmsMessage.template.in_(ACK_TEMPLATES),
                        SmsMessage.report_id.in_(report_ids),
                        SmsMessage.sent_at.is_not(None),
                    )
                )
                found = {rid: at for rid, at in rows if rid is not None and at is not None}
            if len(found) == len(report_ids) or time.monotonic() > deadline:
                return found
            time.sleep(POLL_SECONDS)
