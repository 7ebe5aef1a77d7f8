"""The closed loop's deadlines (BRIEF: rules with numbers), configurable per station."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from environs import Env


@dataclass(frozen=True)
class MediationRules:
    acceptance: timedelta = timedelta(hours=24)  # 首问负责: the owner accepts within 24 h
    local_window: timedelta = timedelta(days=7)  # then it escalates to a desk
    overdue_desk: str = "mediation_room"  # where an overdue local mediation is booked
    second_session_working_days: int = 7  # a failed session is followed within 7 working days
    failed_for_joint_meeting: int = 2  # failed this often at desks → joint meeting (联席会议)
    joint_meeting_desk: str = "joint_meeting"
    follow_up_after: timedelta = timedelta(days=7)  # 回访 after resolution
    follow_up_reminder_before: timedelta | None = timedelta(days=1)  # the owner is reminded
    rebound_window: timedelta = timedelta(days=180)  # 反弹: same parties again
    reminders: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=2))  # before a session
    digest_interval: timedelta = timedelta(minutes=30)  # at most one new-case SMS per officer
    confirmation_window: timedelta = timedelta(days=30)  # 司法确认: apply within 30 days
    confirmation_reminder_before: timedelta = timedelta(days=7)  # remind before it closes
    perform_reminder_before: timedelta | None = timedelta(days=3)  # None: no such reminder
    retention: timedelta = timedelta(days=1095)  # personal fields kept after a case ends


def load_rules(env: Env | None = None) -> MediationRules:
    """The rules, each overridable from the environment."""
    env = env or Env()
    return MediationRules(
        acceptance=timedelta(hours=env.float("MEDIATION_ACCEPTANCE_HOURS", 24)),
        local_window=timedelta(days=env.float("MEDIATION_LOCAL_WINDOW_DAYS", 7)),
        overdue_desk=env.str("MEDIATION_OVERDUE_DESK", "mediation_room"),
        second_session_working_days=env.int("MEDIATION_SECOND_SESSION_WORKING_DAYS", 7),
        failed_for_joint_meeting=env.int("MEDIATION_FAILED_FOR_JOINT_MEETING", 2),
        joint_meeting_desk=env.str("MEDIATION_JOINT_MEETING_DESK", "joint_meeting"),
        follow_up_after=timedelta(days=env.float("MEDIATION_FOLLOW_UP_DAYS", 7)),
        follow_up_reminder_before=_hours_or_off(
            env.float("MEDIATION_FOLLOW_UP_REMINDER_HOURS", 24)
        ),
        rebound_window=timedelta(days=env.float("MEDIATION_REBOUND_DAYS", 180)),
        digest_interval=timedelta(minutes=env.float("MEDIATION_DIGEST_MINUTES", 30)),
        confirmation_window=timedelta(days=env.float("MEDIATION_CONFIRMATION_DAYS", 30)),
        confirmation_reminder_before=timedelta(
            days=env.float("MEDIATION_CONFIRMATION_REMINDER_DAYS", 7)
        ),
        perform_reminder_before=_days_or_off(env.float("MEDIATION_PERFORM_REMINDER_DAYS", 3)),
        retention=timedelta(days=env.float("MEDIATION_RETENTION_DAYS", 1095)),
    )


def _days_or_off(days: float) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None


def _hours_or_off(hours: float) -> timedelta | None:
    return timedelta(hours=hours) if hours > 0 else None
