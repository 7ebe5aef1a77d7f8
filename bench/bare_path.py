"""The whole path's baseline: bare Celery tasks taking the same hops as a report does.

From intake's 202 to "owner's record open and acknowledgement sent", a report makes these
hops (intake's API hands both of its messages to the broker right after the answer):

    owner branch  intake → mediation.open_case | rewards.open_hazard_claim/open_nomination
    SMS branch    intake → notify.send_sms → notify.deliver_sms (the provider, `sent_at`)

A duplicate hazard goes to no owner: only its SMS branch. So a routed report is three
tasks on the path, in two branches run side by side, the longer one two hops deep.

The baseline sends the same messages for each report, to queues of its own, and its
workers run the same hops with nothing in them but handing the message on: the owner hop
stamps that it ran; the SMS branch's first hop sends the second, which waits as long as
the fake provider does (`SMS_FAKE_DELAY_MS`: that wait is the provider's, not the
system's) and stamps. Each message carries the report's body, as the system's do.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from celery import Celery
from environs import Env

from services.common.celery_app import create_celery
from services.common.config import SCHEDULER, load_settings
from services.notify.providers.fake import DEFAULT_DELAY_MS

PREFIX = "bare_path"
HOP_TASK = f"{PREFIX}.hop"
# The bare queue standing for each queue of the path, by the service whose worker runs it.
QUEUES = {
    "mediation": [f"{PREFIX}_mediation"],
    "rewards": [f"{PREFIX}_rewards"],
    "notify": [f"{PREFIX}_notify", f"{PREFIX}_notify_deliver"],
}
OWNER_QUEUE = {
    "dispute": QUEUES["mediation"][0],
    "brave_act": QUEUES["rewards"][0],
    "good_deed": QUEUES["rewards"][0],
}
SMS_ROUTE = QUEUES["notify"]  # send_sms, then deliver_sms on a queue of its own
OWNER, SMS = "owner", "sms"  # the two branches, as stamped


def provider_delay_seconds() -> float:
    """The fake provider's answer time, read as the provider reads it."""
    return Env().float("SMS_FAKE_DELAY_MS", DEFAULT_DELAY_MS) / 1000


def create_app() -> Celery:
    """A Celery app on the system's broker, configured by the services' own factory."""
    settings = dataclasses.replace(load_settings(SCHEDULER), service=PREFIX)
    app = create_celery(settings)
    delay = provider_delay_seconds()

    @app.task(name=HOP_TASK)
    def hop(report: int, branch: str, route: list[str], stamps: str, body: dict[str, Any]) -> None:
        """One hop: hand the message on along `route`, or, at its end, stamp the branch done.

        The SMS branch's last hop waits as the provider call does before it stamps.
        """
        if route:
            send(app, report, branch, route, stamps, body)
            return
        if branch == SMS:
            time.sleep(delay)
        ran_at = time.time()
        with open(stamps, "a", encoding="utf-8") as out:
            out.write(f"{report} {branch} {ran_at:.6f}\n")

    return app


def send(
    app: Celery, report: int, branch: str, route: list[str], stamps: str, body: dict[str, Any]
) -> None:
    """Send the first hop of `route`, carrying the rest of it."""
    app.send_task(
        HOP_TASK, args=[report, branch, route[1:], stamps, body], queue=route[0], retry=False
    )


def offer(app: Celery, report: int, body: dict[str, Any], stamps: str) -> None:
    """What intake's API sends for one report: its owner's message (if it has an owner)
    and the request for its acknowledgement."""
    owner = owner_queue(body)
    if owner is not None:
        send(app, report, OWNER, [owner], stamps, body)
    send(app, report, SMS, SMS_ROUTE, stamps, body)


def owner_queue(body: dict[str, Any]) -> str | None:
    """The owner hop's queue; none for a hazard.

    The offered hazards are all the same hazard at the same address, so intake marks every
    one but the first of the run a duplicate, which goes to no owner.
    """
    return None if body["kind"] == "hazard" else OWNER_QUEUE[body["kind"]]


def branches(body: dict[str, Any]) -> int:
    """How many branches the report's path has: both, or only the SMS."""
    return 1 if owner_queue(body) is None else 2
