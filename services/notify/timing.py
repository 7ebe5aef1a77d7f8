"""When a message may leave: after quiet hours (non-urgent only) and after a retry's backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.common.clock import STATION_TZ
from services.notify.rules import NotifyRules


def in_quiet_hours(at: datetime, rules: NotifyRules, tz: ZoneInfo = STATION_TZ) -> bool:
    """Whether `at` falls in the quiet hours, station time (the span may cross midnight)."""
    local = at.astimezone(tz).time()
    if rules.quiet_from <= rules.quiet_until:
        return rules.quiet_from <= local < rules.quiet_until
    return local >= rules.quiet_from or local < rules.quiet_until


def after_quiet_hours(
    at: datetime, *, urgent: bool, rules: NotifyRules, tz: ZoneInfo = STATION_TZ
) -> datetime:
    """`at`, or the end of the quiet hours it falls in if the message is not urgent."""
    if urgent or not in_quiet_hours(at, rules, tz):
        return at
    local = at.astimezone(tz)
    end = local.replace(
        hour=rules.quiet_until.hour, minute=rules.quiet_until.minute, second=0, microsecond=0
    )
    if end <= local:  # past midnight's end already: tomorrow's (the station keeps no DST)
        end += timedelta(days=1)
    return end.astimezone(at.tzinfo)


def retry_delay(attempts: int, rules: NotifyRules) -> timedelta:
    """The wait after the `attempts`-th failed try: doubling from the first, capped."""
    delay: timedelta = rules.first_retry * 2 ** max(attempts - 1, 0)
    return min(delay, rules.longest_retry)
