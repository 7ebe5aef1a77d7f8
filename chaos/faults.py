"""The fault table: what each row breaks, how, and what it expects besides the history check."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx

from chaos.campaign import RACE_AGENCY, Campaign, Fault, Injection, say
from chaos.load import Outcome
from chaos.midtask import caught_mid_task, wait_dead
from services.common.celery_app import REDELIVERED_WITHIN_SECONDS

RESPAWN_SECONDS = 10.0
DEATH_SECONDS = 5.0
STOPPING_SECONDS = 60.0  # a supervisor stopping everything is given this long to finish
RACE_TIMEOUT_SECONDS = 30.0

# Where a worker is caught mid-task: the service, and a table its tasks write.
OPENING_A_CASE = ("mediation", "cases")
HANDLING_AN_SMS = ("notify", "sms_messages")  # recording one, or claiming it to send


def kill_worker_child(service: str, table: str) -> Callable[[Campaign], Injection]:
    """kill -9 one of a worker's pool processes while its task waits, mid-transaction."""
    return lambda c: _kill_worker_child(c, service, table)


def _caught(c: Campaign, service: str, table: str) -> AbstractContextManager[int]:
    """One of the service's pool processes, held mid-task on `table` (see `midtask`)."""
    return caught_mid_task(
        database_url=c.urls[service],
        server_port=c.postgres.port,
        table=table,
        candidates=lambda: c.system.pool_children(service),
        timeout=c.timing.catch,
    )


def _kill_worker_child(c: Campaign, service: str, table: str) -> Injection:
    main = c.system.worker_main(service)
    with _caught(c, service, table) as victim:
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        dead = wait_dead([victim], DEATH_SECONDS)
    injection = Injection(
        repaired_at=killed_at,
        notes=[f"killed {service}'s pool process while its task waited on {table}"],
    )
    if not dead:
        injection.failures.append(f"the pool process outlived SIGKILL by {DEATH_SECONDS:.0f} s")
    deadline = killed_at + RESPAWN_SECONDS
    while time.monotonic() < deadline:
        fresh = [p for p in c.system.pool_children(service) if p != victim]
        if fresh and c.system.worker_main(service) == main:
            took = time.monotonic() - killed_at
            injection.notes.append(f"the worker replaced it in {took:.1f} s")
            return injection
        time.sleep(0.2)
    injection.failures.append(f"no new pool process within {RESPAWN_SECONDS:.0f} s")
    return injection


def kill_worker_main(c: Campaign) -> Injection:
    """kill -9 a worker's main process while its pool process is mid-task.

    Restarting it is the supervisor's job. If the supervisor has not within the grace
    period, the campaign does it (and says so): it starts the whole system again if the
    supervisor stopped everything, or the one worker if the supervisor carried on without.
    """
    service, table = OPENING_A_CASE
    main = c.system.worker_main(service)
    assert main is not None, f"no {service} worker runs"
    others = set(c.system.processes()) - {main}
    with _caught(c, service, table) as child:
        os.kill(main, signal.SIGKILL)
        killed_at = time.monotonic()
        # Its pool processes die with it (Celery asks Linux to kill them when it dies);
        # the lock is held until they have, so the task cannot finish in the meantime.
        dead = wait_dead([main, child], DEATH_SECONDS)
    injection = Injection(
        repaired_at=killed_at,
        notes=[f"killed {service}'s worker main process while its task waited on {table}"],
    )
    if not dead:
        injection.notes.append(f"its pool process still ran {DEATH_SECONDS:.0f} s later")
    deadline = killed_at + c.timing.supervisor_grace
    while True:
        took = time.monotonic() - killed_at
        if not c.system.running:
            code = c.system.supervisor.returncode if c.system.supervisor else None
            injection.failures.append(
                f"the supervisor stopped the whole system (exit code {code}) {took:.1f} s after"
                " the kill; the campaign started it again"
            )
            c.system.start()
            return injection
        current = c.system.worker_main(service)
        if current is not None and current != main:
            injection.notes.append(f"the supervisor restarted it in {took:.1f} s")
            return injection
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if not others <= set(c.system.processes()):  # the rest are stopping: all will stop
        if c.system.wait_exit(STOPPING_SECONDS) is None:
            c.system.stop()  # it hangs: never two systems on the same ports
        injection.failures.append(
            "the supervisor was stopping the whole system; the campaign started it again"
        )
        c.system.start()
        return injection
    injection.failures.append(
        f"the supervisor did not restart it within {c.timing.supervisor_grace:.0f} s;"
        " the campaign started one itself"
    )
    c.system.start_stand_in(service)
    return injection


