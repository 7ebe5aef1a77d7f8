"""Staff acting on one case at once on PostgreSQL: one wins, the others get a 409, none is lost."""

from __future__ import annotations

from functools import partial
from typing import Any

from services.mediation.cases.commands import TransitionRefused
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.races import run_together


def race(runtime: MediationRuntime, case_id: Any, calls: list[dict[str, Any]]) -> list[Any]:
    """Every call at once; what each got (the new status, or the refusal's HTTP status)."""

    def attempt(call: dict[str, Any]) -> Any:
        try:
            return act(runtime, case_id, **call).status
        except TransitionRefused as refused:
            return refused.status

    return run_together(*(partial(attempt, call) for call in calls))


def test_two_staff_accepting_at_once_one_wins_the_others_get_409(
    mediation: MediationRuntime,
) -> None:
    case_id = open_case(mediation)
    calls = [
        {"action": "accept", "risk_grade": grade, "by": by}
        for grade, by in [
            ("A", ("officer-guo", "officer")),
            ("B", ("leader-cheng", "leader")),
            ("C", ("officer-guo", "officer")),
            ("D", ("leader-cheng", "leader")),
        ]
    ]

    results = race(mediation, case_id, calls)

    assert sorted(results, key=str) == [409, 409, 409, "local_mediation"]
    case = load(mediation, case_id)
    [accept] = [h for h in case.history if h.action == "accept"]
    winner = results.index("local_mediation")
    assert case.risk_grade == calls[winner]["risk_grade"]  # the winner's grade, not lost
    assert accept.by == calls[winner]["by"][0]


def test_reassign_and_decline_at_once_are_serialised(mediation: MediationRuntime) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    calls: list[dict[str, Any]] = [
        {"action": "decline", "party": "claimant", "reason": "will sue"},
        {"action": "reassign", "officer": "officer-mo", "by": ("leader-cheng", "leader")},
    ]

    results = race(mediation, case_id, calls)

    case = load(mediation, case_id)
    actions = [h.action for h in case.history][2:]
    if results[0] == "declined":  # decline first: reassigning a declined case is illegal
        assert results[1] == 409 and actions == ["decline"]
        assert case.owner_id == "officer-guo"
    else:  # reassign first: guo no longer owns it and may not decline it
        assert results == [403, "local_mediation"] and actions == ["reassign"]
        assert case.owner_id == "officer-mo"
