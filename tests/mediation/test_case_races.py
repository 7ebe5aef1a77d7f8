"""Staff acting on one case at once on PostgreSQL: one wins, the others get a 409, none is lost."""

from __future__ import annotations

import threading
from typing import Any

from services.mediation.cases.commands import TransitionRefused
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case


def race(runtime: MediationRuntime, case_id: Any, calls: list[dict[str, Any]]) -> list[Any]:
    """Run each call in its own thread, all released at once; what each got, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: dict[str, Any]) -> None:
        barrier.wait()
        try:
            results[i] = act(runtime, case_id, **call).status
        except TransitionRefused as refused:
            results[i] = refused.status
        except BaseException as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


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
