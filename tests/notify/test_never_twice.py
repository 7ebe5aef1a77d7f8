"""Exactly one SMS leaves, whatever dies or times out on the way."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from services.common.clock import FrozenClock
from services.notify import delivery
from services.notify import runtime as notify_runtime
from services.notify.providers.base import Accepted, Lookup, OutgoingSms, SmsProvider
from services.notify.providers.errors import AmbiguousFailure
from services.notify.runtime import NotifyRuntime
from tests.notify.harness import ScriptedProvider, accept, deliverer, request, row, send
from tests.races import run_together


class FileProvider(SmsProvider):
    """A provider whose 'network' is a file: one line per SMS that left; it can answer lookups."""

    name = "file"

    def __init__(self, path: Path, *, die_after_send: bool = False) -> None:
        self.path = path
        self.die_after_send = die_after_send

    def send(self, sms: OutgoingSms) -> Accepted:
        with self.path.open("a") as out:
            out.write(f"{sms.id}\n")
        if self.die_after_send:
            os._exit(9)  # the worker is killed after the provider took the message
        return Accepted(provider_ref=f"file-{sms.id}")

    def lookup(self, sms: OutgoingSms, *, sent_after: datetime) -> Lookup:
        taken = self.path.exists() and str(sms.id) in self.path.read_text().split()
        return Lookup("accepted", f"file-{sms.id}") if taken else Lookup("not_found")

    def sent(self) -> list[str]:
        return self.path.read_text().split() if self.path.exists() else []


def _child(runtime: NotifyRuntime, path: Path, sms_id: uuid.UUID) -> None:
    """A worker process: its own database connections, then killed mid-send."""
    own = notify_runtime.build(runtime.settings, runtime.clock)
    d = deliverer(own, FileProvider(path, die_after_send=True))
    delivery.deliver(d, sms_id)


def test_a_worker_killed_mid_send_leaves_exactly_one_sms(
    notify: NotifyRuntime, clock: FrozenClock, tmp_path: Path
) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    provider = FileProvider(tmp_path / "sent.txt")

    worker = multiprocessing.get_context("fork").Process(
        target=_child, args=(notify, provider.path, message["message_id"])
    )
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 9
    assert row(notify, message["message_id"]).status == "sending"

    d = deliverer(notify, provider)
    assert send(d, message["message_id"]) == "skipped"  # the broker redelivers the task
    clock.advance(notify.rules.stuck_sending_after + timedelta(seconds=1))
    assert delivery.resolve_stuck(d) == {"sent": 1}

    sms = row(notify, message["message_id"])
    assert (sms.status, sms.provider_ref) == ("sent", f"file-{sms.id}")
    assert provider.sent() == [str(sms.id)]


def test_a_provider_timeout_leaves_exactly_one_sms(
    notify: NotifyRuntime, clock: FrozenClock, tmp_path: Path
) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    provider = FileProvider(tmp_path / "sent.txt")

    class TimesOutAfterTaking(FileProvider):
        def send(self, sms: OutgoingSms) -> Accepted:
            super().send(sms)
            raise AmbiguousFailure("read timed out")

    d = deliverer(notify, TimesOutAfterTaking(provider.path))
    assert send(d, message["message_id"]) == "sending"
    assert send(d, message["message_id"]) == "skipped"
    clock.advance(notify.rules.stuck_sending_after + timedelta(seconds=1))
    assert delivery.resolve_stuck(deliverer(notify, provider)) == {"sent": 1}

    assert row(notify, message["message_id"]).status == "sent"
    assert provider.sent() == [str(message["message_id"])]


def test_a_timeout_before_the_provider_took_it_is_sent_once_after_the_lookup(
    notify: NotifyRuntime, clock: FrozenClock, tmp_path: Path
) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    provider = FileProvider(tmp_path / "sent.txt")
    timing_out = ScriptedProvider(name="file", script=[AmbiguousFailure("connect timed out")])

    assert send(deliverer(notify, timing_out), message["message_id"]) == "sending"
    clock.advance(notify.rules.stuck_sending_after + timedelta(seconds=1))
    d = deliverer(notify, provider)
    assert delivery.resolve_stuck(d) == {"requeued": 1}  # the provider never saw it
    assert send(d, message["message_id"]) == "sent"

    assert provider.sent() == [str(message["message_id"])]


def test_a_provider_that_cannot_say_leaves_the_message_failed_not_resent(
    notify: NotifyRuntime, clock: FrozenClock
) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    provider = ScriptedProvider(script=[AmbiguousFailure("read timed out")])
    d = deliverer(notify, provider)
    send(d, message["message_id"])
    clock.advance(notify.rules.stuck_sending_after + timedelta(seconds=1))

    assert delivery.resolve_stuck(d) == {"failed": 1}

    sms = row(notify, message["message_id"])
    assert sms.status == "failed"
    assert "not sent again" in (sms.failure or "")
    assert provider.calls == 1


def test_a_lost_deliver_task_is_dispatched_again(notify: NotifyRuntime, clock: FrozenClock) -> None:
    message = request(priority="urgent")
    accept(notify, message)  # its deliver task is then lost with the broker
    d = deliverer(notify, ScriptedProvider())

    clock.advance(notify.rules.redispatch_after + timedelta(seconds=1))
    assert delivery.dispatch_due(d) == 1
    dispatched_at = row(notify, message["message_id"]).dispatched_at
    assert dispatched_at == clock.now()
    assert delivery.dispatch_due(d) == 0  # not again until it has had its chance
    assert row(notify, message["message_id"]).dispatched_at == dispatched_at


def test_racing_workers_send_once(notify: NotifyRuntime) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    provider = ScriptedProvider()
    d = deliverer(notify, provider)

    def work() -> str:
        return send(replace(d), message["message_id"])

    outcomes = run_together(work, work, work)

    assert sorted(outcomes) == ["sent", "skipped", "skipped"]  # none raised
    assert len(provider.sent) == 1
    assert row(notify, message["message_id"]).status == "sent"
