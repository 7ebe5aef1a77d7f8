"""A year of rewards like the seed article's, for the demo and for checking the figures.

78 grid red envelopes of 5–20 CNY, 11 brave acts with 4,000 CNY paid (6 of merit and 5
commendations at the default tiers) and 70 good neighbours (魏村好人) honoured, each with the
claim or nomination, history and ledger payout the workflow would have left. Every row's id
is derived from the year, so loading the same year again adds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.common.clock import STATION_TZ
from services.rewards.claims import limits
from services.rewards.claims.models import ClaimHistory, HazardClaim
from services.rewards.claims.workflow import ClaimStatus
from services.rewards.ledger.models import Payout, PayoutStatus, SubjectKind
from services.rewards.ledger.payouts import PayoutAdapter
from services.rewards.nominations.models import Nomination, NominationHistory
from services.rewards.nominations.workflow import Kind, NominationStatus
from services.rewards.rules import RewardRules

ENVELOPES = 78
BRAVE_ACTS = (["merit"] * 6) + (["commendation"] * 5)  # 6 x 500 + 5 x 200 = 4,000 CNY
HONOURS = 70
SEVERITIES = ("low", "medium", "high", "medium")  # 5, 10, 20, 10 CNY in turn
REPORTERS = 20
BY = "demo-year"
_NAMESPACE = uuid.UUID("6f1c2d1e-7a53-4d0b-9a57-2f6b1c0f0a11")


@dataclass(frozen=True)
class YearLoaded:
    envelopes: int
    envelopes_fen: int
    awards: int
    awards_fen: int
    honours: int


def _id(year: int, what: str, n: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{year}/{what}/{n}")


def _phone(n: int) -> str:
    return f"+86137{n:08d}"


def _at(year: int, n: int, *, hour: int) -> datetime:
    """The n-th event of the year: months in turn, a few days apart."""
    return datetime(year, n % 12 + 1, n // 12 + 1, hour, 30, tzinfo=STATION_TZ)


def load_year(
    session: Session, *, year: int, rules: RewardRules, payouts: PayoutAdapter
) -> YearLoaded:
    """Load the year (station time) and return what it holds; a second load adds nothing."""
    if session.get(HazardClaim, _id(year, "claim", 0)) is None:
        _envelopes(session, year=year, rules=rules, payouts=payouts)
        _brave_acts(session, year=year, rules=rules, payouts=payouts)
        _honours(session, year=year)
        session.flush()
    tiers = rules.award_tiers_fen
    return YearLoaded(
        envelopes=ENVELOPES,
        envelopes_fen=sum(
            rules.envelope_fen[SEVERITIES[n % len(SEVERITIES)]] for n in range(ENVELOPES)
        ),
        awards=len(BRAVE_ACTS),
        awards_fen=sum(tiers[t] for t in BRAVE_ACTS),
        honours=HONOURS,
    )


def _envelopes(session: Session, *, year: int, rules: RewardRules, payouts: PayoutAdapter) -> None:
    for n in range(ENVELOPES):
        at = _at(year, n, hour=10)
        period = at.strftime("%Y-%m")
        severity = SEVERITIES[n % len(SEVERITIES)]
        fen = rules.envelope_fen[severity]
        phone = _phone(n % REPORTERS)
        claim = HazardClaim(
            id=_id(year, "claim", n),
            report_id=_id(year, "claim-report", n),
            tracking_code=f"Y{year}E{n:03d}",
            reporter_phone=phone,
            reporter_name=None,
            village=f"weicun-{n % 8 + 1}",
            address=None,
            category="wiring" if n % 2 else "fire_exit",
            severity=severity,
            summary="隐患已核实并整改",
            status=ClaimStatus.PAID,
            period=period,
            verified_severity=severity,
            amount_fen=fen,
            reported_at=at,
            created_at=at,
            updated_at=at,
        )
        session.add(claim)
        session.flush()  # the history row refers to it
        session.add(
            ClaimHistory(
                claim_id=claim.id,
                at=at,
                by=BY,
                action="pay",
                from_status=ClaimStatus.APPROVED,
                to_status=ClaimStatus.PAID,
                note="loaded with the demo year",
            )
        )
        reporter = limits.lock_reporter_month(session, phone=phone, period=period)
        reporter.envelopes += 1
        reporter.amount_fen += fen
        payout = payouts.pay(
            session,
            subject_kind=SubjectKind.CLAIM,
            subject_id=claim.id,
            recipient_name="举报人",
            recipient_phone=phone,
            amount_fen=fen,
            by=BY,
            now=at,
            period=period,
        )
        claim.payout_id = payout.id
        _settled(payout, at=at)


def _settled(payout: Payout, *, at: datetime) -> None:
    """A past year's payout was paid long ago: never an order for the finance office."""
    payout.status = PayoutStatus.PAID
    payout.exported_at = payout.paid_at = at
    payout.export_batch = BY


def _nomination(year: int, n: int, *, kind: str, status: str, at: datetime) -> Nomination:
    what = "brave" if kind == Kind.BRAVE_ACT else "good"
    return Nomination(
        id=_id(year, what, n),
        report_id=None,
        tracking_code=f"Y{year}{what[0].upper()}{n:03d}",
        kind=kind,
        nominee={"name": "村民", "phone": _phone(1000 + n if what == "brave" else 2000 + n)},
        nominator={"name": "网格员", "phone": _phone(3000)},
        nominator_relation="agency",
        summary="见义勇为" if kind == Kind.BRAVE_ACT else "魏村好人",
        details=None,
        village=f"weicun-{n % 8 + 1}",
        act_at=at,
        status=status,
        decide_by=at,
        decided_by=BY,
        decided_at=at,
        created_at=at,
        updated_at=at,
    )


def _brave_acts(session: Session, *, year: int, rules: RewardRules, payouts: PayoutAdapter) -> None:
    for n, tier in enumerate(BRAVE_ACTS):
        at = _at(year, n, hour=15)
        nomination = _nomination(year, n, kind=Kind.BRAVE_ACT, status=NominationStatus.PAID, at=at)
        nomination.recommended = True
        nomination.tier = tier
        nomination.amount_fen = rules.award_tiers_fen[tier]
        nomination.paid_at = at
        session.add(nomination)
        session.flush()
        session.add(_history(nomination, action="pay", before=NominationStatus.APPROVED))
        award = payouts.pay(
            session,
            subject_kind=SubjectKind.AWARD,
            subject_id=nomination.id,
            recipient_name=nomination.nominee["name"],
            recipient_phone=nomination.nominee["phone"],
            amount_fen=nomination.amount_fen,
            by=BY,
            now=at,
            period=at.strftime("%Y-%m"),
        )
        _settled(award, at=at)


def _honours(session: Session, *, year: int) -> None:
    for n in range(HONOURS):
        at = _at(year, n, hour=16)
        nomination = _nomination(
            year, n, kind=Kind.GOOD_DEED, status=NominationStatus.HONOURED, at=at
        )
        nomination.recommended = True
        nomination.honoured_at = at
        session.add(nomination)
        session.flush()
        session.add(_history(nomination, action="honour", before=NominationStatus.SUBMITTED))


def _history(nomination: Nomination, *, action: str, before: str) -> NominationHistory:
    return NominationHistory(
        nomination_id=nomination.id,
        at=nomination.created_at,
        by=BY,
        action=action,
        from_status=before,
        to_status=nomination.status,
        note="loaded with the demo year",
    )