def sigterm_system(c: Campaign) -> Injection:
    """SIGTERM to `fengqiao run` under load, as a process manager stops it; then start it."""
    code, seconds = c.system.terminate()
    injection = Injection(repaired_at=time.monotonic())
    injection.notes.append(f"`fengqiao run` stopped in {seconds:.1f} s, exit code {code}")
    if code != 0:
        injection.failures.append(f"`fengqiao run` exited with {code} on SIGTERM, not 0")
        c.system.stop()
    lingering = c.system.lingering()
    if lingering:
        injection.failures.append(f"{len(lingering)} of its processes outlived it")
    injection.repaired_at = time.monotonic()
    ready = c.system.start()
    injection.notes.append(f"started again, ready in {ready:.1f} s")
    return injection


def restart_redis(c: Campaign) -> Injection:
    """Redis stopped (SIGTERM: it writes its append-only file) and started again at once."""
    stopped = time.monotonic()
    c.redis.stop()
    c.redis.start()
    back = time.monotonic()
    return Injection(repaired_at=back, notes=[f"Redis was away {back - stopped:.1f} s"])


def redis_down(c: Campaign) -> Injection:
    """Redis away for a minute: intake must still answer 202, and all flow once it is back."""
    c.redis.stop()
    down = time.monotonic()
    notes = []
    time.sleep(min(3.0, c.timing.outage))
    try:
        ready = httpx.get(f"{c.system.url('intake')}/readyz", timeout=5).status_code
        notes.append(f"intake /readyz answered {ready} during the outage")
    except httpx.HTTPError as exc:
        notes.append(f"intake /readyz did not answer during the outage ({type(exc).__name__})")
    time.sleep(max(0.0, down + c.timing.outage - time.monotonic()))
    c.redis.start()
    back = time.monotonic()
    injection = Injection(repaired_at=back, notes=[f"Redis was away {back - down:.0f} s", *notes])
    during = [o for o in c.load.outcomes(since=down) if o.sent <= back]
    refused = [o for o in during if o.status != 202]
    if refused:
        injection.failures.append(
            f"{len(refused)} of {len(during)} requests during the outage were not answered 202"
        )
    return injection


def restart_postgres(c: Campaign) -> Injection:
    """PostgreSQL fast shutdown (clients cut off), a few seconds away, and started again."""
    stopping = time.monotonic()
    c.postgres.stop()
    time.sleep(c.timing.postgres_down)
    c.postgres.start()
    back = time.monotonic()
    return Injection(
        repaired_at=back,
        postgres_down=(stopping, back),
        notes=[f"PostgreSQL was away {back - stopping:.1f} s"],
    )


