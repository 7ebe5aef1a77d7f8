"""The case workflow: every status, every action, and the one table of who may move what.

A case moves only through `TRANSITIONS`. Each row is one edge: an action, the statuses it
starts from, the status it leads to, and who may take it. An action with several rows
(`record_session`) leads to the row whose `when` its fields select (`commands.py` picks
it). `docs/mediation.md` draws this table; a test keeps the drawing current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.common.staff_auth import Role


class CaseStatus(StrEnum):
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # 首接: the owner has 24 h to accept
    LOCAL_MEDIATION = "local_mediation"  # 本地化解: the officer mediates, 7 days
    SESSION_SCHEDULED = "session_scheduled"  # 联动调处: booked at a desk
    JOINT_MEETING = "joint_meeting"  # 联席会议: failed twice at a desk
    RESOLVED = "resolved"  # an outcome; the follow-up visit (回访) is due
    DECLINED = "declined"  # a party declined (mediation is voluntary)
    CLOSED = "closed"


OPEN_STATUSES = (
    CaseStatus.AWAITING_ACCEPTANCE,
    CaseStatus.LOCAL_MEDIATION,
    CaseStatus.SESSION_SCHEDULED,
    CaseStatus.JOINT_MEETING,
)


# Risk grades A and B are followed up by a home visit (上门回访), C and D by a phone call.
HOME_VISIT_GRADES = frozenset({"A", "B"})


class Action(StrEnum):
    ACCEPT = "accept"
    REASSIGN = "reassign"
    RECORD_SESSION = "record_session"
    ESCALATE = "escalate"
    RESCHEDULE = "reschedule"
    DECLINE = "decline"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    CHANGE_RISK_GRADE = "change_risk_grade"
    TAKE_OVER = "take_over"  # the sweep: acceptance overdue, the duty leader owns the case


class DueKind(StrEnum):
    ACCEPTANCE = "acceptance"
    LOCAL_MEDIATION = "local_mediation"
    SESSION = "session"  # the booked session's end: its outcome is recorded by then
    SECOND_SESSION = "second_session"  # a failed session is followed within N working days
    FOLLOW_UP = "follow_up"


class Actor(StrEnum):
    """Who, beyond holding a role, may take an action on a given case."""

    OWNER = "owner"  # an officer who owns the case (首问负责制)
    DESK = "desk"  # desk staff of the desk the case is booked at
    LEADER = "leader"  # the leader role (带班领导, answerable with the officer)
    SYSTEM = "system"  # the deadline sweep


ROLE_OF_ACTOR = {Actor.OWNER: Role.OFFICER, Actor.DESK: Role.DESK, Actor.LEADER: Role.LEADER}


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[CaseStatus]
    target: CaseStatus | None  # None: the case stays in the status it is in
    actors: frozenset[Actor]
    when: str = ""  # which fields lead here, when an action has several rows

    def leads_from(self, status: CaseStatus) -> CaseStatus:
        """The status a case in `status` has after this transition."""
        return self.target or status

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(ROLE_OF_ACTOR[a] for a in self.actors if a in ROLE_OF_ACTOR)


def _row(
    action: Action,
    sources: Iterable[CaseStatus],
    target: CaseStatus | None,
    *actors: Actor,
    when: str = "",
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(actors), when)


S, A = CaseStatus, Actor
_ON_CASE = (A.OWNER, A.DESK, A.LEADER)
_AT_DESK = (S.SESSION_SCHEDULED, S.JOINT_MEETING)
_SESSION = Action.RECORD_SESSION

TRANSITIONS: tuple[Transition, ...] = (
    _row(Action.ACCEPT, [S.AWAITING_ACCEPTANCE], S.LOCAL_MEDIATION, A.OWNER, A.LEADER),
    _row(Action.TAKE_OVER, [S.AWAITING_ACCEPTANCE], None, A.SYSTEM),
    _row(Action.REASSIGN, OPEN_STATUSES, None, A.OWNER, A.LEADER),
    _row(Action.CHANGE_RISK_GRADE, [*OPEN_STATUSES[1:], S.RESOLVED], None, A.OWNER, A.LEADER),
    _row(_SESSION, [S.LOCAL_MEDIATION, *_AT_DESK], S.RESOLVED, *_ON_CASE, when="resolved"),
    _row(_SESSION, [S.LOCAL_MEDIATION], None, A.OWNER, A.LEADER, when="failed"),
    _row(_SESSION, [S.SESSION_SCHEDULED], None, *_ON_CASE, when="failed once: rebooked"),
    _row(_SESSION, [S.SESSION_SCHEDULED], S.JOINT_MEETING, *_ON_CASE, when="failed twice"),
    _row(_SESSION, [S.JOINT_MEETING], S.CLOSED, *_ON_CASE, when="failed: other routes"),
    _row(Action.ESCALATE, [S.LOCAL_MEDIATION], S.SESSION_SCHEDULED, A.OWNER, A.LEADER, A.SYSTEM),
    _row(Action.RESCHEDULE, _AT_DESK, None, *_ON_CASE, A.SYSTEM),
    _row(Action.DECLINE, OPEN_STATUSES, S.DECLINED, *_ON_CASE),
    _row(Action.FOLLOW_UP, [S.RESOLVED], None, A.OWNER, A.LEADER, when="stable"),
    _row(Action.FOLLOW_UP, [S.RESOLVED], S.LOCAL_MEDIATION, A.OWNER, A.LEADER, when="rebounded"),
    _row(Action.CLOSE, [S.RESOLVED, S.DECLINED], S.CLOSED, A.OWNER, A.LEADER),
)  # fmt: skip


def transitions_from(status: CaseStatus, action: Action | None = None) -> list[Transition]:
    """The rows that start from `status` (for one action, if given)."""
    return [
        t for t in TRANSITIONS if status in t.sources and (action is None or t.action == action)
    ]


def actions_from(status: CaseStatus) -> list[Action]:
    """Every action the table allows from `status`, in the table's order."""
    return list(dict.fromkeys(t.action for t in transitions_from(status)))


def mermaid() -> str:
    """The table as a Mermaid state diagram (docs/mediation.md embeds it)."""
    lines = ["stateDiagram-v2", f"    [*] --> {CaseStatus.AWAITING_ACCEPTANCE}"]
    for t in TRANSITIONS:
        label = t.action.value + (f" ({t.when})" if t.when else "")
        for source in (s for s in CaseStatus if s in t.sources):  # the enum's order
            lines.append(f"    {source} --> {t.leads_from(source)}: {label}")
    lines.append(f"    {CaseStatus.CLOSED} --> [*]")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The table as Markdown rows (docs/mediation.md embeds it)."""
    lines = ["| action | from | to | who | when |", "|---|---|---|---|---|"]
    for t in TRANSITIONS:
        sources = ", ".join(s.value for s in CaseStatus if s in t.sources)
        target = t.target.value if t.target else "(stays)"
        actors = ", ".join(a.value for a in Actor if a in t.actors)
        lines.append(f"| `{t.action}` | {sources} | {target} | {actors} | {t.when} |")
    return "\n".join(lines) + "\n"
