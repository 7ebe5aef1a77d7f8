"""The hazard-claim workflow: every status, every action, and the one table of who may.

A claim moves only through `TRANSITIONS`. Each row is one edge: an action, the statuses it
starts from, the status it leads to, the role that may take it, and, where one action leads
to several statuses, which fields (or which limits) lead where (`commands.py` picks the
row). `docs/rewards.md` draws this table; a test keeps the drawing current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.common.staff_auth import Role


class ClaimStatus(StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"  # a grid officer checks the hazard
    AWAITING_LEADER = "awaiting_leader"  # over a reporter's monthly cap or the budget
    APPROVED = "approved"  # the envelope is owed; finance pays it
    PAID = "paid"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # one envelope per hazard: an earlier claim has it


class Action(StrEnum):
    VERIFY = "verify"
    DECIDE = "decide"
    PAY = "pay"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[ClaimStatus]
    target: ClaimStatus
    role: Role
    when: str = ""  # which fields or limits lead here, when an action has several rows


def _row(
    action: Action, sources: Iterable[ClaimStatus], target: ClaimStatus, role: Role, when: str = ""
) -> Transition:
    return Transition(action, frozenset(sources), target, role, when)


S = ClaimStatus
WITHIN_LIMITS = "confirmed, within the caps and the budget"
OVER_LIMITS = "confirmed, over a cap or the budget"

TRANSITIONS: tuple[Transition, ...] = (
    _row(Action.VERIFY, [S.AWAITING_VERIFICATION], S.APPROVED, Role.VERIFIER, WITHIN_LIMITS),
    _row(Action.VERIFY, [S.AWAITING_VERIFICATION], S.AWAITING_LEADER, Role.VERIFIER, OVER_LIMITS),
    _row(Action.VERIFY, [S.AWAITING_VERIFICATION], S.REJECTED, Role.VERIFIER, "not confirmed"),
    _row(Action.VERIFY, [S.AWAITING_VERIFICATION], S.DUPLICATE, Role.VERIFIER, "duplicate_of"),
    _row(Action.DECIDE, [S.AWAITING_LEADER], S.APPROVED, Role.LEADER, "approve"),
    _row(Action.DECIDE, [S.AWAITING_LEADER], S.REJECTED, Role.LEADER, "reject"),
    _row(Action.PAY, [S.APPROVED], S.PAID, Role.FINANCE),
)  # fmt: skip

FINAL = (ClaimStatus.PAID, ClaimStatus.REJECTED, ClaimStatus.DUPLICATE)


def transitions_from(status: ClaimStatus, action: Action | None = None) -> list[Transition]:
    """The rows that start from `status` (for one action, if given)."""
    return [
        t for t in TRANSITIONS if status in t.sources and (action is None or t.action == action)
    ]


def actions_from(status: ClaimStatus) -> list[Action]:
    """Every action the table allows from `status`, in the table's order."""
    return list(dict.fromkeys(t.action for t in transitions_from(status)))


def roles_for(action: Action) -> frozenset[Role]:
    return frozenset(t.role for t in TRANSITIONS if t.action == action)


def mermaid() -> str:
    """The table as a Mermaid state diagram (docs/rewards.md embeds it)."""
    lines = ["stateDiagram-v2", f"    [*] --> {ClaimStatus.AWAITING_VERIFICATION}"]
    for t in TRANSITIONS:
        label = f"{t.action.value} by {t.role.value}" + (f" when {t.when}" if t.when else "")
        for source in (s for s in ClaimStatus if s in t.sources):  # the enum's order
            lines.append(f"    {source} --> {t.target}: {label}")
    lines.extend(f"    {status} --> [*]" for status in FINAL)
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The table as Markdown rows (docs/rewards.md embeds it)."""
    lines = ["| action | from | to | who | when |", "|---|---|---|---|---|"]
    for t in TRANSITIONS:
        sources = ", ".join(s.value for s in ClaimStatus if s in t.sources)
        lines.append(f"| `{t.action}` | {sources} | {t.target} | {t.role} | {t.when} |")
    return "\n".join(lines) + "\n"
