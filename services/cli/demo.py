"""`fengqiao demo`: the seed article's stories, submitted as a partner would."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import httpx
from sqlalchemy import select

from services.cli.run import port_of
from services.common.clock import STATION_TZ, to_station_time
from services.common.config import SCHEDULER, load_settings
from services.common.staff_auth import issue, staff_secret
from services.intake import runtime as intake_runtime
from services.intake.auth import issue_key
from services.intake.models import Agency
from services.intake.service import create_agency

DEMO_AGENCY = "眼镜侠公益联盟 (demo)"
Step = tuple[str, str, dict[str, Any]]  # who (staff id, role) takes which transition


def seed_stories(now: datetime) -> list[dict[str, Any]]:
    """The brothers' dispute, the sagging wires, the returned wallet and a rescue."""
    local = now.astimezone(STATION_TZ)

    def days_ago(days: int, hour: int) -> str:
        at = (local - timedelta(days=days)).replace(hour=hour, minute=30, second=0, microsecond=0)
        return at.isoformat()

    return [
        {
            "kind": "dispute",
            "summary": "陈氏兄弟因承包地边界多年不和",
            "details": "兄弟俩对共用承包地的边界各执一词，秋收时再起争执。",
            "occurred_at": days_ago(3, 9),
            "location": {"village": "weicun-3", "address": "魏村三组田间"},
            "reporter": {"name": "陈先生", "phone": "13800138001"},
            "parties": [
                {"name": "陈大哥", "phone": "13800138001", "role": "claimant"},
                {"name": "陈二弟", "phone": "13900139002", "role": "respondent"},
            ],
        },
        {
            "kind": "hazard",
            "summary": "群租房内电线下垂",
            "details": "出租屋走廊电线下垂，靠近电动车充电处。",
            "occurred_at": days_ago(1, 20),
            "location": {"village": "weicun-5", "address": "魏村五组出租屋"},
            "reporter": {"name": "李女士", "phone": "13700137003"},
            "hazard": {"category": "wiring", "severity": "medium"},
        },
        {
            "kind": "good_deed",
            "summary": "严老太捡到皮包，报警交还失主",
            "details": "皮包内有现金、身份证和多张银行卡，已全部交还失主。",
            "occurred_at": days_ago(2, 17),
            "location": {"village": "weicun-4"},
            "reporter": {"name": "刘广平", "phone": "13951900012"},
            "nominee": {"name": "严老太", "phone": "13600136004"},
        },
        {
            "kind": "brave_act",
            "summary": "江边救起落水儿童",
            "details": "路过群众跳入江中，将落水儿童救上岸。",
            "occurred_at": days_ago(5, 16),
            "location": {"village": "weicun-7", "address": "江畔码头"},
            "reporter": {"name": "王师傅", "phone": "13500135005"},
            "nominee": {"name": "张先生", "phone": "13500135006"},
        },
    ]


def demo_key() -> str:
    """A fresh key for the demo agency, registering the agency on first use."""
    runtime = intake_runtime.build()
    try:
        with runtime.db.transaction() as session:
            now = runtime.clock.now()
            agency = session.scalar(select(Agency).where(Agency.name == DEMO_AGENCY))
            if agency is None:
                agency = create_agency(session, name=DEMO_AGENCY, kind="volunteer", now=now)
            return issue_key(session, agency=agency, now=now)
    finally:
        runtime.db.dispose()


def _routed(report: dict[str, Any]) -> bool:
    """Owned by its service, and its reporter answered (or the answer set for 08:00)."""
    events = {entry["event"] for entry in report["timeline"]}
    return bool(events & {"sms_sent", "sms_scheduled"}) and len(events) >= 3


# The brothers' dispute all the way round (首接 → 本地化解 → 回访): who takes each step.
DISPUTE_ROUND: list[Step] = [
    ("officer-guo", "officer", {"action": "accept", "risk_grade": "B"}),
    (
        "officer-guo",
        "officer",
        {"action": "record_session", "outcome": "failed", "note": "兄弟俩各执一词"},
    ),
    (
        "leader-cheng",
        "leader",
        {
            "action": "record_session",
            "outcome": "resolved",
            "note": "兄弟俩同意以水沟中线为界",
            "agreement": {"terms": "以水沟中线为界，共同维护水沟", "perform_by": "2027-01-31"},
        },
    ),
    ("officer-guo", "officer", {"action": "follow_up", "kind": "visit", "result": "stable",
                                "note": "回访：兄弟和好"}),
    ("officer-guo", "officer", {"action": "close"}),
]  # fmt: skip


# The sagging wires: a grid officer confirms them, finance pays the red envelope.
HAZARD_ROUND: list[Step] = [
    ("grid-wang", "verifier", {"action": "verify", "confirmed": True, "severity": "medium"}),
    ("finance-zhou", "finance", {"action": "pay"}),
]
# The rescue: reviewed, its public notice (公示, 7 days, which a demo cannot wait for, so it
# is skipped as it may be for the actor's safety), approved by someone else, paid.
BRAVE_ACT_ROUND: list[Step] = [
    ("reviewer-zhang", "reviewer", {"action": "review", "recommend": True, "tier": "merit",
                                    "reason": "两名证人陈述一致"}),
    ("reviewer-zhang", "reviewer", {"action": "skip_notice",
                                    "reason": "演示：公示期七天，演示中不等待"}),
    ("approver-li", "approver", {"action": "approve"}),
    ("finance-zhou", "finance", {"action": "pay"}),
]  # fmt: skip


