"""The same report sent twice, under two message ids, has its effect once in every service.

A sender may publish a report again with a new message id (a retried request, a replayed
dead letter); the receivers look for what the report already made by its natural key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from services.common.contracts import (
    OPEN_CASE,
    OPEN_HAZARD_CLAIM,
    OPEN_NOMINATION,
    SEND_SMS,
    Contract,
)
from services.common.runtime import Runtime
from services.mediation import tasks as mediation_tasks
from services.mediation.models import Case
from services.notify import tasks as notify_tasks
from services.notify.models import SmsMessage
from services.rewards import tasks as rewards_tasks
from services.rewards.claims.models import HazardClaim
from services.rewards.nominations.models import Nomination
from tests import messages
from tests.outbox import outbox_where
from tests.races import run_together


@dataclass(frozen=True)
class Consumer:
    service: str
    contract: Contract
    register: Callable[[Any], None]
    make: Callable[[], dict[str, Any]]  # a message as received
    model: Any  # what the message makes
    key: str  # its natural key: a column of `model` and a field of the message

    def count(self, runtime: Runtime, message: dict[str, Any]) -> int:
        with runtime.db.sessions() as session:
            column = getattr(self.model, self.key)
            return (
                session.scalar(
                    select(func.count()).select_from(self.model).where(column == message[self.key])
                )
                or 0
            )


CONSUMERS = [
    Consumer(
        "mediation", OPEN_CASE, mediation_tasks.register, messages.open_case, Case, "report_id"
    ),
    Consumer(
        "rewards",
        OPEN_HAZARD_CLAIM,
        rewards_tasks.register,
        messages.open_hazard_claim,
        HazardClaim,
        "report_id",
    ),
    Consumer(
        "rewards",
        OPEN_NOMINATION,
        rewards_tasks.register,
        messages.open_nomination,
        Nomination,
        "report_id",
    ),
    Consumer(
        "notify", SEND_SMS, notify_tasks.register, messages.send_sms, SmsMessage, "idempotency_key"
    ),
]


@pytest.fixture(params=CONSUMERS, ids=lambda consumer: consumer.contract.task)
def consumer(request: pytest.FixtureRequest) -> Consumer:
    chosen: Consumer = request.param
    return chosen


def on_the_wire(contract: Contract, message: dict[str, Any], *, new_id: bool) -> dict[str, Any]:
    """The message as sent; with `new_id`, as a sender that published it anew sends it."""
    return contract.dump({**message, "message_id": uuid.uuid4()} if new_id else message)


def effects(runtime: Runtime, message: dict[str, Any]) -> list[str]:
    """The tasks of what the service told others about this message's report or SMS."""
    if message.get("kind"):
        found = outbox_where(runtime, "report_id", equals=str(message["report_id"]))
    else:
        with runtime.db.sessions() as session:
            sms = session.scalar(
                select(SmsMessage).where(SmsMessage.idempotency_key == message["idempotency_key"])
            )
            assert sms is not None
        found = outbox_where(runtime, "sms_id", equals=str(sms.id))
    return sorted(task for task, _ in found)


def test_a_second_message_for_the_same_thing_does_nothing_more(
    make_runtime: Callable[[str], Runtime], consumer: Consumer
) -> None:
    runtime = make_runtime(consumer.service)
    consumer.register(runtime)
    task = runtime.celery.tasks[consumer.contract.task]
    message = consumer.make()

    task.run(message=on_the_wire(consumer.contract, message, new_id=False))
    told = effects(runtime, message)
    task.run(message=on_the_wire(consumer.contract, message, new_id=True))

    assert consumer.count(runtime, message) == 1
    assert effects(runtime, message) == told != []


def test_two_messages_for_the_same_thing_racing_have_one_effect(
    make_runtime: Callable[[str], Runtime], consumer: Consumer
) -> None:
    runtime = make_runtime(consumer.service)
    consumer.register(runtime)
    task = runtime.celery.tasks[consumer.contract.task]
    message = consumer.make()
    twins = [on_the_wire(consumer.contract, message, new_id=new) for new in (False, True)]

    outcomes = run_together(*(lambda twin=twin: task.run(message=twin) for twin in twins))

    assert outcomes == [None, None]  # both handled, neither raised
    assert consumer.count(runtime, message) == 1
    assert len(effects(runtime, message)) == len(set(effects(runtime, message))) >= 1
