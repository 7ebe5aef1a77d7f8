"""The chaos campaign's two shortest rows, on servers of its own: faults proven, not assumed.

`make chaos` runs every row (kills, restarts, outages) and takes minutes; these two take
seconds: a worker's pool process killed while provably mid-task, and twenty concurrent
requests with one Idempotency-Key. Each is followed by the history check over every report.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from chaos.campaign import QUICK, run_campaign
from chaos.faults import FAULTS_BY_KEY
from tests import infra

pytestmark = pytest.mark.e2e


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_killed_worker_child_and_an_idempotency_race_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    if shutil.which("redis-server") is None:
        infra.unavailable("redis-server")
    faults = [FAULTS_BY_KEY["kill-child"], FAULTS_BY_KEY["idempotency-race"]]

    result = run_campaign(
        workdir=tmp_path, faults=faults, timing=QUICK, extra_env={"WEB_CONCURRENCY": "1"}
    )

    described = [(r.fault, r.failures, r.notes) for r in result.rows]
    assert [row.fault for row in result.rows] == [fault.name for fault in faults]
    for row in result.rows:
        assert row.passed, described
        assert (row.lost, row.duplicated, row.server_errors) == (0, 0, 0), described
    killed, race = result.rows
    assert killed.accepted > 0 and killed.recovered is not None, described
    assert any("replaced it" in note for note in killed.notes), described
    assert race.accepted == 1, described
    assert result.reports == killed.accepted + 1
    assert (result.lost, result.duplicated) == ({}, {})
    # Everything it started is stopped: its servers and the system's APIs are gone.
    assert [name for name, port in result.ports.items() if listening(port)] == []
