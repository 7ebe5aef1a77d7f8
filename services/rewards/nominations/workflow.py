"""The nomination workflow: every status, every action, and the one table of who may move what.

A nomination moves only through `TRANSITIONS`. Each row is one edge: an action, the
statuses it starts from, the status it leads to, who may take it, and for which kinds
(a brave act is noticed, approved and paid; a good deed is reviewed and honoured). An
action with several rows (`review`, `decide_appeal`) leads to the row whose `when` its
fields select. `not_by` names a person who may not take the step (the four-eyes rule:
the reviewer does not approve what they reviewed). `docs/rewards.md` draws this table;
a test keeps the drawing current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.common.staff_auth import Role


class NominationStatus(StrEnum):
    SUBMITTED = "submitted"  # waits for a reviewer
    UNDER_REVIEW = "under_review"  # recommended: a brave act goes to public notice
    IN_PUBLIC_NOTICE = "in_public_notice"  # 公示, 7 days; objections are filed and answered
    AWAITING_APPROVAL = "awaiting_approval"  # an approver, not the reviewer, decides
    APPROVED = "approved"  # a brave-act award, to be paid by finance
    REJECTED = "rejected"  # 复核 may be asked within 15 days
    PAID = "paid"
    HONOURED = "honoured"  # a good neighbour (魏村好人) on the year's roll
    UNDER_APPEAL = "under_appeal"  # 复核, decided within 30 days


class Kind(StrEnum):
    BRAVE_ACT = "brave_act"  # 见义勇为
    GOOD_DEED = "good_deed"  # 魏村好人


class Action(StrEnum):
    REVIEW = "review"
    PUBLISH_NOTICE = "publish_notice"
    SKIP_NOTICE = "skip_notice"
    OBJECT = "object"
    ANSWER_OBJECTION = "answer_objection"
    END_NOTICE = "end_notice"  # the sweep: seven days are over
    EXTEND = "extend"
    APPROVE = "approve"
    REJECT = "reject"
    HONOUR = "honour"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide_appeal"
    PAY = "pay"


class DueKind(StrEnum):
    DECISION = "decision"  # decided within 30 days (extendable once)
    NOTICE_END = "notice_end"
    APPEAL_WINDOW = "appeal_window"
    APPEAL_DECISION = "appeal_decision"


SYSTEM = "system"  # the deadline sweep, an actor beside the roles

DUE_OF: dict[NominationStatus, DueKind] = {
    NominationStatus.SUBMITTED: DueKind.DECISION,
    NominationStatus.UNDER_REVIEW: DueKind.DECISION,
    NominationStatus.AWAITING_APPROVAL: DueKind.DECISION,
    NominationStatus.IN_PUBLIC_NOTICE: DueKind.NOTICE_END,
    NominationStatus.REJECTED: DueKind.APPEAL_WINDOW,
    NominationStatus.UNDER_APPEAL: DueKind.APPEAL_DECISION,
}


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[NominationStatus]
    target: NominationStatus | None  # None: the nomination stays where it is
    actors: frozenset[str]  # role names, or SYSTEM
    kinds: frozenset[Kind]
    when: str = ""  # which fields lead here, when an action has several rows
    not_by: str = ""  # the nomination's field naming who may not take this step

    def leads_from(self, status: NominationStatus) -> NominationStatus:
        return self.target or status

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(a) for a in self.actors if a != SYSTEM)


def _row(
    action: Action,
    sources: Iterable[NominationStatus],
    target: NominationStatus | None,
    *actors: str,
    kinds: Iterable[Kind] = tuple(Kind),
    when: str = "",
    not_by: str = "",
) -> Transition:
    return Transition(
        action, frozenset(sources), target, frozenset(actors), frozenset(kinds), when, not_by
    )


S, R = NominationStatus, Role
_BRAVE = (Kind.BRAVE_ACT,)
_GOOD = (Kind.GOOD_DEED,)
_OPEN = (S.SUBMITTED, S.UNDER_REVIEW, S.IN_PUBLIC_NOTICE, S.AWAITING_APPROVAL)
_DECIDING = (S.UNDER_REVIEW, S.AWAITING_APPROVAL)
_NOTICED = (S.IN_PUBLIC_NOTICE, S.AWAITING_APPROVAL)
_NR, _ND = "reviewer_id", "decided_by"  # not by the reviewer; not by who decided
_AA = S.AWAITING_APPROVAL
_APPEAL = Action.DECIDE_APPEAL

TRANSITIONS: tuple[Transition, ...] = (
    _row(Action.REVIEW, [S.SUBMITTED], S.UNDER_REVIEW, R.REVIEWER, when="recommended"),
    _row(Action.REVIEW, [S.SUBMITTED], S.AWAITING_APPROVAL, R.REVIEWER, when="not recommended"),
    _row(Action.PUBLISH_NOTICE, [S.UNDER_REVIEW], S.IN_PUBLIC_NOTICE, R.REVIEWER, kinds=_BRAVE),
    _row(Action.SKIP_NOTICE, [S.UNDER_REVIEW], S.AWAITING_APPROVAL, R.REVIEWER, kinds=_BRAVE),
    _row(Action.OBJECT, [S.IN_PUBLIC_NOTICE], None, R.REVIEWER, R.OFFICER, R.LEADER, kinds=_BRAVE),
    _row(Action.ANSWER_OBJECTION, _NOTICED, None, R.REVIEWER, kinds=_BRAVE),
    _row(Action.END_NOTICE, [S.IN_PUBLIC_NOTICE], S.AWAITING_APPROVAL, SYSTEM, kinds=_BRAVE),
    _row(Action.EXTEND, _OPEN, None, R.APPROVER, R.LEADER),
    _row(Action.APPROVE, [_AA], S.APPROVED, R.APPROVER, kinds=_BRAVE, not_by=_NR),
    _row(Action.HONOUR, _DECIDING, S.HONOURED, R.APPROVER, kinds=_GOOD, not_by=_NR),
    _row(Action.REJECT, _DECIDING, S.REJECTED, R.APPROVER, not_by=_NR),
    _row(Action.APPEAL, [S.REJECTED], S.UNDER_APPEAL, R.OFFICER, R.REVIEWER, R.LEADER),
    _row(_APPEAL, [S.UNDER_APPEAL], S.REJECTED, R.LEADER, when="upheld", not_by=_ND),
    _row(_APPEAL, [S.UNDER_APPEAL], _AA, R.LEADER, when="overturned", not_by=_ND),
    _row(Action.PAY, [S.APPROVED], S.PAID, R.FINANCE, kinds=_BRAVE),
)  # fmt: skip

FINAL = (S.PAID, S.HONOURED)


def transitions_from(
    status: NominationStatus, kind: Kind, action: Action | None = None
) -> list[Transition]:
    """The rows that start from `status` for a nomination of `kind` (for one action)."""
    return [
        t
        for t in TRANSITIONS
        if status in t.sources and kind in t.kinds and (action is None or t.action == action)
    ]


def mermaid() -> str:
    """The table as a Mermaid state diagram (docs/rewards.md embeds it)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.SUBMITTED}"]
    for t in TRANSITIONS:
        parts = [t.when] if t.when else []
        parts += [k.value for k in t.kinds] if len(t.kinds) == 1 else []
        label = t.action.value + (f" ({'; '.join(parts)})" if parts else "")
        for source in (s for s in NominationStatus if s in t.sources):  # the enum's order
            lines.append(f"    {source} --> {t.leads_from(source)}: {label}")
    lines.extend(f"    {status} --> [*]" for status in FINAL)
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The table as Markdown rows (docs/rewards.md embeds it)."""
    lines = ["| action | from | to | who | kinds | when | not by |", "|---" * 7 + "|"]
    for t in TRANSITIONS:
        sources = ", ".join(s.value for s in NominationStatus if s in t.sources)
        target = t.target.value if t.target else "(stays)"
        actors = ", ".join(sorted(t.actors))
        kinds = ", ".join(k.value for k in Kind if k in t.kinds)
        not_by = t.not_by.replace("_id", "").replace("decided_by", "the decider")
        lines.append(
            f"| `{t.action}` | {sources} | {target} | {actors} | {kinds} | {t.when} | {not_by} |"
        )
    return "\n".join(lines) + "\n"
