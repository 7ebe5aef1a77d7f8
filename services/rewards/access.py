"""Which roles may call which rewards endpoint: the one access table a test walks.

What a role may *do* to a claim or a nomination is its workflow's transition table; this
table says who may reach each endpoint at all. Claims, nominations and the ledger hold
personal data (phones, names, amounts paid to a person): only the roles that work them see
them (which nominations an officer sees is `nominations/access.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from flask import g

from services.common.staff_auth import Caller, Role, endpoint_guard


class Endpoint(StrEnum):
    CLAIMS_READ = "claims:read"
    CLAIMS_TRANSITION = "claims:transition"  # then the transition table decides
    LEDGER_READ = "ledger:read"
    LEDGER_CORRECT = "ledger:correct"
    PAYOUTS_EXPORT = "payouts:export"
    BUDGETS_WRITE = "budgets:write"
    STATS_READ = "stats:read"
    NOMINATIONS_READ = "nominations:read"
    NOMINATIONS_CREATE = "nominations:create"  # staff nominate (a resident at the counter)
    NOMINATIONS_TRANSITION = "nominations:transition"  # then the transition table decides
    HONOURS_READ = "honours:read"  # the year's roll of good neighbours


_CLAIM_STAFF = frozenset({Role.VERIFIER, Role.LEADER, Role.FINANCE})
_MONEY = frozenset({Role.LEADER, Role.FINANCE})
_NOMINATION_STAFF = frozenset(
    {Role.OFFICER, Role.LEADER, Role.REVIEWER, Role.APPROVER, Role.FINANCE}
)

ROLES_FOR: dict[Endpoint, frozenset[Role]] = {
    Endpoint.CLAIMS_READ: _CLAIM_STAFF,
    Endpoint.CLAIMS_TRANSITION: _CLAIM_STAFF,
    Endpoint.LEDGER_READ: _MONEY | {Role.APPROVER},
    Endpoint.LEDGER_CORRECT: frozenset({Role.FINANCE}),
    Endpoint.PAYOUTS_EXPORT: _MONEY,
    Endpoint.BUDGETS_WRITE: _MONEY,
    # Counts and sums, no person in them.
    Endpoint.STATS_READ: frozenset(
        {Role.LEADER, Role.FINANCE, Role.VERIFIER, Role.REVIEWER, Role.APPROVER, Role.OPS}
    ),
    Endpoint.NOMINATIONS_READ: _NOMINATION_STAFF,
    Endpoint.NOMINATIONS_CREATE: frozenset({Role.OFFICER, Role.LEADER, Role.REVIEWER}),
    Endpoint.NOMINATIONS_TRANSITION: _NOMINATION_STAFF,
    Endpoint.HONOURS_READ: _NOMINATION_STAFF,
}


def guard(endpoints: dict[tuple[str, str], Endpoint]) -> Callable[[], None]:
    """A blueprint's `before_request` hook checking rewards' access table."""
    return endpoint_guard(endpoints, ROLES_FOR)


def caller() -> Caller:
    found: Caller = g.staff
    return found
