"""Logs never show a phone or ID number in full, and beat's chatter stays out of them."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from services.common.logging import MaskingFormatter, QuietHousekeeping, mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 13800138000 now", "call 138****8000 now"),
        ("+8613800138000", "138****8000"),
        ("+86 138-0013-8000", "138****8000"),
        ("ID 32041119850615123X", "ID 320411********123X"),
        ("order 123456789012", "order 123456789012"),  # 12 digits, not 1[3-9]…: left alone
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


def handler_output(record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter("%(message)s"))
    handler.addFilter(QuietHousekeeping())
    handler.handle(record)
    return stream.getvalue()


def test_tracebacks_are_masked_too() -> None:
    try:
        raise ValueError("bad reporter 13900139000")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    out = handler_output(record)
    assert "139****9000" in out
    assert "13900139000" not in out


def test_housekeeping_tasks_are_not_logged_but_real_work_is() -> None:
    def celery_line(message: str) -> logging.LogRecord:
        return logging.LogRecord("celery.app.trace", logging.INFO, __file__, 1, message, None, None)

    assert handler_output(celery_line("Task intake.relay_outbox[1] succeeded in 0.001s: 0")) == ""
    assert handler_output(celery_line("Task notify.dispatch_due[2] received")) == ""
    assert "open_case" in handler_output(celery_line("Task mediation.open_case[3] succeeded"))
