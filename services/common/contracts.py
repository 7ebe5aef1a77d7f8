"""Versioned message contracts: the only thing services share about each other.

A contract names a task ("<service>.<action>") and the marshmallow schema of its one
argument, `message`. Every message carries a `message_id`, chosen by the sender before it
is queued, which the receiver records so that a redelivered message does nothing.

Contracts change by addition: a consumer ignores fields it does not know, so a newer
producer may add one during a rolling deploy. A change a consumer cannot ignore raises
`version`; a consumer refuses a message newer than the version it knows, and the message
waits with the consumer's dead letters until the consumer has been upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.celery_app import queue_of


class Part(Schema):
    """A nested part of a message: fields a newer producer added are ignored."""

    class Meta:
        unknown = EXCLUDE


class Message(Part):
    message_id = fields.UUID(required=True)
    version = fields.Integer(required=True)
    sent_at = fields.AwareDateTime(required=True)


class Location(Part):
    village = fields.String(required=True, validate=validate.Length(max=50))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


class Person(Part):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    role = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class Hazard(Part):
    category = fields.String(required=True, validate=validate.Length(max=20))
    severity = fields.String(required=True, validate=validate.Length(max=10))


class ReportSubmittedV1(Message):
    """A report intake accepted, handed to the service that owns its kind."""

    report_id = fields.UUID(required=True)
    tracking_code = fields.String(required=True, validate=validate.Length(max=16))
    kind = fields.String(
        required=True, validate=validate.OneOf(["dispute", "hazard", "brave_act", "good_deed"])
    )
    summary = fields.String(required=True, validate=validate.Length(max=200))
    details = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    occurred_at = fields.AwareDateTime(required=True)
    location = fields.Nested(Location, required=True)
    reporter = fields.Nested(Person, required=True)
    parties = fields.List(fields.Nested(Person), load_default=list)
    hazard = fields.Nested(Hazard, load_default=None, allow_none=True)
    nominee = fields.Nested(Person, load_default=None, allow_none=True)
    # Sent with a test key: handled like any report, but no real SMS and no money.
    test = fields.Boolean(load_default=False)


class SendSmsV1(Message):
    """Ask notify to send one SMS; `idempotency_key` makes the request happen at most once."""

    idempotency_key = fields.String(required=True, validate=validate.Length(1, 255))
    recipient = fields.String(required=True, validate=validate.Length(max=20))
    template = fields.String(required=True, validate=validate.Length(max=50))
    params = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    priority = fields.String(load_default="normal", validate=validate.OneOf(["normal", "urgent"]))
    report_id = fields.UUID(load_default=None, allow_none=True)
    test = fields.Boolean(load_default=False)  # recorded and "sent" by a simulated provider


class TimelineEvent(StrEnum):
    """What can happen to a report elsewhere: the partner reads these on its timeline."""

    # mediation: one per step of a case (its workflow's actions and deadlines)
    CASE_OPENED = "case_opened"
    CASE_ACCEPTED = "case_accepted"
    CASE_REASSIGNED = "case_reassigned"
    RISK_GRADE_CHANGED = "risk_grade_changed"
    SESSION_HELD = "session_held"  # a session failed; the case goes on
    CASE_ESCALATED = "case_escalated"  # booked at a desk
    SESSION_RESCHEDULED = "session_rescheduled"
    JOINT_MEETING_CALLED = "joint_meeting_called"
    CASE_RESOLVED = "case_resolved"
    CASE_DECLINED = "case_declined"
    FOLLOW_UP_DONE = "follow_up_done"
    CASE_REBOUNDED = "case_rebounded"
    CASE_CLOSED = "case_closed"
    DEADLINE_BREACHED = "deadline_breached"
    # rewards
    HAZARD_CLAIM_OPENED = "hazard_claim_opened"
    NOMINATION_OPENED = "nomination_opened"
    CLAIM_VERIFIED = "claim_verified"  # approved, or waiting for the leader (over a limit)
    CLAIM_APPROVED = "claim_approved"  # by the leader, over a limit
    CLAIM_REJECTED = "claim_rejected"  # not confirmed, or the leader said no
    CLAIM_DUPLICATE = "claim_duplicate"  # an earlier report of the hazard has the envelope
    NOMINATION_UNDER_REVIEW = "nomination_under_review"
    REWARD_PAID = "reward_paid"
    AWARD_APPROVED = "award_approved"
    CLAIM_CLOSED = "claim_closed"
    # rewards, nominations: one per step of the nomination workflow
    NOTICE_PUBLISHED = "notice_published"
    NOTICE_SKIPPED = "notice_skipped"
    OBJECTION_FILED = "objection_filed"
    OBJECTION_ANSWERED = "objection_answered"
    NOTICE_ENDED = "notice_ended"
    NOMINATION_EXTENDED = "nomination_extended"
    NOMINATION_REJECTED = "nomination_rejected"
    NOMINATION_HONOURED = "nomination_honoured"
    NOMINATION_APPEALED = "nomination_appealed"
    APPEAL_DECIDED = "appeal_decided"
    # notify
    SMS_SENT = "sms_sent"
    SMS_FAILED = "sms_failed"
    SMS_SCHEDULED = "sms_scheduled"


class ReportEventV1(Message):
    """Something happened to a report elsewhere; intake adds it to the report's timeline."""

    report_id = fields.UUID(required=True)
    event = fields.String(required=True, validate=validate.OneOf([e.value for e in TimelineEvent]))
    service = fields.String(required=True, validate=validate.Length(max=20))
    at = fields.AwareDateTime(required=True)
    detail = fields.String(load_default="", validate=validate.Length(max=500))
    # When the next step is due (the case's due date), for the resident's lookup; optional,
    # so a sender that has none, or an older one, leaves it out.
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)


