"""Gunicorn's own lines (its error log and access log) are masked like every other line."""

from __future__ import annotations

import io
import logging
import logging.config
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.common.gunicorn_config import masked_logconfig
from tests import infra

GUNICORN_CONFIG = "python:services.common.gunicorn_config"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """dictConfig replaces the root and gunicorn handlers: put pytest's back afterwards."""
    loggers = [logging.getLogger(name) for name in ("", "gunicorn.error", "gunicorn.access")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, handlers, level, propagate in saved:
        lg.handlers, lg.level, lg.propagate = handlers, level, propagate


@pytest.mark.usefixtures("restored_logging")
def test_the_gunicorn_logconfig_masks_its_error_and_access_loggers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.config.dictConfig(masked_logconfig("intake-api"))

    logging.getLogger("gunicorn.error").error("worker failed for 13800138000")
    logging.getLogger("gunicorn.access").info('"GET /v1/x?phone=13700137000 HTTP/1.1" 200')

    out = stream.getvalue()
    assert "138****8000" in out
    assert "137****7000" in out
    assert "13800138000" not in out
    assert "13700137000" not in out
    assert "intake-api" in out


def test_a_real_gunicorn_masks_access_lines_and_error_tracebacks(tmp_path: Path) -> None:
    port = infra.free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                GUNICORN_CONFIG,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--no-control-socket",
                "tests.common.wsgi_app:app",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"{url}/?phone=13800138000").status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
        assert httpx.get(f"{url}/fail").status_code == 500
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    out = log_path.read_text()
    assert "GET /?phone=138****8000" in out  # the access line, masked
    assert "could not reach 139****9000" in out  # gunicorn's error traceback, masked
    assert "13800138000" not in out
    assert "13900139000" not in out
    assert "Booting worker" in out  # the master's lines go through the same handler
