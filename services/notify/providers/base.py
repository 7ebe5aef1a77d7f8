"""The interface every SMS provider adapter implements.

An adapter turns one `OutgoingSms` into the provider's request and its answer into
`Accepted` or an exception: `TemporaryFailure` (try again later, perhaps elsewhere) or
`PermanentFailure` (this message can never be sent as it is). Adapters of providers with
webhooks also parse delivery receipts and inbound replies (for the TD opt-out), and say
what the provider expects as the webhook's answer.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


class TemporaryFailure(Exception):
    """The provider could not take the message now; trying again later may work."""


class PermanentFailure(Exception):
    """The provider refused the message for good (bad number, template, content)."""


class AmbiguousFailure(TemporaryFailure):
    """The request may have reached the provider (a read timeout, a 5xx after sending).

    Sending again could deliver the message twice, so the message stays in `sending`
    until the provider is asked what became of it.
    """


@dataclass(frozen=True)
class OutgoingSms:
    id: uuid.UUID  # passed to the provider as its reference (Aliyun OutId, Tencent context)
    recipient: str  # E.164, +86…
    text: str  # signature and body, as the resident will read it
    signature: str  # 【魏村派出所】
    template: str
    template_version: int
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    provider_ref: str  # the provider's id of the message (Aliyun BizId, Tencent SerialNo)


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: the message reached the handset, or finally did not."""

    delivered: bool
    provider_ref: str | None = None
    message_id: uuid.UUID | None = None  # when the provider echoes our reference
    error: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class InboundSms:
    """A reply a resident sent to the station's number."""

    sender: str  # as the provider gives it; normalise before use
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class Lookup:
    """What the provider knows of a message we may or may not have handed over."""

    found: Literal["accepted", "not_found", "unknown"]
    provider_ref: str | None = None


class SmsProvider(ABC):
    name: str

    @abstractmethod
    def send(self, sms: OutgoingSms) -> Accepted:
        """Hand one message to the provider."""

    def lookup(self, sms: OutgoingSms, *, sent_after: datetime) -> Lookup:
        """Whether the provider took `sms` (used for messages stuck in `sending`)."""
        return Lookup("unknown")

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        """Delivery receipts from a webhook call; ValueError if the body is not theirs."""
        raise ValueError(f"{self.name} sends no delivery receipts")

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> list[InboundSms]:
        """Replies from a webhook call; ValueError if the body is not theirs."""
        raise ValueError(f"{self.name} forwards no replies")

    def webhook_answer(self) -> tuple[dict[str, Any], int]:
        """The body and status the provider expects back from a webhook."""
        return {"ok": True}, 200
