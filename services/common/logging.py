"""Logging that never shows a phone or ID number in full (PIPL)."""

from __future__ import annotations

import logging
import re
import sys

_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_personal_data(text: str) -> str:
    """Mask every phone and resident ID number found in free text."""
    text = _ID_NUMBER.sub(r"\1********\2", text)
    return _PHONE.sub(r"\1****\2", text)


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks the whole line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


HOUSEKEEPING_TASKS = (".relay_outbox[", ".dispatch_due[", ".dispatch_callbacks[")


class QuietHousekeeping(logging.Filter):
    """Drops Celery's received/succeeded lines of the jobs beat runs every few seconds."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("celery.") or record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(task in message for task in HOUSEKEEPING_TASKS)


def log_format(tag: str) -> str:
    """Every process's line format: time, process tag, level, logger, message."""
    return f"%(asctime)s {tag} %(levelname)s %(name)s: %(message)s"


def configure_logging(service: str, level: str = "INFO") -> None:
    """Log lines to stderr, tagged with the service, personal data masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(log_format(service)))
    handler.addFilter(QuietHousekeeping())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # httpx logs each request URL at INFO; a provider's query string can hold a phone.
    logging.getLogger("httpx").setLevel(logging.WARNING)
