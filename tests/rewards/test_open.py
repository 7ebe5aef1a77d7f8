"""Hazards wait for verification; brave acts and good deeds become nominations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.common.contracts import OPEN_HAZARD_CLAIM, OPEN_NOMINATION
from services.rewards import service
from services.rewards.claims.models import HazardClaim
from services.rewards.nominations.models import Nomination
from services.rewards.runtime import RewardsRuntime
from tests import messages
from tests.conftest import NOW
from tests.outbox import outbox_where


def handle_hazard(runtime: RewardsRuntime, message: dict[str, Any]) -> bool:
    return runtime.messaging.handle_once(
        OPEN_HAZARD_CLAIM,
        message,
        lambda session, msg: service.open_hazard_claim(
            session, report=msg, messaging=runtime.messaging, now=runtime.clock.now()
        ),
        claim_at_commit=True,
    )


def handle_nomination(runtime: RewardsRuntime, message: dict[str, Any]) -> bool:
    return runtime.messaging.handle_once(
        OPEN_NOMINATION,
        message,
        lambda session, msg: service.open_nomination(
            session,
            report=msg,
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        ),
        claim_at_commit=True,
    )


def test_a_hazard_awaits_verification_before_any_envelope(rewards: RewardsRuntime) -> None:
    message = messages.open_hazard_claim()

    assert handle_hazard(rewards, message)
    assert not handle_hazard(rewards, message)

    with rewards.db.sessions() as session:
        claims = session.scalars(
            select(HazardClaim).where(HazardClaim.report_id == message["report_id"])
        ).all()
    [claim] = claims
    assert (claim.status, claim.category, claim.severity) == (
        "awaiting_verification",
        "wiring",
        "medium",
    )
    assert claim.reporter_phone == "+8613700137003"
    [(task, event)] = outbox_where(rewards, "report_id", equals=str(message["report_id"]))
    assert (task, event["event"]) == ("intake.record_report_event", "hazard_claim_opened")


def timeline(runtime: RewardsRuntime, report_id: Any) -> list[dict[str, Any]]:
    """What rewards sent to the report's timeline (SMS carry the report id too)."""
    return [
        m
        for t, m in outbox_where(runtime, "report_id", equals=str(report_id))
        if t == "intake.record_report_event"
    ]


def test_a_brave_act_is_nominated_with_a_decision_deadline(rewards: RewardsRuntime) -> None:
    message = messages.open_nomination("brave_act")

    handle_nomination(rewards, message)

    with rewards.db.sessions() as session:
        nomination = session.scalar(
            select(Nomination).where(Nomination.report_id == message["report_id"])
        )
    assert nomination is not None
    assert (nomination.kind, nomination.status) == ("brave_act", "submitted")
    assert nomination.decide_by == NOW + timedelta(days=30)
    assert nomination.nominee["name"] == "张先生"
    [event] = timeline(rewards, message["report_id"])
    assert event["event"] == "nomination_opened"
    assert "brave-act award" in event["detail"]


def test_a_good_deed_is_nominated_for_the_honour(rewards: RewardsRuntime) -> None:
    message = messages.open_nomination("good_deed")

    handle_nomination(rewards, message)

    [event] = timeline(rewards, message["report_id"])
    assert "good-neighbour honour" in event["detail"]
    [sms] = [
        m
        for t, m in outbox_where(
            rewards, "params", "tracking_code", equals=message["tracking_code"]
        )
        if t == "notify.send_sms"
    ]
    assert sms["recipient"] == "+8613500135006"  # the nominee; intake acknowledges the reporter