def idempotency_race(c: Campaign) -> Injection:
    """Twenty requests at once with one Idempotency-Key and one body: one report, one answer."""
    url = f"{c.system.url('intake')}/v1/reports"
    body = c.bodies.next()
    headers = {
        "Authorization": f"Bearer {c.race_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"chaos-race-{uuid.uuid4()}",
    }
    barrier = threading.Barrier(c.timing.racers)
    answers: list[Outcome | None] = [None] * c.timing.racers
    crashed: list[str] = []

    def post(client: httpx.Client) -> Outcome:
        sent = time.monotonic()
        try:
            answer = client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            return Outcome(sent, time.monotonic(), None, None)
        report_id = str(answer.json().get("id")) if answer.status_code == 202 else None
        return Outcome(sent, time.monotonic(), answer.status_code, report_id)

    def racer(index: int) -> None:
        try:
            with httpx.Client(timeout=RACE_TIMEOUT_SECONDS) as client:
                # Connected before the start, so the twenty POSTs leave together.
                client.get(f"{c.system.url('intake')}/healthz")
                barrier.wait(timeout=RACE_TIMEOUT_SECONDS)
                answers[index] = post(client)
        except Exception as exc:  # every thread's fate is reported, whatever it was
            crashed.append(f"racer {index}: {type(exc).__name__}: {exc}")

    before = c.history.reports_of_agency(RACE_AGENCY)
    threads = [threading.Thread(target=racer, args=(i,)) for i in range(c.timing.racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_SECONDS * 2)
    with httpx.Client(timeout=RACE_TIMEOUT_SECONDS) as client:
        replay = post(client)  # the same key and body once the race is over: the first answer
    injection = Injection(repaired_at=time.monotonic(), measures_recovery=False)
    got = [a for a in answers if a is not None]
    injection.outcomes = [*got, replay]
    unfinished = sum(1 for t in threads if t.is_alive())
    if crashed or unfinished or len(got) != c.timing.racers:
        injection.failures.append(
            f"{len(got)} of {c.timing.racers} racers answered; {unfinished} still running;"
            f" {'; '.join(crashed) or 'no exceptions'}"
        )
    statuses = sorted(str(a.status) for a in got)
    ids = {a.report_id for a in got if a.status == 202}
    injection.notes.append(
        f"{c.timing.racers} requests: "
        + ", ".join(f"{statuses.count(s)} × {s}" for s in sorted(set(statuses)))
        + f"; the replay after: {replay.status}"
    )
    if any(a.status not in (202, 409) for a in got):
        injection.failures.append("a racer got an answer other than 202 or 409")
    if len(ids) != 1:
        injection.failures.append(f"{len(ids)} different report ids answered, not 1")
    if replay.status != 202 or replay.report_id not in ids:
        injection.failures.append("the replay did not get the first answer back")
    stored = c.history.reports_of_agency(RACE_AGENCY) - before
    injection.duplicates = max(0, stored - 1)
    if stored != 1:
        injection.failures.append(f"{stored} reports stored for the key, not 1")
    say(f"race: {injection.notes[-1]}")
    return injection


FAULTS = [
    Fault(
        "kill -9 a worker child mid-task (mediation, opening a case)",
        "kill-child",
        kill_worker_child(*OPENING_A_CASE),
        budget=25.0,
    ),
    Fault(
        "kill -9 a worker child mid-task (notify, recording or sending an SMS)",
        "kill-child-notify",
        kill_worker_child(*HANDLING_AN_SMS),
        budget=25.0,
    ),
    Fault(
        "kill -9 a worker's main process (mediation, opening a case)",
        "kill-main",
        kill_worker_main,
        budget=110.0,
        # The killed worker's message comes back once Redis's visibility timeout is over.
        settle=REDELIVERED_WITHIN_SECONDS + 10.0,
    ),
    Fault("SIGTERM the whole system, start it again", "sigterm", sigterm_system, budget=90.0),
    Fault("restart Redis (append-only on)", "restart-redis", restart_redis, budget=10.0),
    Fault("Redis down for 60 s", "redis-down", redis_down, budget=70.0),
    Fault("restart PostgreSQL", "restart-postgres", restart_postgres, budget=25.0),
    Fault(
        "20 concurrent requests, one Idempotency-Key",
        "idempotency-race",
        idempotency_race,
        budget=35.0,
        under_load=False,
    ),
]
FAULTS_BY_KEY = {fault.key: fault for fault in FAULTS}