def staff_token(staff_id: str, role: str) -> str:
    """A short-lived token of a demo staff member, signed with this station's secret."""
    secret = staff_secret(load_settings(SCHEDULER).var_dir)
    return issue(
        secret, staff_id=staff_id, role=role, now=datetime.now(UTC), valid_for=timedelta(hours=1)
    )


def walk(
    base_url: str, collection: str, report_id: str, steps: list[Step], wait: float
) -> list[str]:
    """Take the report's case, claim or nomination (`collection`, e.g. `/v1/cases`) through
    `steps` as its staff would; the steps taken."""
    tokens = {(s, r): staff_token(s, r) for s, r, _ in steps}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        first = {"Authorization": f"Bearer {tokens[steps[0][0], steps[0][1]]}"}
        deadline, found = time.monotonic() + wait, list[dict[str, Any]]()
        while not found and time.monotonic() < deadline:
            found = client.get(collection, params={"report_id": report_id}, headers=first).json()
            time.sleep(0.2 if not found else 0)
        if not found:
            raise click.ClickException(f"the report {report_id} is not in {collection}")
        taken = []
        for staff_id, role, body in steps:
            answer = client.post(
                f"{collection}/{found[0]['id']}/transitions",
                json=body,
                headers={"Authorization": f"Bearer {tokens[staff_id, role]}"},
            )
            if answer.status_code != 200:
                raise click.ClickException(f"{body['action']}: {answer.status_code} {answer.text}")
            taken.append(f"{staff_id:<14} {body['action']:<15} → {answer.json()['status']}")
        return taken


def play_dispute(mediation_url: str, report_id: str, wait: float) -> list[str]:
    """Take the dispute's case through the closed loop as its staff would; the steps taken."""
    return walk(mediation_url, "/v1/cases", report_id, DISPUTE_ROUND, wait)


@click.command()
@click.option("--url", default=None, help="Intake's base URL (default: this machine's intake).")
@click.option(
    "--mediation-url", default=None, help="Mediation's base URL (default: this machine's)."
)
@click.option("--rewards-url", default=None, help="Rewards' base URL (default: this machine's).")
@click.option("--key", envvar="FENGQIAO_KEY", default=None, help="An agency key; else a demo one.")
@click.option("--wait", default=30.0, show_default=True, help="Seconds to wait for timelines.")
def demo(
    url: str | None,
    mediation_url: str | None,
    rewards_url: str | None,
    key: str | None,
    wait: float,
) -> None:
    """Submit the seed's stories to a running system, take the dispute all the way round
    (accepted, mediated locally, resolved with an agreement, followed up, closed), the
    hazard through verification and its red envelope's payment, and the rescue through
    review, notice, approval and payment; print tracking codes and timelines."""
    url = url or f"http://127.0.0.1:{port_of('intake')}"
    mediation_url = mediation_url or f"http://127.0.0.1:{port_of('mediation')}"
    rewards_url = rewards_url or f"http://127.0.0.1:{port_of('rewards')}"
    headers = {"Authorization": f"Bearer {key or demo_key()}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        accepted = []
        for story in seed_stories(datetime.now(UTC)):
            answer = client.post("/v1/reports", json=story)
            if answer.status_code != 202:
                raise click.ClickException(f"{answer.status_code}: {answer.text}")
            accepted.append(answer.json())
        deadline = time.monotonic() + wait
        reports = [client.get(a["links"]["self"]).json() for a in accepted]
        while not all(_routed(r) for r in reports) and time.monotonic() < deadline:
            time.sleep(0.5)
            reports = [client.get(a["links"]["self"]).json() for a in accepted]
        dispute = next(r for r in reports if r["kind"] == "dispute")
        click.echo(f"The dispute {dispute['tracking_code']} all the way round:")
        for step in play_dispute(mediation_url, dispute["id"], wait):
            click.echo(f"  {step}")
        for kind, collection, steps in (
            ("hazard", "/v1/claims", HAZARD_ROUND),
            ("brave_act", "/v1/nominations", BRAVE_ACT_ROUND),
        ):
            report = next(r for r in reports if r["kind"] == kind)
            click.echo(f"The {kind.replace('_', ' ')} {report['tracking_code']} to its payment:")
            for step in walk(rewards_url, collection, report["id"], steps, wait):
                click.echo(f"  {step}")
        while time.monotonic() < deadline:  # until the partner sees it closed
            dispute = client.get(f"/v1/reports/{dispute['id']}").json()
            if dispute["status"] == "closed":
                break
            time.sleep(0.5)
        reports = [client.get(f"/v1/reports/{r['id']}").json() for r in reports]
    for report in reports:
        click.echo(f"\n{report['tracking_code']}  {report['kind']}  {report['summary']}")
        click.echo(f"  status: {report['status']}")
        for entry in report["timeline"]:
            at = to_station_time(datetime.fromisoformat(entry["at"]))
            click.echo(f"  {at}  {entry['service']:<9} {entry['event']:<20} {entry['detail']}")
    if not all(_routed(r) for r in reports):
        raise click.ClickException(f"not every report was routed within {wait:.0f} s")
