"""The interface every SMS provider adapter implements."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass


class TemporaryFailure(Exception):
    """The provider could not take the message now; trying again later may work."""


class PermanentFailure(Exception):
    """The provider refused the message for good (bad number, template, account)."""


@dataclass(frozen=True)
class Accepted:
    provider_ref: str


class SmsProvider(ABC):
    name: str

    @abstractmethod
    def send(self, *, message_id: uuid.UUID, recipient: str, text: str) -> Accepted:
        """Hand one message to the provider; `message_id` is passed on as its reference."""
