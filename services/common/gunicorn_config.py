"""Gunicorn's settings for every API: `gunicorn -c python:services.common.gunicorn_config`.

Gunicorn logs on its own loggers (`gunicorn.error`, `gunicorn.access`) with its own
handlers, which would bypass the masking formatter; an access line carries the query
string, which can hold a phone. Here both loggers hand their lines to the root handler,
which masks them, in the master and (until the app installs its own) in each worker.
"""

from __future__ import annotations

import sys
from typing import Any

from services.common.logging import log_format


def _service_of(argv: list[str]) -> str:
    """`intake` for `... services.intake:create_app()`: the tag of the log lines."""
    for word in argv:
        module, _, factory = word.partition(":")
        if module.startswith("services.") and factory:
            return f"{module.removeprefix('services.')}-api"
    return "gunicorn"


def masked_logconfig(tag: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary: every line through the masking formatter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "masked": {
                "()": "services.common.logging.MaskingFormatter",
                "format": log_format(tag),
            }
        },
        "handlers": {
            "masked": {
                "class": "logging.StreamHandler",
                "formatter": "masked",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["masked"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }


logconfig_dict = masked_logconfig(_service_of(sys.argv))
# The common "combined" format without the referer and user agent; the path and query
# string are masked with the rest of the line.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
