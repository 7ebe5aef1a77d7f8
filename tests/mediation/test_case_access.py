"""The case lock's visibility, built once with the caller as parameters, is `visible_to`'s."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.mediation.cases import access
from services.mediation.models import Case
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, caller, open_case


@pytest.mark.parametrize(
    ("staff_id", "role"),
    [
        ("officer-guo", "officer"),
        ("officer-liu", "officer"),
        ("leader-cheng", "leader"),
        ("desk-mediator", "desk"),
        ("desk-lawyer", "desk"),
    ],
)
def test_the_parametrised_visibility_sees_what_visible_to_sees(
    mediation: MediationRuntime, staff_id: str, role: str
) -> None:
    guos, escalated = open_case(mediation), open_case(mediation)
    act(mediation, escalated, "accept", risk_grade="C")
    act(mediation, escalated, "escalate", desk="mediation_room")  # booked at a desk
    who = caller(mediation, staff_id, role)
    clause = access.visibility_of(who.role, has_desk=who.member.desk is not None)

    with mediation.db.sessions() as session:
        seen = set(session.scalars(select(Case.id).where(access.visible_to(who))))
        parametrised = set(
            session.scalars(select(Case.id).where(clause), access.viewer_params(who))
        )

    assert parametrised == seen
    assert (guos in seen) == (staff_id in ("officer-guo", "leader-cheng"))
