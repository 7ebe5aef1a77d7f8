"""Who is asking, and whether he may ask now: the lookup's rate limits (decision record 0025).

Every lookup counts against its client address. Wrong answers count against the code that
was asked about, known or not (so a refusal says nothing about whether the code exists);
once a code is over its limit every lookup of it is refused, the right pair too, until the
window moves on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from flask import Request

from services.intake.ratelimit import Verdict
from services.intake.runtime import IntakeRuntime


def client_address(request: Request, trusted_proxies: int) -> str:
    """The resident's address: the direct peer, or the one the trusted proxies report.

    Each of `trusted_proxies` proxies appends the address it saw to X-Forwarded-For, so the
    client is that many entries from the right (as werkzeug's ProxyFix reads it); anything
    shorter or not an address falls back to the peer, so a forged header never helps.
    """
    peer = request.remote_addr or "unknown"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if trusted_proxies <= 0 or not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",")]
    if len(hops) < trusted_proxies:
        return peer
    try:
        return str(ipaddress.ip_address(hops[-trusted_proxies]))
    except ValueError:
        return peer


@dataclass(frozen=True)
class LookupGuard:
    runtime: IntakeRuntime

    def admit(self, *, address: str, code: str | None, now: datetime) -> Verdict:
        """Count the lookup against its address; refuse it if the address or code is over."""
        verdict = self.runtime.lookup_address_limiter.hit(f"lookup-address:{address}", now)
        if not verdict.allowed or code is None:
            return verdict
        by_code = self.runtime.lookup_code_limiter.peek(f"lookup-code:{code}", now)
        if not by_code.allowed:
            return by_code
        return Verdict(True, checked=verdict.checked and by_code.checked)

    def wrong_answer(self, *, code: str | None, now: datetime) -> None:
        """Count a lookup that matched nothing against the code it named."""
        if code is not None:
            self.runtime.lookup_code_limiter.hit(f"lookup-code:{code}", now)