class StatusQuestion(StrEnum):
    """What a resident's SMS reply asks about his reports (查询)."""

    LATEST = "latest"  # CX or 查询: his latest report
    BY_CODE = "by_code"  # a 查询码: that report, if it is his


class StatusQueryV1(Message):
    """A resident asked by SMS reply where his report stands; intake answers him by SMS."""

    # The same reply pushed twice by a provider has the same key: one answer, never two.
    reply_key = fields.String(required=True, validate=validate.Length(1, 64))
    sender = fields.String(required=True, validate=validate.Length(max=20))  # E.164
    question = fields.String(
        required=True, validate=validate.OneOf([q.value for q in StatusQuestion])
    )
    tracking_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=16)
    )
    asked_at = fields.AwareDateTime(required=True)


class NewerVersion(ValidationError):
    """A message of a version newer than the consumer knows: it waits, it is never guessed at."""


def _version_of(message: dict[str, Any]) -> int | None:
    version = message.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


@dataclass(frozen=True)
class Contract:
    task: str
    schema: type[Message]
    version: int

    @property
    def queue(self) -> str:
        return queue_of(self.task)

    @cached_property
    def _schema(self) -> Message:
        # One instance per contract: building a schema (and its nested ones) costs more
        # than using it, and load/dump keep no state between calls.
        return self.schema()

    def load(self, message: dict[str, Any]) -> dict[str, Any]:
        """Validate a received message; raises marshmallow.ValidationError if it is malformed.

        A message of a newer version than this contract raises `NewerVersion` (a
        ValidationError) before its fields are looked at: they may mean something else.
        """
        version = _version_of(message) if isinstance(message, dict) else None
        if version is not None and version > self.version:
            raise NewerVersion(
                {"version": [f"version {version} is newer than {self.version}, the newest known"]}
            )
        loaded: dict[str, Any] = self._schema.load(message)
        return loaded

    def dump(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Validate and serialise an outgoing message to plain JSON types."""
        data: dict[str, Any] = self._schema.dump(payload)
        self._schema.load(data)  # refuse to send what the receiver would refuse
        return data


OPEN_CASE = Contract("mediation.open_case", ReportSubmittedV1, 1)
OPEN_HAZARD_CLAIM = Contract("rewards.open_hazard_claim", ReportSubmittedV1, 1)
OPEN_NOMINATION = Contract("rewards.open_nomination", ReportSubmittedV1, 1)
SEND_SMS = Contract("notify.send_sms", SendSmsV1, 1)
RECORD_REPORT_EVENT = Contract("intake.record_report_event", ReportEventV1, 1)
ANSWER_STATUS_QUERY = Contract("intake.answer_status_query", StatusQueryV1, 1)

ALL_CONTRACTS = (
    OPEN_CASE,
    OPEN_HAZARD_CLAIM,
    OPEN_NOMINATION,
    SEND_SMS,
    RECORD_REPORT_EVENT,
    ANSWER_STATUS_QUERY,
)
